"""NLU components that put a message under another intent where its words leave no doubt.

Each runs after the intent classifier (`config.yml` gives the order) and changes the intent only
where the message holds the words of what it asks: the classifier had read these messages as
something else, and the conversation went wrong for it (docs/nlu.md names each case).
"""

from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.identity.answers import does_not_know, id_number_unknown, introduced_name
from bot.language.confirmation import asks_if_done
from bot.language.extraction import extract_numbers, id_number_attempt
from bot.language.text import (
    a_pause,
    asks_how_loss_reporting_works,
    asks_something,
    card_refused,
    for_the_hall,
    requested_language,
    says_stop,
    unblock_asked,
)
from nlu.components import StatelessComponent

# A loss denied: "没丢", "没有挂失过", "从来没报失" (not "还没挂失": not yet reported), "didn't lose",
# "never reported", "not lost".
_LOSS_DENIED = re.compile(
    r"(?<!还)(?<!尚)(?:没|没有|并没有?|从没有?|从来没有?|又没有?|冇)(?:去|有)?(?:丢|掉|遗失|挂失|挂过失?|报失|报过失?)"
    r"|\b(?:didn'?t|did not|never|haven'?t ever|have never)\s+(?:lose|lost|report(?:ed)?)\b|\bnot lost\b",
    re.IGNORECASE,
)
# The words of a loss report and of a progress question in a message that also gives details.
_REPORT_WORDS = re.compile(r"挂失|丢了|丢失|不见了|找不到|被偷|\blost\b|\bstolen\b|\bmissing\b|\bblock", re.IGNORECASE)
_PROGRESS_WORDS = re.compile(
    r"进度|办好|做好|好了没|好了吗|到哪|到了吗|到了没|状态|能领|可以领|注销|查一下|查下|查查|帮我查|查询|"
    r"\bready\b|\bstatus\b|\bcancell?ed\b|\bthere yet\b|\barrived?\b|\bprogress\b|\bhow far\b|\bcheck\b"
    r"|\bwhere(?:'s| is) my (?:\w+ )*(?:card|application)\b|寄出|寄了没|\bworking normally\b",
    re.IGNORECASE,
)
# Nothing more is wanted: "没有了", "没别的了", "就这些", "that's all", "nothing else".
_NOTHING_MORE = re.compile(
    r"没有了|没了|没别的|没有别的|没其他|没有其他|就这些|就这样|\bthat'?s all\b|\bnothing else\b|\bthat'?s it\b",
    re.IGNORECASE,
)
# A loss stated as well ("丢了，还没来得及挂失", "I lost it but didn't report it"): a loss report after all.
_LOST = re.compile(r"丢了|掉了|不见了|找不到|弄丢|遗失了|\b(?:i|we) lost\b|\bis lost\b|\bgone\b", re.IGNORECASE)


def asks_to_unblock(text: str) -> bool:
    """Whether the message asks to lift a loss report or says the card was found, with no loss
    stated after it ("找到了又丢了" is a loss again)."""
    said = unblock_asked(text)
    return said is not None and not _LOST.search(text, said)


class _Reclassifier(StatelessComponent):
    """Puts a message under another intent where its words leave no doubt; the confidence stays
    (raised to `least_confidence` where the words alone decide), and the intent replaced leaves the
    ranking."""

    least_confidence = 0.0

    def reclassify(self, intent: str | None, text: str) -> tuple[str, str] | None:
        """The intent the message belongs to and the one it replaces, or None to leave it."""
        raise NotImplementedError

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            found = self.reclassify(intent.get(INTENT_NAME_KEY), message.get(TEXT) or "")
            if found is None:
                continue
            name, replaced = found
            new = {INTENT_NAME_KEY: name, "confidence": max(intent.get("confidence") or 0.0, self.least_confidence)}
            ranking = message.get(INTENT_RANKING_KEY) or []
            others = [r for r in ranking if r.get(INTENT_NAME_KEY) not in {name, replaced}]
            message.set(INTENT, new, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [new, *others], add_to_output=True)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class ThanksWithNothingMoreAreGoodbyes(_Reclassifier):
    """A thanks that says nothing more is wanted ("好的谢谢，没有了", "thanks, that's all") is a goodbye
    (the conversation, or the call, ends), not a thanks to be asked "anything else?" again."""

    def reclassify(self, intent: str | None, text: str) -> tuple[str, str] | None:
        if intent == "thank" and _NOTHING_MORE.search(text) and not asks_something(text):
            return "goodbye", "thank"
        return None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class DeniedLossIsAStatusQuestion(_Reclassifier):
    """A loss denied ("我没挂失啊，卡怎么用不了", "I didn't lose my card") is a question about the
    card's state (``check_progress``, which says whether a loss report is in force), never a request
    to report it lost.

    The words of the request are all there, so the classifier said ``report_loss``, and a worried
    person asked to confirm a loss report of a card that works might say yes. A loss not yet
    reported ("丢了还没挂失", "I haven't reported it yet") is still a loss report.
    """

    def reclassify(self, intent: str | None, text: str) -> tuple[str, str] | None:
        if intent == "report_loss" and _LOSS_DENIED.search(text) and not _LOST.search(text):
            return "check_progress", "report_loss"
        return None


