from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.language.confirmation import MIN_CONFIDENCE, Decision, asks_if_done, decide, ends_in_question, read_reply

NLU_DATA = Path(__file__).resolve().parents[2] / "data" / "nlu"


def training_examples(intent: str) -> list[str]:
    data = yaml.safe_load((NLU_DATA / f"{intent}.yml").read_text(encoding="utf-8"))
    return [line[2:].strip() for block in data["nlu"] for line in block["examples"].splitlines() if line.strip()]


YES, NO, UNCLEAR = Decision.YES, Decision.NO, Decision.UNCLEAR

# Plain and dialect negations, each of which the model once took (or could take) for a yes.
DIALECT_NEGATIONS = [
    # Cantonese
    "唔好", "唔好啊", "唔好挂住先", "唔要", "唔要啦", "我唔要挂失", "唔使", "唔使喇", "唔使咁麻烦",
    "唔得", "唔得唔得", "唔係", "唔系呀", "唔啱", "咪住", "咪搞住", "唔需要喇", "冇需要", "仲未",
    "未得住", "算数啦",
    # Sichuanese and south-western
    "不得行", "这样不得行哦", "莫得", "莫得必要", "莫挂了", "莫搞了嘛", "算球", "算球了嘛", "要不得",
    "不存在",
    # northern and north-eastern
    "拉倒吧", "别整了", "甭介", "甭挂了", "得了吧", "别介",
    # Shanghainese and other Wu
    "覅", "覅挂失了", "勿要", "勿要挂了", "勿用了", "勿对", "勿是个", "伐要", "嫑",
    # Hokkien, Teochew, Hakka
    "毋免", "毋免了", "毋通挂失", "毋要", "呣是", "唔爱", "免了免了", "无爱",
    # Mandarin
    "不", "不要", "不用了", "没有", "不对", "不对不对", "不是不是", "算了", "取消", "不同意", "先别",
    "别挂", "错了", "号码错了",
]  # fmt: skip

HESITATIONS = [
    "等一下", "等等 我再找找", "稍等", "我再想想", "先问问我儿子", "我问下个仔先", "等阵先",
    "过两天再说", "明天再讲", "先放一放", "暂时先不", "还没想好", "等我回去翻翻", "可能在车上",
    "好像在我包里", "我自己去大厅办", "回头再弄",
    "wait", "wait, let me look again", "hold on", "hang on a second", "not yet", "not now",
    "later", "maybe tomorrow", "let me ask my son first", "I'll ask my wife", "forget it for now",
    "let me think about it", "I'm not sure", "give me a minute", "I might have it at home",
    "I'll go to the office myself", "never mind", "nvm", "I changed my mind", "perhaps", "wrong",
    "that's incorrect", "no, I'm fine", "leave it for now", "cancel", "yes please cancel it",
]  # fmt: skip

PLAIN_YES = [
    "是", "是的", "对", "对的", "对对对", "好", "好的", "好嘞", "嗯", "嗯嗯", "行", "可以", "没问题",
    "没错", "确认", "确定", "同意", "当然", "要得", "对头", "中", "成", "得嘞", "妥了", "系", "系呀",
    "係呀", "啱", "冇问题", "冇错", "好个", "整吧", "嗯呐", "確認", "是的沒錯", "确认无误", "👍",
    "yes", "Yes.", "yeah", "yep", "yup", "y", "ok", "okay", "OK!", "sure", "correct", "right",
    "that's right", "absolutely", "confirm", "go ahead", "please do", "do it", "proceed",
    "no problem", "why not", "of course", "sure thing", "uh huh", "mhm", "yes please", "fine",
    "it's me", "嗯哪", "信息都对", "正确",
]  # fmt: skip

