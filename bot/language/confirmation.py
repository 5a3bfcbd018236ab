"""Whether a reply to a pending confirmation is an unambiguous yes.

A loss report or an unblock takes effect at once, so only a clear yes may trigger it. The intent
classifier alone is not enough: it has taken dialect negations (唔好, 不得行, 覅) for ``affirm``
with high confidence. `decide` therefore reads the words as well:

- any negation, hesitation or postponement (不/没/别/唔/覅/毋/莫, 等一下, 先问问我儿子, "wait",
  "not yet", "let me ask my son first") makes the reply not a yes, unless a later clause is a clear
  yes ("不用了，算了，还是帮我挂失吧"): the last clause that says yes or no decides;
- a yes needs both a yes in the words and the classifier's agreement (``affirm``, or the intent
  being confirmed when the yes restates the task, or ``deny`` when the yes takes back a no) with
  at least `MIN_CONFIDENCE`;
- questions, low confidence, mixed signals and anything else are UNCLEAR: ask again;
- on the phone, keypad 1 is yes and 2 is no;
- the chat page's buttons send the intent itself ("/affirm", "/deny"), read as the words yes and
  no, so a press is decided as typing "确认" or "取消" is, by the same rules.
"""

from __future__ import annotations

import re
from enum import Enum

from bot.language.text import a_pause, card_found, intent_payload, to_simplified, without_pause_words

MIN_CONFIDENCE = 0.7
"""Below this classifier confidence a reply that reads as yes is UNCLEAR."""

YES_INTENTS = frozenset({"affirm"})
NO_INTENTS = frozenset({"deny", "goodbye"})  # a goodbye confirms nothing
_KEYPAD = {"1": "yes", "2": "no", "１": "yes", "２": "no"}


class Decision(Enum):
    """What a reply to a pending confirmation means for the action waiting on it."""

    YES = "yes"  # act
    NO = "no"  # do not act; say it was not done
    UNCLEAR = "unclear"  # do not act; ask again


# Idioms that contain a negation character but mean yes, or mean nothing for yes/no. They are
# replaced before the negations are looked for (longest first, so 没问题 wins over 没).
_YES_IDIOMS_ZH = (
    "没问题", "没有问题", "没得问题", "莫得问题", "冇问题", "无问题", "没错", "冇错", "无误", "没毛病",
    "不错", "可不是", "当然可以", "嗯哪", "嗯呐",
)  # fmt: skip
_NEUTRAL_ZH = (
    "不好意思", "唔好意思", "对不起", "不客气", "唔该", "不见", "唔见", "找不到", "找不着", "找不见",
    "没找到", "没找着", "没有找到", "没找见",
    "寻不着", "寻勿着", "冇咗", "不然", "要不然", "否则", "别人", "别的", "特别", "区别", "取消挂失",
    "撤销挂失", "解除挂失",
)  # fmt: skip
_YES_IDIOMS_EN = (
    "no problem", "no problems", "no worries", "not a problem", "not bad", "why not", "of course",
    "sure thing", "no doubt",
)  # fmt: skip
_NEUTRAL_EN = (
    "can't find", "cannot find", "can not find", "couldn't find", "cant find", "could not find",
    "cancel the loss report", "cancel the report", "cancel my loss report", "cancel the block",
)  # fmt: skip

