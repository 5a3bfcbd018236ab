"""Whole conversations over Rasa's signed channel, as the web app sends them, against the running assistant.

Each test imports a cardholder of its own (tests/e2e/cardholders.py), so the tests pass in any order.
"""

import json
import re

import pytest

from tests.e2e.cardholders import OFFICE, add_holder

pytestmark = pytest.mark.e2e

REFERENCE = re.compile(r"(?<!\d)\d{10}(?!\d)")


# What the assistant says when no rule or story covers the turn: a gap in the dialogue, never an answer.
NO_RULE = ("暂时无法处理", "can't help with that here")


def converse(stack, sender, *messages):
    replies = [stack.say(sender, message) for message in messages]
    assert not any(gap in text for reply in replies for text in reply for gap in NO_RULE), replies
    return replies


def test_progress_in_mandarin(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "郑秀英", "ready_for_pickup")
    *_, answer = converse(stack, "e2e-progress-zh", "你好", "帮我查下社保卡办到哪一步了", holder.id_number, holder.name)
    assert any("可以领取" in text and OFFICE in text for text in answer)


def test_progress_in_english(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "唐志强", "shipped")
    *_, answer = converse(
        stack, "e2e-progress-en", "how far has my card application got?", holder.id_number, holder.name
    )
    assert any("pickup office" in text and OFFICE in text for text in answer)


def test_loss_report_in_mandarin_reference_is_the_stored_one(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "许桂兰")
    replies = converse(stack, "e2e-loss-zh", "我的社保卡丢了", holder.id_number, holder.name)
    assert any("确认挂失请回复" in text for text in replies[-1]), replies
    assert stack.card(holder.id_number)["status"] == "active"  # nothing before the explicit yes
    (confirmation,) = [text for text in stack.say("e2e-loss-zh", "确认挂失") if "挂失编号" in text]
    spoken = REFERENCE.search(confirmation).group(0)
    record = stack.card(holder.id_number)
    assert record["status"] == "loss_reported"
    assert [r["reference"] for r in record["loss_reports"] if r["state"] == "active"] == [spoken]
    assert any(f["reason"] == "loss_reported" and f["conversation_id"] == "e2e-loss-zh" for f in stack.flags())


def test_loss_report_in_english_with_foreign_resident_id(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "Anna Schmidt", foreign=True)
    replies = converse(
        stack, "e2e-loss-en", "I lost my social security card", holder.id_number.lower(), holder.name, "yes"
    )
    (confirmation,) = [text for text in replies[-1] if "Reference" in text]
    spoken = REFERENCE.search(confirmation).group(0)
    assert [r["reference"] for r in stack.card(holder.id_number)["loss_reports"]] == [spoken]


def test_nothing_else_after_a_loss_report_is_a_goodbye_not_a_cancellation(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "罗淑珍")
    converse(stack, "e2e-loss-done", "我的社保卡丢了", holder.id_number, holder.name, "确认挂失")
    assert stack.card(holder.id_number)["status"] == "loss_reported"
    (goodbye, progress) = converse(stack, "e2e-loss-done", "没有了", "查一下进度")
    assert any("再见" in text for text in goodbye) and not any("取消" in text for text in goodbye), goodbye
    assert stack.card(holder.id_number)["status"] == "loss_reported"
    assert any("身份证" in text for text in progress), progress  # verification ended with the goodbye


def test_no_at_the_confirmation_changes_nothing(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "邓丽华", "issued")
    converse(stack, "e2e-loss-deny", "挂失社保卡", holder.id_number, holder.name)
    replies = stack.say("e2e-loss-deny", "不用了")
    assert any("没有为您办理" in text for text in replies)
    record = stack.card(holder.id_number)
    assert record["status"] == "issued" and record["loss_reports"] == []


def test_cancel_the_temporary_loss_report(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "曹建华")
    converse(stack, "e2e-unblock-loss", "我的社保卡丢了", holder.id_number, holder.name, "确认挂失")
    assert stack.card(holder.id_number)["status"] == "loss_reported"
    *_, asked = converse(stack, "e2e-unblock", "卡找到了 我要解挂", holder.id_number, holder.name)
    assert any("验证码" in text for text in asked), asked
    # No Twilio account here: the code is in the local sink, where a demo user reads it too.
    outbox = json.loads(stack.cli("outbox", "list", "--json").stdout)
    code_text = next(m["text"] for m in outbox if m["kind"] == "code")
    assert holder.id_number not in json.dumps(outbox) and holder.phone not in json.dumps(outbox)
    replies = stack.say("e2e-unblock", re.search(r"\d{6}", code_text).group(0))
    assert any("确认解挂请回复" in text for text in replies), replies
    replies = stack.say("e2e-unblock", "是的")
    assert any("解除挂失" in text for text in replies)
    record = stack.card(holder.id_number)
    assert record["status"] == "active"
    assert [r["state"] for r in record["loss_reports"]] == ["cancelled"]