# Intents a message with an ID number in it keeps: the card tasks themselves, and asking for staff.
_TASKS_AND_STAFF = frozenset({"check_progress", "report_loss", "cancel_loss", "request_human"})


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RequestsBesideDetails(_Reclassifier):
    """An ID number (valid or mistyped), or one's own name introduced, sent with the words of one
    card task ("I want to know if my card is ready, my ID is …, name 陈静", "先帮我查一下 3201… 张伟",
    "my name is Maria Garcia, I lost my card") is that task, not details alone (``inform``); so is a
    task asked with the ID number not known ("I'd like to check my application but I don't remember
    my ID number", once out of scope), which the identity check meets with where to find it. A
    question it cannot place, sent with a valid ID number ("我的申请被拒了？为什么 3201… 孙强"), is
    answered with the card's state.

    The classifier leans to ``inform`` when the number and name fill most of the message, and the
    person was then asked what they wanted. Runs before the number extractor, so the task's
    message also sets the reply language. The intent replaced leaves the ranking (else the fallback
    would find two intents alike), and a low confidence is raised: an ID number and a task's words
    leave no doubt ("hi, where is my social security card? my id is 3201…" had not been understood).
    """

    least_confidence = 0.9

    def reclassify(self, intent: str | None, text: str) -> tuple[str, str] | None:
        id_numbers = extract_numbers(text).id_numbers
        details = id_numbers or id_number_attempt(text) or introduced_name(text)
        if intent in _TASKS_AND_STAFF - {"request_human"} and id_numbers and _task_in_words(text) == intent:
            # Already the task, but unsure against details alone ("查进度 周杰 3201…": 0.52 to 0.48, so
            # not understood): the words and the number leave no doubt.
            return intent, "inform"
        if not (
            (intent == "inform" and details)
            or (intent in {"inform", "out_of_scope", "deny"} and id_number_unknown(text))
            or (intent not in _TASKS_AND_STAFF and id_numbers)
        ):
            return None
        task = _task_in_words(text) or ("check_progress" if intent == "out_of_scope" and id_numbers else None)
        return (task, intent or "nlu_fallback") if task else None


# Asking in words for something ("帮我解冻一下", "I want to check my card").
_WANT = re.compile(
    r"我(?:是)?(?:要|想)|帮我|给我|\bi (?:want|wanna|need|would like|'d like|just want)\b", re.IGNORECASE
)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class UnblockRequestsAreNotLossReports(_Reclassifier):
    """A request to lift a loss report, or a card found ("我卡被冻结了 医院刷不了 帮我解冻一下", "now i
    found it in my coat, what to do"), is ``cancel_loss``, never ``report_loss``; nor a status question
    when it asks in words for the unblocking ("帮我解冻一下") and not for a look at the card or whether
    it is done ("帮我查一下解挂了没有", "我想知道解挂成功没" stay ones).

    The words of a loss are all there, so the classifier sometimes said ``report_loss``: a person
    asking to unfreeze a working card was offered a loss report, and one who had found a card was
    told to make its loss formal. Unblocking asks for a code sent to the registered phone before
    anything changes; a loss report takes effect on a yes.
    """

    def reclassify(self, intent: str | None, text: str) -> tuple[str, str] | None:
        if intent == "report_loss" and asks_to_unblock(text):
            return "cancel_loss", "report_loss"
        if (
            intent == "check_progress"
            and asks_to_unblock(text)
            and _WANT.search(text)
            and not _PROGRESS_WORDS.search(text)
            and not asks_if_done(text)
        ):
            return "cancel_loss", "check_progress"
        return None


