"""The review queue, its CSV export, one flagged conversation, and what reviewers do with it."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from bot.review.flag_detail import FlagDetail, VoicemailDetail, label_flag_message, reveal_flag, show_flag
from bot.review.queue import (
    EXPORT_COLUMNS,
    QueueFilter,
    ReviewError,
    add_note,
    assign_to,
    export_rows,
    mark_reviewed_in_bulk,
    record_export,
    set_status,
    show_queue,
)
from bot.review.summaries import Summary
from webhooks.staff import bp
from webhooks.staff import labels as words
from webhooks.staff.auth import admin_required, reviewer
from webhooks.staff.forms import BulkReviewForm, LabelForm, NoteForm, QueueFilterForm, RevealForm
from webhooks.staff.labels import VOICEMAIL_CAUSES, error_text, local_time, t

FILTERS = tuple(field.name for field in fields(QueueFilter))


def _filters() -> tuple[QueueFilter, int, list[str]]:
    """The queue filters from the query string: the valid ones, the page, and what was refused."""
    form = QueueFilterForm(formdata=request.args)
    form.validate()
    refused = [t("bad_filter", name=name) for name, field in form._fields.items() if field.errors]
    values = {name: (form[name].data or None) if not form[name].errors else None for name in FILTERS}
    try:
        where = QueueFilter(**values)
    except ReviewError as error:
        refused.append(error_text(error))
        where = QueueFilter(**{**values, "date_from": None, "date_to": None})
    page = form.page.data if not form.page.errors and form.page.data else 1
    return where, max(page, 1), refused


@bp.get("/flags")
def flags() -> Any:
    where, page_number, refused = _filters()
    for message in refused:
        flash(message)
    web = current_app.config["WEB"]
    view = show_queue(web.read_sessions, web.tracker_store, where, web.core.timezone, page=page_number)
    return render_template(
        "staff/queue.html",
        page=view,
        counts=view.counts,
        summaries={row.id: _summary_line(row.summary) for row in view.rows},
        where=where,
        args=where.in_force(),
        bulk=where.reason == "loss_reported",
    ), 400 if refused else 200


def _summary_line(summary: Summary) -> str:
    intent = words.label(words.INTENTS, summary.intent) if summary.intent else t("no_request")
    return " · ".join(
        (
            intent,
            words.label(words.OUTCOMES, summary.outcome),
            words.label(words.SPOKEN_LANGUAGES, summary.language),
            words.label(words.CHANNELS, summary.channel),
        )
    )


@bp.get("/flags.csv")
def flags_csv() -> Any:
    where, _page, refused = _filters()
    if refused:  # export exactly what was asked for, or nothing
        return Response("\n".join(refused) + "\n", status=400, mimetype="text/plain")
    web = current_app.config["WEB"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    with web.read_sessions.begin() as db:
        for row in export_rows(db, where, web.core.timezone):
            writer.writerow(row)
            count += 1
    with web.sessions.begin() as db:
        record_export(db, where, rows=count, by=reviewer())
    stamp = dt.datetime.now(web.core.timezone).strftime("%Y%m%d-%H%M")
    return Response(
        "\ufeff" + out.getvalue(),  # a BOM so spreadsheet programs read the file as UTF-8
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="flags-{stamp}.csv"'},
    )


@bp.post("/flags/bulk-review")
def bulk_review() -> Any:
    form = BulkReviewForm()
    if not form.validate_on_submit():
        flash(t("bad_form"))
        return redirect(url_for("staff.flags", reason="loss_reported"), 303)
    try:
        with current_app.config["WEB"].sessions.begin() as db:
            count = mark_reviewed_in_bulk(db, form.flag_ids.data, reviewer())
    except ReviewError as error:
        flash(error_text(error))
        return redirect(url_for("staff.flags", reason="loss_reported"), 303)
    flash(t("bulk_done", count=count))
    return redirect(url_for("staff.flags", reason="loss_reported"), 303)


@bp.get("/flags/<id:flag_id>")
def flag(flag_id: int) -> Any:
    return _render_flag(flag_id)


def _render_flag(flag_id: int, *, status: int = 200) -> Any:
    web = current_app.config["WEB"]
    try:
        detail = show_flag(web.read_sessions, web.tracker_store, web.vault, flag_id)
    except ReviewError:
        return render_template("staff/message.html", message=t("not_found")), 404
    return _flag_page(detail, status)


def _flag_page(detail: FlagDetail, status: int = 200) -> Any:
    return render_template(
        "staff/flag.html",
        flag=detail,
        card=detail.card,
        lines=[
            {
                "kind": line.kind,
                "time": local_time(line.time),
                "text": line.text,
                "intent": line.intent,
                "confidence": line.confidence,
                "message_id": line.message_id,
                "misunderstood": line.misunderstood,
            }
            for line in detail.lines
        ],
        notes=[(note.author, local_time(note.created_at), note.text) for note in detail.notes],
        voicemails=[_voicemail_view(v) for v in detail.voicemails],
        note_form=NoteForm(formdata=None),
        reveal_form=RevealForm(formdata=None),
        label_form=LabelForm(formdata=None),
    ), status


def _voicemail_view(voicemail: VoicemailDetail) -> dict[str, Any]:
    """A voicemail as staff see it: why, when, how long, and the recording (Twilio's media URL)."""
    url = voicemail.recording_url
    return {
        "cause": words.label(VOICEMAIL_CAUSES, voicemail.cause),
        "time": local_time(voicemail.created_at),
        "duration": t("seconds", n=voicemail.duration_seconds) if voicemail.duration_seconds else "",
        "audio": f"{url}.mp3" if url else None,
        "link": url,
        "state": t(f"recording_{voicemail.recording_state}") if voicemail.recording_state else None,
    }


def _act(flag_id: int, action: Callable[[], object]) -> Any:
    """Run one review action; a refusal re-shows the page with the reason and changes nothing."""
    try:
        action()
    except ReviewError as error:
        flash(error_text(error))
        return _render_flag(flag_id, status=400)
    flash(t("saved"))
    return redirect(url_for("staff.flag", flag_id=flag_id), 303)


def _write(change: Callable[[Session], object]) -> Callable[[], object]:
    """An action that is one transaction of its own."""

    def run() -> None:
        with current_app.config["WEB"].sessions.begin() as db:
            change(db)

    return run


@bp.post("/flags/<id:flag_id>/review")
def mark_reviewed(flag_id: int) -> Any:
    return _act(flag_id, _write(lambda db: set_status(db, flag_id, "reviewed", reviewer())))


@bp.post("/flags/<id:flag_id>/escalate")
def escalate(flag_id: int) -> Any:
    return _act(flag_id, _write(lambda db: set_status(db, flag_id, "escalated", reviewer())))


@bp.post("/flags/<id:flag_id>/assign")
def assign(flag_id: int) -> Any:
    return _act(flag_id, _write(lambda db: assign_to(db, flag_id, reviewer())))


@bp.post("/flags/<id:flag_id>/note")
def note(flag_id: int) -> Any:
    form = NoteForm()
    if not form.validate_on_submit():
        flash(t("bad_form"))
        return _render_flag(flag_id, status=400)
    return _act(flag_id, _write(lambda db: add_note(db, flag_id, form.text.data, reviewer())))


@bp.post("/flags/<id:flag_id>/label")
def label(flag_id: int) -> Any:
    form = LabelForm()
    if not form.validate_on_submit():
        flash(t("bad_form"))
        return _render_flag(flag_id, status=400)

    web = current_app.config["WEB"]
    return _act(
        flag_id,
        lambda: label_flag_message(web.sessions, web.tracker_store, flag_id, message_id=form.message_id.data,
                                   intent=form.intent.data, by=reviewer()),
    )  # fmt: skip


@bp.post("/flags/<id:flag_id>/reveal")
@admin_required
def reveal(flag_id: int) -> Any:
    form = RevealForm()
    if not form.validate_on_submit():
        flash(t("bad_form"))
        return _render_flag(flag_id, status=400)
    web = current_app.config["WEB"]
    try:
        detail = reveal_flag(web.sessions, web.tracker_store, web.vault, flag_id, form.reason.data, reviewer())
    except ReviewError as error:
        flash(error_text(error))
        return _render_flag(flag_id, status=400)
    # Shown in this response only: reloading the page masks the data again.
    return _flag_page(detail)
