"""The card status vocabulary, its Mandarin and English labels, and the allowed transitions."""

from __future__ import annotations

from enum import Enum

from bot.errors import InvalidTransition, UnknownStatus


class CardStatus(str, Enum):
    """Where a card is in its life; values are part of the import format and the CLI."""

    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    IN_PRODUCTION = "in_production"
    SHIPPED = "shipped"
    READY_FOR_PICKUP = "ready_for_pickup"
    ISSUED = "issued"
    ACTIVE = "active"
    LOSS_REPORTED = "loss_reported"
    LOST = "lost"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    def label(self, language: str = "zh") -> str:
        """The label shown to citizens and staff, in ``zh`` or ``en``."""
        zh, en = LABELS[self]
        return en if language == "en" else zh


LABELS: dict[CardStatus, tuple[str, str]] = {
    CardStatus.SUBMITTED: ("已受理", "received"),
    CardStatus.UNDER_REVIEW: ("审核中", "under review"),
    CardStatus.IN_PRODUCTION: ("制卡中", "in production"),
    CardStatus.SHIPPED: ("已寄往领卡网点", "on its way to the pickup office"),
    CardStatus.READY_FOR_PICKUP: ("待领取", "ready for pickup"),
    CardStatus.ISSUED: ("已领卡未启用", "collected, not yet activated"),
    CardStatus.ACTIVE: ("正常", "active"),
    CardStatus.LOSS_REPORTED: ("临时挂失", "temporarily reported lost"),
    CardStatus.LOST: ("正式挂失", "formally reported lost"),
    CardStatus.CANCELLED: ("已注销", "cancelled"),
    CardStatus.REJECTED: ("未通过", "application rejected"),
}

# Statuses in which the citizen holds the card, so it can be lost and reported.
HELD_BY_CITIZEN = frozenset({CardStatus.ISSUED, CardStatus.ACTIVE})
# Cards still being made or on their way; with those waiting at the office, not yet in the citizen's hands.
IN_THE_MAKING = frozenset({CardStatus.SUBMITTED, CardStatus.UNDER_REVIEW, CardStatus.IN_PRODUCTION, CardStatus.SHIPPED})
NOT_YET_HELD = IN_THE_MAKING | {CardStatus.READY_FOR_PICKUP}

_S = CardStatus
# Staff changes a status may take. Only a loss report (bot.cards.loss_reports) puts a card into
# LOSS_REPORTED, with a reference; leaving it closes the report.
TRANSITIONS: dict[CardStatus, frozenset[CardStatus]] = {
    _S.SUBMITTED: frozenset({_S.UNDER_REVIEW, _S.REJECTED, _S.CANCELLED}),
    _S.UNDER_REVIEW: frozenset({_S.IN_PRODUCTION, _S.REJECTED, _S.CANCELLED}),
    _S.IN_PRODUCTION: frozenset({_S.SHIPPED, _S.READY_FOR_PICKUP, _S.CANCELLED}),
    _S.SHIPPED: frozenset({_S.READY_FOR_PICKUP, _S.CANCELLED}),
    _S.READY_FOR_PICKUP: frozenset({_S.ISSUED, _S.CANCELLED}),
    _S.ISSUED: frozenset({_S.ACTIVE, _S.LOST, _S.CANCELLED}),
    _S.ACTIVE: frozenset({_S.LOST, _S.CANCELLED}),
    _S.LOSS_REPORTED: frozenset({_S.ISSUED, _S.ACTIVE, _S.LOST, _S.CANCELLED}),
    _S.LOST: frozenset({_S.CANCELLED}),
    _S.CANCELLED: frozenset(),
    _S.REJECTED: frozenset({_S.SUBMITTED}),
}


def parse_status(value: str) -> CardStatus:
    """The status named by `value`, or UnknownStatus listing the known ones."""
    try:
        return CardStatus(value.strip())
    except ValueError:
        known = ", ".join(s.value for s in CardStatus)
        raise UnknownStatus(f"unknown status {value!r}; known: {known}") from None


def check_transition(current: CardStatus, new: CardStatus) -> None:
    """Raise InvalidTransition unless a card may go from `current` to `new`."""
    if new not in TRANSITIONS[current]:
        raise InvalidTransition(f"a card cannot go from {current.value} to {new.value}")