# Negation, hesitation and postponement. Chinese ones are matched anywhere in a clause.
_NO_ZH = (
    # plain and dialect negation: Mandarin, Cantonese (唔/冇/咪/未), Wu (覅/勿/嫑), Min and Hakka (毋/呣/无),
    # Sichuanese (莫/不得行), northern (甭/拉倒/得了吧)
    "不", "没", "别", "莫", "勿", "覅", "嫑", "甭", "唔", "毋", "呣", "冇", "咪", "未", "无", "否",
    "伐要", "伐用", "错", "免了", "免啦", "算了", "算啦", "算数", "算球", "拉倒", "得了吧", "随便",
    # hesitation and postponement
    "等等", "等一下", "等下", "等会", "等一会", "等阵", "等我", "等歇", "稍等", "慢着", "慢点", "且慢",
    "先等", "再说", "再讲", "再想", "想想", "想一想", "考虑", "商量", "问问", "问下", "问一下", "回头",
    "改天", "明天", "后天", "以后", "过两天", "过几天", "下次", "迟啲", "先放", "放一放", "缓一缓",
    "缓缓", "暂时", "暂且", "还没", "再找", "再看", "再翻", "找找", "看看", "翻翻", "犹豫", "也许",
    "可能", "或许", "大概", "好像", "似乎", "万一", "自己", "亲自",
)  # fmt: skip
_NO_EN = (
    r"no+", "n", "nope", "nop", "nah", "nay", "not", r"\w+n't", "dont", "cant", "wont", "didnt",
    "doesnt", "isnt", "never", "negative", "nvm", "never ?mind", "wrong", "incorrect", "i'm fine",
    "i am fine", "rather not", "change(?:d)? my mind", "forget it", "stop",
    # hesitation and postponement
    "wait", "hold on", "hold off", "hold it", "hang on", r"(?:just )?(?:a|one|1) (?:sec|second|moment|minute|min)",
    "give me a", "later", "tomorrow", "another (?:day|time)", "next (?:week|time)", "for now", "leave it",
    "maybe", "perhaps", "probably", "might", "unsure", "dunno", "think", "i guess", "let me", "let's wait",
    "ask my", "check with", "talk to my", "look", "search", "once more", "myself", "in person",
    "i'll (?:check|look|ask|see|call|come|go)",
)  # fmt: skip

# Yes. Chinese single characters only count at the start of a clause (好像, 要是, 银行 are not yes);
# phrases count anywhere in a clause that has no negation.
_YES_START_ZH = "是对好行要嗯中成得系係啱妥可"
_YES_START_FOLLOW = (
    "的", "啊", "呀", "滴", "嘞", "哒", "吧", "啦", "喇", "嘅", "个", "呐", "哪", "了", "咯", "哦", "噢",
    "挂", "办", "解", "冻", "锁", "补", "恢复", "确认", "帮", "就", "马上", "赶紧", "继续", "弄", "整", "搞",
    "我", "本人", "以",
)  # fmt: skip
_YES_ZH = (
    "确认", "确定", "同意", "正确", "需要", "是的", "对的", "好的", "是呀", "是啊", "对呀", "对啊", "都对",
    "我就是", "就是这样", "当然", "必须的", "就这么办", "就这样办", "照办", "继续", "没问题", "要得",
    "对头", "得嘞", "好嘞", "妥了", "就是我", "是我", "本人", "就是这个", "办吧", "办理吧", "挂吧",
    "挂失吧", "挂了吧", "解挂吧", "解了吧", "冻结吧", "冻上", "锁了吧", "恢复吧", "补办吧", "弄吧", "整吧",
    "搞吧", "来吧", "快点挂", "快挂", "赶紧挂", "马上挂",
    "帮我挂", "帮我办", "帮我解", "帮我冻", "帮我锁", "帮我恢复", "给我挂", "给我办",
    "👍", "👌", "✅", "🆗",
)  # fmt: skip
_YES_EN = (
    "yes+", "y", "yeah", "yea", "yeh", "yep", "yup", "ya", "yah", "yas", "aye", "ok", "okay", "okey", "k",
    "kk", "sure", "correct", "right", "exactly", "absolutely", "definitely", "certainly", "confirm",
    "confirmed", "affirmative", "agreed", "alright", "all right", "go ahead", "go on", "proceed",
    "do it", "please do", "fine", "that's fine", "it's me", "it is me", "yse", "fine by me",
    "sounds good", "that's it", "that's me",
    "uh[ -]?huh", "mhm", "true", "indeed", "carry on", "(?:block|freeze|lock|report|unblock|unfreeze|lift) it",
    "lift the block", "block the card", "block my card", "freeze the card", "freeze my card",
)  # fmt: skip
_NO_MARKS = ("👎", "❌", "🙅")

