"""The wording of every SMS the service sends, in Mandarin and English.

Messages carry the loss reference where there is one, never an ID number or a name, and say
what to do if the holder did not ask for the change.
"""

from __future__ import annotations

from typing import Any

_NOT_ME_ZH = "如非本人操作，请立即致电 {hotline}。"
_NOT_ME_EN = "If this was not you, call {hotline} at once."

TEXTS: dict[str, dict[str, str]] = {
    "loss_reported": {
        "zh": "【社保卡】您的社保卡已临时挂失，挂失编号 {reference}，有效期至 {expires_date}。"
        "请在有效期内携带身份证到社保服务大厅办理正式挂失。" + _NOT_ME_ZH,
        "en": "Social security card: your card has been temporarily reported lost, reference {reference}, "
        "valid until {expires_date}. Before then, bring your ID card to a service hall to make it formal. "
        + _NOT_ME_EN,
    },
    "unblocked": {
        "zh": "【社保卡】您的社保卡临时挂失（编号 {reference}）已解除，卡片已恢复使用。" + _NOT_ME_ZH,
        "en": "Social security card: the loss report {reference} on your card was cancelled and the card works "
        "again. " + _NOT_ME_EN,
    },
    "lapsed": {
        "zh": "【社保卡】您的社保卡临时挂失（编号 {reference}）已到期失效，卡片已恢复使用。"
        "如卡片仍未找到，请重新挂失或到服务大厅办理正式挂失。" + _NOT_ME_ZH,
        "en": "Social security card: the temporary loss report {reference} on your card has lapsed and the card "
        "works again. If it is still missing, report it lost again or make a formal report at a service hall. "
        + _NOT_ME_EN,
    },
    "code": {
        "zh": "【社保卡】您正在办理社保卡解除挂失，验证码 {code}，{minutes} 分钟内有效，请勿告诉他人。" + _NOT_ME_ZH,
        "en": "Social security card: your code to cancel the loss report is {code}, valid for {minutes} minutes. "
        "Never share it. " + _NOT_ME_EN,
    },
    "card_ready": {
        "zh": "【社保卡】您的新社保卡已制作完成，请携带身份证到 {office} 领取。"
        "如非本人申请，请致电 {hotline}。回复 TD 退订领卡提醒。",
        "en": "Social security card: your new card is ready. Collect it with your ID card at {office}. "
        "If you did not apply, call {hotline}. Reply STOP to stop card-ready notices.",
    },
}

# Replies to a keyword sent to the SMS number.
OPT_OUT_REPLY = {
    "zh": "已退订领卡提醒短信。挂失、解挂等安全通知和验证码仍会发送。回复“订阅”可恢复。",
    "en": "You will no longer get card-ready notices; security notices and codes still come. Reply START to resume.",
}
OPT_IN_REPLY = {
    "zh": "已恢复领卡提醒短信。回复 TD 可退订。",
    "en": "Card-ready notices are on again. Reply STOP to stop them.",
}


def render(kind: str, language: str, **values: Any) -> str:
    """The text of a `kind` message in `language` (``zh`` unless ``en``)."""
    return TEXTS[kind]["en" if language == "en" else "zh"].format(**values)
