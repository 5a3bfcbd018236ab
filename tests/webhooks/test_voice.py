"""Voice webhooks through the Flask test client: signatures, TwiML structure, failures."""

import datetime as dt
import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot.contract import ASKS_FOR_ID_NUMBER
from bot.models import Flag, Voicemail
from bot.review.accounts import add_staff_user
from tests.support import CALL, PASSWORD, TWILIO_TOKEN, make_web_settings, post, recording_rasa, sign_in
from webhooks import create_app
from webhooks.call_simulator import said_lines
from webhooks.twiml import VoiceConfig, speakable, spoken_masks, turn
from webhooks.voice import REPEAT_KEY
from webhooks.voice_prompts import PROMPTS


def xml(response) -> ET.Element:
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    return ET.fromstring(response.get_data())


def test_greeting_listens_in_mandarin_and_offers_english(client):
    root = xml(post(client, "/twilio/voice", CALL))
    gather = root.find("./Gather")
    assert gather.get("input") == "speech dtmf"
    assert gather.get("language") == "cmn-Hans-CN"
    assert gather.get("action").startswith("/twilio/voice/turn?lang=zh")
    says = gather.findall("./Say")
    assert says[0].get("voice") == "Polly.Zhiyu-Neural"
    assert "press 9" in says[-1].text
    assert (says[-1].get("voice"), says[-1].get("language")) == ("Polly.Joanna-Neural", "en-US")  # in English


def test_nine_at_the_greeting_switches_to_english(client):
    root = xml(post(client, "/twilio/voice/turn?lang=zh&silent=0&greeting=1", {**CALL, "Digits": "9"}))
    gather = root.find("./Gather")
    assert gather.get("language") == "en-US"
    assert "lang=en" in gather.get("action")
    assert gather.find("./Say").get("voice") == "Polly.Joanna-Neural"


@pytest.mark.parametrize(
    ("path", "said", "switched"),
    [
        ("/twilio/voice/turn?lang=en&step=2", "Chinese please", "zh"),  # 9 pressed by mistake
        ("/twilio/voice/turn?lang=zh&step=4&id=1", "说英语吧", "en"),  # mid-call, at the ID number
    ],
)
def test_asking_for_the_other_language_goes_on_in_it_at_the_same_step(client, path, said, switched):
    gather = xml(post(client, path, {**CALL, "SpeechResult": said})).find("./Gather")
    assert gather.get("language") == {"zh": "cmn-Hans-CN", "en": "en-US"}[switched]
    assert f"lang={switched}" in gather.get("action")
    assert ("id=1" in gather.get("action")) is ("id=1" in path)  # the ID number is still what was asked
    assert gather.find("./Say").text == PROMPTS["language_switched"][switched]


def test_unsigned_and_tampered_calls_are_refused(client):
    assert post(client, "/twilio/voice", CALL, sign=False).status_code == 403
    url = "http://localhost/twilio/voice/turn?lang=zh"
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, {**CALL, "SpeechResult": "查进度"})
    tampered = client.post(
        "/twilio/voice/turn?lang=zh", data={**CALL, "SpeechResult": "解挂"}, headers={"X-Twilio-Signature": signature}
    )
    assert tampered.status_code == 403
    assert post(client, "/twilio/status", {**CALL, "CallStatus": "completed"}, sign=False).status_code == 403


def test_silence_reprompts_then_hands_over_after_three(client, session):
    root = xml(post(client, "/twilio/voice/turn?lang=zh&silent=0&step=1", CALL))
    assert "silent=1" in root.find("./Gather").get("action")
    root = xml(post(client, "/twilio/voice/turn?lang=zh&silent=2&step=3", CALL))
    assert root.find("./Record") is not None  # no agent number configured: voicemail
    assert [f.reason for f in session.scalars(select(Flag))] == ["human_requested"]


