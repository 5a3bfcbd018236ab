"""Threat: finding the ID number that goes with a known name (name + birth date + county leave a
thousand candidates) by guessing, one new conversation per guess, so no per-conversation limit
applies and no single ID number collects enough failures to lock."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy import select

from actions.identity import ValidateIdentityForm
from actions.runtime import now, services
from bot.errors import IdentityLocked, IdentityNotVerified
from bot.identity.idnumbers import with_check_character
from bot.models import IdentityAttempt
from bot.services import check_identity
from tests.factories import ID_UNKNOWN, ID_WANG, ID_ZHANG, add_card
from tests.support import CALL, NOW, make_tracker, make_web_settings, post, responses, signed
from webhooks import create_app

FORM = ValidateIdentityForm()
# Same county and birth date as 张伟's 11010519491231002X: only the sequence number differs.
CANDIDATES = [with_check_character(f"11010519491231{seq:03d}") for seq in range(100, 400)]


def guess(session, settings, id_number: str, *, client: str | None, n: int, name: str = "张伟", now=NOW):
    return check_identity(
        session,
        settings=settings,
        conversation_id=f"web-guess-{n}",  # a new browser session for every guess
        channel="chat",
        id_number=id_number,
        now=now,
        name=name,
        client=client,
    )


def test_one_address_gets_twenty_guesses_then_not_even_a_hit(session, settings, vault):
    add_card(session, vault)
    for n, candidate in enumerate(CANDIDATES[:20]):
        with pytest.raises(IdentityNotVerified):
            guess(session, settings, candidate, client="a" * 32, n=n)
    with pytest.raises(IdentityLocked):
        guess(session, settings, ID_ZHANG, client="a" * 32, n=20)  # the right ID number, refused unchecked
    assert guess(session, settings, ID_ZHANG, client="b" * 32, n=21).holder.name == "张伟"  # another client


def test_checks_of_ones_own_card_do_not_reset_the_count(session, settings, vault):
    add_card(session, vault, id_number=ID_WANG, name="王芳", phone="+8613900001002", card_number="A00000002")
    for n, candidate in enumerate(CANDIDATES[:20]):
        with pytest.raises(IdentityNotVerified):
            guess(session, settings, candidate, client="a" * 32, n=n)
        if n < 19:
            guess(session, settings, ID_WANG, client="a" * 32, n=100 + n, name="王芳")
    with pytest.raises(IdentityLocked):
        guess(session, settings, CANDIDATES[30], client="a" * 32, n=40)


def test_a_hundred_guesses_for_one_name_from_any_number_of_addresses(session, settings, vault):
    add_card(session, vault)
    for n, candidate in enumerate(CANDIDATES[:100]):
        with pytest.raises(IdentityNotVerified):
            guess(session, settings, candidate, client=f"{n:032x}", n=n, name=" 张 伟 " if n % 2 else "张伟")
    with pytest.raises(IdentityLocked):
        guess(session, settings, ID_ZHANG, client="f" * 32, n=100)
    # Other names are not held up by it, and an hour later the name is free again.
    add_card(session, vault, id_number=ID_WANG, name="王芳", phone="+8613900001002", card_number="A00000002")
    assert guess(session, settings, ID_WANG, client="f" * 32, n=101, name="王芳").holder.name == "王芳"
    an_hour_later = NOW + dt.timedelta(minutes=61)
    assert guess(session, settings, ID_ZHANG, client="f" * 32, n=102, now=an_hour_later).holder.name == "张伟"


def test_the_limits_are_settings(session, vault, settings):
    strict = replace(settings, loss_policy=replace(settings.loss_policy, max_failures_per_client=2))
    add_card(session, vault)
    for n in range(2):
        with pytest.raises(IdentityNotVerified):
            guess(session, strict, CANDIDATES[n], client="c" * 32, n=n)
    with pytest.raises(IdentityLocked):
        guess(session, strict, ID_ZHANG, client="c" * 32, n=2)


def test_only_keyed_hashes_of_the_client_and_name_are_stored(session, settings, vault):
    add_card(session, vault)
    with pytest.raises(IdentityNotVerified):
        guess(session, settings, CANDIDATES[0], client="d" * 32, n=0)
    (attempt,) = session.scalars(select(IdentityAttempt)).all()
    assert attempt.client_hash == "d" * 32 and len(attempt.name_hash) == 64
    assert "张伟" not in attempt.name_hash


@pytest.fixture
def guessed_out(action_settings, session, vault):
    """20 failed guesses from one client, through the identity form."""
    add_card(session, vault)
    for n, candidate in enumerate(CANDIDATES[:20]):
        with pytest.raises(IdentityNotVerified):
            guess(session, services().settings, candidate, client="e" * 32, n=n, now=now())
    session.commit()


async def test_the_refusal_is_the_same_whichever_limit_and_whether_or_not_the_id_exists(
    guessed_out, session, dispatcher, domain
):
    async def refusal(id_number: str, client: str, sender: str) -> dict:
        tracker = make_tracker({"id_number": id_number}, metadata={"client": client}, sender_id=sender)
        result = await FORM.validate_person_name("张伟", dispatcher, tracker, domain)
        assert result.get("identity_locked") is True, (
            result,
            dispatcher.messages,
        ) and "verified_id_number" not in result
        return dispatcher.messages[-1]

    by_client_known = await refusal(ID_ZHANG, "e" * 32, "web-1")
    by_client_unknown = await refusal(ID_UNKNOWN, "e" * 32, "web-2")
    for n in range(5):  # five failures on one ID number from elsewhere lock it
        with pytest.raises(IdentityNotVerified):
            guess(session, services().settings, ID_WANG, client=f"{n:032x}", n=200 + n, name="王芳", now=now())
    session.commit()
    by_id_lock = await refusal(ID_WANG, "9" * 32, "web-3")
    assert by_client_known == by_client_unknown == by_id_lock
    assert responses(dispatcher) == ["utter_identity_locked"] * 3


async def test_the_form_counts_by_the_client_in_the_message_metadata(guessed_out, dispatcher, domain):
    tracker = make_tracker({"id_number": ID_ZHANG}, metadata={"client": "e" * 32}, sender_id="web-new")
    assert (await FORM.validate_person_name("张伟", dispatcher, tracker, domain))["identity_locked"] is True
    elsewhere = make_tracker({"id_number": ID_ZHANG}, metadata={"client": "7" * 32}, sender_id="web-other")
    assert (await FORM.validate_person_name("张伟", dispatcher, elsewhere, domain))["verified_id_number"] == ID_ZHANG


@pytest.fixture
def web(settings, sessions, fake_rasa):
    url, received = fake_rasa
    return make_web_settings(settings, rasa_url=url), received


def test_every_channel_sends_a_keyed_token_of_the_client_never_the_address(web, vault):
    settings_, received = web
    client = create_app({"WEB": replace(settings_, trusted_proxies=1), "TESTING": True}).test_client()
    page = client.get("/").get_data(as_text=True)
    client.environ_base["HTTP_X_CSRFTOKEN"] = page.split('name="csrf-token" content="')[1].split('"')[0]
    for address in ("203.0.113.1", "203.0.113.7"):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = address
        assert client.post("/chat/message", json={"message": "你好"}).status_code == 200
    form = {"From": "+8613900001001", "Body": "你好", "MessageSid": "SM1"}
    client.post("/twilio/sms", data=form, headers=signed(form))
    post(client, "/twilio/voice/turn?lang=zh&silent=0&greeting=0&step=1", {**CALL, "SpeechResult": "你好"})
    tokens = [body["metadata"]["client"] for body in received]
    assert tokens == [
        vault.keyed_token("203.0.113.1", purpose="client"),
        vault.keyed_token("203.0.113.7", purpose="client"),
        vault.keyed_token("+8613900001001", purpose="client"),
        vault.keyed_token(CALL["From"], purpose="client"),
    ]
    chat_and_sms = [str(body["metadata"]) for body in received[:3]]  # (voice also sends the caller ID)
    assert not any("203.0.113" in metadata or "13900001001" in metadata for metadata in chat_and_sms)


def test_chat_turns_per_address_are_limited_with_a_clear_answer(web):
    settings_, received = web
    client = create_app({"WEB": replace(settings_, chat_turns_per_minute=5, trusted_proxies=1), "TESTING": True})
    browser = client.test_client()
    page = browser.get("/").get_data(as_text=True)
    browser.environ_base["HTTP_X_CSRFTOKEN"] = page.split('name="csrf-token" content="')[1].split('"')[0]
    browser.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.1"
    for _ in range(5):
        assert browser.post("/chat/message", json={"message": "你好"}).status_code == 200
    refused = browser.post("/chat/message", json={"message": "你好"})
    assert refused.status_code == 429
    error = refused.get_json()["error"]
    assert "频繁" in error and "too quickly" in error
    assert len(received) == 5  # the refused turn never reached Rasa
    browser.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"  # another client behind the same proxy
    assert browser.post("/chat/message", json={"message": "你好"}).status_code == 200


def test_an_ipv6_client_counts_as_its_whole_slash_64(web, vault):
    settings_, received = web
    client = create_app({"WEB": replace(settings_, trusted_proxies=1), "TESTING": True}).test_client()
    page = client.get("/").get_data(as_text=True)
    client.environ_base["HTTP_X_CSRFTOKEN"] = page.split('name="csrf-token" content="')[1].split('"')[0]
    for address in ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:db8:1:3::1"):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = address
        assert client.post("/chat/message", json={"message": "你好"}).status_code == 200
    first, same_subscriber, other = [body["metadata"]["client"] for body in received]
    assert first == same_subscriber == vault.keyed_token("2001:db8:1:2::/64", purpose="client") != other
