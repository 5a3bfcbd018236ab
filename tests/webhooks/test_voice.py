"""Voice webhooks through the Flask test client: signatures, TwiML structure, failures."""

import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, quote, urlsplit

from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot.models import Flag
from tests.support import CALL, TWILIO_TOKEN, post
from webhooks.twiml import VoiceConfig, speakable, turn


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


def test_nine_at_the_greeting_switches_to_english(client):
    root = xml(post(client, "/twilio/voice/turn?lang=zh&silent=0&greeting=1", {**CALL, "Digits": "9"}))
    gather = root.find("./Gather")
    assert gather.get("language") == "en-US"
    assert "lang=en" in gather.get("action")
    assert gather.find("./Say").get("voice") == "Polly.Joanna-Neural"


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


def test_transfer_in_office_hours(app, client, monkeypatch):
    import webhooks.voice as voice

    app.config["WEB"].agent_number = "+861012345000"
    monkeypatch.setattr(voice, "_staff_available", lambda web: True)
    root = xml(post(client, "/twilio/voice/turn?lang=en", {**CALL, "SpeechResult": "agent please"}))
    dial = root.find("./Dial")
    assert dial.text == "+861012345000"
    assert dial.get("action").startswith("/twilio/voice/after-dial")
    after = xml(post(client, "/twilio/voice/after-dial?lang=en", {**CALL, "DialCallStatus": "no-answer"}))
    assert after.find("./Record") is not None


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


def test_a_forged_or_stale_held_piece_is_ignored(app, client):
    root = xml(post(client, "/twilio/voice/turn?lang=zh&silent=0&step=4&part=not-a-token", CALL))
    assert "part=" not in root.find("./Gather").get("action")