def test_rasa_down_gets_spoken_apology_never_an_error(client, session):
    root = xml(post(client, "/twilio/voice/turn?lang=zh", {**CALL, "SpeechResult": "我的社保卡丢了"}))
    spoken = " ".join("".join(say.itertext()) for say in root.iter("Say"))
    assert "暂时无法办理" in spoken
    assert root.find("./Record") is not None
    assert [(f.reason, f.channel, f.conversation_id) for f in session.scalars(select(Flag))] == [
        ("action_error", "voice", "call-CA0123456789abcdef")
    ]


def at(app, local: str) -> None:
    """Set the app's clock to a moment in the city's time (2026-11-30 is a Monday)."""
    moment = dt.datetime.fromisoformat(local).replace(tzinfo=app.config["WEB"].core.timezone)
    app.config["WEB"].clock = lambda: moment.astimezone(dt.timezone.utc)


def spoken(root: ET.Element) -> str:
    return " ".join("".join(say.itertext()) for say in root.iter("Say"))


def hand_over(client, language: str = "zh", step: int = 3) -> ET.Element:
    """Three silent turns: the caller is handed to staff."""
    return xml(post(client, f"/twilio/voice/turn?lang={language}&silent=2&step={step}", CALL))


@pytest.mark.parametrize("moment", ["2026-11-30T13:01", "2026-11-30T09:00", "2026-12-04T16:59"])
def test_transfer_in_office_hours(app, client, session, moment):
    app.config["WEB"].agent_number = "+861012345000"
    at(app, moment)
    root = hand_over(client)
    dial = root.find("./Dial")
    assert dial.text == "+861012345000"
    assert dial.get("action").startswith("/twilio/voice/after-dial")
    assert root.find("./Record") is None and "非工作时间" not in spoken(root) and "转接" in spoken(root)
    after = xml(post(client, dial.get("action"), {**CALL, "DialCallStatus": "no-answer"}))
    record = after.find("./Record")
    assert record is not None and "cause=no_answer" in record.get("recordingStatusCallback")
    assert "无人接听" in spoken(after) and "非工作时间" not in spoken(after)
    done = xml(post(client, dial.get("action"), {**CALL, "DialCallStatus": "completed"}))
    assert done.find("./Hangup") is not None and done.find("./Record") is None
    assert [f.reason for f in session.scalars(select(Flag))] == ["human_requested"]


@pytest.mark.parametrize("moment", ["2026-11-30T08:59", "2026-11-30T17:00", "2026-11-30T23:30", "2026-12-05T11:00"])
def test_outside_office_hours_the_caller_leaves_a_voicemail_and_hears_why(app, client, moment):
    app.config["WEB"].agent_number = "+861012345000"
    at(app, moment)
    root = hand_over(client)
    assert root.find("./Dial") is None and root.find("./Record") is not None
    assert "非工作时间" in spoken(root) and "9:00 至 17:00" in spoken(root)
    assert "cause=after_hours" in root.find("./Record").get("recordingStatusCallback")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_no_agent_number_says_so_and_offers_voicemail_whatever_the_time(app, client, language):
    at(app, "2026-11-30T13:01")  # a Monday inside office hours
    root = hand_over(client, language)
    said = spoken(root)
    assert root.find("./Dial") is None and root.find("./Record") is not None
    assert ("请在提示音后留言" in said and "无法转接" in said) if language == "zh" else "leave a message" in said
    assert "非工作时间" not in said and "outside those hours" not in said
    assert "12333" not in said and "拨打" not in said and "call " not in said.lower()
    assert "cause=no_agent" in root.find("./Record").get("recordingStatusCallback")


def test_every_prompt_the_hotline_speaks_keeps_the_caller_on_the_line():
    for name, variants in PROMPTS.items():
        for text in variants.values():
            assert "12333" not in text and "拨打" not in text and "致电" not in text, name
            assert not re.search(r"\bcall (us|the hotline|12333)", text, re.IGNORECASE), name


RECORDING = {**CALL, "RecordingSid": "RE" + "0123456789abcdef" * 2}
RECORDING_URL = "https://api.twilio.com/2010-04-01/Accounts/AC00/Recordings/" + RECORDING["RecordingSid"]


