"""A whole phone call through the voice webhooks and the running assistant, by the call simulator."""

import datetime as dt
import re

import pytest
from sqlalchemy import select

from bot.cards.holders import find_cardholder
from bot.config import load_settings
from bot.db import make_engine, make_session_factory
from bot.identity.privacy import Vault
from bot.models import Flag, Voicemail
from tests.e2e.cardholders import add_holder
from tests.support import signed_transport
from webhooks.call_simulator import Call

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def app_transport(stack):
    return signed_transport(stack)


def test_verbal_loss_report_by_keypad_and_last_four(stack, app_transport, tmp_path):
    holder = add_holder(stack, tmp_path, "Sofia Rossi", foreign=True)
    keyed_id = "keys:" + holder.id_number.replace("X", "*") + "#"
    call = Call(app_transport, caller="+8613000000000").run(
        iter(["我的社保卡丢了", keyed_id, "keys:" + holder.phone[-4:] + "#", "确认"]), echo=False
    )
    spoken = " ".join(call.spoken)
    references = re.findall(r"(?<!\d)\d{10}(?!\d)", spoken)
    stored = [r["reference"] for r in stack.card(holder.id_number)["loss_reports"] if r["state"] == "active"]
    assert len(stored) == 1
    assert references.count(stored[0]) == 2, call.spoken  # read back twice
    assert not any(f["reason"] == "call_dropped" and f["conversation_id"] == f"call-{call.sid}" for f in stack.flags())


def test_hanging_up_mid_flow_is_flagged(stack, app_transport):
    call = Call(app_transport).run(iter(["查一下办理进度"]), echo=False)
    assert call.ended == "caller hung up"
    assert any(f["reason"] == "call_dropped" and f["conversation_id"] == f"call-{call.sid}" for f in stack.flags())


def test_english_on_the_keypad_then_progress(stack, app_transport, tmp_path):
    holder = add_holder(stack, tmp_path, "陆建平", "rejected")
    call = Call(app_transport, caller=holder.phone).run(
        iter(["keys:9", "what is the status of my card application", holder.id_number]), echo=False
    )
    assert any("did not pass review" in text for text in call.spoken), call.spoken


def test_the_keyed_id_number_is_read_back_before_the_last_four_digits(stack, app_transport, tmp_path):
    holder = add_holder(stack, tmp_path, "萧雅琴", "issued")
    call = Call(app_transport, caller="+8613000000000").run(
        iter(["挂失", "keys:" + holder.id_number + "#"]), echo=False
    )
    assert any(holder.id_number in text and "后四位" in text for text in call.spoken), call.spoken


def _verified_loss_call(holder, *answers: str) -> list[str]:
    """A loss report by phone up to its confirmation, then `answers`."""
    keyed_id = "keys:" + holder.id_number.replace("X", "*") + "#"
    return ["我的社保卡丢了", keyed_id, "keys:" + holder.phone[-4:] + "#", *answers]


def test_keypad_1_confirms_after_a_spoken_question_then_silence_ends_the_call(stack, app_transport, tmp_path):
    holder = add_holder(stack, tmp_path, "蒋文华")
    call = Call(app_transport, caller="+8613000000001").run(iter(_verified_loss_call(holder, "keys:1", "")), echo=False)
    spoken = " ".join(call.spoken)
    assert "按 1" in spoken and "请回复" not in spoken  # the phone's wording, not the chat's
    assert "键盘" in spoken and "井号" in spoken  # the ID question explains the keypad
    assert stack.card(holder.id_number)["status"] == "loss_reported"
    assert "还有其他需要吗" in spoken
    assert call.ended == "bot hung up" and call.spoken[-1] == "感谢您的来电，再见。"
    mine = [f["reason"] for f in stack.flags() if f["conversation_id"] == f"call-{call.sid}"]
    assert "human_requested" not in mine and "call_dropped" not in mine  # no voicemail, no flag


@pytest.mark.parametrize("answer", ["没有了", "不用了，谢谢", "再见"])
def test_a_caller_with_nothing_else_hears_goodbye_and_the_call_ends_with_the_report_kept(
    stack, app_transport, tmp_path, answer
):
    holder = add_holder(stack, tmp_path, "丁秀珍")
    call = Call(app_transport, caller="+8613000000003").run(
        iter(_verified_loss_call(holder, "keys:1", answer)), echo=False
    )
    assert "还有其他需要吗" in " ".join(call.spoken)
    assert call.ended == "bot hung up", call.spoken
    assert "再见" in call.spoken[-1] and not any("已取消" in text for text in call.spoken), call.spoken
    assert stack.card(holder.id_number)["status"] == "loss_reported"


