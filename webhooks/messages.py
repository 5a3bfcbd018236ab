"""What the web app itself says, when Rasa cannot: kept apart from the flow code, in both languages."""

from __future__ import annotations

UNAVAILABLE = {
    "zh": "抱歉，系统暂时无法办理，请稍后再试，或拨打 {hotline} 咨询。",
    "en": "Sorry, the service is temporarily unavailable. Please try again in a few minutes, or call {hotline}.",
}
EMPTY_MESSAGE = {"zh": "请输入您要咨询的内容。", "en": "Please type your question."}
TOO_MANY = {
    "zh": "您发送消息过于频繁，请稍等一分钟再试。",
    "en": "You are sending messages too quickly; please wait a minute and try again.",
}
TOO_LONG = {
    "zh": "消息太长了，请精简到 {limit} 字以内。",
    "en": "That message is too long; please keep it under {limit} characters.",
}


def say(messages: dict[str, str], language: str, **values: object) -> str:
    return messages.get(language, messages["zh"]).format(**values)


def say_both(messages: dict[str, str], **values: object) -> str:
    """Mandarin then English, for a reply whose reader's language is not known."""
    return f"{say(messages, 'zh', **values)} {say(messages, 'en', **values)}"
