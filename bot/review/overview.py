"""Figures for the staff overview: open flags by reason, loss reports per day, fallback rate per day."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.models import FLAG_REASONS, Flag, LossReport
from bot.review.transcripts import TrackerStore, TrackerStoreUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DayFigure:
    day: dt.date
    value: float
    of: int = 0  # for a rate: how many it is a share of


def open_flags_by_reason(session: Session) -> dict[str, int]:
    query = select(Flag.reason, func.count()).where(Flag.status == "open").group_by(Flag.reason)
    rows = dict(session.execute(query).all())
    return {reason: rows.get(reason, 0) for reason in FLAG_REASONS}


def last_days(today: dt.date, days: int) -> list[dt.date]:
    return [today - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]


def loss_reports_per_day(session: Session, tz: ZoneInfo, *, today: dt.date, days: int = 30) -> list[DayFigure]:
    """Loss reports made on each local day of the last `days` days (today included)."""
    start = dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time(), tz)
    counts: dict[dt.date, int] = {}
    for created in session.scalars(select(LossReport.created_at).where(LossReport.created_at >= start)):
        day = created.astimezone(tz).date()
        counts[day] = counts.get(day, 0) + 1
    return [DayFigure(day, counts.get(day, 0)) for day in last_days(today, days)]


def fallback_rate_per_day(store: TrackerStore, tz: ZoneInfo, *, today: dt.date, days: int = 30) -> list[DayFigure]:
    """The share of people's messages the NLU could not place, per local day (0 on a day without any)."""
    start = dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time(), tz)
    counts = store.daily_fallback_counts(start, tz)
    figures = []
    for day in last_days(today, days):
        turns, fallbacks = counts.get(day, (0, 0))
        figures.append(DayFigure(day, fallbacks / turns if turns else 0.0, of=turns))
    return figures


@dataclass(frozen=True)
class Overview:
    open_flags: dict[str, int]  # by reason, every reason listed
    loss_reports: list[DayFigure]
    fallback_rate: list[DayFigure] | None  # None when the tracker store cannot be read


def overview_figures(
    sessions: sessionmaker[Session], store: TrackerStore, tz: ZoneInfo, *, today: dt.date, days: int = 30
) -> Overview:
    """The overview's figures; the tracker store is read once the card database's transaction is over."""
    with sessions.begin() as db:
        open_flags = open_flags_by_reason(db)
        losses = loss_reports_per_day(db, tz, today=today, days=days)
    try:
        fallback = fallback_rate_per_day(store, tz, today=today, days=days)
    except TrackerStoreUnavailable as error:
        log.warning("fallback rate unavailable: %s", error)
        fallback = None
    return Overview(open_flags, losses, fallback)