@pytest.mark.parametrize(("stop", "nothing_else"), [("算了", "没有了"), ("不办了", "不用了谢谢")])
def test_a_caller_who_stops_midway_is_asked_once_whether_there_is_anything_else(
    stack, app_transport, stop, nothing_else
):
    call = Call(app_transport, caller="+8613000000004").run(iter(["挂失", stop, nothing_else]), echo=False)
    cancelled = next(i for i, text in enumerate(call.spoken) if "已取消" in text)
    asked = [text for text in call.spoken[cancelled:] if re.search(r"[?？]", text)]
    assert len(asked) == 1 and "还有其他需要吗" in asked[0], call.spoken
    assert call.ended == "bot hung up" and "再见" in call.spoken[-1], call.spoken


@pytest.mark.parametrize("answer", ["keys:2", "等一下，我再找找", "唔好住", "不得行", "wait, not yet"])
def test_keypad_2_or_a_spoken_hesitation_changes_nothing(stack, app_transport, tmp_path, answer):
    holder = add_holder(stack, tmp_path, "沈玉兰")
    call = Call(app_transport, caller="+8613000000002").run(iter(_verified_loss_call(holder, answer)), echo=False)
    assert stack.card(holder.id_number)["status"] == "active", call.spoken
    assert any("没有为您办理" in text for text in call.spoken), call.spoken


def test_english_confirmation_on_the_phone_says_press_1(stack, app_transport, tmp_path):
    holder = add_holder(stack, tmp_path, "韩梅")
    keyed_id = "keys:" + holder.id_number.replace("X", "*") + "#"
    call = Call(app_transport, caller="+8613000000003").run(
        iter(["keys:9", "I lost my card", keyed_id, "keys:" + holder.phone[-4:] + "#", "keys:1", ""]), echo=False
    )
    spoken = " ".join(call.spoken)
    assert "press 1" in spoken and 'Reply "yes"' not in spoken
    assert "press star" in spoken and "hash" in spoken
    assert stack.card(holder.id_number)["status"] == "loss_reported"
    assert "Anything else?" in spoken and call.ended == "bot hung up"


@pytest.mark.parametrize("cut", [6, 10])
def test_an_id_number_spoken_in_two_pieces_is_put_together(stack, app_transport, tmp_path, cut):
    holder = add_holder(stack, tmp_path, {6: "杨丽娟", 10: "杨建军"}[cut])
    first, rest = holder.id_number[:cut], holder.id_number[cut:]
    call = Call(app_transport, caller="+8613000000004").run(iter(["查一下办理进度", first, rest]), echo=False)
    assert any("后面的号码" in text for text in call.spoken), call.spoken
    assert any(holder.id_number in text and "后四位" in text for text in call.spoken), call.spoken
    assert not any("不是有效的身份证号码" in text for text in call.spoken), call.spoken


def _call_flags(stack, call) -> list[dict]:
    return [f for f in stack.flags() if f["conversation_id"] == f"call-{call.sid}"]


def _hotline_told(spoken: list[str]) -> list[str]:
    """What a caller on the hotline must never hear: to call the hotline."""
    return [text for text in spoken if re.search(r"12333|拨打|致电|call (us|the hotline|\d)", text, re.IGNORECASE)]


@pytest.mark.parametrize("words", ["转人工", "我要找人工客服"])
def test_asking_for_a_person_without_an_agent_number_offers_a_voicemail_not_the_hotline(stack, app_transport, words):
    call = Call(app_transport, caller="+8613000000005").run(iter([words]), echo=False)
    spoken = " ".join(call.spoken)
    assert "请在提示音后留言" in spoken and "无法转接" in spoken, call.spoken
    assert "非工作时间" not in spoken and not _hotline_told(call.spoken), call.spoken
    assert "留言已收到" in call.spoken[-1] and call.ended == "bot hung up"
    assert [f["reason"] for f in _call_flags(stack, call)] == ["human_requested"]


@pytest.mark.parametrize(
    "words", ["keys:9|I need help with my pension", "今天天气怎么样", "keys:9|where can I find my ID number"]
)
def test_no_spoken_answer_tells_a_caller_to_call_the_hotline(stack, app_transport, words):
    call = Call(app_transport, caller="+8613000000006").run(iter([*words.split("|"), ""]), echo=False)
    assert len(call.spoken) > 2 and not _hotline_told(call.spoken), call.spoken


