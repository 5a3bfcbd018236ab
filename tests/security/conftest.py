"""Security tests drive the real actions and webhooks: they share those packages' fixtures."""

from tests.actions.conftest import action_settings, dispatcher, domain  # noqa: F401