RESTATING_YES = [
    "是的，办吧", "是的 挂失吧", "对，帮我挂失", "确认挂失", "确定 冻结吧", "好的 帮我解挂",
    "对的 解挂吧", "嗯 马上挂", "要得 挂失嘛", "系 帮我挂失", "唔该 帮我挂失", "好呀 帮我解挂啦",
    "是的 取消挂失", "就这么办", "照办", "快点挂", "赶紧挂失", "那就挂吧", "好嘞 您给挂上吧", "是的 我丢了",
    "没错 就是这个号", "係呀 唔該", "不要紧 挂吧",
    "yes, go ahead and block it", "yes block it", "yeah, freeze it now", "yes, report it lost",
    "yes please unblock it", "ok, lift the block", "right, block my card", "yes, cancel the loss report",
    "卡不见了，挂吧", "找不到了 帮我挂失", "I can't find it anywhere, so yes, block it",
    "sure, go on", "yes do it now", "yes, I lost it", "yes I lost it yesterday, can't find it", "uh-huh",
    "ok then",
]  # fmt: skip

CHANGE_OF_MIND_YES = [
    "不用了，算了，还是帮我挂失吧",
    "不用了 算了 还是帮我挂失吧",
    "不用了算了还是帮我挂失吧",
    "算了算了 还是挂吧",
    "唔使喇，都系帮我挂啦",
    "等一下……好吧，确认",
    "不对不对，是的，确认挂失",
    "no, actually yes",
    "no wait, yes, go ahead",
    "hmm no... actually yes, block it",
]

CHANGE_OF_MIND_NO = [
    "yes... wait, no",
    "yes, no, wait",
    "好的，等一下",
    "好，不对，先别挂",
    "是的 哦不 不要",
    "确认……算了吧",
    "ok but not now",
    "sure, but let me ask my son first",
    "yes please. actually no",
    "对 好像不用",
    "行 我再想想",
    "好的好的不不不",
]

QUESTIONS = [
    "挂失以后还能解挂吗",
    "要多久",
    "是不是要带身份证",
    "收费吗",
    "好的，要多久？",
    "yes?",
    "ok how long does it take",
    "does it cost anything",
    "what happens to my money",
    "可以吗",
    "好伐",
    # a question after a hesitation, or with a word that is a postponement elsewhere
    "要是明天又找到了怎么办",
    "wait will my old card number stay the same",
    "hmm will I need to pay for a new one",
    "will my bank card still work",
]

NOT_A_REPLY = ["侬好", "你好", "谢谢", "thanks", "hmm", "我的卡", "my card", "对不起", "不好意思", "", "   "]


@pytest.mark.parametrize("text", DIALECT_NEGATIONS + HESITATIONS)
def test_negations_and_hesitations_are_no_even_when_classified_affirm(text):
    assert read_reply(text) == "no"
    assert decide(text, "affirm", 0.99) is NO
    assert decide(text, "affirm", 0.99, task_intent="report_loss") is NO
    assert decide(text, None, None) is NO


@pytest.mark.parametrize("text", PLAIN_YES + RESTATING_YES)
def test_clear_yes_is_yes_when_the_classifier_agrees(text):
    assert read_reply(text) == "yes"
    assert decide(text, "affirm", 0.95) is YES


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("是的 挂失吧", "report_loss"),
        ("yes, go ahead and block it", "report_loss"),
        ("好 帮我解挂", "cancel_loss"),
        ("yes please unblock it", "cancel_loss"),
    ],
)
def test_restating_yes_counts_when_classified_as_the_task_being_confirmed(text, task):
    assert decide(text, task, 0.97, task_intent=task) is YES
    assert decide(text, task, 0.97) is UNCLEAR  # without knowing the task, it is not "affirm"
    other = "cancel_loss" if task == "report_loss" else "report_loss"
    assert decide(text, other, 0.97, task_intent=task) is UNCLEAR


@pytest.mark.parametrize("text", CHANGE_OF_MIND_YES)
def test_a_later_clear_yes_overrides_an_earlier_no(text):
    assert read_reply(text) == "yes"
    assert decide(text, "affirm", 0.9) is YES
    assert decide(text, "report_loss", 0.9, task_intent="report_loss") is YES
    assert decide(text, "deny", 0.9) is YES  # the classifier often names the no taken back
    assert decide(text, "deny", 0.5) is UNCLEAR
    assert decide(text, "out_of_scope", 0.9) is UNCLEAR