def test_a_verified_callers_voicemail_is_flagged_with_the_cardholder_and_its_recording(stack, app_transport, tmp_path):
    holder = add_holder(stack, tmp_path, "邓志明")
    call = Call(app_transport, caller=holder.phone).run(
        iter(["查一下办理进度", "keys:" + holder.id_number.replace("X", "*") + "#", "人工"]), echo=False
    )
    assert not _hotline_told(call.spoken), call.spoken
    flags = _call_flags(stack, call)
    assert [f["reason"] for f in flags] == ["human_requested"], flags
    settings = load_settings(stack.env, env_file=None)
    sessions = make_session_factory(make_engine(settings.database_url), vault=Vault(settings))
    with sessions.begin() as db:
        flag = db.get(Flag, flags[0]["id"])
        voicemail = db.scalars(select(Voicemail).where(Voicemail.flag_id == flag.id)).one()
        assert flag.cardholder_id == find_cardholder(db, vault=Vault(settings), id_number=holder.id_number).id
        assert (voicemail.cause, voicemail.recording_status) == ("no_agent", "completed")
        assert voicemail.recording_url.endswith(voicemail.recording_sid)


def test_in_office_hours_a_caller_is_put_through_and_if_no_one_answers_leaves_a_voicemail(stack):
    monday_afternoon = dt.datetime(2026, 11, 30, 5, 1, tzinfo=dt.timezone.utc)  # 13:01 in the city
    transport = signed_transport(stack, agent_number="+861012345000", clock=lambda: monday_afternoon)
    call = Call(transport, caller="+8613000000007").run(iter(["我要转人工"]), echo=False)
    spoken = " ".join(call.spoken)
    assert "正在为您转接" in spoken and "无人接听" in spoken, call.spoken  # the simulator's staff never answer
    assert "非工作时间" not in spoken and not _hotline_told(call.spoken), call.spoken
    flags = _call_flags(stack, call)
    assert [f["reason"] for f in flags] == ["human_requested"]
    settings = load_settings(stack.env, env_file=None)
    with make_session_factory(make_engine(settings.database_url)).begin() as db:
        voicemail = db.scalars(select(Voicemail).where(Voicemail.flag_id == flags[0]["id"])).one()
        assert (voicemail.cause, voicemail.recording_status) == ("no_answer", "completed")


def test_a_caller_who_gets_the_number_wrong_is_told_what_to_say_or_key_not_what_to_send(stack, app_transport, tmp_path):
    holder = add_holder(stack, tmp_path, "罗志祥")
    wrong_check = holder.id_number[:17] + ("0" if holder.id_number[17] != "0" else "1")
    call = Call(app_transport, caller="+8613000000008").run(
        iter(["查一下办理进度", f"keys:{wrong_check}#", f"keys:{holder.id_number}#", "keys:0000#"]), echo=False
    )
    spoken = " ".join(call.spoken)
    assert "校验不通过" in spoken and "不一致" in spoken, call.spoken
    assert not re.search(r"发送|回复|\bsend\b|\breply\b", spoken, re.IGNORECASE), call.spoken
    assert stack.card(holder.id_number)["status"] == "active"


@pytest.mark.parametrize("goodbye", ["好的再见", "拜拜"])
def test_a_goodbye_when_asked_for_the_id_number_ends_the_call(stack, app_transport, goodbye):
    call = Call(app_transport, caller="+8613000000009").run(iter(["查询进度", goodbye, "查询进度"]), echo=False)
    assert call.ended == "bot hung up" and "再见" in call.spoken[-1], call.spoken
    assert not any("不是有效的身份证号码" in text for text in call.spoken), call.spoken


def test_a_wrong_number_is_met_with_one_question_not_two(stack, app_transport):
    call = Call(app_transport, caller="+8613000000010").run(iter(["查询进度", "keys:1234567890123456789#"]), echo=False)
    complaint = next(i for i, text in enumerate(call.spoken) if "不是有效的身份证号码" in text)
    asking = [text for text in call.spoken[complaint:] if "18 位身份证号" in text or "输入" in text]
    assert len(asking) == 1, call.spoken


@pytest.mark.parametrize("no_thanks", ["不用了，谢谢", "No, thank you."])
def test_a_no_thanks_after_an_answer_cancels_nothing_and_the_call_can_end(stack, app_transport, no_thanks):
    said = ["补办社保卡要带什么", no_thanks, "没有了"]
    call = Call(app_transport, caller="+8613000000011").run(iter(said), echo=False)
    assert not any(re.search(r"取消|变更|stopped|changed", text) for text in call.spoken), call.spoken
    assert call.ended == "bot hung up" and "再见" in call.spoken[-1], call.spoken


