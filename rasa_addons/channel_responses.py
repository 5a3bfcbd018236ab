"""Responses in the wording of the channel the web app named: chat, SMS or the phone.

Every message reaches Rasa through one input channel (the signed one, rasa_addons/signed_channel.py),
so Rasa's own choice of a response variant by channel would see one name for a web chat and a call.
The web app says which it is in the signed metadata; this generator hands that name to Rasa's
variant choice, which then picks the `channel: voice` variants of domain.yml on the hotline.

Chosen here, where Rasa renders every response (its own and those the actions ask for), rather
than from a slot an action kept up to date: that slot cost an action-server call on every message.
endpoints.yml names this class as Rasa's `nlg`.
"""

from __future__ import annotations

from typing import Any

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.channels.signed import bureau_channel


class ChannelResponses(TemplatedNaturalLanguageGenerator):
    """The domain's responses, each variant chosen for the channel of the latest message."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, domain: Domain | None = None) -> None:
        # Rasa replaces the responses with those of each model it loads.
        super().__init__(domain.responses if domain else {})

    async def generate(
        self, utter_action: str, tracker: DialogueStateTracker, output_channel: str, **kwargs: Any
    ) -> dict[str, Any] | None:
        latest = tracker.latest_message
        channel = bureau_channel(tracker.get_latest_input_channel(), latest.metadata if latest else None)
        return await super().generate(utter_action, tracker, channel or output_channel, **kwargs)