@pytest.mark.parametrize("text", CHANGE_OF_MIND_NO)
def test_a_later_no_overrides_an_earlier_yes(text):
    assert read_reply(text) == "no"
    assert decide(text, "affirm", 0.99) is NO


@pytest.mark.parametrize("text", QUESTIONS)
def test_questions_are_unclear(text):
    assert read_reply(text) == "question"
    assert decide(text, "affirm", 0.99) is UNCLEAR


@pytest.mark.parametrize(
    "text", ["呃 我想想啊 要是明天又找到了怎么办", "等一下 挂了以后为什么还要去大厅", "no wait, is it free?"]
)
def test_a_hesitation_that_ends_in_a_question_is_asked_about(text):
    assert ends_in_question(text, "report_loss")  # answered, and the confirmation asked again
    assert decide(text, "affirm", 0.99) is not YES


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("啊 那到底挂上了没有", True),
        ("办好了没", True),
        ("所以挂失成功了吗？", True),
        ("是不是已经挂上了", True),
        ("did it go through?", True),
        ("ok so has my card been blocked", True),
        ("was it reported", True),
        ("现在能用了吧", True),  # after a code, at the unblock's confirmation
        ("挂上了吧？", True),
        ("挂吧", False),  # a yes, not a question
        ("so it's working again now?", True),
        ("can I use it at the hospital today then", True),
        ("那我现在能直接去医院用了吧", True),
        ("can I use it in Shanghai", False),  # another region's question
        ("挂失后还能用吗？", False),  # what the change does: asked about, not whether it is made
        ("不挂了", False),
        ("是不是要带身份证", False),
        ("等一下，挂失要收费吗", False),
        ("确认", False),
        ("no, don't do it", False),
    ],
)
def test_asking_whether_the_change_is_made_is_told_apart(text, asks):
    assert asks_if_done(text) is asks


@pytest.mark.parametrize("text", NOT_A_REPLY)
def test_messages_that_say_neither_are_unclear(text):
    assert read_reply(text) is None
    assert decide(text, "affirm", 0.99) is UNCLEAR  # the words must say yes too
    assert decide(text, "greet", 0.99) is UNCLEAR


@pytest.mark.parametrize(
    "text",
    [
        "卡不见了",
        "对不起，是的",
        "不好意思 是的",
        "别人捡到怎么办",
    ],
)
def test_idioms_with_negation_characters_are_not_read_as_no(text):
    assert read_reply(text) != "no"


@pytest.mark.parametrize("text", ["好像", "银行", "要是", "行李", "成都", "中国", "得去大厅"])
def test_yes_characters_inside_other_words_are_not_a_yes(text):
    assert decide(text, "affirm", 0.99) is not YES


@pytest.mark.parametrize("text", training_examples("deny"))
def test_every_trained_denial_is_no(text):
    assert decide(text, "affirm", 0.99) is NO


@pytest.mark.parametrize("text", training_examples("affirm"))
def test_every_trained_affirmation_is_yes(text):
    assert decide(text, "affirm", 0.9, task_intent="cancel_loss") is YES


def test_cancel_declines_unless_cancelling_the_loss_report_is_what_is_confirmed():
    assert decide("yes please cancel it", "affirm", 0.9, task_intent="report_loss") is NO
    assert decide("yes please cancel it", "affirm", 0.9, task_intent="cancel_loss") is YES
    assert decide("是的 撤销", "affirm", 0.9, task_intent="cancel_loss") is YES
    assert decide("取消", "deny", 0.9, task_intent="report_loss") is NO
    assert decide("取消", "affirm", 0.9, task_intent="cancel_loss") is UNCLEAR


def test_low_confidence_yes_is_unclear():
    assert decide("是的", "affirm", MIN_CONFIDENCE - 0.01) is UNCLEAR
    assert decide("是的", "affirm", MIN_CONFIDENCE) is YES
    assert decide("yes", "nlu_fallback", 0.45) is UNCLEAR


def test_yes_words_with_a_disagreeing_classifier_are_unclear():
    assert decide("好的", "deny", 0.9) is UNCLEAR  # deny agrees only with a change of mind
    assert decide("ok", "out_of_scope", 0.9) is UNCLEAR
    assert decide("是的 取消挂失", "cancel_loss", 0.9, task_intent="report_loss") is UNCLEAR


