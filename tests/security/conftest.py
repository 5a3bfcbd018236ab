"""Fixtures for the threats in this package: attacks go through the same running assistant
(`stack`, `production_stack`) and the same real actions as the end-to-end and action tests."""

from tests.actions.conftest import action_settings, dispatcher, domain  # noqa: F401
from tests.e2e.conftest import production_stack, stack, trained_model  # noqa: F401
