"""Live conversations with staff: the waiting list, taking one, replying, handing back or closing;
and callback requests with their due times. The core rules are bot.handover.live'."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for

from bot.handover.live import (
    HandoverError,
    any_overdue,
    callback_done,
    close,
    expire_waiting,
    get_handover,
    hand_back,
    live_queue,
    messages_after,
    open_callbacks,
    show_callback_number,
    staff_reply,
    take,
)
from bot.identity.privacy import mask_phone
from bot.language.redaction import mask_text
from bot.models import Cardholder, Flag, Handover, LiveMessage
from bot.review.transcripts import TrackerStoreUnavailable
from webhooks.staff import bp
from webhooks.staff.auth import reviewer
from webhooks.staff.forms import ReplyForm
from webhooks.staff.labels import error_text, local_time, t
from webhooks.staff.queue import card_view

log = logging.getLogger(__name__)


def _web():
    return current_app.config["WEB"]


@bp.get("/live")
def live() -> Any:
    web = _web()
    policy, now = web.handover_policy, web.clock()
    with web.read_sessions.begin() as db:
        overdue = any_overdue(db, policy=policy, now=now)
    if overdue:  # whoever waited too long is offered a callback before the list is shown
        with web.sessions.begin() as db:
            expire_waiting(db, policy=policy, outbox=web.outbox, now=now)
    with web.read_sessions.begin() as db:
        waiting, taken = live_queue(db)
        rows = [_row(h, now) for h in waiting], [_row(h, now) for h in taken]
    return render_template("staff/live.html", waiting=rows[0], taken=rows[1])


def _row(handover: Handover, now) -> dict[str, Any]:
    return {
        "id": handover.id,
        "channel": handover.channel,
        "reason": handover.reason,
        "task": handover.task or "",
        "verified": handover.verified,
        "since": local_time(handover.created_at),
        "waited_minutes": int((now - handover.created_at).total_seconds() // 60),
        "taken_by": handover.taken_by,
    }


def _act(handover_id: int, change, done: str) -> Any:
    """One staff action; a refusal says why and changes nothing."""
    web = _web()
    try:
        with web.sessions.begin() as db:
            change(db, web)
    except HandoverError as error:
        flash(error_text(error))
        target = "staff.live" if error.code in ("not_waiting", "no_handover") else "staff.conversation"
        return redirect(url_for(target, **({} if target == "staff.live" else {"handover_id": handover_id})), 303)
    flash(t(done))
    return redirect(url_for("staff.conversation", handover_id=handover_id), 303)


@bp.post("/live/<id:handover_id>/take")
def take_conversation(handover_id: int) -> Any:
    return _act(
        handover_id,
        lambda db, web: take(db, handover_id=handover_id, by=reviewer(), outbox=web.outbox, now=web.clock()),
        "live_taken",
    )


@bp.post("/live/<id:handover_id>/reply")
def reply(handover_id: int) -> Any:
    form = ReplyForm()
    if not form.validate_on_submit():
        flash(t("err_reply_empty") if not (form.text.data or "").strip() else t("err_reply_long"))
        return redirect(url_for("staff.conversation", handover_id=handover_id), 303)
    return _act(
        handover_id,
        lambda db, web: staff_reply(
            db, handover_id=handover_id, by=reviewer(), text=form.text.data, outbox=web.outbox, now=web.clock()
        ),
        "live_sent",
    )


@bp.post("/live/<id:handover_id>/hand-back")
def give_back(handover_id: int) -> Any:
    return _act(
        handover_id,
        lambda db, web: hand_back(db, handover_id=handover_id, by=reviewer(), outbox=web.outbox, now=web.clock()),
        "live_handed_back",
    )


@bp.post("/live/<id:handover_id>/close")
def close_conversation(handover_id: int) -> Any:
    return _act(
        handover_id,
        lambda db, web: close(db, handover_id=handover_id, by=reviewer(), outbox=web.outbox, now=web.clock()),
        "live_closed",
    )


def _names(db, handover: Handover) -> set[str]:
    holder = db.get(Cardholder, handover.cardholder_id) if handover.cardholder_id else None
    return {holder.name} if holder else set()


def _line(message: LiveMessage, names: set[str]) -> dict[str, Any]:
    who = f"staff:{message.staff_name}" if message.sender == "staff" else message.sender
    return {"id": message.id, "from": message.sender, "who": who, "time": local_time(message.created_at),
            "text": mask_text(message.text, names)}  # fmt: skip


@bp.get("/live/<id:handover_id>")
def conversation(handover_id: int) -> Any:
    web = _web()
    me = reviewer()
    with web.read_sessions.begin() as db:
        try:
            handover = get_handover(db, handover_id)
        except HandoverError:
            return render_template("staff/message.html", message=t("not_found")), 404
        names = _names(db, handover)
        mine = handover.state == "taken" and handover.taken_by_id == me.id
        holder = db.get(Cardholder, handover.cardholder_id) if mine and handover.cardholder_id else None
        card = card_view(holder, None, revealed=False)
        lines = [_line(m, names) for m in handover.messages]
        view = {**_row(handover, web.clock()), "state": handover.state, "conversation_id": handover.conversation_id}
        # The flag was written in the turn that handed over, on the clock Rasa's events keep.
        flag = db.get(Flag, handover.flag_id) if handover.flag_id else None
        around = flag.created_at if flag is not None else handover.created_at
    bot_lines, unavailable = _bot_transcript(handover.conversation_id, around, names)
    return render_template(
        "staff/conversation.html", handover=view, mine=mine, card=card, lines=lines, bot_lines=bot_lines,
        transcript_unavailable=unavailable, reply_form=ReplyForm(formdata=None),
        last_id=lines[-1]["id"] if lines else 0,
    )  # fmt: skip


def _bot_transcript(conversation_id: str, around: dt.datetime, names: set[str]) -> tuple[list[dict], bool]:
    """The conversation with the assistant up to the handover, masked like every transcript."""
    try:
        transcript = _web().tracker_store.transcript(conversation_id, around=around)
    except TrackerStoreUnavailable as error:
        log.warning("transcript unavailable: %s", error)
        return [], True
    known = transcript.names | names
    return [
        {"kind": line.kind, "time": local_time(line.time), "text": mask_text(line.text, known), "intent": line.intent}
        for line in transcript.lines
        if line.kind in ("user", "bot")
    ], False


@bp.get("/live/<id:handover_id>/messages")
def live_messages(handover_id: int) -> Any:
    """The console page polls this for the person's new messages and the handover's state."""
    after = request.args.get("after", "0")
    if not after.isdigit() or len(after) > 12:
        return jsonify(error="after must be a message id"), 400
    with _web().read_sessions.begin() as db:
        try:
            handover = get_handover(db, handover_id)
        except HandoverError:
            return jsonify(error="not found"), 404
        names = _names(db, handover)
        lines = [_line(m, names) for m in messages_after(db, handover_id, int(after))]
        return jsonify(state=handover.state, messages=lines)


@bp.get("/callbacks")
def callbacks() -> Any:
    return _render_callbacks()


def _render_callbacks(shown: tuple[int, str] | None = None) -> Any:
    web = _web()
    now = web.clock()
    with web.read_sessions.begin() as db:
        rows = [
            {
                "id": c.id,
                "channel": c.channel,
                "due": local_time(c.due_at),
                "overdue": c.due_at <= now,
                "phone": shown[1] if shown and shown[0] == c.id else mask_phone(c.phone),
                "note": mask_text(c.note),
                "created": local_time(c.created_at),
            }
            for c in open_callbacks(db)
        ]
    return render_template("staff/callbacks.html", callbacks=rows)


@bp.post("/callbacks/<id:callback_id>/number")
def callback_number(callback_id: int) -> Any:
    """The full number, for the member of staff about to call; shown in this response only, audited."""
    try:
        with _web().sessions.begin() as db:
            number = show_callback_number(db, callback_id=callback_id, by=reviewer())
    except HandoverError as error:
        flash(error_text(error))
        return redirect(url_for("staff.callbacks"), 303)
    return _render_callbacks(shown=(callback_id, number))


@bp.post("/callbacks/<id:callback_id>/done")
def mark_called(callback_id: int) -> Any:
    web = _web()
    try:
        with web.sessions.begin() as db:
            callback_done(db, callback_id=callback_id, by=reviewer(), now=web.clock())
    except HandoverError as error:
        flash(error_text(error))
        return redirect(url_for("staff.callbacks"), 303)
    flash(t("saved"))
    return redirect(url_for("staff.callbacks"), 303)