def test_a_voicemail_is_kept_on_the_flag_with_its_recording_and_why(app, client, session):
    at(app, "2026-11-30T13:01")
    record = hand_over(client).find("./Record")
    action, recorded = record.get("action"), record.get("recordingStatusCallback")
    assert record.get("recordingStatusCallbackMethod") == "POST"
    left = xml(post(client, action, {**RECORDING, "RecordingUrl": RECORDING_URL, "RecordingDuration": "14"}))
    assert "留言已收到" in spoken(left) and left.find("./Hangup") is not None
    session.commit()
    again = {**RECORDING, "RecordingUrl": RECORDING_URL, "RecordingStatus": "completed", "RecordingDuration": "14"}
    assert post(client, recorded, again).status_code == 204
    assert post(client, recorded, again).status_code == 204  # Twilio may tell twice
    flag = session.scalars(select(Flag)).one()
    voicemail = session.scalars(select(Voicemail)).one()
    assert (flag.reason, flag.channel, flag.conversation_id) == ("human_requested", "voice", "call-CA0123456789abcdef")
    assert voicemail.flag_id == flag.id and voicemail.cause == "no_agent"
    assert (voicemail.recording_sid, voicemail.recording_url) == (RECORDING["RecordingSid"], RECORDING_URL)
    assert (voicemail.recording_status, voicemail.duration_seconds) == ("completed", 14)


def test_the_recording_callback_may_come_before_the_caller_is_done(app, client, session):
    at(app, "2026-11-30T13:01")
    record = hand_over(client).find("./Record")
    done = {**RECORDING, "RecordingUrl": RECORDING_URL, "RecordingStatus": "completed"}
    assert post(client, record.get("recordingStatusCallback"), done).status_code == 204
    xml(post(client, record.get("action"), {**RECORDING, "RecordingUrl": RECORDING_URL}))
    assert session.scalars(select(Voicemail.recording_status)).one() == "completed"  # not undone


@pytest.mark.parametrize(
    "form",
    [
        {**RECORDING, "RecordingSid": "RE-not-a-sid"},
        {**RECORDING, "RecordingUrl": "javascript:alert(1)"},
        {**RECORDING, "RecordingUrl": "http://example.com/x"},
        {**RECORDING, "RecordingStatus": "bogus"},
    ],
)
def test_a_malformed_recording_notice_changes_nothing(client, session, form):
    path = "/twilio/voice/recording?reason=human_requested&cause=no_agent"
    assert post(client, path, form).status_code == 400
    bad_cause = "/twilio/voice/recording?reason=human_requested&cause=whenever"
    assert post(client, bad_cause, {**RECORDING, "RecordingStatus": "completed"}).status_code == 400
    assert session.scalars(select(Flag)).all() == [] and session.scalars(select(Voicemail)).all() == []


def test_an_unsigned_recording_notice_is_refused(client, session):
    path = "/twilio/voice/recording?reason=human_requested&cause=no_agent"
    assert post(client, path, {**RECORDING, "RecordingUrl": RECORDING_URL}, sign=False).status_code == 403
    assert session.scalars(select(Voicemail)).all() == []


def test_hang_up_while_rasa_cannot_say_where_the_call_was_is_flagged(client, session):
    assert post(client, "/twilio/status", {**CALL, "CallStatus": "ringing"}).status_code == 204
    assert session.scalars(select(Flag)).all() == []
    session.commit()  # end the read: on SQLite an open transaction holds the write lock
    assert post(client, "/twilio/status", {**CALL, "CallStatus": "completed"}).status_code == 204
    assert [f.reason for f in session.scalars(select(Flag))] == ["call_dropped"]


def test_numbers_are_read_digit_by_digit_and_unspeakable_text_is_dropped():
    response = turn(
        ["挂失编号：4540067156，详见 https://example.cn 😀 **注意**"], action="/t", language="zh", config=VoiceConfig()
    )
    say = ET.fromstring(str(response)).find("./Gather/Say")
    assert say.find("./say-as").get("interpret-as") == "digits"
    assert say.find("./say-as").text == "4540067156"
    assert "http" not in "".join(say.itertext()) and "*" not in "".join(say.itertext())
    assert speakable("a  **b** 😀") == "a b"