_QUESTION_ZH = (
    "吗", "多久", "多少", "什么", "为什么", "怎么", "咋", "啥", "哪", "几", "乜", "咩", "点样", "边度", "是否",
)  # fmt: skip
_QUESTION_WORDS_EN = ("how", "what", "when", "why", "where", "which", "who")
# An English question's start: an auxiliary before its subject ("will my card…", "do I…").
_AUX_QUESTION_EN = (
    r"(?:is|are|will|would|can|could|does|did|should|has|have)\s+(?:i|you|it|its|my|the|this|that|they|we|there|he|she)"
    r"|do\s+(?:i|you|they|we)|does"
)
_QUESTION_START_EN = (_AUX_QUESTION_EN,)

_YES_TOKEN = "\ue000"  # stands for a yes idiom once masked


def _words(phrases: tuple[str, ...]) -> str:
    return "|".join(sorted(phrases, key=len, reverse=True))


def _literal(phrases: tuple[str, ...]) -> str:
    return "|".join(map(re.escape, sorted(phrases, key=len, reverse=True)))


_EN_EDGE = r"(?<![a-z'])(?:{})(?![a-z])"
_YES_IDIOM = re.compile(f"{_literal(_YES_IDIOMS_ZH)}|{_EN_EDGE.format(_literal(_YES_IDIOMS_EN))}")
_NEUTRAL = re.compile(f"{_literal(_NEUTRAL_ZH)}|{_EN_EDGE.format(_literal(_NEUTRAL_EN))}")
_NO = re.compile(f"{_literal(_NO_ZH + _NO_MARKS)}|{_EN_EDGE.format(_words(_NO_EN))}")
_YES = re.compile(
    f"{_YES_TOKEN}|{_literal(_YES_ZH)}|{_EN_EDGE.format(_words(_YES_EN))}"
    f"|^([{_YES_START_ZH}])\\1*(?:$|{_literal(_YES_START_FOLLOW)})"
)
_QUESTION = re.compile(
    f"{_literal(_QUESTION_ZH)}|{_EN_EDGE.format(_words(_QUESTION_WORDS_EN))}"
    f"|^(?:{_EN_EDGE.format(_words(_QUESTION_START_EN))})"
)
# Asked rather than answered: a final 吗/么/伐, an A-not-A question (是不是, 要不要, 有没有), a
# question word no answer has ("要是明天找到了怎么办": its 明天 is no postponement), or an English
# question after a hesitation ("wait will my card number stay the same").
_ASKED = re.compile(
    r"(?:吗|么|伐)$|(?<![不没])([^不没])[不没]\1|怎么办|咋办|怎么样|为什么|为啥|多久|多少钱|什么时候|啥时候"
    r"|^(?:(?:wait|hold on|hang on|hmm+|um+|uh+|erm|er|well|so|oh|ok|okay|but)\s+)+"
    rf"(?:{_AUX_QUESTION_EN})\b"
)
# "Cancel" declines, except when what awaits confirmation is cancelling the loss report.
_CANCEL = re.compile(r"取消|撤销|(?<![a-z])cancel")
_CANCEL_TASKS = frozenset({"cancel_loss"})
# Clause boundaries: punctuation, and spaces next to a Chinese character (recognisers and typists
# separate "不用了 还是挂吧" that way); a question mark is kept to mark its clause as a question.
_BOUNDARY = re.compile(r"([?？])|[,，.。!！;；:：、…~～\n\r\t/|]+|(?<=[\u3400-\u9fff])\s+|\s+(?=[\u3400-\u9fff])")
# A change of mind starts a new clause: "算了还是挂吧", "no actually yes".
_TURN = re.compile(r"(?=还是|不过|但是|可是|其实|那就)|(?<![a-z])(?=actually\b|but\b|on second thought\b|then\b)")
_FILLERS = re.compile(r"^(?:嗯嗯|嗯|呃|额|啊|哦|噢|喔|那个|这个|那|就|(?:uh|um|er|erm|well|oh|so|and)\b)\s*(?=.)")


