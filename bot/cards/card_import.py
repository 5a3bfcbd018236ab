"""Importing card records from the bureau's CSV export: validate every row, then write all or nothing.

Header: ``id_number,name,phone,card_number,status,region,office,updated_at`` (UTF-8, BOM allowed).
Re-importing updates by ID number. The bureau's system is the authority on status, so imported
statuses are not checked against the transition rules, except that a row older than the card's
last status change leaves the status alone; a status leaving ``loss_reported`` closes the open
temporary report (``lost`` formalises it). ``loss_reported`` itself only comes from a loss report.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from tqdm import tqdm

from bot.cards.holders import find_cardholder, record_status
from bot.cards.loss_reports import close_active_report
from bot.cards.statuses import CardStatus
from bot.errors import CardImportError, InvalidIdNumber, InvalidPhoneNumber
from bot.identity.idnumbers import validate_id_number
from bot.identity.privacy import Vault
from bot.language.phones import parse_phone
from bot.models import Card, Cardholder, CardStatusChange
from bot.sms.outbox import Outbox

HEADER = ("id_number", "name", "phone", "card_number", "status", "region", "office", "updated_at")
_CARD_NUMBER = re.compile(r"[0-9A-Z]{9}")
_REGION = re.compile(r"[1-9][0-9]{5}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A status change dated further ahead than this is a clock or data error, not a real change.
_FUTURE_TOLERANCE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class CardRow:
    """One validated import row."""

    line: int
    id_number: str
    name: str
    phone: str
    card_number: str
    status: CardStatus
    region: str
    office: str
    updated_at: dt.datetime


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0


def _text(value: str, field: str, max_length: int) -> str:
    value = value.strip()
    if not value:
        raise ValueError(f"{field} is empty")
    if len(value) > max_length:
        raise ValueError(f"{field} is longer than {max_length} characters")
    if _CONTROL.search(value):
        raise ValueError(f"{field} contains control characters")
    return value


def _timestamp(value: str, now: dt.datetime) -> dt.datetime:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("updated_at is not an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        raise ValueError("updated_at needs a UTC offset, e.g. 2026-03-01T09:30:00+08:00")
    if moment > now + _FUTURE_TOLERANCE:
        raise ValueError("updated_at is in the future")
    return moment


def parse_row(line: int, fields: list[str], now: dt.datetime) -> CardRow:
    """Validate one CSV row; raises ValueError with the reason (no personal values in it)."""
    if len(fields) != len(HEADER):
        raise ValueError(f"expected {len(HEADER)} fields, found {len(fields)}")
    raw = dict(zip(HEADER, fields, strict=True))
    try:
        id_number = validate_id_number(raw["id_number"], today=now.date())
    except InvalidIdNumber as error:
        raise ValueError(f"id_number: {error}") from None
    try:
        phone = parse_phone(raw["phone"])
    except InvalidPhoneNumber as error:
        raise ValueError(f"phone: {error}") from None
    card_number = raw["card_number"].strip().upper()
    if not _CARD_NUMBER.fullmatch(card_number):
        raise ValueError("card_number must be 9 letters or digits")
    try:
        status = CardStatus(raw["status"].strip())
    except ValueError:
        raise ValueError(f"status must be one of: {', '.join(s.value for s in CardStatus)}") from None
    if status is CardStatus.LOSS_REPORTED:
        raise ValueError("loss_reported is set by a loss report (with its reference), not by an import")
    region = raw["region"].strip()
    if not _REGION.fullmatch(region):
        raise ValueError("region must be a 6-digit administrative code")
    return CardRow(
        line=line,
        id_number=id_number,
        name=_text(raw["name"], "name", 100),
        phone=phone,
        card_number=card_number,
        status=status,
        region=region,
        office=_text(raw["office"], "office", 200),
        updated_at=_timestamp(raw["updated_at"], now),
    )


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CardImportError(line, "the file is not UTF-8 text") from None


def parse_csv(data: bytes, *, now: dt.datetime) -> list[CardRow]:
    """Validate a whole file; raises CardImportError naming the first bad line."""
    reader = csv.reader(io.StringIO(_decode(data), newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise CardImportError(1, f"malformed CSV ({error})") from None
    if header is None or tuple(h.strip() for h in header) != HEADER:
        raise CardImportError(1, f"the header must be {','.join(HEADER)}")
    rows: list[CardRow] = []
    seen_ids: dict[str, int] = {}
    seen_cards: dict[str, int] = {}
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise CardImportError(reader.line_num, f"malformed CSV ({error})") from None
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        try:
            row = parse_row(line, fields, now)
        except ValueError as error:
            raise CardImportError(line, str(error)) from None
        if row.id_number in seen_ids:
            raise CardImportError(line, f"id_number already given on line {seen_ids[row.id_number]}")
        if row.card_number in seen_cards:
            raise CardImportError(line, f"card_number already given on line {seen_cards[row.card_number]}")
        seen_ids[row.id_number] = seen_cards[row.card_number] = line
        rows.append(row)
    if not rows:
        raise CardImportError(2, "the file has no card records")
    return rows


def _apply_row(session: Session, vault: Vault, outbox: Outbox, row: CardRow, now: dt.datetime) -> str:
    holder = find_cardholder(session, vault=vault, id_number=row.id_number)
    card = session.scalars(select(Card).where(Card.card_number == row.card_number)).first()
    if card is not None and (holder is None or card.cardholder_id != holder.id):
        raise CardImportError(row.line, "card_number already belongs to another cardholder")
    outcome = "updated"
    if holder is None:
        holder = Cardholder(id_hash=vault.id_hash(row.id_number), id_cipher=vault.encrypt(row.id_number))
        session.add(holder)
        outcome = "created"
    holder.name, holder.phone, holder.region = row.name, row.phone, row.region
    # A first load of the city's records announces nothing; a replacement card for a known holder does.
    now_ready = outcome == "updated" and row.status is CardStatus.READY_FOR_PICKUP
    if card is None:
        first = CardStatusChange(to_status=row.status.value, changed_at=row.updated_at, source="import")
        card = Card(
            card_number=row.card_number,
            status=row.status.value,
            office=row.office,
            status_changed_at=row.updated_at,
            history=[first],
        )
        holder.cards.append(card)
    else:
        now_ready = now_ready and card.status != row.status.value and row.updated_at >= card.status_changed_at
        card.office = row.office
        # A row older than the card's last change (say a loss report made since the export) does
        # not turn the clock back.
        if row.updated_at >= card.status_changed_at:
            if card.status != row.status.value:
                if card.status == CardStatus.LOSS_REPORTED.value:
                    close_active_report(session, card=card, formalised=row.status is CardStatus.LOST, now=now)
                record_status(card, row.status, at=row.updated_at, source="import")
            card.status_changed_at = row.updated_at
    session.flush()
    if now_ready:
        outbox.notify(
            session, kind="card_ready", card=card, key=f"card_ready:{card.history[-1].id}", now=now, office=row.office
        )
    return outcome


def apply_rows(
    session: Session,
    *,
    vault: Vault,
    outbox: Outbox,
    rows: Iterable[CardRow],
    now: dt.datetime,
    progress: bool = False,
) -> ImportResult:
    """Write validated rows into the session (the caller commits once, so it is all or nothing).

    A card that becomes ready for pickup queues a notice to its holder in the same transaction.
    """
    result = ImportResult()
    for row in tqdm(rows, desc="importing", unit="row", disable=not progress, leave=False):
        outcome = _apply_row(session, vault, outbox, row, now)
        setattr(result, outcome, getattr(result, outcome) + 1)
    return result
