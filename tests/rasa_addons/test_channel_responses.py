"""Responses in the channel's wording: the spoken variant on the hotline, and only there."""

from __future__ import annotations

import pytest
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.channels.signed import CHANNEL_NAME
from rasa_addons.channel_responses import ChannelResponses
from tests.rasa_addons.test_past_states import DOMAIN
from tests.support import chosen

ENDPOINT = EndpointConfig(type="rasa_addons.channel_responses.ChannelResponses")
RESPONSE = "utter_loss_warning"  # says "press 1" on the phone, not in writing


def _tracker(language: str, *, metadata: dict | None, input_channel: str | None = CHANNEL_NAME):
    tracker = DialogueStateTracker.from_events("conv-1", [SlotSet("language", language)], slots=DOMAIN.slots)
    tracker.update(UserUttered("挂失", metadata=metadata, input_channel=input_channel))
    return tracker


async def _text(tracker: DialogueStateTracker, output_channel: str = "collector") -> str:
    generator = NaturalLanguageGenerator.create(ENDPOINT, DOMAIN)
    assert isinstance(generator, ChannelResponses)  # as endpoints.yml names it
    response = await generator.generate(RESPONSE, tracker, output_channel, holder_masked="*伟", card_number_masked="…")
    return response["text"]


def _wording(language: str, *, voice: bool) -> str:
    (text,) = chosen(RESPONSE, language, voice)
    return text.format(holder_masked="*伟", card_number_masked="…")


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_a_call_hears_the_spoken_variant_and_chat_and_sms_read_the_written_one(language):
    assert _wording(language, voice=True) != _wording(language, voice=False)
    assert await _text(_tracker(language, metadata={"channel": "voice"})) == _wording(language, voice=True)
    for channel in ("chat", "sms"):
        assert await _text(_tracker(language, metadata={"channel": channel})) == _wording(language, voice=False)


@pytest.mark.parametrize(
    ("metadata", "input_channel"),
    [
        ({"channel": "voice"}, "rest"),  # Rasa's REST channel believes any metadata: not here
        ({"channel": "voice"}, None),
        ({"channel": "fax"}, CHANNEL_NAME),
        ({"channel": ["voice"]}, CHANNEL_NAME),
        (None, CHANNEL_NAME),
    ],
)
async def test_only_the_signed_channel_can_say_it_is_a_phone_call(metadata, input_channel):
    tracker = _tracker("zh", metadata=metadata, input_channel=input_channel)
    assert await _text(tracker) == _wording("zh", voice=False)


async def test_a_model_loaded_later_brings_its_responses():
    generator = ChannelResponses(ENDPOINT, Domain.empty())
    generator.responses = DOMAIN.responses  # what Rasa's agent does on each model load
    response = await generator.generate("utter_goodbye", _tracker("en", metadata={"channel": "voice"}), "collector")
    assert response["text"] == chosen("utter_goodbye", "en", True)[0]
