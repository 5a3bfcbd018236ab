"""Voicemails callers leave for staff: Twilio's recording reference on the flag that raised it.

Twilio tells of a recording twice: the `<Record>` action as the caller finishes, and the recording
status callback once the file is ready (with its final status). Either may come first or twice;
both land on the one row for the RecordingSid, and the flag is raised (or reused) once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import FLAG_REASONS, VOICEMAIL_CAUSES, Flag, Voicemail
from bot.review.flags import flag_conversation

_RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")
RECORDING_STATUSES = ("in-progress", "completed", "absent", "failed")


@dataclass(frozen=True)
class Recording:
    """What Twilio said about one recording, checked."""

    sid: str
    url: str | None
    status: str
    duration_seconds: int | None


def recording_from(form: dict[str, str], *, default_status: str) -> Recording:
    """The recording Twilio's request describes; ValueError for anything malformed."""
    sid = form.get("RecordingSid", "")
    if not _RECORDING_SID.fullmatch(sid):
        raise ValueError("not a recording sid")
    url = form.get("RecordingUrl") or None
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.netloc:  # shown to staff as a link: never javascript: etc.
            raise ValueError("not an https recording URL")
    status = form.get("RecordingStatus") or default_status
    if status not in RECORDING_STATUSES:
        raise ValueError("unknown recording status")
    duration = form.get("RecordingDuration", "")
    return Recording(sid, url, status, int(duration) if duration.isdigit() else None)


def record_voicemail(
    session: Session,
    *,
    conversation_id: str,
    reason: str,
    cause: str,
    recording: Recording,
    cardholder_id: int | None = None,
) -> Voicemail:
    """Keep the recording on the call's flag for `reason` (raised if none is open); idempotent by sid."""
    if reason not in FLAG_REASONS or cause not in VOICEMAIL_CAUSES:
        raise ValueError("unknown voicemail reason or cause")
    voicemail = session.scalars(select(Voicemail).where(Voicemail.recording_sid == recording.sid)).first()
    if voicemail is None:
        flag = flag_conversation(
            session, conversation_id=conversation_id, channel="voice", reason=reason, cardholder_id=cardholder_id
        )
        voicemail = Voicemail(flag_id=flag.id, recording_sid=recording.sid, cause=cause)
        session.add(voicemail)
    if recording.status != "in-progress" or voicemail.recording_status in (None, "in-progress"):
        voicemail.recording_status = recording.status  # a late action never undoes the final status
    voicemail.recording_url = recording.url or voicemail.recording_url
    voicemail.duration_seconds = recording.duration_seconds or voicemail.duration_seconds
    session.flush()
    return voicemail


def voicemails_of(session: Session, flag: Flag) -> list[Voicemail]:
    return list(session.scalars(select(Voicemail).where(Voicemail.flag_id == flag.id).order_by(Voicemail.id)))