def test_the_code_is_asked_for_once_in_the_chat_s_own_words(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "金秀兰")
    converse(stack, "e2e-code-once-loss", "我的社保卡丢了", holder.id_number, holder.name, "确认挂失")
    *_, asked = converse(stack, "e2e-code-once", "卡找到了 我要解挂", holder.id_number, holder.name)
    # The notice that the code was sent, then its question: no complaint about an answer never given.
    assert len(asked) == 2 and "已发送" in asked[0] and "请输入" in asked[1], asked
    assert not re.search(r"#|按键|电话", " ".join(asked)), asked


@pytest.mark.parametrize(("request_", "goodbye"), [("查一下进度", "好的再见"), ("check my card progress", "ok bye")])
def test_a_goodbye_when_asked_for_a_detail_is_a_goodbye(stack, request_, goodbye):
    sender = f"e2e-bye-{goodbye}"
    *_, replies = converse(stack, sender, request_, goodbye)
    assert any(re.search(r"再见|[Gg]oodbye", text) for text in replies), replies
    assert not any(re.search(r"身份证|ID number", text) for text in replies), replies


def test_a_name_said_with_fillers_is_the_name(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "田桂芳", "in_production")
    *_, answer = converse(stack, "e2e-name-fillers", "查进度", holder.id_number, f"哦，是{holder.name}啊")
    assert any("制卡中" in text for text in answer), answer


def test_details_given_before_the_request_are_used_by_it(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "严春梅", "in_production")
    *_, answer = converse(stack, "e2e-details-first", "你好", holder.id_number, holder.name, "查进度")
    assert any("制卡中" in text for text in answer), answer


@pytest.mark.parametrize(
    ("words", "said"),
    [
        ("我叫{name}，身份证{id}，麻烦查一下我的卡", "制卡中"),
        ("{id} {name} what is the status of my card", "in production"),
        ("I want to know if my mum's card is ready. Her ID is {id}, name {name}", "in production"),
    ],
)
def test_a_request_with_the_id_number_and_name_in_it_is_answered_at_once(stack, tmp_path, words, said):
    name = "Wu Lan" if words.startswith("{id}") else "武兰"
    for n in range(3):  # ID numbers ending in X too, which the classifier alone read as details
        holder = add_holder(stack, tmp_path, name, "in_production")
        (answer,) = converse(
            stack, f"e2e-all-in-one-{words[:6]}-{n}", words.format(name=holder.name, id=holder.id_number)
        )
        assert any(said in text for text in answer), (holder.id_number, answer)


def test_another_persons_card_after_ones_own_gets_its_own_check(stack, tmp_path):
    him, her = add_holder(stack, tmp_path, "苏建军", "submitted"), add_holder(stack, tmp_path, "苏丽", "in_production")
    converse(stack, "e2e-second-card", "查进度", him.id_number, him.name)
    asked, _, answer = converse(stack, "e2e-second-card", "我老婆的也查一下", her.id_number, her.name)
    assert any("身份证" in text for text in asked) and not any("已受理" in text for text in asked), asked
    assert any("制卡中" in text for text in answer), answer


def test_another_task_asked_for_while_asked_for_the_id_number_is_the_one_done(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "钟秀芬", "in_production")
    replies = converse(stack, "e2e-switch-task", "我要挂失", "不是挂失，我要查进度", holder.id_number, holder.name)
    assert any("身份证" in text for text in replies[1]), replies
    assert any("制卡中" in text for text in replies[-1]), replies
    assert stack.card(holder.id_number)["loss_reports"] == []


def test_a_question_after_an_answer_is_never_taken_for_a_goodbye(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "祁红梅", "submitted")
    *_, after = converse(stack, "e2e-question-not-bye", "查进度", holder.id_number, holder.name, "哦那还要等多久")
    assert after and not any("再见" in text for text in after), after


def test_wrong_identity_three_times_discloses_nothing_and_is_flagged(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "彭秀珍", "under_review")
    replies = stack.say("e2e-wrong", "查询办理进度")
    for wrong in ("李四", "王五", "赵六"):
        replies += stack.say("e2e-wrong", holder.id_number) + stack.say("e2e-wrong", wrong)
    text = " ".join(replies)
    assert "审核中" not in text and OFFICE not in text
    assert "无法核实您的身份" in replies[-1]
    assert any(f["reason"] == "identity_failed" and f["conversation_id"] == "e2e-wrong" for f in stack.flags())