def _clauses(text: str) -> list[tuple[str, bool]]:
    """The text's clauses in order, each with whether it was asked as a question."""
    clauses: list[tuple[str, bool]] = []
    pieces = _BOUNDARY.split(text)
    # re.split yields text, then the captured question mark (or None), alternately.
    for index in range(0, len(pieces), 2):
        asked = index + 1 < len(pieces) and pieces[index + 1] is not None
        parts = [part.strip() for part in _TURN.split(pieces[index] or "")]
        parts = [part for part in parts if part]
        for position, part in enumerate(parts):
            clauses.append((part, asked and position == len(parts) - 1))
    return clauses


def _strip_fillers(clause: str) -> str:
    previous = None
    while previous != clause:
        previous, clause = clause, _FILLERS.sub("", clause).strip()
    return clause


def _clause_meaning(clause: str, asked: bool, cancel_declines: bool) -> str | None:
    """``no``, ``question``, ``yes`` or None for a clause that says none of these."""
    core = _strip_fillers(clause)
    if asked or _ASKED.search(core):
        return "question"  # "不用带身份证吗?" asks rather than declines
    if _NO.search(clause) or (cancel_declines and _CANCEL.search(clause)):
        return "no"
    if _QUESTION.search(core):
        return "question"
    if _YES.search(core) or _YES.search(clause):
        return "yes"
    return None


def _meanings(text: str, task_intent: str | None) -> list[str | None]:
    """What each clause of the reply says, in order (see `_clause_meaning`)."""
    simplified = to_simplified(text).lower().replace("’", "'")
    masked = _NEUTRAL.sub(" ", _YES_IDIOM.sub(f" {_YES_TOKEN} ", simplified))
    cancel_declines = task_intent not in _CANCEL_TASKS
    return [_clause_meaning(clause, asked, cancel_declines) for clause, asked in _clauses(masked)]


def _read(text: str, task_intent: str | None) -> tuple[str | None, bool]:
    """What the words say, and whether a yes takes back an earlier no."""
    pressed = intent_payload(text)
    if pressed in YES_INTENTS | NO_INTENTS:
        return ("yes" if pressed in YES_INTENTS else "no"), False
    if task_intent == "report_loss" and card_found(to_simplified(text)):
        return "no", False  # "oh yes, found it!! its in my pocket": a found card is not reported lost
    meanings = _meanings(text, task_intent)
    polar = [i for i, meaning in enumerate(meanings) if meaning in {"yes", "no"}]
    if not polar:
        return ("question" if "question" in meanings else None), False
    last = polar[-1]
    if meanings[last] == "no":
        return "no", False
    if "question" in meanings[last:]:
        return "question", False
    return "yes", "no" in meanings[:last]


# "那到底挂上了没有", "办好了吗", "did it go through?": whether the change was already made. It was
# not (it waits for this very yes), and the person should hear so, not a no read into the 没.
_ASKS_IF_DONE = re.compile(
    r"(?:挂|办|弄|搞|解|锁|冻|成|好|完|生效)(?:上|好|完|了|掉|成|定|功)*了?(?:没有|没|吗|么|嘛|不)\s*[?？]?$"
    r"|(?:是不是|是否|有没有)(?:已经)?(?:挂|办|解|锁|冻)"
    r"|(?:能|可以)[^，。,.]{0,8}?用了(?:吧|吗|么|没|没有)|恢复了(?:吧|吗|么|没|没有)|(?:现在)?好了吧|(?:挂|办|弄|解|锁|冻)(?:上|好|完|掉)?了吧"
    r"|(?<![a-z])(?:is it|it'?s|is my card|is the card)\s+(?:working|usable|unblocked|active)(?:\s+(?:again|now))*"
    r"|(?<![a-z])can i (?:still )?use (?:it|my card|the card)\b[^?.!]{0,30}?\b(?:again|now|today)\b"
    r"|(?<![a-z])(?:did|has|have|is|was)\s+(?:it|that|this|the\s+(?:card|report|loss\s+report)|my\s+card)\s+"
    r"(?:been\s+)?(?:go(?:ne)?\s+through|done|reported|blocked|frozen|unblocked|cancelled|canceled|work(?:ed)?"
    r"|succeed(?:ed)?|successful|finished|complete(?:d)?|gone\s+ahead)\b"
)


