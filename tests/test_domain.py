"""The domain's promises: every response in both languages, every action implemented."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
PLACEHOLDER = re.compile(r"{(\w+)}")


def variants(name: str) -> tuple[str, str]:
    """(English, Mandarin) text of a response."""
    english = [v["text"] for v in DOMAIN["responses"][name] if v.get("condition")]
    mandarin = [v["text"] for v in DOMAIN["responses"][name] if not v.get("condition")]
    assert len(english) == 1 and len(mandarin) == 1, name
    return english[0], mandarin[0]


def test_every_response_exists_in_english_and_mandarin_with_the_same_values():
    for name in DOMAIN["responses"]:
        english, mandarin = variants(name)
        assert re.search(r"[\u4e00-\u9fff]", mandarin), name
        assert not re.search(r"[\u4e00-\u9fff]", english.replace("(备案)", "")), name
        assert set(PLACEHOLDER.findall(english)) == set(PLACEHOLDER.findall(mandarin)), name


def test_english_variants_are_chosen_by_the_language_slot():
    for name, options in DOMAIN["responses"].items():
        for option in options:
            for condition in option.get("condition", []):
                assert condition == {"type": "slot", "name": "language", "value": "en"}, name


def test_every_custom_action_is_implemented():
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    assert set(DOMAIN["actions"]) <= set(executor.actions)


def test_every_card_status_has_a_progress_answer():
    from bot.statuses import CardStatus

    assert {f"utter_progress_{s.value}" for s in CardStatus} <= set(DOMAIN["responses"])