def test_a_confident_deny_without_yes_words_is_no():
    assert decide("这个就先这样", "deny", 0.9) is NO
    assert decide("这个就先这样", "deny", 0.5) is UNCLEAR
    assert decide("这个就先这样", "affirm", 0.9) is UNCLEAR


def test_negation_wins_even_at_low_confidence_or_as_fallback():
    assert decide("唔使喇", "nlu_fallback", 0.45) is NO
    assert decide("not yet", "report_loss", 0.3) is NO


@pytest.mark.parametrize(("text", "decision"), [("1", YES), ("2", NO), (" 1 ", YES), ("2#", NO), ("１", YES)])
def test_keypad(text, decision):
    assert decide(text, "inform", 0.99) is decision
    assert decide(text, None, None) is decision


@pytest.mark.parametrize("task", [None, "report_loss", "cancel_loss"])
def test_the_chat_pages_yes_and_no_buttons_decide_as_the_words_yes_and_no(task):
    """A button sends the intent itself (Rasa gives it confidence 1): the same rules as typed words."""
    assert read_reply("/affirm") == read_reply("确认") == read_reply("yes") == "yes"
    assert read_reply("/deny") == read_reply("no") == "no"
    assert decide("/affirm", "affirm", 1.0, task_intent=task) is decide("确认", "affirm", 0.95, task_intent=task) is YES
    assert decide("/deny", "deny", 1.0, task_intent=task) is decide("no", "deny", 0.95, task_intent=task) is NO
    # Only the exact payload is a press: other slash messages are read as words.
    assert decide("/affirm please", "affirm", 1.0) is UNCLEAR
    assert decide("/report_loss", "report_loss", 1.0, task_intent=task) is UNCLEAR


@pytest.mark.parametrize("text", ["12", "3", "0", "一", "11"])
def test_other_keys_are_unclear(text):
    assert decide(text, "inform", 0.99) is UNCLEAR


def test_traditional_characters_are_read_like_simplified():
    assert decide("唔係 唔好掛失", "affirm", 0.99) is NO
    assert decide("是的 幫我掛失", "affirm", 0.99) is YES


# A reply with a negation and nothing after it that could be a yes is never a yes.
NEGATION_MARKERS = DIALECT_NEGATIONS + [
    "等一下", "再想想", "先问问", "no", "not", "don't", "wait", "later", "not yet", "hold on",
    "let me check", "never mind",
]  # fmt: skip
NEUTRAL_CHARS = "卡的我在家里包钱这些他她今天昨儿子女车上面和 "


@given(
    before=st.text(max_size=30),
    marker=st.sampled_from(NEGATION_MARKERS),
    separator=st.sampled_from(["，", ",", "。", "...", " ，", "\n"]),
    after=st.text(alphabet=NEUTRAL_CHARS, max_size=20),
    intent=st.sampled_from(["affirm", "report_loss", "cancel_loss", "deny", "nlu_fallback", None]),
    confidence=st.one_of(st.none(), st.floats(min_value=0, max_value=1)),
)
def test_no_negation_without_a_later_yes_is_ever_yes(before, marker, separator, after, intent, confidence):
    text = f"{before}{separator}{marker} {after}"
    assert decide(text, intent, confidence, task_intent="report_loss") is not YES


@pytest.mark.parametrize(("text", "intent"), [("再见", "goodbye"), ("bye", "goodbye"), ("先这样吧，再见", "goodbye")])
def test_a_goodbye_at_a_confirmation_is_a_no(text, intent):
    assert decide(text, intent, 0.99, task_intent="report_loss") is NO


@pytest.mark.parametrize(
    "text", ["oh yes, found it!! its in my pocket", "好 找到了", "yes but my card is no longer lost"]
)
def test_a_card_found_is_never_a_yes_to_reporting_it_lost(text):
    assert decide(text, "affirm", 0.99, task_intent="report_loss") is NO
    assert read_reply(text, "report_loss") == "no"