def test_question_in_the_middle_then_back_to_the_form(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "蒋玉梅", "in_production")
    replies = converse(stack, "e2e-detour", "我要查进度", "异地就医要备案吗", holder.id_number, holder.name)
    assert any("备案" in text for text in replies[1])
    assert any("身份证号码" in text for text in replies[1])  # and the form asks again
    assert any("制卡中" in text for text in replies[-1])


def test_cancel_in_the_middle(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "魏国强", "submitted")
    replies = converse(stack, "e2e-stop", "我要挂失", holder.id_number, "算了")
    assert any("已取消" in text for text in replies[-1])
    assert stack.card(holder.id_number)["loss_reports"] == []


def spoken(number: str) -> str:
    """An ID number as a caller says it: 幺 for 1, 洞 for 0, 两 for 2, 叉 for X."""
    words = dict(zip("0123456789X", "洞幺两三四五六七八九叉", strict=True))
    return "".join(words[ch] for ch in number)


def test_phone_caller_recognised_by_caller_id_reports_loss(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "程海燕", "issued")
    call = {"channel": "voice", "language": "zh", "caller": holder.phone}
    stack.say("e2e-call-1", "嗯 我的社保卡丢了", call)
    warning = stack.say("e2e-call-1", spoken(holder.id_number), call)
    assert any("确认挂失" in text for text in warning), warning
    (confirmation,) = [t for t in stack.say("e2e-call-1", "确认", call) if "挂失编号" in t]
    reference = REFERENCE.search(confirmation).group(0)
    record = stack.card(holder.id_number)
    assert [(r["reference"], r["channel"]) for r in record["loss_reports"]] == [(reference, "voice")]


def test_phone_caller_from_another_number_gives_the_last_four_digits(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "袁志明", "ready_for_pickup")
    call = {"channel": "voice", "language": "en", "caller": "+8613000000000"}
    stack.say("e2e-call-2", "I want to check my card application progress", call)
    ask = stack.say("e2e-call-2", holder.id_number, call)
    assert any("last four digits" in text for text in ask), ask
    answer = stack.say("e2e-call-2", holder.phone[-4:], call)
    assert any("ready for pickup" in text for text in answer), answer


def test_a_yes_where_digits_were_asked_gets_the_question_again(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "潘丽娟", "rejected")
    call = {"channel": "voice", "language": "zh", "caller": "+8613000000000"}
    stack.say("e2e-call-3", "查进度", call)
    stack.say("e2e-call-3", holder.id_number, call)
    again = stack.say("e2e-call-3", "好的", call)
    assert any("后四位" in text and "服务大厅" in text for text in again), again  # what else can be done
    assert any(holder.id_number in text for text in again), again  # and the question again
    answer = stack.say("e2e-call-3", holder.phone[-4:], call)
    assert any("未通过审核" in text for text in answer), answer


def test_a_loss_denied_is_told_the_card_state_and_never_asked_to_report_it(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "邱凤英")
    replies = converse(stack, "e2e-not-lost", "我根本没挂失过，医院怎么说我卡不能用", holder.id_number, holder.name)
    assert any("状态正常" in text for text in replies[-1]), replies
    assert not any("确认挂失" in text for reply in replies for text in reply), replies


def test_a_follow_up_after_the_progress_answer_is_not_the_same_answer_again(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "龚建华", "under_review")
    *_, status, when, other = converse(
        stack,
        "e2e-follow-up",
        "查下进度",
        holder.id_number,
        holder.name,
        "审核大概得多长时间",
        "那材料有问题会怎么通知我",
    )
    assert any("审核中" in text for text in status), status
    assert any("预计" in text for text in when) and not any("审核中" in text for text in when), when
    assert other != status, other


def test_a_request_after_taking_back_the_first_is_the_one_done(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "闫丽华")
    replies = converse(
        stack, "e2e-took-back", "查一下进度", "呃不对不对，卡是丢了，我要挂失", holder.id_number, holder.name
    )
    assert any("确认挂失" in text for text in replies[-1]), replies
    assert stack.card(holder.id_number)["status"] == "active"


def test_an_id_number_corrected_where_the_name_was_asked_costs_no_attempt(stack, tmp_path):
    wrong, right = add_holder(stack, tmp_path, "齐建平", "submitted"), add_holder(stack, tmp_path, "齐晓燕", "shipped")
    replies = converse(
        stack, "e2e-id-fixed", "查进度", wrong.id_number, f"不对 打错了 应该是{right.id_number}", right.name
    )
    assert not any("不一致" in text for reply in replies for text in reply), replies
    assert any("姓名" in text for text in replies[2]), replies
    assert any("寄往" in text for text in replies[-1]), replies