# A request made in words after a no ("不是不是 我是要查进度", "no no, I want to check her card"): the
# request, unless wanting is itself denied ("不想挂失", "I don't want to report it").
_NOT_WANTED = re.compile(r"不(?:是)?(?:要|想|用)|别|\b(?:don'?t|do not|didn'?t|never)\b", re.IGNORECASE)


def _task_in_words(text: str) -> str | None:
    """The one card task whose words the text holds, or None."""
    if asks_to_unblock(text):
        return "cancel_loss"  # 解除挂失 and "found it" hold the words of a loss as well
    said = (("report_loss", _REPORT_WORDS), ("check_progress", _PROGRESS_WORDS))
    tasks = {task for task, words in said if words.search(text)}
    return tasks.pop() if len(tasks) == 1 else None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RequestsAfterANo(_Reclassifier):
    """A greeting before a request ("喂 我卡能领了吗", once met with "how can I help?" and the request
    lost) is the request; so is a no or a yes followed by what is wanted ("不是不是 我是要查进度" after
    a wrong answer, "no no, I want to check her card", "好 那我现在又找不到了 帮我挂失吧"). Read as a
    no (or a goodbye) it had ended the conversation, and on the phone the call; read as a yes with
    nothing to confirm, the person was asked what they wanted. At a confirmation the words decide
    whatever the intent, so a no stays a no, and a yes that restates the task is a yes.
    """

    def reclassify(self, intent: str | None, text: str) -> tuple[str, str] | None:
        if intent == "greet":  # "喂 我卡能领了吗": a greeting before the request
            task = _task_in_words(text)
            return (task, intent) if task else None
        # (not a thanks: "谢谢你帮我挂失" thanks for what was done)
        if intent not in {"deny", "goodbye", "affirm"} or not (want := _WANT.search(text)):
            return None
        wanted = text[want.start() :]
        if _NOT_WANTED.search(wanted) or _LOSS_DENIED.search(wanted) or not (task := _task_in_words(wanted)):
            return None
        return task, intent


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LanguageRequestsAreGreetings(_Reclassifier):
    """A request for a language and nothing more ("Can you switch to English please", "说中文吧") is
    met as a greeting, in that language (the number extractor sets it): it had been read as a
    request to change one's details, or not understood."""

    least_confidence = 0.9

    def reclassify(self, intent: str | None, text: str) -> tuple[str, str] | None:
        if intent == "greet" or requested_language(text) is None:
            return None
        return "greet", intent or "nlu_fallback"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class NotKnowingIsNoNo(_Reclassifier):
    """Not knowing what was asked ("我不记得身份证号了", "I don't know his number") is an answer
    (``inform``), which the identity check meets with where to find it, never a no: read as one it
    stopped the request ("好的，已取消"), and an elderly caller was left with nothing. Saying to stop
    as well ("不记得了，算了") is still a no."""

    def reclassify(self, intent: str | None, text: str) -> tuple[str, str] | None:
        if intent == "deny" and does_not_know(text) and not says_stop(text) and not a_pause(text):
            return "inform", "deny"
        return None


# Asking about a loss report in force: its reference, when it runs out, the formal report after it.
_REFERENCE = re.compile(r"编号|参考号|\breference\b|\bref(?:erence)? (?:no|number)\b", re.IGNORECASE)
_ABOUT_THE_REPORT = re.compile(
    rf"{_REFERENCE.pattern}|过期|到期|有效期|失效|什么时候结束|多久有效|正式挂失|正式报失"
    r"|\bexpir|\bvalid (?:until|for)\b|\bhow long (?:does|will|is)\b|\bformal(?:ly)? report|\bformal one\b"
    r"|\bmake it formal\b",
    re.IGNORECASE,
)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LossReportQuestionsAreStatusQuestions(_Reclassifier):
    """A question about a loss report in force ("挂失编号是多少来着", "那个挂失什么时候过期", "how do I
    make the formal report?") asks for the card's state (``check_progress``), whose answer gives the
    reference, the date it runs to and where to make it formal.

    The classifier read them as cancelling the report, and a code to unblock was texted to people
    who had asked nothing of the kind; or as a new loss report. A request to unblock, or a loss said
    with the question, keeps its intent.
    """

    def reclassify(self, intent: str | None, text: str) -> tuple[str, str] | None:
        if intent not in {"cancel_loss", "report_loss"} or not _ABOUT_THE_REPORT.search(text):
            return None
        if intent == "report_loss" and not _REFERENCE.search(text):
            return None  # "临时挂失有效期多久": how loss reports work, answered as a loss report
        if asks_to_unblock(text) or (intent == "report_loss" and _LOST.search(text)):
            return None
        return "check_progress", intent