def test_a_goodbye_at_the_loss_confirmation_changes_nothing_and_ends_the_call(stack, app_transport, tmp_path):
    holder = add_holder(stack, tmp_path, "万志华")
    keyed = "keys:" + holder.id_number.replace("X", "*") + "#"
    call = Call(app_transport, caller=holder.phone).run(iter(["我要挂失", keyed, "再见", "确认"]), echo=False)
    assert any("确认挂失" in text for text in call.spoken), call.spoken
    assert call.ended == "bot hung up" and "再见" in call.spoken[-1], call.spoken
    assert stack.card(holder.id_number)["status"] == "active"


def test_a_question_at_the_loss_confirmation_is_answered_and_the_report_still_waits_for_a_yes(
    stack, app_transport, tmp_path
):
    holder = add_holder(stack, tmp_path, "闫海涛")
    keyed = "keys:" + holder.id_number.replace("X", "*") + "#"
    asked = ["我要挂失", keyed, "等一下，挂失以后卡里的钱还在吗"]
    call = Call(app_transport, caller=holder.phone).run(iter(asked), echo=False)
    assert any("关于挂失" in text and "按 1" in text for text in call.spoken), call.spoken
    assert stack.card(holder.id_number)["status"] == "active"
    call = Call(app_transport, caller=holder.phone).run(iter([*asked, "确认"]), echo=False)
    assert stack.card(holder.id_number)["status"] == "loss_reported", call.spoken


def spoken_digits(digits: str) -> str:
    return "".join("零一二三四五六七八九"[int(d)] if d.isdigit() else "叉" for d in digits)


def test_an_id_number_read_out_with_fillers_between_its_pieces_is_one_number(stack, app_transport, tmp_path):
    holder = add_holder(stack, tmp_path, "严秀梅", "under_review")
    number = holder.id_number
    said = f"身份证是 {spoken_digits(number[:6])} 嗯 {spoken_digits(number[6:14])} 那个 {spoken_digits(number[14:])}"
    call = Call(app_transport, caller=holder.phone).run(iter(["查一下我的卡办到哪了", said]), echo=False)
    assert any("审核中" in text for text in call.spoken), call.spoken
    assert not any("不是有效的身份证号码" in text for text in call.spoken), call.spoken


@pytest.mark.parametrize(
    ("language", "words"),
    [("zh", "呃 我想想啊 要是过两天又找到了怎么办"), ("en", "hmm wait will my card number stay the same")],
)
def test_a_hesitation_that_ends_in_a_question_is_answered_and_asked_again(
    stack, app_transport, tmp_path, language, words
):
    holder = add_holder(stack, tmp_path, {"zh": "柏志刚", "en": "Lena Vogel"}[language])
    keyed = "keys:" + holder.id_number.replace("X", "*") + "#"
    start = ["我要挂失", keyed] if language == "zh" else ["keys:9", "I want to report my card lost", keyed]
    call = Call(app_transport, caller=holder.phone).run(iter([*start, words]), echo=False)
    said = " ".join(call.spoken[-2:])
    assert "没有为您办理" not in said and "haven't changed anything" not in said, call.spoken
    assert ("按 1" in said) if language == "zh" else ("press 1" in said), call.spoken
    assert stack.card(holder.id_number)["status"] == "active"


@pytest.mark.parametrize("pause", ["稍等一下啊 我去找一下身份证", "身份证啊 你等一下我拿一下眼镜"])
def test_a_caller_who_asks_for_a_moment_is_given_it_and_the_request_goes_on(stack, app_transport, tmp_path, pause):
    holder = add_holder(stack, tmp_path, {"稍": "郝建英", "身": "郝春生"}[pause[0]], "shipped")
    said = spoken_digits(holder.id_number)
    call = Call(app_transport, caller=holder.phone).run(iter(["查一下社保卡进度", pause, said]), echo=False)
    assert any("不着急" in text for text in call.spoken), call.spoken
    assert not any("已取消" in text or "回答不了" in text for text in call.spoken), call.spoken
    assert any("寄往" in text for text in call.spoken), call.spoken


def test_thanks_with_nothing_more_after_an_answer_ends_the_call(stack, app_transport, tmp_path):
    holder = add_holder(stack, tmp_path, "符丽萍", "submitted")
    said = spoken_digits(holder.id_number)
    call = Call(app_transport, caller=holder.phone).run(iter(["查进度", said, "好的 谢谢 没有了"]), echo=False)
    assert call.ended == "bot hung up", call.spoken
    assert not any("还有其他可以帮您的吗" in text for text in call.spoken[-2:]), call.spoken