def test_a_name_in_traditional_characters_or_said_of_someone_else_is_the_name(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "陈丽华", "ready_for_pickup")
    answer = converse(stack, "e2e-trad-name", "查進度", holder.id_number, "陳麗華")[-1]
    assert any("可以领取" in text for text in answer), answer
    answer = converse(stack, "e2e-her-name", "is my mum's card ready?", holder.id_number, "Her name is 陈丽华")[-1]
    assert any("ready for pickup" in text for text in answer), answer


@pytest.mark.parametrize(
    ("name", "wrong", "correction"),
    [("汤玉兰", "汤玉南", "不对，打错了，是汤玉兰"), ("蒋秀珍", "蒋秀贞", "哦不对 我是说蒋秀珍")],
)
def test_a_name_corrected_after_a_failed_check_is_checked_not_taken_for_a_stop(
    stack, tmp_path, name, wrong, correction
):
    holder = add_holder(stack, tmp_path, name, "ready_for_pickup")
    sender = f"e2e-name-fixed-{holder.id_number[-4:]}"
    replies = converse(stack, sender, "查进度", holder.id_number, wrong, correction)
    assert any("不一致" in text for text in replies[2]), replies
    assert any("可以领取" in text for text in replies[-1]), replies


def test_unblocking_a_formally_lost_card_says_it_cannot_be_unblocked(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "欧阳建", "lost")
    replies = converse(stack, "e2e-formally-lost", "卡找到了，我要解挂", holder.id_number, holder.name)
    assert any("正式挂失的卡不能解挂" in text for text in replies[-1]), replies


def test_a_second_card_in_the_same_state_is_told_its_state(stack, tmp_path):
    him, her = (
        add_holder(stack, tmp_path, "柯建民", "under_review"),
        add_holder(stack, tmp_path, "柯秀兰", "under_review"),
    )
    converse(stack, "e2e-same-state", "查进度", him.id_number, him.name)
    *_, answer = converse(stack, "e2e-same-state", "我老婆的也查一下", her.id_number, her.name)
    assert any("审核中" in text for text in answer), answer


def test_a_question_about_using_a_card_just_reported_lost_is_told_it_cannot_be_used(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "Peter Brown", foreign=True)
    converse(stack, "e2e-use-after-loss", "I lost my card", holder.id_number, holder.name, "yes")
    (answer,) = converse(stack, "e2e-use-after-loss", "can i still use the card at a hospital in shanghai")
    assert any("filing" in text for text in answer) and any("reported lost" in text for text in answer), answer


@pytest.mark.parametrize(
    ("words", "name"),
    [
        ("社保卡被冻结了 看病刷不出来 帮我解冻一下", "Lena Vogel"),
        ("reported my card lost last week but it turned up in my coat, please sort it out", "Omar Haddad"),
    ],
)
def test_asking_to_unfreeze_or_saying_the_card_turned_up_never_offers_a_loss_report(stack, tmp_path, words, name):
    holder = add_holder(stack, tmp_path, name, foreign=True)
    sender = f"e2e-unfreeze-{name.split()[0].lower()}"
    replies = converse(stack, sender, words, holder.id_number, holder.name)
    said = [text for reply in replies for text in reply]
    assert not any("确认挂失" in text or "report the card lost" in text or "loss report?" in text for text in said), (
        said
    )
    assert any("nothing to cancel" in text or "无需解挂" in text for text in said), said  # an active card
    assert stack.card(holder.id_number)["status"] == "active"


def test_a_card_found_at_the_loss_confirmation_is_not_reported_lost(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "Nora Berg", foreign=True)
    replies = converse(stack, "e2e-found-at-confirmation", "report my card lost pls", holder.id_number, holder.name)
    assert any("report the card" in text and "lost" in text for text in replies[-1]), replies
    (answer,) = converse(stack, "e2e-found-at-confirmation", "oh yes, found it!! its in my pocket")
    assert stack.card(holder.id_number)["status"] == "active", answer
    assert not any("Reference" in text for text in answer), answer


def test_did_it_work_after_the_loss_report_is_told_it_did(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "Ivan Petrov", foreign=True)
    converse(stack, "e2e-did-it-work", "I lost my card", holder.id_number, holder.name, "yes")
    (answer,) = converse(stack, "e2e-did-it-work", "did it work?")
    assert any("it's done" in text for text in answer), answer