@pytest.mark.parametrize(
    ("language", "text", "said"),
    [
        ("zh", "张*，卡号 *****0006：您的社保卡已制作完成", "张某，卡号 尾号0006：您的社保卡已制作完成"),
        ("zh", "欧**的卡", "欧某的卡"),
        ("en", "M**** G*****, card *****0006: Your card is ready", "M. G., card ending in 0006: Your card is ready"),
        ("en", "reference ******7156", "reference ending in 7156"),
        ("zh", "发送到手机 +86 139******08，5分钟内有效", "发送到手机 +86 1 3 9，尾号0 8，5分钟内有效"),
        ("en", "to your mobile +44*******23; it is valid", "to your mobile +4 4, ending in 2 3; it is valid"),
        ("zh", "详见 **注意** 事项，*张*", "详见 注意 事项，张"),  # emphasis marks, not masks
    ],
)
def test_masked_names_and_numbers_are_said_as_words(language, text, said):
    assert spoken_masks(text, language) == said


def test_a_year_after_a_month_is_said_as_a_year_in_english_and_a_reference_digit_by_digit():
    response = turn(
        ["Reference: 8271296595, valid until 9 December 2026."], action="/t", language="en", config=VoiceConfig()
    )
    say = ET.fromstring(str(response)).find("./Gather/Say")
    assert [e.text for e in say.iter("say-as")] == ["8271296595"]
    assert "9 December 2026" in "".join(say.itertext())


def test_a_progress_answer_on_the_phone_says_the_masked_name_and_card_as_words():
    response = turn(["张*，卡号 *****0006：您的社保卡已制作完成。"], action="/t", language="zh", config=VoiceConfig())
    said = "".join(ET.fromstring(str(response)).find("./Gather/Say").itertext())
    assert said == "张某，卡号 尾号0006：您的社保卡已制作完成。"


def test_chinese_words_in_an_english_answer_are_said_by_the_chinese_voice_and_simulated_as_one_line():
    text = "张*, card *****0005: your card is ready for pickup at 玄武区社会保障卡服务中心. Bring your ID card."
    response = turn([text, "Anything else?"], action="/t", language="en", config=VoiceConfig())
    says = ET.fromstring(str(response)).findall("./Gather/Say")
    assert [(say.get("language"), "".join(say.itertext())) for say in says] == [
        ("cmn-CN", "张某"),
        ("en-US", ", card ending in 0005: your card is ready for pickup at"),
        ("cmn-CN", "玄武区社会保障卡服务中心"),
        ("en-US", ". Bring your ID card."),
        ("en-US", "Anything else?"),
    ]
    assert said_lines(says) == [
        "张某, card ending in 0005: your card is ready for pickup at 玄武区社会保障卡服务中心. Bring your ID card.",
        "Anything else?",
    ]
    chinese = ET.fromstring(
        str(turn(["请到玄武区 3号窗口 领取 ID card。"], action="/t", language="zh", config=VoiceConfig()))
    )
    assert [say.get("language") for say in chinese.iter("Say")] == ["cmn-CN"]  # Chinese answers stay one Say


def test_a_replayed_step_is_answered_the_same_without_a_second_turn(client, session):
    path = "/twilio/voice/turn?lang=zh&silent=0&greeting=0&step=3"
    first = post(client, path, {**CALL, "SpeechResult": "我要挂失"})
    again = post(client, path, {**CALL, "SpeechResult": "我要挂失"})
    assert first.get_data() == again.get_data()
    assert len(session.scalars(select(Flag)).all()) == 1  # the failed turn was flagged once
    session.commit()  # end the read: on SQLite an open transaction holds the write lock
    next_step = xml(
        post(client, "/twilio/voice/turn?lang=zh&silent=0&greeting=0&step=4", {**CALL, "SpeechResult": "查进度"})
    )
    assert next_step.find("./Record") is not None


