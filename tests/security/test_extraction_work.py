"""Threat: one crafted message holds the NLU (which runs number extraction synchronously) for
seconds, because digit groups were joined in every contiguous way (``1-1-1-…``)."""

from __future__ import annotations

import random
import re
import statistics
import time
from collections.abc import Callable

import pytest

from bot.language.extraction import extract_numbers
from bot.language.spoken import SEPARATOR_CHARS
from tests.support import CALL, make_web_settings, post
from webhooks import create_app
from webhooks.turns import MAX_MESSAGE_LENGTH

_SEPARATORS = "-/_。、—,. "
_ZH = "零一二三四五六七八九幺两洞"


def _digit_runs(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") + rng.choice(_SEPARATORS) for _ in range(n))


def _digit_groups(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randint(0, 9999)) + rng.choice(_SEPARATORS) for _ in range(n))


def _chinese(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_ZH) + rng.choice("，、 -") for _ in range(n))


def _mixed(rng: random.Random, n: int) -> str:
    pieces = ["1", "9", "+8", "x", "叉", "十", "百", "一", "two", "-", " ", "/", "。", "oh"]
    return "".join(rng.choice(pieces) for _ in range(n))


def _same_digit(_rng: random.Random, n: int) -> str:
    return "1-" * n


SHAPES: dict[str, Callable[[random.Random, int], str]] = {
    "digit_runs": _digit_runs,
    "digit_groups": _digit_groups,
    "chinese": _chinese,
    "mixed": _mixed,
    "same_digit": _same_digit,
}


def _times_ms(shape: Callable[[random.Random, int], str], length: int, runs: int = 7) -> list[float]:
    """Times over fresh messages (new ones each run, so no cache hides the work)."""
    rng = random.Random(length)
    times = []
    for _ in range(runs):
        message = shape(rng, length)[:length]
        assert len(message) == length
        started = time.perf_counter()
        extract_numbers(message)
        times.append((time.perf_counter() - started) * 1000)
    return times


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_two_thousand_adversarial_characters_are_read_quickly(shape):
    assert statistics.median(_times_ms(SHAPES[shape], 2000)) < 50


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_doubling_the_message_does_not_more_than_triple_the_work(shape):
    # The fastest of several runs: on a shared machine the others measure the neighbours' load too.
    small, large = min(_times_ms(SHAPES[shape], 2000)), min(_times_ms(SHAPES[shape], 4000))
    assert large <= 3 * small + 5, (small, large)  # a few ms of slack for timer and cache noise


def test_numbers_are_still_found_after_a_long_run_of_digit_groups():
    """A few numbers in an ordinary message are unaffected; what a long run costs is bounded."""
    message = "我的身份证 320102198605257079，电话 139-0000-1007。" + "1-" * 40
    numbers = extract_numbers(message)
    assert numbers.id_numbers == ["320102198605257079"] and numbers.phone_numbers == ["+8613900001007"]


def test_the_separators_used_here_are_ones_extraction_reads():
    assert all(re.fullmatch(f"[{SEPARATOR_CHARS}]", ch) for ch in _SEPARATORS)


def test_speech_and_keypad_input_are_capped_like_chat(settings, sessions, fake_rasa):
    url, received = fake_rasa
    client = create_app({"WEB": make_web_settings(settings, rasa_url=url), "TESTING": True}).test_client()
    path = "/twilio/voice/turn?lang=zh&silent=0&greeting=0&step={}"
    post(client, path.format(1), {**CALL, "SpeechResult": "1-" * 5000})
    post(client, path.format(2), {**CALL, "Digits": "1" * 5000})
    assert [len(body["message"]) for body in received] == [MAX_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH]