def test_a_caller_who_speaks_english_without_pressing_9_is_answered_in_english(stack, app_transport, tmp_path):
    holder = add_holder(stack, tmp_path, "Eva Novak", "ready_for_pickup", foreign=True)
    call = Call(app_transport, caller=holder.phone).run(
        iter(["hello do you speak English", "I want to check my card application", holder.id_number]), echo=False
    )
    assert any("ready for pickup" in text for text in call.spoken), call.spoken
    assert not any("请说出" in text for text in call.spoken[3:]), call.spoken


def test_an_id_number_in_pieces_with_words_around_them_and_a_pause_between_is_put_together(
    stack, app_transport, tmp_path
):
    holder = add_holder(stack, tmp_path, "窦桂芝", "in_production")
    number = holder.id_number
    pieces = [f"号码是 {spoken_digits(number[:6])}", "等一下啊 我找找身份证", f"好了 {spoken_digits(number[6:])}"]
    call = Call(app_transport, caller=holder.phone).run(iter(["我想查下进度", *pieces]), echo=False)
    assert any("制卡中" in text for text in call.spoken), call.spoken
    assert not any("不是有效的身份证号码" in text for text in call.spoken), call.spoken


def test_last_four_said_with_the_id_number_and_a_misheard_number_corrected(stack, app_transport, tmp_path):
    holder, other = add_holder(stack, tmp_path, "翁淑华", "shipped"), add_holder(stack, tmp_path, "翁建国", "submitted")
    in_one_breath = f"查进度 身份证{spoken_digits(holder.id_number)} 手机尾号{spoken_digits(holder.phone[-4:])}"
    call = Call(app_transport, caller="+8613000000000").run(iter([in_one_breath]), echo=False)
    assert any("已制作完成" in text for text in call.spoken), call.spoken  # not asked for the last four again
    misheard = Call(app_transport, caller="+8613000000000").run(
        iter(
            ["查进度", spoken_digits(other.id_number), "号码不对", spoken_digits(holder.id_number), holder.phone[-4:]]
        ),
        echo=False,
    )
    assert any("已制作完成" in text for text in misheard.spoken), misheard.spoken  # the same request, the right card
    assert not any("已取消" in text for text in misheard.spoken), misheard.spoken


def test_a_caller_who_pressed_9_by_mistake_goes_back_to_mandarin(stack, app_transport, tmp_path):
    holder = add_holder(stack, tmp_path, "温玉兰", "ready_for_pickup")
    call = Call(app_transport, caller=holder.phone).run(
        iter(["keys:9", "Chinese please", "查一下进度", spoken_digits(holder.id_number)]), echo=False
    )
    assert any("可以领取" in text for text in call.spoken), call.spoken


def test_a_card_refused_at_the_hospital_is_told_its_state_and_never_offered_a_loss_report(
    stack, app_transport, tmp_path
):
    holder = add_holder(stack, tmp_path, "钟丽萍")
    keyed = "keys:" + holder.id_number.replace("X", "*") + "#"
    said = ["医院说我的卡不能用 被拒绝了", keyed, "嗯"]
    call = Call(app_transport, caller=holder.phone).run(iter(said), echo=False)
    assert not any("确认挂失" in text for text in call.spoken), call.spoken
    assert any("状态正常" in text for text in call.spoken) and any("芯片" in text for text in call.spoken)
    assert stack.card(holder.id_number)["status"] == "active"


def test_a_question_about_a_loss_report_in_force_sends_no_code(stack, app_transport, tmp_path):
    holder = add_holder(stack, tmp_path, "程晓东")
    keyed = "keys:" + holder.id_number.replace("X", "*") + "#"
    said = ["我要挂失", keyed, "确认", "那个挂失什么时候过期来着"]
    call = Call(app_transport, caller=holder.phone).run(iter(said), echo=False)
    assert stack.card(holder.id_number)["status"] == "loss_reported"
    assert not any("验证码" in text for text in call.spoken), call.spoken
    assert any("处于临时挂失状态" in text for text in call.spoken), call.spoken  # the state, with its date


def test_a_follow_up_after_the_progress_answer_is_answered_and_a_wrong_number_does_not_end_the_call(
    stack, app_transport, tmp_path
):
    holder = add_holder(stack, tmp_path, "柏文静", "in_production")
    keyed = "keys:" + holder.id_number.replace("X", "*") + "#"
    said = ["查一下我的卡办到哪了", keyed, "那要带什么去领", "号码不对"]
    call = Call(app_transport, caller=holder.phone).run(iter(said), echo=False)
    assert any("领卡请携带本人身份证" in text for text in call.spoken), call.spoken
    assert not any("再见" in text for text in call.spoken), call.spoken  # the caller is asked again, not seen off
    assert any("请问您要办理什么业务" in text for text in call.spoken[-2:]), call.spoken