def test_each_step_links_to_the_next(client):
    root = xml(post(client, "/twilio/voice/turn?lang=zh&silent=0&step=7", CALL))
    assert "step=8" in root.find("./Gather").get("action")


def test_silence_after_a_finished_task_says_goodbye_without_voicemail_or_flag(client, session):
    root = xml(post(client, "/twilio/voice/turn?lang=zh&silent=0&done=1&step=5", CALL))
    assert root.find("./Hangup") is not None
    assert root.find("./Record") is None and root.find("./Gather") is None
    assert "再见" in " ".join("".join(say.itertext()) for say in root.iter("Say"))
    assert session.scalars(select(Flag)).all() == []


def test_silence_after_a_finished_task_in_english_too(client, session):
    root = xml(post(client, "/twilio/voice/turn?lang=en&silent=2&done=1&step=9", CALL))
    assert root.find("./Hangup") is not None and root.find("./Record") is None
    assert "Goodbye" in " ".join("".join(say.itertext()) for say in root.iter("Say"))
    assert session.scalars(select(Flag)).all() == []


def test_an_id_number_in_pieces_is_held_encrypted_until_it_is_whole(app, client):
    vault = app.config["WEB"].vault
    held = quote(vault.encrypt("3201"), safe="")
    root = xml(post(client, f"/twilio/voice/turn?lang=zh&step=4&part={held}", {**CALL, "SpeechResult": "零二一九八六"}))
    action = root.find("./Gather").get("action")
    assert "320102" not in action and "part=" in action  # the digits travel encrypted, never in clear
    assert "后面的号码" in "".join(root.find("./Gather/Say").itertext())
    part = parse_qs(urlsplit(action).query)["part"][0]
    assert vault.decrypt(part) == "3201021986"


def test_a_pause_between_pieces_of_an_id_number_keeps_them(app, client):
    vault = app.config["WEB"].vault
    held = quote(vault.encrypt("320106"), safe="")
    root = xml(post(client, f"/twilio/voice/turn?lang=zh&silent=0&step=4&part={held}", CALL))
    part = parse_qs(urlsplit(root.find("./Gather").get("action")).query)["part"][0]
    assert vault.decrypt(part) == "320106"


@pytest.mark.parametrize("said", [{"SpeechResult": "稍等一下"}, {"SpeechResult": "再说一遍"}, {"Digits": "*"}])
def test_a_wait_or_a_repeat_between_pieces_of_an_id_number_keeps_them_and_asks_for_the_rest(app, client, said):
    vault = app.config["WEB"].vault
    held = quote(vault.encrypt("320102"), safe="")
    root = xml(post(client, f"/twilio/voice/turn?lang=zh&silent=0&step=4&part={held}", {**CALL, **said}))
    assert "后面的号码" in "".join(root.find("./Gather/Say").itertext())
    part = parse_qs(urlsplit(root.find("./Gather").get("action")).query)["part"][0]
    assert vault.decrypt(part) == "320102"


def test_silence_at_the_greeting_offers_english_again_and_nine_still_switches(client):
    root = xml(post(client, "/twilio/voice/turn?lang=zh&silent=0&greeting=1&step=1", CALL))
    action = root.find("./Gather").get("action")
    assert "press 9" in " ".join("".join(say.itertext()) for say in root.iter("Say"))
    english = xml(post(client, action, {**CALL, "Digits": "9"}))
    assert english.find("./Gather").get("language") == "en-US"


def _voice_client(settings, answer):
    return create_app({"WEB": make_web_settings(settings, rasa_url=answer), "TESTING": True}).test_client()


QUESTION = [{"text": "请说出或在键盘上输入持卡人的 18 位身份证号"}, {"custom": {ASKS_FOR_ID_NUMBER: True}}]