# Any word of a loss, however said: what a loss report cannot do without. Wide on purpose (dialect,
# typos, stories: "卡跌咗", "lsot my card", "the taxi drove off with my bag").
_ANY_LOSS = re.compile(
    r"丢|掉|不见|找不|没找|没了|偷|盗|扒|捡|摸|抢|落|忘|遗|挂|报失|冻|停|锁|跌|唔见|脱|寻|冇咗|没得了|透|放哪|被人用"
    r"|(?<![a-z])(?:los[te]?|lsot|missing|stol+en|steal|stole|took|taken|left|gone|misplac\w*|find|found"
    r"|pick ?pocket\w*|snatch\w*|block|freez\w*|frozen|report\w*|rob\w*|drop\w*|fell|fall|empty|not there"
    r"|drove off|inside|disappear\w*|forgot|idea where|remember where|stop it|use my card)(?![a-z])",
    re.IGNORECASE,
)
# What a progress question sounds like when no task word is in it: "能不能快一点啊 我急着用", "my dad
# wants to know where his card is".
_PROGRESS_HINT = re.compile(
    r"快一?点|急着|着急|催|多久|什么时候|怎么回事|咋回事|\bwhere(?:'s| is)? (?:my|his|her) card\b|\bhurry\b"
    r"|\bwhat'?s (?:going on|up) with\b",
    re.IGNORECASE,
)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LossReportsNeedALoss(_Reclassifier):
    """A message the classifier took for a loss report that holds no word of a loss but sounds like a
    progress question ("能不能快一点啊 我急着用", "my dad wants to know where his card is") is
    ``check_progress``: the person had been told there was nothing to report lost. A loss supposed
    or the procedure asked about ("万一以后社保卡丢了该咋办", "if I ever lose my card, what's the
    procedure") is a question (``out_of_scope``, answered with how a loss report works), not a
    request to check who the person is."""

    def reclassify(self, intent: str | None, text: str) -> tuple[str, str] | None:
        if intent == "report_loss" and not _ANY_LOSS.search(text) and _PROGRESS_HINT.search(text):
            return "check_progress", intent
        if intent in {"report_loss", "check_progress", "nlu_fallback"} and asks_how_loss_reporting_works(text):
            return "out_of_scope", intent
        return None


# A card broken, or a new one wanted: "卡坏了刷不了" is a replacement question.
_DAMAGED_OR_REPLACED = re.compile(
    r"坏了|损坏|坏掉|断了|折了|裂了|弯了|消磁|磨|旧了|看不清|泡水|湿了|芯片|补办|补卡|换(?!号|手机|了号)|新卡|新的"
    r"|\b(?:broken|damaged|cracked|bent|scratched|worn|fad(?:ed|ing)|wet|chip|replace|replacement|change it"
    r"|new (?:card|one))\b"
    # an application refused, not a card: "被拒了还能再申请吗"
    r"|申请|\bappl(?:y|ication)\b",
    re.IGNORECASE,
)
# A no said first ("不是，我卡没丢，就是刷不了"): an answer to what was asked, which the no decides.
_NO_FIRST = re.compile(r"\s*(?:不|没|别|算了|取消|no\b|nope\b|cancel\b)", re.IGNORECASE)
# What a refused card is taken for besides a status question.
_REFUSAL_MISREAD_AS = frozenset(
    {
        "report_loss",
        "cancel_loss",
        "deny",
        "goodbye",
        "thank",
        "affirm",
        "greet",
        "inform",
        "out_of_scope",
        "replace_card",
    }
)
# A refusal in another region or of a card not yet activated is answered as that question (those
# answers say why a card is refused there); without such words it is not one ("我在医院刷卡 人家说卡被
# 拒绝了" had been given the other-region answer).
_ELSEWHERE_OR_INACTIVE = {
    "cross_region": re.compile(
        r"外地|异地|外省|省外|跨省|外市|老家|出差|旅游|北京|上海|广州|深圳|杭州|\b(?:another|other|different) "
        r"(?:city|province|region|place)\b|\babroad\b|\bout of town\b|\bin (?:beijing|shanghai|guangzhou|shenzhen)\b",
        re.IGNORECASE,
    ),
    "activate_card": re.compile(r"激活|启用|开通|\bactivat", re.IGNORECASE),
}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RefusedCardsAreStatusQuestions(_Reclassifier):
    """A card refused or shown as blocked where it is used ("卡用不了了", "我的卡好像被冻住了", "my card
    is blocked") asks what state the card is in (``check_progress``): the answer says whether a loss
    report is in force and, for a working card, where else the trouble may lie.

    The classifier read these as a loss report (a working card was offered one), as a replacement,
    or as a no and a goodbye ("卡用不了了" ended the conversation). A loss said as well is still a
    loss report, a request to unblock is ``cancel_loss``, a broken card is a replacement, and a
    refusal in another region or of a card not yet activated is that question. The
    words decide here, so a low confidence is raised: the fallback would only ask to rephrase.
    """

    least_confidence = 0.9

    def reclassify(self, intent: str | None, text: str) -> tuple[str, str] | None:
        elsewhere = _ELSEWHERE_OR_INACTIVE.get(intent or "")
        misread = intent in _REFUSAL_MISREAD_AS or (elsewhere is not None and not elsewhere.search(text))
        if not misread or not card_refused(text):
            return None
        if _LOST.search(text) or asks_to_unblock(text) or _DAMAGED_OR_REPLACED.search(text):
            return None
        if intent == "deny" and _NO_FIRST.match(text):
            return None
        return "check_progress", intent


