"""Rasa sends its domain only to the actions that read it: the forms' validation actions."""

import pytest
import yaml
from rasa.shared.core.domain import Domain
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.forms import FormValidationAction

from bot.config import ROOT


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # rasa_sdk loads the package with load_module
@pytest.mark.filterwarnings("ignore:Slot auto-fill")  # Rasa warns of its 2.x way on every domain it loads
def test_the_domain_goes_to_form_validation_and_nowhere_else():
    for endpoints in ("endpoints.yml", "deploy/endpoints.production.yml"):
        assert yaml.safe_load((ROOT / endpoints).read_text())["action_endpoint"]["enable_selective_domain"] is True
    executor = ActionExecutor()
    executor.register_package("actions")
    domain = Domain.load(ROOT / "domain.yml")
    sent = {name for name in executor.actions if domain.does_custom_action_explicitly_need_domain(name)}
    validators = {
        name
        for name, action in executor.actions.items()
        if isinstance(getattr(action, "__self__", None), FormValidationAction)
    }
    assert validators and sent == validators
