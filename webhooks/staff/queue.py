"""The review queue, its CSV export, one flagged conversation, and what reviewers do with it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from bot.cards.statuses import CardStatus
from bot.handover.voicemails import voicemails_of
from bot.identity.privacy import mask_id_number, mask_name, mask_phone, mask_reference
from bot.language.redaction import mask_text
from bot.models import AuditEntry, Cardholder, Flag, LossReport, Voicemail
from bot.review.audit import record_audit
from bot.review.flags import describe_flag
from bot.review.queue import (
    QueueFilter,
    ReviewError,
    add_note,
    all_matching,
    assign_to,
    get_flag,
    mark_reviewed_in_bulk,
    names_to_mask,
    queue_page,
    reason_counts,
    record_reveal,
    set_status,
    spreadsheet_safe,
)
from bot.review.summaries import Summary, summarise
from bot.review.transcripts import ConversationFacts, TrackerStoreUnavailable, Transcript
from bot.training.labels import label_message, labels_by_message
from webhooks.staff import bp
from webhooks.staff import labels as words
from webhooks.staff.auth import admin_required, reviewer
from webhooks.staff.forms import BulkReviewForm, LabelForm, NoteForm, QueueFilterForm, RevealForm
from webhooks.staff.labels import VOICEMAIL_CAUSES, error_text, language, local_time, t

log = logging.getLogger(__name__)
CSV_COLUMNS = ("id", "created", "channel", "reason", "status", "conversation_id", "assignee", "reviewer", "reviewed")


FILTERS = ("reason", "status", "channel", "date_from", "date_to")


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


def _query_args(where: QueueFilter) -> dict[str, str]:
    """The filters in force, for links (only known names reach url_for)."""
    return {name: str(getattr(where, name)) for name in FILTERS if getattr(where, name)}


@bp.get("/flags")
def flags() -> Any:
    where, page_number, refused = _filters()
    for message in refused:
        flash(message)
    web = current_app.config["WEB"]
    with web.read_sessions.begin() as db:
        page = queue_page(db, where, web.core.timezone, page=page_number)
        counts = reason_counts(db, where, web.core.timezone)
        summaries = {flag_id: _summary_line(s) for flag_id, s in summarise(db, page.flags, _facts(page.flags)).items()}
    return render_template(
        "staff/queue.html",
        page=page,
        counts=counts,
        summaries=summaries,
        where=where,
        args=_query_args(where),
        bulk=where.reason == "loss_reported",
    ), 400 if refused else 200


def _facts(flags: list[Flag]) -> dict[str, ConversationFacts]:
    """What the tracker store says of these flags' conversations; nothing when it cannot be read."""
    try:
        return current_app.config["WEB"].tracker_store.facts([flag.conversation_id for flag in flags])
    except TrackerStoreUnavailable as error:
        log.warning("conversation summaries unavailable: %s", error)
        return {}


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
    tz = web.core.timezone
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    with web.read_sessions.begin() as db:
        for flag in all_matching(db, where, tz):
            count += 1
            row = {
                **describe_flag(flag, tz),  # as `python -m bot flags list --json` has it
                "assignee": flag.assignee.username if flag.assignee else "",
                "reviewer": flag.reviewer.username if flag.reviewer else "",
                "reviewed": flag.reviewed_at.astimezone(tz).isoformat() if flag.reviewed_at else "",
            }
            writer.writerow({key: spreadsheet_safe(value) for key, value in row.items()})
    with web.sessions.begin() as db:
        record_audit(db, actor=reviewer().actor, action="queue_exported", target_type="flag",
                     detail={"rows": count, **_query_args(where)})  # fmt: skip
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


def _render_flag(flag_id: int, *, revealed: bool = False, status: int = 200) -> Any:
    web = current_app.config["WEB"]
    with web.read_sessions.begin() as db:
        try:
            item = get_flag(db, flag_id)
        except ReviewError:
            return render_template("staff/message.html", message=t("not_found")), 404
        holder = db.get(Cardholder, item.cardholder_id) if item.cardholder_id else None
        report = db.get(LossReport, item.loss_report_id) if item.loss_report_id else None
        card = card_view(holder, report, revealed)
        history = list(
            db.scalars(
                select(AuditEntry)
                .where(AuditEntry.target_type == "flag", AuditEntry.target_id == str(item.id))
                .order_by(AuditEntry.created_at, AuditEntry.id)
            )
        )
        labels = labels_by_message(db, item.conversation_id)
        transcript = _transcript(item)
        # Names the person gave in the conversation are masked wherever staff wrote them too.
        names = names_to_mask(holder, transcript.names if transcript else ())
        shown = (lambda text: text) if revealed else (lambda text: mask_text(text, names))
        notes = [(n.author.username if n.author else "", local_time(n.created_at), shown(n.text)) for n in item.notes]
        system_note = shown(item.note) if item.note else None
        assignee = item.assignee.username if item.assignee else None
        voicemails = [_voicemail_view(v) for v in voicemails_of(db, item)]
        others = db.execute(
            select(Flag.id, Flag.reason, Flag.status)
            .where(Flag.conversation_id == item.conversation_id, Flag.id != item.id)
            .order_by(Flag.id)
        ).all()
    return render_template(
        "staff/flag.html",
        flag=item,
        assignee=assignee,
        others=others,
        card=card,
        lines=_transcript_lines(transcript, shown) if transcript else [],
        transcript_unavailable=transcript is None,
        labels=labels,
        notes=notes,
        system_note=system_note,
        voicemails=voicemails,
        history=history,
        revealed=revealed,
        note_form=NoteForm(formdata=None),
        reveal_form=RevealForm(formdata=None),
        label_form=LabelForm(formdata=None),
    ), status


