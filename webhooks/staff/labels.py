"""The console's words in Mandarin (the default) and English, and how times are shown."""

from __future__ import annotations

import datetime as dt

from flask import current_app, request, session, url_for

LANGUAGES = ("zh", "en")

TEXT: dict[str, tuple[str, str]] = {
    "console": ("社保卡助手 · 审核台", "Card assistant · review console"),
    "overview": ("概览", "Overview"),
    "queue": ("待审队列", "Review queue"),
    "users": ("账号管理", "Staff accounts"),
    "audit": ("审计日志", "Audit log"),
    "logout": ("退出", "Sign out"),
    "login": ("登录", "Sign in"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "login_failed": ("用户名或密码不正确。", "Wrong user name or password."),
    "too_many": ("尝试次数过多，请稍后再试。", "Too many attempts; please try again later."),
    "signed_out": ("您已退出。", "You have signed out."),
    "please_login": ("请先登录。", "Please sign in first."),
    "admins_only": ("仅管理员可执行此操作。", "Only an admin can do that."),
    "bad_form": ("表单已过期或无效，请重试。", "The form expired or was not valid; please try again."),
    "reason": ("原因", "Reason"),
    "status": ("状态", "Status"),
    "channel": ("渠道", "Channel"),
    "date_from": ("起始日期", "From"),
    "date_to": ("截止日期", "To"),
    "any": ("全部", "Any"),
    "filter": ("筛选", "Filter"),
    "export_csv": ("导出 CSV", "Export CSV"),
    "created": ("时间", "Created"),
    "conversation": ("会话", "Conversation"),
    "assignee": ("负责人", "Assigned to"),
    "open_item": ("查看", "Open"),
    "no_flags": ("没有符合条件的记录。", "Nothing matches."),
    "page": ("第 {page} / {pages} 页，共 {total} 条", "Page {page} of {pages}, {total} in all"),
    "previous": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "bulk_review": ("将所选挂失记录标为已审", "Mark the selected loss reports reviewed"),
    "bulk_done": ("已标记 {count} 条为已审。", "{count} marked reviewed."),
    "select": ("选择", "Select"),
    "transcript": ("对话记录", "Transcript"),
    "transcript_unavailable": ("暂时无法读取对话记录。", "The transcript cannot be read right now."),
    "no_transcript": ("该会话没有对话记录。", "This conversation has no transcript."),
    "citizen": ("市民", "Citizen"),
    "assistant": ("助手", "Assistant"),
    "action": ("动作", "Action"),
    "intent": ("意图", "Intent"),
    "confidence": ("置信度", "Confidence"),
    "misunderstood": ("未理解", "not understood"),
    "right_intent": ("正确意图", "Right intent"),
    "save_label": ("保存标注", "Save label"),
    "labelled": ("已标注：", "Labelled: "),
    "label_saved": ("标注已保存，可用 review export-nlu 导出。", "Label saved; `review export-nlu` exports it."),
    "card": ("卡片", "Card"),
    "cardholder": ("持卡人", "Cardholder"),
    "id_number": ("身份证号", "ID number"),
    "phone": ("电话", "Phone"),
    "card_number": ("卡号", "Card number"),
    "card_status": ("卡状态", "Card status"),
    "loss_report": ("挂失记录", "Loss report"),
    "reference": ("挂失编号", "Reference"),
    "expires": ("有效期至", "Expires"),
    "no_card": ("未关联持卡人。", "No cardholder linked."),
    "mark_reviewed": ("标为已审", "Mark reviewed"),
    "escalate": ("升级处理", "Escalate"),
    "assign_me": ("分配给我", "Assign to me"),
    "add_note": ("添加备注", "Add note"),
    "note": ("备注", "Note"),
    "notes": ("备注记录", "Notes"),
    "history": ("处理记录", "History"),
    "other_flags": ("同一会话的其他标记", "Other flags on this conversation"),
    "saved": ("已保存。", "Saved."),
    "reveal": ("显示完整个人信息", "Reveal personal data"),
    "reveal_reason": ("查看原因（将记入审计日志）", "Reason (written to the audit log)"),
    "revealed": ("以下为完整个人信息，本次查看已记入审计日志。", "Personal data shown in full; this was audited."),
    "open_flags_by_reason": ("待处理标记（按原因）", "Open flags by reason"),
    "loss_per_day": ("近30天每日挂失数", "Loss reports per day, last 30 days"),
    "fallback_rate": ("近30天未理解率", "Fallback rate, last 30 days"),
    "fallback_unavailable": ("暂时无法读取对话数据。", "Conversation data cannot be read right now."),
    "running_model": ("当前模型", "Running model"),
    "deployed_at": ("部署于", "Deployed"),
    "no_deployment": ("尚无部署记录（model deploy）。", "No deployment recorded yet (model deploy)."),
    "scores_unmeasured": ("尚未评分（model deploy 时评分）。", "Not scored yet (model deploy scores it)."),
    "role": ("角色", "Role"),
    "active": ("启用", "Active"),
    "last_login": ("上次登录", "Last sign-in"),
    "create_user": ("新建账号", "New account"),
    "deactivate": ("停用", "Deactivate"),
    "reactivate": ("启用", "Reactivate"),
    "actor": ("操作人", "Who"),
    "what": ("操作", "What"),
    "target": ("对象", "Target"),
    "detail": ("详情", "Detail"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "back_to_queue": ("返回队列", "Back to the queue"),
    "not_found": ("找不到该记录。", "There is no such record."),
    "bad_filter": ("筛选条件“{name}”无效，已忽略。", "The filter '{name}' is not valid and was ignored."),
    "system_note": ("系统备注", "System note"),
    "summary": ("摘要", "Summary"),
    "no_request": ("无具体请求", "no request"),
    "voicemails": ("来电留言", "Voicemail"),
    "recording_pending": ("录音尚未就绪。", "The recording is not ready yet."),
    "recording_absent": ("来电者未留言（无录音）。", "The caller said nothing (no recording)."),
    "recording_failed": ("录音失败。", "The recording failed."),
    "open_recording": ("打开录音", "Open the recording"),
    "seconds": ("{n} 秒", "{n} s"),
    "err_unknown_filter": ("筛选条件无效。", "Unknown filter value."),
    "err_date_order": (
        "起始日期晚于截止日期，日期条件已忽略。",
        "The start date is after the end date; dates ignored.",
    ),
    "err_no_flag": ("所选记录不存在。", "Some of the chosen flags do not exist."),
    "err_bulk_empty": ("请至少选择一条记录。", "Choose at least one flag."),
    "err_bulk_loss_only": ("批量处理仅适用于挂失记录。", "Only loss report flags can be marked reviewed in bulk."),
    "err_note_empty": ("内容不能为空。", "It is empty."),
    "err_note_long": ("备注过长。", "The note is too long."),
    "err_admins_only": ("仅管理员可执行此操作。", "Only an admin can do that."),
    "err_reveal_reason": ("请填写至少5个字的查看原因。", "Give a reason of at least 5 characters."),
    "err_unknown_intent": ("未知意图。", "Unknown intent."),
    "err_not_in_conversation": ("该消息不属于此会话。", "That message is not part of this conversation."),
    "err_transcript_unavailable": ("暂时无法读取对话记录。", "The transcript cannot be read right now."),
    "live": ("人工会话", "Live chats"),
    "callbacks": ("回电", "Callbacks"),
    "waiting_list": ("等待人工", "Waiting for staff"),
    "held_list": ("处理中", "With staff"),
    "no_waiting": ("目前没有人在等待。", "Nobody is waiting."),
    "no_held": ("没有正在处理的会话。", "No conversation is with staff."),
    "waited": ("已等待", "Waited"),
    "minutes": ("{n} 分钟", "{n} min"),
    "task": ("业务", "Task"),
    "verified": ("已核验身份", "Identity verified"),
    "take": ("接入", "Take"),
    "taken_by": ("接入人", "Taken by"),
    "open_conversation": ("打开", "Open"),
    "handover_state": ("状态", "State"),
    "live_messages": ("人工对话", "Conversation with staff"),
    "before_handover": ("转人工前的对话", "Before the handover"),
    "reply": ("回复", "Reply"),
    "send": ("发送", "Send"),
    "hand_back": ("交回智能助手", "Hand back to the assistant"),
    "close_conversation": ("结束会话", "Close"),
    "not_yours": ("该会话未由您接入，只能查看。", "You have not taken this conversation; you can only read it."),
    "live_taken": ("已接入，对方的消息会显示在这里。", "Taken: their messages appear here."),
    "live_sent": ("已发送。", "Sent."),
    "live_handed_back": ("已交回智能助手。", "Handed back to the assistant."),
    "live_closed": ("会话已结束。", "Closed."),
    "person": ("市民", "Citizen"),
    "system": ("系统通知", "Notice"),
    "due": ("回电期限", "Call by"),
    "overdue": ("已逾期", "overdue"),
    "callback_note": ("说明", "Note"),
    "no_callbacks": ("没有待回电的请求。", "No callbacks to make."),
    "show_number": ("显示号码并拨打（记入审计）", "Show the number to call (audited)"),
    "called": ("已回电", "Called"),
    "err_not_waiting": ("该会话已被其他同事接入或已不在等待。", "Someone else took it, or it is no longer waiting."),
    "err_not_yours": ("只有接入该会话的工作人员可以这样做。", "Only the member of staff who took it can do that."),
    "err_no_handover": ("找不到该会话。", "There is no such conversation."),
    "err_reply_empty": ("回复不能为空。", "The reply is empty."),
    "err_reply_long": ("回复过长（最多500字）。", "The reply is too long (500 characters at most)."),
    "err_no_callback": ("找不到该回电请求。", "There is no such callback."),
    "err_callback_done": ("该回电已完成。", "That callback was already made."),
}

HANDOVER_STATES: dict[str, tuple[str, str]] = {
    "waiting": ("等待中", "waiting"),
    "taken": ("处理中", "with staff"),
    "callback": ("登记回电中", "booking a callback"),
    "handed_back": ("已交回助手", "handed back"),
    "closed": ("已结束", "closed"),
}
LIVE_SENDERS: dict[str, tuple[str, str]] = {
    "person": ("市民", "Citizen"),
    "system": ("系统通知", "Notice"),
}

REASONS: dict[str, tuple[str, str]] = {
    "nlu_fallback": ("未理解", "not understood"),
    "human_requested": ("要求人工", "asked for a person"),
    "identity_failed": ("身份核验失败", "identity check failed"),
    "loss_reported": ("已挂失", "loss reported"),
    "loss_cancelled": ("已解挂", "loss report cancelled"),
    "call_dropped": ("通话中断", "call dropped"),
    "action_error": ("系统错误", "system error"),
    "sms_failed": ("短信发送失败", "SMS not sent"),
}
STATUSES: dict[str, tuple[str, str]] = {
    "open": ("待处理", "open"),
    "reviewed": ("已审", "reviewed"),
    "escalated": ("已升级", "escalated"),
}
CHANNELS: dict[str, tuple[str, str]] = {
    "chat": ("网页", "web chat"),
    "sms": ("短信", "SMS"),
    "voice": ("电话", "phone"),
}
# The queue rows' one-line summaries (bot.review.summaries): what was asked, what came of it, in what language.
INTENTS: dict[str, tuple[str, str]] = {
    "report_loss": ("挂失", "report a loss"),
    "cancel_loss": ("解挂", "cancel a loss report"),
    "check_progress": ("查进度", "check progress"),
    "replace_card": ("补换卡", "replace a card"),
    "cross_region": ("异地使用", "use in another region"),
    "apply_card": ("申领", "apply for a card"),
    "activate_card": ("激活", "activate a card"),
    "update_info": ("修改信息", "update details"),
    "request_human": ("找人工", "ask for a person"),
    "out_of_scope": ("其他问题", "something else"),
    "bot_challenge": ("问是否真人", "ask if it is a bot"),
    "nlu_fallback": ("未理解的请求", "a request not understood"),
}
OUTCOMES: dict[str, tuple[str, str]] = {
    **REASONS,
    "voicemail": ("已留言", "voicemail left"),
    "human_requested": ("已转人工", "handed to staff"),
}
SPOKEN_LANGUAGES: dict[str, tuple[str, str]] = {"zh": ("中文", "Mandarin"), "en": ("英文", "English")}
# Why a caller was asked for a voicemail rather than put through (bot.models.VOICEMAIL_CAUSES).
VOICEMAIL_CAUSES: dict[str, tuple[str, str]] = {
    "no_agent": ("未设置转接号码", "no staff number to transfer to"),
    "after_hours": ("非工作时间", "outside staff hours"),
    "no_answer": ("转接无人接听", "transfer not answered"),
}
ROLES: dict[str, tuple[str, str]] = {"reviewer": ("审核员", "reviewer"), "admin": ("管理员", "admin")}


def language() -> str:
    """The page language: `?lang=` switches it for the rest of the session."""
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        session["staff_lang"] = wanted
    return session.get("staff_lang", "zh")


def pick(pair: tuple[str, str]) -> str:
    return pair[LANGUAGES.index(language())]


def t(key: str, **values: object) -> str:
    text = pick(TEXT[key])
    return text.format(**values) if values else text


def error_text(error: Exception) -> str:
    """A refusal from the review core in the page's language (its own words if there is no entry)."""
    key = "err_" + getattr(error, "code", "")
    return t(key) if key in TEXT else str(error)


def switch_language_url() -> str:
    """This page in the other language; a page that answered a form links to the overview instead."""
    other = "en" if language() == "zh" else "zh"
    if request.method != "GET":
        return url_for("staff.overview", lang=other)
    # Names starting with "_" are url_for's own options, never query parameters of ours.
    args = {k: v for k, v in request.args.items() if not k.startswith("_")}
    return url_for(request.endpoint, **(request.view_args or {}), **{**args, "lang": other})


def label(table: dict[str, tuple[str, str]], value: str | None) -> str:
    return pick(table[value]) if value in table else (value or "")


def local_time(moment: dt.datetime | None) -> str:
    """A stored UTC time as the city's local time, to the minute."""
    if moment is None:
        return ""
    return moment.astimezone(current_app.config["WEB"].core.timezone).strftime("%Y-%m-%d %H:%M")