@pytest.mark.parametrize(
    ("words", "name", "state", "advice"),
    [
        ("卡用不了了", "祁美兰", "状态正常", "芯片"),
        ("hi, my card seems blocked, the pharmacy wouldn't take it", "Lars Holm", "active and working", "chip"),
    ],
)
def test_a_card_refused_where_it_is_used_is_told_its_state_and_where_else_to_look(
    stack, tmp_path, words, name, state, advice
):
    holder = add_holder(stack, tmp_path, name, foreign=name.isascii())
    sender = f"e2e-refused-{holder.id_number[-4:]}"
    replies = converse(stack, sender, words, holder.id_number, holder.name)
    said = [text for reply in replies for text in reply]
    assert not any("确认挂失" in text or "report the card" in text for text in said), said
    assert any(state in text for text in replies[-1]) and any(advice in text for text in replies[-1]), replies
    assert stack.card(holder.id_number)["status"] == "active"


def test_a_name_introduced_with_the_request_is_the_name_checked(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "Hanna Kowalski", foreign=True)
    replies = converse(stack, "e2e-introduced-loss", f"my name is {holder.name}, I lost my card", holder.id_number)
    assert any("report the card" in text for text in replies[-1]), replies


def test_a_mistyped_id_number_in_the_request_is_said_to_be_wrong_and_the_right_one_goes_on(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "Ruth Adler", foreign=True)
    wrong = holder.id_number[:-1] + ("0" if holder.id_number[-1] != "0" else "1")
    first, *_, answer = converse(
        stack, "e2e-mistyped-id", f"i want to report my card lost {wrong}", holder.id_number, holder.name
    )
    assert any("doesn't check out" in text for text in first), first
    assert any("report the card" in text for text in answer), answer


def test_closing_a_card_for_good_sends_no_code_and_says_where_it_is_done(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "Jonas Weber", foreign=True)
    (answer,) = converse(stack, "e2e-close-card", "please cancel my card completely, I'm moving back home")
    assert any("service hall" in text and "Closing a card" in text for text in answer), answer
    assert stack.card(holder.id_number)["status"] == "active"


def test_a_no_to_a_wrong_answer_followed_by_the_request_is_the_request(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "Mia Jensen", "shipped", foreign=True)
    *_, answer = converse(
        stack,
        "e2e-no-then-request",
        "I'm in another city, a question about my card",
        "no no, I want to check my card",
        holder.id_number,
        holder.name,
    )
    assert any("pickup office" in text for text in answer), answer


def test_not_knowing_the_id_number_is_told_where_to_find_it_and_the_request_goes_on(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "鲁桂芝", "ready_for_pickup")
    replies = converse(stack, "e2e-id-not-known", "查进度", "我不记得身份证号了", holder.id_number, holder.name)
    assert any("身份证正面" in text for text in replies[1]) and not any("已取消" in text for text in replies[1])
    assert any("可以领取" in text for text in replies[-1]), replies


def test_asking_whether_someone_else_may_collect_the_card_is_told_where_to_ask(stack, tmp_path):
    (answer,) = converse(stack, "e2e-proxy", "社保卡补办 要本人去吗 能不能让我妈去")
    assert any("代领" in text and "12333" in text for text in answer), answer


def test_follow_ups_that_name_no_topic_are_answered_about_the_answer_before(stack, tmp_path):
    sender = "e2e-follow-ups"
    replace, documents, online, cost = converse(
        stack, sender, "how do I get a new card if mine is damaged", "and what do I need to bring",
        "could I do it on the internet", "how much will it cost me",
    )  # fmt: skip
    assert any("replace" in text for text in replace), replace
    assert any("old card" in text and "To replace" not in text for text in documents), documents
    assert any("in person" in text for text in online), online
    assert any("fee is 20 yuan" in text for text in cost), cost
    converse(stack, sender, "how do I apply for a card")
    (then,) = converse(stack, sender, "好的 那然后呢")  # in Mandarin now: the answer follows the language
    assert any("审核" in text and "领卡网点" in text for text in then), then


def test_what_to_do_after_a_loss_report_is_the_next_step_not_a_new_request(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "孔淑华")
    converse(stack, "e2e-after-loss", "我的社保卡丢了", holder.id_number, holder.name, "确认挂失")
    (next_step,) = converse(stack, "e2e-after-loss", "那我接下来该干啥")
    assert any("正式挂失" in text and "补卡" in text for text in next_step), next_step
    assert not any("身份证号" in text for text in next_step), next_step
    assert stack.card(holder.id_number)["status"] == "loss_reported"
