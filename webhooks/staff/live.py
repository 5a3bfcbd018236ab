"""Live conversations with staff: the waiting list, taking one, replying, handing back or closing;
and callback requests with their due times. The core rules are bot.handover.live'."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for

from bot.handover.details import (
    CallbackRow,
    HandoverRow,
    LiveLine,
    callback_list,
    handover_detail,
    live_board,
    new_messages,
)
from bot.handover.live import (
    HandoverError,
    callback_done,
    close,
    hand_back,
    show_callback_number,
    staff_reply,
    take,
)
from webhooks.staff import bp
from webhooks.staff.auth import reviewer
from webhooks.staff.forms import ReplyForm
from webhooks.staff.labels import error_text, local_time, t


def _web():
    return current_app.config["WEB"]


@bp.get("/live")
def live() -> Any:
    web = _web()
    waiting, taken = live_board(
        web.read_sessions, web.sessions, policy=web.handover_policy, outbox=web.outbox, now=web.clock()
    )
    return render_template("staff/live.html", waiting=[_row(h) for h in waiting], taken=[_row(h) for h in taken])


def _row(handover: HandoverRow) -> dict[str, Any]:
    return {
        "id": handover.id,
        "channel": handover.channel,
        "reason": handover.reason,
        "task": handover.task,
        "verified": handover.verified,
        "since": local_time(handover.created_at),
        "waited_minutes": handover.waited_minutes,
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


def _line(line: LiveLine) -> dict[str, Any]:
    return {"id": line.id, "from": line.sender, "who": line.who, "time": local_time(line.created_at), "text": line.text}


@bp.get("/live/<id:handover_id>")
def conversation(handover_id: int) -> Any:
    web = _web()
    try:
        detail = handover_detail(
            web.read_sessions, web.tracker_store, web.vault, handover_id, me=reviewer(), now=web.clock()
        )
    except HandoverError:
        return render_template("staff/message.html", message=t("not_found")), 404
    lines = [_line(line) for line in detail.lines]
    bot_lines = [
        {"kind": line.kind, "time": local_time(line.time), "text": line.text, "intent": line.intent}
        for line in detail.bot_lines
    ]
    view = {**_row(detail.row), "state": detail.state, "conversation_id": detail.conversation_id}
    return render_template(
        "staff/conversation.html", handover=view, mine=detail.mine, card=detail.card, lines=lines,
        bot_lines=bot_lines, transcript_unavailable=detail.transcript_unavailable, reply_form=ReplyForm(formdata=None),
        last_id=lines[-1]["id"] if lines else 0,
    )  # fmt: skip


@bp.get("/live/<id:handover_id>/messages")
def live_messages(handover_id: int) -> Any:
    """The console page polls this for the person's new messages and the handover's state."""
    after = request.args.get("after", "0")
    if not after.isdigit() or len(after) > 12:
        return jsonify(error="after must be a message id"), 400
    with _web().read_sessions.begin() as db:
        try:
            state, lines = new_messages(db, handover_id, int(after))
        except HandoverError:
            return jsonify(error="not found"), 404
    return jsonify(state=state, messages=[_line(line) for line in lines])


@bp.get("/callbacks")
def callbacks() -> Any:
    return _render_callbacks()


def _render_callbacks(shown: tuple[int, str] | None = None) -> Any:
    web = _web()
    with web.read_sessions.begin() as db:
        rows = callback_list(db, now=web.clock(), shown=shown)
    return render_template("staff/callbacks.html", callbacks=[_callback(c) for c in rows])


def _callback(callback: CallbackRow) -> dict[str, Any]:
    return {
        "id": callback.id,
        "channel": callback.channel,
        "due": local_time(callback.due_at),
        "overdue": callback.overdue,
        "phone": callback.phone,
        "note": callback.note,
        "created": local_time(callback.created_at),
    }


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