def test_after_the_marked_id_question_a_short_run_of_digits_is_held_without_asking_rasa(settings, sessions):
    with recording_rasa(answer=QUESTION) as (rasa_url, heard):
        client = _voice_client(settings, rasa_url)
        asked = xml(post(client, "/twilio/voice/turn?lang=zh&silent=0&step=1", {**CALL, "SpeechResult": "挂失"}))
        action = asked.find("./Gather").get("action")
        assert parse_qs(urlsplit(action).query)["id"] == ["1"]
        first_piece = xml(post(client, action, {**CALL, "Digits": "320102"}))
        assert "后面的号码" in "".join(first_piece.find("./Gather/Say").itertext())
        pause = xml(post(client, first_piece.find("./Gather").get("action"), CALL))  # the pieces wait
        assert "part=" in pause.find("./Gather").get("action")
    assert [m["message"] for m in heard] == ["挂失"]  # Rasa heard the request, not the piece


def test_a_pause_or_a_repeat_after_the_id_question_still_holds_the_digits_that_follow(settings, sessions):
    with recording_rasa(answer=QUESTION) as (rasa_url, heard):
        client = _voice_client(settings, rasa_url)
        for step, form in ((2, {}), (3, {"Digits": REPEAT_KEY})):
            root = xml(post(client, f"/twilio/voice/turn?lang=zh&silent=0&step={step}&id=1", {**CALL, **form}))
            assert parse_qs(urlsplit(root.find("./Gather").get("action")).query)["id"] == ["1"], form
    assert heard == []


def test_without_the_question_digits_go_to_rasa_as_they_are(settings, sessions):
    with recording_rasa(answer=[{"text": "好的"}]) as (rasa_url, heard):
        client = _voice_client(settings, rasa_url)
        answered = xml(post(client, "/twilio/voice/turn?lang=zh&silent=0&step=2", {**CALL, "Digits": "1234"}))
        assert "id=" not in answered.find("./Gather").get("action")
    assert [m["message"] for m in heard] == ["1234"]


def test_a_forged_or_stale_held_piece_is_ignored(app, client):
    root = xml(post(client, "/twilio/voice/turn?lang=zh&silent=0&step=4&part=not-a-token", CALL))
    assert "part=" not in root.find("./Gather").get("action")


def test_staff_signed_in_play_the_voicemail_and_no_one_else_sees_it(app, client, session, sessions):
    at(app, "2026-11-30T13:01")
    record = hand_over(client).find("./Record")
    done = {**RECORDING, "RecordingUrl": RECORDING_URL, "RecordingStatus": "completed", "RecordingDuration": "31"}
    assert post(client, record.get("recordingStatusCallback"), done).status_code == 204
    flag_id = session.scalars(select(Flag.id)).one()
    session.commit()
    staff = app.test_client()
    page = staff.get(f"/staff/flags/{flag_id}?lang=zh")
    assert page.status_code in (302, 303) and RECORDING_URL not in page.get_data(as_text=True)
    with sessions.begin() as db:
        add_staff_user(db, username="li.reviewer", password=PASSWORD, role="reviewer")
    sign_in(staff, "li.reviewer")
    html = staff.get(f"/staff/flags/{flag_id}").get_data(as_text=True)
    assert f'<audio controls preload="none" src="{RECORDING_URL}.mp3">' in html
    assert f'href="{RECORDING_URL}"' in html
    assert "未设置转接号码" in html and "31 秒" in html and "要求人工" in html


@pytest.mark.parametrize(
    "said",
    [
        "sorry, could you repeat that?",
        "麻烦再说一遍",
        "pardon?",
        "sorry what was that reference number",
        "刚才说的啥",
        "sorry, what was that reference number again?",
        "sorry, I didn't catch that, can you say it again?",
    ],
)
def test_a_request_to_hear_it_again_repeats_the_last_answer(settings, sessions, said):
    with recording_rasa(answer=[{"text": "您的社保卡已受理。"}]) as (rasa_url, heard):
        client = _voice_client(settings, rasa_url)
        post(client, "/twilio/voice/turn?lang=zh&silent=0&step=1", {**CALL, "SpeechResult": "查进度"})
        post(client, "/twilio/voice/turn?lang=zh&silent=0&step=2", {**CALL, "SpeechResult": said})
    # Taken as a request to repeat (the last answer is read from the conversation), not sent as a message.
    assert [m["message"] for m in heard if "message" in m] == ["查进度"]