def _transcript(item: Flag) -> Transcript | None:
    """The flagged conversation's transcript, or None when the tracker store cannot be read."""
    try:
        return current_app.config["WEB"].tracker_store.transcript(item.conversation_id, around=item.created_at)
    except TrackerStoreUnavailable as error:
        log.warning("transcript unavailable: %s", error)
        return None


def _transcript_lines(transcript: Transcript, shown: Callable[[str], str]) -> list[dict]:
    return [
        {
            "kind": line.kind,
            "time": local_time(line.time),
            "text": shown(line.text) if line.kind != "action" else line.text,
            "intent": line.intent,
            "confidence": line.confidence,
            "message_id": line.message_id,
            "misunderstood": line.misunderstood,
        }
        for line in transcript.lines
    ]


def _voicemail_view(voicemail: Voicemail) -> dict[str, Any]:
    """A voicemail as staff see it: why, when, how long, and the recording (Twilio's media URL)."""
    ready = voicemail.recording_status == "completed" and voicemail.recording_url
    return {
        "cause": words.label(VOICEMAIL_CAUSES, voicemail.cause),
        "time": local_time(voicemail.created_at),
        "duration": t("seconds", n=voicemail.duration_seconds) if voicemail.duration_seconds else "",
        "audio": f"{voicemail.recording_url}.mp3" if ready else None,
        "link": voicemail.recording_url if ready else None,
        "state": None if ready else t(f"recording_{voicemail.recording_status.replace('in-progress', 'pending')}"),
    }


def card_view(holder: Cardholder | None, report: LossReport | None, revealed: bool) -> dict[str, Any] | None:
    if holder is None:
        return None
    web = current_app.config["WEB"]
    id_number = web.vault.decrypt(holder.id_cipher)
    card = holder.current_card
    status = CardStatus(card.status) if card else None
    return {
        "name": holder.name if revealed else mask_name(holder.name),
        "id_number": id_number if revealed else mask_id_number(id_number),
        "phone": holder.phone if revealed else mask_phone(holder.phone),
        "card_number": (card.card_number if revealed else mask_text(card.card_number)) if card else "",
        "status": status.label(language()) if status else "",
        "office": card.office if card else "",
        "report": None
        if report is None
        else {
            # One rule with the transcript (bot.language.redaction): the reference is masked until revealed.
            "reference": report.reference if revealed else mask_reference(report.reference),
            "state": report.state,
            "expires": local_time(report.expires_at),
        },
    }


def _act(flag_id: int, change) -> Any:
    """Run one review action; a refusal re-shows the page with the reason and changes nothing."""
    try:
        with current_app.config["WEB"].sessions.begin() as db:
            change(db)
    except ReviewError as error:
        flash(error_text(error))
        return _render_flag(flag_id, status=400)
    flash(t("saved"))
    return redirect(url_for("staff.flag", flag_id=flag_id), 303)


@bp.post("/flags/<id:flag_id>/review")
def mark_reviewed(flag_id: int) -> Any:
    return _act(flag_id, lambda db: set_status(db, flag_id, "reviewed", reviewer()))


@bp.post("/flags/<id:flag_id>/escalate")
def escalate(flag_id: int) -> Any:
    return _act(flag_id, lambda db: set_status(db, flag_id, "escalated", reviewer()))


@bp.post("/flags/<id:flag_id>/assign")
def assign(flag_id: int) -> Any:
    return _act(flag_id, lambda db: assign_to(db, flag_id, reviewer()))


@bp.post("/flags/<id:flag_id>/note")
def note(flag_id: int) -> Any:
    form = NoteForm()
    if not form.validate_on_submit():
        flash(t("bad_form"))
        return _render_flag(flag_id, status=400)
    return _act(flag_id, lambda db: add_note(db, flag_id, form.text.data, reviewer()))


@bp.post("/flags/<id:flag_id>/label")
def label(flag_id: int) -> Any:
    form = LabelForm()
    if not form.validate_on_submit():
        flash(t("bad_form"))
        return _render_flag(flag_id, status=400)

    def save(db) -> None:
        item = get_flag(db, flag_id)
        holder = db.get(Cardholder, item.cardholder_id) if item.cardholder_id else None
        try:
            transcript = current_app.config["WEB"].tracker_store.transcript(
                item.conversation_id, around=item.created_at
            )
        except TrackerStoreUnavailable:
            raise ReviewError("the transcript cannot be read", "transcript_unavailable") from None
        label_message(
            db, flag=item, transcript=transcript, message_id=form.message_id.data, intent=form.intent.data,
            known_names=names_to_mask(holder), by=reviewer(),
        )  # fmt: skip

    return _act(flag_id, save)


@bp.post("/flags/<id:flag_id>/reveal")
@admin_required
def reveal(flag_id: int) -> Any:
    form = RevealForm()
    if not form.validate_on_submit():
        flash(t("bad_form"))
        return _render_flag(flag_id, status=400)
    try:
        with current_app.config["WEB"].sessions.begin() as db:
            item = get_flag(db, flag_id)
            transcript = _transcript(item)
            said = transcript.names if transcript else ()
            record_reveal(db, flag_id, form.reason.data, reviewer(), said_names=said)
    except ReviewError as error:
        flash(error_text(error))
        return _render_flag(flag_id, status=400)
    # Shown in this response only: reloading the page masks the data again.
    return _render_flag(flag_id, revealed=True)
