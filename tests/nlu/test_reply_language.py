import pytest
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.language.text import normalise_for_understanding
from nlu.components import NumberEntityExtractor
from nlu.reclassifiers import LanguageRequestsAreGreetings

ID = "320102198808085051"


def reply_language(text: str, intent: str) -> str | None:
    message = Message(data={TEXT: normalise_for_understanding(text), INTENT: {"name": intent, "confidence": 0.9}})
    (message,) = NumberEntityExtractor().process([message])
    return next((e["value"] for e in message.get(ENTITIES) if e["entity"] == "language"), None)


@pytest.mark.parametrize(
    ("text", "intent", "language"),
    [
        # A Chinese name in an English request is the holder's name, not a sign of Mandarin.
        (f"check status 陈静 {ID}", "check_progress", "en"),
        (f"is 陈静's card ready? {ID}", "check_progress", "en"),
        ("my name is 张伟, I lost my card", "report_loss", "en"),
        # Mandarin words stay Mandarin, whatever is mixed in.
        (f"查进度 陈静 {ID}", "check_progress", "zh"),
        ("我的社保card丢了", "report_loss", "zh"),
        ("社保卡 lost", "report_loss", "zh"),
        ("补办 card", "replace_card", "zh"),
        ("fee多少", "out_of_scope", "zh"),  # a word of English in a Mandarin question
        ("app上可以不", "out_of_scope", "zh"),
        ("异地", "use_elsewhere", "zh"),
        # A request for a language is answered in it, whatever it is written in.
        ("Chinese please", "greet", "zh"),
        ("能说英语吗", "greet", "en"),
        # Details alone say nothing of the language.
        (f"{ID} 陈静", "inform", None),
    ],
)
def test_the_reply_language_follows_the_words_not_the_name(text, intent, language):
    assert reply_language(text, intent) == language


@pytest.mark.parametrize(
    ("text", "intent"), [("Can you switch to English please", "update_info"), ("说中文吧", "deny")]
)
def test_a_request_for_a_language_alone_is_met_as_a_greeting(text, intent):
    message = Message(data={TEXT: normalise_for_understanding(text), INTENT: {"name": intent, "confidence": 0.46}})
    (message,) = LanguageRequestsAreGreetings().process([message])
    assert message.get(INTENT) == {"name": "greet", "confidence": 0.9}