_TRAILING = re.compile(r"then|so|now|呢|那|啊|吧")


def asks_if_done(text: str) -> bool:
    """Whether the reply asks if the change is already made ("挂上了没有", "is it done?")."""
    clauses = [clause for clause, _ in _clauses(to_simplified(text).lower().replace("’", "'"))]
    while clauses and _TRAILING.fullmatch(clauses[-1]):  # "…today then"
        clauses.pop()
    return bool(clauses) and bool(_ASKS_IF_DONE.search(_strip_fillers(clauses[-1])))


def ends_in_question(text: str, task_intent: str | None = None) -> bool:
    """Whether the reply ends by asking something ("挂失后还能用吗？", "等一下，挂失要收费吗",
    "wait, does it cost anything?"): a question about the change, whatever came before it."""
    if intent_payload(text):
        return False
    meanings = _meanings(text, task_intent)
    polar = [i for i, meaning in enumerate(meanings) if meaning in {"yes", "no"}]
    return "question" in meanings[polar[-1] if polar else 0 :]


def read_reply(text: str, task_intent: str | None = None) -> str | None:
    """What the words alone say: ``yes``, ``no``, ``question`` or None.

    The last clause that says yes or no decides, so a negation counts unless a later clause takes
    it back with a clear yes; a question after the yes (or in it) leaves the reply open.
    """
    return _read(text, task_intent)[0]


# What puts the change off beyond the moment asked for: "wait, let me look again first", "等下 先问问".
_PUT_OFF = re.compile(r"\b(?:again|first|later)\b|再|先", re.IGNORECASE)


def only_a_pause(text: str) -> bool:
    """Whether the reply asks for a moment and declines nothing ("等一下", "嗯 我想想", "hold on, let
    me check my bag"; not "等等，我再找找", "先别解，我再想想", "wait, let me look again first" or "wait,
    not yet", which are a no)."""
    rest = without_pause_words(text)
    return a_pause(text) and read_reply(rest) != "no" and not _PUT_OFF.search(rest)


def decide(
    text: str,
    intent: str | None,
    confidence: float | None,
    *,
    task_intent: str | None = None,
) -> Decision:
    """Whether `text`, the reply to a pending confirmation, is an unambiguous YES, a NO, or UNCLEAR.

    Args:
        text: the message as the person wrote or said it (traditional characters are fine).
        intent: the classifier's intent for it (``nlu_fallback`` included), or None when the
            message was not classified: the words alone then decide.
        confidence: the classifier's confidence in `intent`; None when it gave none.
        task_intent: the intent of the action being confirmed (e.g. ``report_loss``), so that a
            yes restating the task ("是的，挂失吧", "yes, block it") counts even when the
            classifier names the task rather than ``affirm``; "cancel" (取消, 撤销) declines
            unless the task is ``cancel_loss``.

    Returns:
        YES only for an unambiguous yes (or keypad 1); NO for any negation, hesitation or
        postponement not taken back by a later yes, for keypad 2, and for a confident ``deny`` or
        ``goodbye`` with nothing to the contrary; UNCLEAR for everything else (questions, mixed signals,
        low confidence).
    """
    keypad = _KEYPAD.get(text.strip().rstrip("#"))
    if keypad is not None:
        return Decision.YES if keypad == "yes" else Decision.NO
    words, changed_mind = _read(text, task_intent)
    if words == "no":
        return Decision.NO
    confident = confidence is None or confidence >= MIN_CONFIDENCE
    if words == "yes":
        if intent is None:
            return Decision.YES
        agreeing = YES_INTENTS | {task_intent}
        if changed_mind:
            # The classifier weighs the whole message and often names the no that was taken back.
            agreeing |= NO_INTENTS
        return Decision.YES if intent in agreeing and confident else Decision.UNCLEAR
    if words is None and intent in NO_INTENTS and confident:
        return Decision.NO
    return Decision.UNCLEAR
