"""TwiML for the hotline, built only with twilio's VoiceResponse builders (no string templates).

Text that speaks badly never reaches `<Say>`: URLs, emoji and markdown are dropped, numbers of four
or more digits (references, phone numbers, ID numbers) are read digit by digit, and masked values
are said as a person would say them: "*****0006" as "ending in 0006", "+86 139******08" as "+86 1 3 9,
ending in 0 8" (digits too few to be read one by one are spaced), "张*" as "张某", "M**** G*****" as
"M. G." (a bare "*" would be dropped and leave "张" followed by a pause, or "139 08" read as numbers).
In English, Chinese words (office names from the card records) are said by the Chinese voice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from twilio.twiml.voice_response import Gather, Say, VoiceResponse

_UNSPEAKABLE = re.compile(r"https?://\S+|[*_`#>\[\]]|[\U0001F000-\U0001FAFF\u2600-\u27BF]")
_DIGITS = re.compile(r"\d{4,}X?|\d{3,}X")
_EMPHASIS = re.compile(r"(?<![\w*])(\*{1,2})([^*\s][^*]*?)\1(?![\w*])")  # **bold**, *italic*: not masks
# A masked number's visible end, after any visible start: "*****0006", "139******08" (a phone).
_MASKED_END = re.compile(r"(?<![\d*])(\d*)\*+(\d{2,}X?)")
_MASKED_HAN = re.compile(r"([\u3400-\u9fff])\*+")
_MASKED_LATIN = re.compile(r"\b([A-Za-z])\*+")
# Chinese words, with the digits and Chinese punctuation between them ("玄武区3号窗口").
_HAN_RUN = re.compile(r"[\u3400-\u9fff](?:[\u3400-\u9fff\u3000-\u303f\uff01-\uff5e\d ]*[\u3400-\u9fff])?")
_MONTH_BEFORE = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December) $"
)
_ENDING_IN = {"zh": "尾号{}", "en": "ending in {}"}
_AFTER_START = {"zh": "，", "en": ", "}
GATHER_LANGUAGE = {"zh": "cmn-Hans-CN", "en": "en-US"}
SAY_LANGUAGE = {"zh": "cmn-CN", "en": "en-US"}


@dataclass(frozen=True)
class VoiceConfig:
    """How the hotline sounds and listens; from configuration."""

    voice_zh: str = "Polly.Zhiyu-Neural"
    voice_en: str = "Polly.Joanna-Neural"
    speech_model: str = "default"
    gather_timeout: int = 6
    hints_zh: str = "社保卡,挂失,解挂,进度,补卡,人工,确认,取消"
    hints_en: str = "social security card,lost,cancel,progress,agent,yes,no"


def speakable(text: str) -> str:
    """The text without links, emoji or markdown marks, whitespace folded."""
    return " ".join(_UNSPEAKABLE.sub(" ", text).split())


def spoken_masks(text: str, language: str) -> str:
    """Masked numbers and names in `text` as they are said (see the module's docstring)."""
    text = _EMPHASIS.sub(r"\2", text)
    text = _MASKED_END.sub(lambda match: _said_end(match, language), text)
    text = _MASKED_HAN.sub(r"\1某", text)
    return _MASKED_LATIN.sub(r"\1.", text)


def _said_end(match: re.Match[str], language: str) -> str:
    start, end = _one_by_one(match.group(1)), _ENDING_IN[language].format(_one_by_one(match.group(2)))
    return f"{start}{_AFTER_START[language]}{end}" if start else end


def _one_by_one(digits: str) -> str:
    """Digits too few to be read out one by one as a number (which four or more are) spaced apart,
    so "06" is not said as "six" nor "139" as "a hundred and thirty-nine"."""
    return digits if len(digits) >= 4 else " ".join(digits)


def add_say(parent: VoiceResponse | Gather, text: str, language: str, config: VoiceConfig) -> None:
    """`<Say>` the text, with long numbers read digit by digit and masked values said as words.

    In English, Chinese words in it (an office's name from the card records, a masked name "张某")
    are said by the Chinese voice, which can read them: the English one skips or garbles them.
    """
    clean = speakable(spoken_masks(text, language))
    runs = [(match.start(), match.end()) for match in _HAN_RUN.finditer(clean)] if language == "en" else []
    if not runs:
        _say(parent, clean, language, config)
        return
    pieces: list[tuple[str, str]] = []
    position = 0
    for start, end in [*runs, (len(clean), len(clean))]:
        between = clean[position:start].strip()
        if any(ch.isalnum() for ch in between):
            pieces.append((between, language))
        elif between and pieces:  # a lone "." or ", " ends the piece before it, not a Say of its own
            pieces[-1] = (pieces[-1][0] + between, pieces[-1][1])
        if start < end:
            pieces.append((clean[start:end], "zh"))
        position = end
    for text, voice in pieces:
        _say(parent, text, voice, config)


def _say(parent: VoiceResponse | Gather, clean: str, language: str, config: VoiceConfig) -> None:
    """One `<Say>` in the voice of `language`, long numbers read digit by digit."""
    voice = config.voice_en if language == "en" else config.voice_zh
    say = Say(voice=voice, language=SAY_LANGUAGE[language])
    position = 0
    for match in _DIGITS.finditer(clean):
        if language == "en" and _MONTH_BEFORE.search(clean, 0, match.start()):
            continue  # "9 December 2026": a year is said as a year in English
        if match.start() > position:
            say.append(clean[position : match.start()])
        say.say_as(match.group(0), interpret_as="digits")
        position = match.end()
    if position < len(clean):
        say.append(clean[position:])
    parent.append(say)


def gather(action: str, language: str, config: VoiceConfig) -> Gather:
    """A `<Gather>` that takes speech or keypad input (`#` ends keyed numbers)."""
    return Gather(
        input="speech dtmf",
        action=action,
        method="POST",
        language=GATHER_LANGUAGE[language],
        speech_model=config.speech_model,
        speech_timeout="auto",
        timeout=config.gather_timeout,
        finish_on_key="#",
        hints=config.hints_en if language == "en" else config.hints_zh,
        action_on_empty_result=True,
    )


def turn(
    texts: list[str], *, action: str, language: str, config: VoiceConfig, aside: tuple[str, str] | None = None
) -> VoiceResponse:
    """Say the texts inside a Gather, so the caller can answer (or interrupt) at once; `aside` is a
    last line in another language and its voice, as (text, language): "For English, press 9."."""
    response = VoiceResponse()
    listen = gather(action, language, config)
    for text in texts:
        add_say(listen, text, language, config)
    if aside is not None:
        add_say(listen, aside[0], aside[1], config)
    response.append(listen)
    return response


def transfer(texts: list[str], *, number: str, after: str, language: str, config: VoiceConfig) -> VoiceResponse:
    """Say the texts, then dial staff; `after` is where Twilio goes when the dial ends."""
    response = VoiceResponse()
    for text in texts:
        add_say(response, text, language, config)
    response.dial(number, action=after, method="POST", timeout=25)
    return response


def voicemail(texts: list[str], *, after: str, recorded: str, language: str, config: VoiceConfig) -> VoiceResponse:
    """Say the texts, then record a message of up to two minutes.

    `after` is where Twilio goes when the caller has finished; `recorded` is told once the
    recording is ready (or there was nothing to record), with its reference and URL.
    """
    response = VoiceResponse()
    for text in texts:
        add_say(response, text, language, config)
    response.record(
        action=after,
        method="POST",
        max_length=120,
        play_beep=True,
        recording_status_callback=recorded,
        recording_status_callback_method="POST",
        recording_status_callback_event="completed absent",
    )
    return response


def goodbye(texts: list[str], *, language: str, config: VoiceConfig) -> VoiceResponse:
    response = VoiceResponse()
    for text in texts:
        add_say(response, text, language, config)
    response.hangup()
    return response
