"""What the hotline says on its own (greeting, reprompts, apologies), kept apart from the call flow."""

from __future__ import annotations

PROMPTS = {
    "greeting": {
        "zh": "您好，这里是社保卡服务热线。请说出您要办理的业务，例如挂失、查询办理进度或解除挂失。",
        "en": "Hello, this is the social security card hotline. Please tell me what you need, "
        "for example report a lost card, check your application, or cancel a loss report.",
    },
    "english_offer": {"zh": "For English, press 9.", "en": ""},
    "no_input": {"zh": "抱歉，我没有听清，请再说一遍。", "en": "Sorry, I didn't catch that. Please say it again."},
    "repeat_intro": {"zh": "我再重复一遍：", "en": "Once more:"},
    "reference_again": {"zh": "再重复一遍挂失编号：{reference}。", "en": "Again, the reference is: {reference}."},
    "language_switched": {
        "zh": "好的，接下来用中文为您服务，请接着说。",
        "en": "Sure, let's go on in English. Please go ahead.",
    },
    "unavailable": {
        "zh": "抱歉，系统暂时无法办理。",
        "en": "Sorry, the service is temporarily unavailable.",
    },
    "transfer": {
        "zh": "正在为您转接人工服务，请稍候。",
        "en": "Please hold while I transfer you to a member of staff.",
    },
    # Voicemail, each saying truthfully why no one is put through.
    "no_agent": {
        "zh": "抱歉，这条线路暂时无法转接工作人员。请在提示音后留言，说明您的问题和联系方式，工作人员会尽快回复您；"
        "不留言的话，直接挂断即可。",
        "en": "Sorry, this line can't put you through to a member of staff. Please leave a message after the tone "
        "with your question and how to reach you, and staff will get back to you. If you'd rather not, just hang up.",
    },
    "after_hours": {
        "zh": "现在是非工作时间，人工服务时间为工作日 {start} 至 {end}。"
        "请在提示音后留言，说明您的问题和联系方式，工作人员会在工作时间回复您。",
        "en": "Our staff are available on weekdays from {start} to {end}, and it is outside those hours now. "
        "Please leave a message after the tone with your question and how to reach you, and staff will get back "
        "to you.",
    },
    "no_answer": {
        "zh": "抱歉，暂时无人接听，请在提示音后留言。",
        "en": "Sorry, nobody is available right now. Please leave a message after the tone.",
    },
    "id_more": {
        "zh": "好的，请接着说出或输入后面的号码，输完按井号。",
        "en": "OK. Please go on with the rest of the number, then press hash.",
    },
    "anything_else": {
        "zh": "还有其他需要吗？没有的话，可以直接挂断。",
        "en": "Anything else? If not, you can hang up now.",
    },
    "message_left": {
        "zh": "您的留言已收到，工作人员会尽快联系您。感谢您的来电，再见。",
        "en": "Thank you, your message has been passed to our staff. Goodbye.",
    },
    "goodbye": {"zh": "感谢您的来电，再见。", "en": "Thank you for calling. Goodbye."},
}


def prompt(name: str, language: str, **values: str) -> str:
    return (PROMPTS[name].get(language) or PROMPTS[name]["zh"]).format(**values)
