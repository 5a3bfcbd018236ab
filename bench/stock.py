"""A minimal stock Rasa bot to compare against: a mood bot as `rasa init` makes, written from code.

Nothing of ours: Rasa's default pipeline and policies (config.yml names none), a few intents with
responses, two stories and two rules, served by plain `rasa run` with the REST channel. A quick
run trains Rasa's default components for fewer epochs, only to check that the benchmark works.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

INTENT_EXAMPLES = {
    "greet": ["hi", "hello", "hey there", "good morning", "good evening", "hello bot", "hi again", "hey"],
    "goodbye": ["bye", "goodbye", "see you", "see you later", "good night", "bye for now", "talk later"],
    "affirm": ["yes", "yeah", "of course", "sure", "that helped", "indeed", "correct", "sounds good"],
    "deny": ["no", "nope", "not really", "no way", "I don't think so", "never", "not at all"],
    "mood_great": ["I am great", "feeling wonderful", "I'm very happy", "all good", "amazing day", "I feel fine"],
    "mood_unhappy": ["I am sad", "I feel down", "very unhappy", "not good today", "I'm upset", "I feel awful"],
    "bot_challenge": ["are you a bot?", "am I talking to a human?", "are you a robot", "is this a machine"],
}
RESPONSES = {
    "utter_greet": "Hello! How are you feeling?",
    "utter_cheer_up": "Here is something to cheer you up: a picture of a puppy.",
    "utter_did_that_help": "Did that help?",
    "utter_happy": "Great, carry on!",
    "utter_goodbye": "Goodbye.",
    "utter_iamabot": "I am a bot.",
}
STORIES = {
    "happy": ["greet", "utter_greet", "mood_great", "utter_happy"],
    "sad, cheered up": ["greet", "utter_greet", "mood_unhappy", "utter_cheer_up", "utter_did_that_help", "affirm",
                        "utter_happy"],
    "sad, still sad": ["greet", "utter_greet", "mood_unhappy", "utter_cheer_up", "utter_did_that_help", "deny",
                       "utter_goodbye"],
}  # fmt: skip
RULES = {"say goodbye": ["goodbye", "utter_goodbye"], "bot challenge": ["bot_challenge", "utter_iamabot"]}
# What Rasa fills in for a config.yml that names no pipeline or policies.
DEFAULT_CONFIG = resources.files("rasa.engine.recipes") / "config_files" / "default_config.yml"
# One conversation of the latency benchmark, as (kind, message).
SCRIPT = [("greet", "hello"), ("mood", "I am sad"), ("answer", "yes"), ("goodbye", "bye")]


def _steps(names: list[str]) -> list[dict[str, str]]:
    return [{"action": n} if n.startswith("utter_") else {"intent": n} for n in names]


def _config(epochs: int | None) -> dict:
    """Rasa's defaults: left unnamed, or with `epochs` written into a copy of the defaults Rasa would fill in."""
    config = {"recipe": "default.v1", "language": "en", "assistant_id": "stock-mood-bot", "pipeline": None,
              "policies": None}  # fmt: skip
    if epochs is None:
        return config
    defaults = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    for part in ("pipeline", "policies"):
        config[part] = [{**item, "epochs": epochs} if "epochs" in item else item for item in defaults[part]]
    return config


def write_bot(directory: Path, epochs: int | None = None) -> Path:
    """The bot's files in `directory` (created), ready for `rasa train`; `epochs` shortens training."""
    (directory / "data").mkdir(parents=True, exist_ok=True)
    files = {
        "config.yml": _config(epochs),
        "domain.yml": {"version": "3.1", "intents": list(INTENT_EXAMPLES),
                       "responses": {name: [{"text": text}] for name, text in RESPONSES.items()},
                       "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True}},
        "credentials.yml": {"rest": None},
        "endpoints.yml": {},
        "data/nlu.yml": {"version": "3.1", "nlu": [
            {"intent": name, "examples": "".join(f"- {e}\n" for e in examples)}
            for name, examples in INTENT_EXAMPLES.items()]},
        "data/stories.yml": {"version": "3.1", "stories": [
            {"story": name, "steps": _steps(steps)} for name, steps in STORIES.items()]},
        "data/rules.yml": {"version": "3.1", "rules": [
            {"rule": name, "steps": _steps(steps)} for name, steps in RULES.items()]},
    }  # fmt: skip
    for name, content in files.items():
        (directory / name).write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return directory
