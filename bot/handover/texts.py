"""What the service tells a person while a conversation is with staff, in Mandarin and English.

Said in the chat page or by SMS. It promises only what the service does: a place in a queue that
is real, a callback the console holds with a due time, never a call at a time nobody staffs.
"""

from __future__ import annotations

from typing import Any

_CANCEL_ZH = "回复“取消”可返回智能助手。"
_CANCEL_EN = 'Reply "cancel" to go back to the assistant.'

TEXTS: dict[str, dict[str, str]] = {
    # The person joins the queue (in staff hours).
    "waiting": {
        "zh": "现在是人工服务时间，您已进入人工排队，前面还有 {ahead} 位。工作人员接入后会在本对话中回复您；"
        "{wait_minutes} 分钟内无人接入的话，可以改为预约回电。" + _CANCEL_ZH,
        "en": "Staff are on duty and you are now in the queue for a person, with {ahead} ahead of you. When one "
        "picks up they will reply in this conversation; if nobody does within {wait_minutes} minutes you can "
        "ask for a call back instead. " + _CANCEL_EN,
    },
    # The person writes again while waiting: kept for the member of staff who takes the conversation.
    "still_waiting": {
        "zh": "您的留言已记下，工作人员接入后会看到。您前面还有 {ahead} 位。" + _CANCEL_ZH,
        "en": "Noted; the member of staff who picks up will see it. There are {ahead} ahead of you. " + _CANCEL_EN,
    },
    # Out of staff hours: nobody can answer now, so a callback is offered.
    "after_hours": {
        "zh": "现在不是在线人工服务时间（在线人工：{hours}），没有工作人员在线。如需工作人员回电，请发送您的电话号码；"
        "不需要的话，直接继续向智能助手提问即可。",
        "en": "Staff are not on duty in this chat now (chat staff: {hours}), so nobody can answer here. If you "
        "would like a member of staff to call you back, send your phone number; otherwise just carry on with "
        "the assistant.",
    },
    # Nobody took the conversation in time.
    "timed_out": {
        "zh": "抱歉，暂时没有工作人员能够接入。如需工作人员回电，请发送您的电话号码；"
        "不需要的话，直接继续向智能助手提问即可。",
        "en": "Sorry, no member of staff has been able to pick up. If you would like a call back, send your "
        "phone number; otherwise just carry on with the assistant.",
    },
    "bad_number": {
        "zh": "这个号码无法识别。请发送有效的手机号码，或带区号的座机号码；不需要回电请回复“取消”。",
        "en": "That is not a phone number we can call. Send a mobile number, or a landline with its area code; "
        'reply "cancel" if you do not want a call back.',
    },
    "ask_note": {
        "zh": "好的，回电号码 {phone}。请用一两句话说明需要咨询的事项（{limit} 字以内），不必提供身份证号。",
        "en": "Thank you: we will call {phone}. In a sentence or two, what is it about? (Up to {limit} "
        "characters; no ID number needed.)",
    },
    "note_too_long": {
        "zh": "说明请精简到 {limit} 字以内。",
        "en": "Please keep it under {limit} characters.",
    },
    "booked": {
        "zh": "已登记回电请求。工作人员会在 {due} 前拨打 {phone} 联系您（遇节假日顺延）。"
        "如卡片丢失需要马上挂失，可以直接在这里说“挂失”，或拨打 {hotline}。",
        "en": "Your callback request is booked. A member of staff will call {phone} by {due} (later if that "
        'is a public holiday). If your card is lost and you need to stop it now, say "I lost my card" '
        "here or call {hotline}.",
    },
    "cancelled": {
        "zh": "好的，已退出人工服务，您可以继续向智能助手提问。",
        "en": "All right, you are back with the assistant; ask me anything about your card.",
    },
    # Notices pushed to the person by what staff do.
    "taken": {
        "zh": "工作人员已接入，请直接输入您的问题。",
        "en": "A member of staff has joined; go ahead and type your question.",
    },
    "handed_back": {
        "zh": "工作人员已将对话交回智能助手，您可以继续提问。",
        "en": "The member of staff has handed you back to the assistant; carry on whenever you are ready.",
    },
    "closed": {
        "zh": "工作人员已结束本次人工服务。如还有问题，可以继续向智能助手提问。",
        "en": "The member of staff has closed this conversation. If there is anything else, ask the assistant.",
    },
}

# Messages made only of these (and particles: "算了 取消吧", "never mind, cancel") leave the queue
# or the callback request; compared without case or punctuation. A message with anything else in it
# ("我想取消挂失") is for staff.
CANCEL_WORDS = frozenset(
    {
        "取消", "取消排队", "取消回电", "不用了", "不用", "算了", "算了吧", "不需要", "退出", "返回",
        "不等了", "我不等了", "算了不等了", "不排了", "不排队了", "算了不排了", "返回智能助手",
        "cancel", "never mind", "nevermind", "no thanks", "no thank you", "back", "quit",
        "stop waiting", "forget it", "back to the assistant",
    }
)  # fmt: skip

_WEEKDAYS = {"zh": "一二三四五六日", "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}


def say(key: str, language: str, **values: Any) -> str:
    """The text `key` in `language` (``zh`` unless ``en``)."""
    return TEXTS[key]["en" if language == "en" else "zh"].format(**values)


def staff_hours_text(start: str, end: str, language: str) -> str:
    return f"weekdays {start}-{end}" if language == "en" else f"工作日 {start}-{end}"


def due_text(local, language: str) -> str:
    """A local due time as people read it: ``12月1日（周二）17:00`` or ``Tue 1 Dec, 17:00``."""
    clock = local.strftime("%H:%M")
    if language == "en":
        return f"{_WEEKDAYS['en'][local.weekday()]} {local.day} {local.strftime('%b')}, {clock}"
    return f"{local.month}月{local.day}日（周{_WEEKDAYS['zh'][local.weekday()]}）{clock}"