# What a question only a service hall answers is taken for (`for_the_hall` names the answer): for
# closing a card, the tasks and the answers about the card ("cancel the card" at a confirmation stays
# a no); for a proxy question, the tasks and a no or a yes ("不对 我问的是能不能别人代办").
_CLOSING_MISREAD_AS = frozenset(
    {
        "cancel_loss",
        "report_loss",
        "activate_card",
        "cross_region",
        "replace_card",
        "apply_card",
        "update_info",
        "inform",
    }
)
# Collecting the card: a proxy question about it hears the card's state as well.
_COLLECTING = re.compile(r"领|取卡|\bpick\w* (?:\w+ )?up\b|\bcollect\w*", re.IGNORECASE)
_MISREAD_AS = {
    # (注销 is a word of progress; "cancel my card … leaving China" was once a goodbye)
    "utter_close_card": _CLOSING_MISREAD_AS | {"check_progress", "goodbye", "greet", "thank", "nlu_fallback"},
    # A question about applying, replacing, activating or changing details keeps its answer, and a
    # progress question (in its words, see below) the card's state: each hears the proxy note after it.
    # "Can someone else pick it up for me?" was a request for staff: on the phone, a voicemail.
    "utter_proxy": frozenset(
        {
            "cancel_loss",
            "report_loss",
            "check_progress",
            "inform",
            "deny",
            "affirm",
            "goodbye",
            "greet",
            "nlu_fallback",
            "request_human",
        }
    ),
    "utter_office_hours": frozenset({"inform", "greet", "deny", "affirm"}),
}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class QuestionsForTheServiceHall(_Reclassifier):
    """Closing a card for good ("我要注销社保卡", "cancel my card completely, I'm leaving China") or
    someone else acting for the holder ("能让我妈代领吗", "can my wife sign for it") is none of the
    tasks here (``out_of_scope``, answered with where it is settled: `bot.language.text.for_the_hall`).

    Closing had been read as cancelling a loss report (an unblocking code was texted to a person
    leaving the country), as a loss report, or as activation; a proxy question as the general
    replacement or application answer, or as details. A loss, a finding or a progress question said
    too keeps its intent ("can I report it lost in person" is a loss report; "做好了吗 能让我老婆代领吗"
    hears the progress, which names what to bring).
    """

    least_confidence = 0.9

    def reclassify(self, intent: str | None, text: str) -> tuple[str, str] | None:
        answer = for_the_hall(text)
        if answer is None or intent not in _MISREAD_AS[answer] or _REPORT_WORDS.search(text) or asks_to_unblock(text):
            return None
        if answer == "utter_proxy" and _PROGRESS_WORDS.search(text):  # the progress answer, then the note
            return None
        if intent == "check_progress" and _COLLECTING.search(text):  # "can my son pick up the card": its state too
            return None
        return "out_of_scope", intent
