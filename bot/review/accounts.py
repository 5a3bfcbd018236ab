"""Staff accounts for the review console: creation and password checks (hashed with scrypt)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from bot.errors import BotError
from bot.models import STAFF_ROLES, StaffUser, utcnow
from bot.review.audit import record_audit
from bot.review.queue import Reviewer

log = logging.getLogger(__name__)
MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")


class StaffAccountError(BotError, ValueError):
    """A staff account request that cannot be carried out (bad name, weak password, taken)."""


@dataclass(frozen=True)
class StaffAccount:
    id: int
    username: str
    role: str
    active: bool
    last_login_at: dt.datetime | None


def _account(user: StaffUser) -> StaffAccount:
    return StaffAccount(user.id, user.username, user.role, user.active, user.last_login_at)


def add_staff_user(session: Session, *, username: str, password: str, role: str) -> StaffUser:
    """Create a staff user; raises StaffAccountError for a bad name or role, weak password or clash."""
    if not _USERNAME.fullmatch(username):
        raise StaffAccountError("user names are 2-64 lower-case letters, digits, '.', '_' or '-'")
    if role not in STAFF_ROLES:
        raise StaffAccountError(f"role must be one of: {', '.join(STAFF_ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffAccountError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalars(select(StaffUser.id).where(StaffUser.username == username)).first() is not None:
        raise StaffAccountError(f"a staff user named {username} already exists")
    user = StaffUser(username=username, password_hash=generate_password_hash(password), role=role, active=True)
    session.add(user)
    session.flush()
    return user


# Checked when there is no such user, so an unknown name takes as long as a wrong password.
_NO_USER_HASH = generate_password_hash("no such user")


def authenticate(session: Session, *, username: str, password: str) -> StaffUser | None:
    """The active user with this name and password, or None (in the same time either way)."""
    user = session.scalars(select(StaffUser).where(StaffUser.username == username)).first()
    if user is None or not user.active:
        check_password_hash(_NO_USER_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def end_sessions(session: Session, user_id: int) -> None:
    """Sign the user out everywhere: sessions carry the epoch they began in."""
    user = session.get(StaffUser, user_id)
    if user is not None:
        user.session_epoch += 1


def sign_in(session: Session, *, username: str, password: str) -> Reviewer | None:
    """The member of staff with this name and password, their sign-in recorded and audited; else None."""
    user = authenticate(session, username=username, password=password)
    if user is None:
        log.info("staff sign-in refused")
        return None
    user.last_login_at = utcnow()
    record_audit(session, actor=f"staff:{user.username}", action="staff_login", target_type="staff_user",
                 target_id=user.id)  # fmt: skip
    return Reviewer(user.id, user.username, user.role, user.session_epoch)


def staff_accounts(session: Session) -> list[StaffAccount]:
    return [_account(user) for user in session.scalars(select(StaffUser).order_by(StaffUser.username))]


def create_staff_account(session: Session, *, username: str, password: str, role: str, by: Reviewer) -> StaffAccount:
    """An admin adds an account (audited); StaffAccountError as for `add_staff_user`."""
    user = add_staff_user(session, username=username, password=password, role=role)
    record_audit(session, actor=by.actor, action="staff_add_user", target_type="staff_user", target_id=user.id,
                 detail={"role": user.role})  # fmt: skip
    return _account(user)


def toggle_staff_active(session: Session, user_id: int, *, by: Reviewer) -> StaffAccount:
    """Deactivate or reactivate an account and sign it out everywhere (audited); an admin cannot
    lock themselves out. StaffAccountError for no such account, or one's own."""
    user = session.get(StaffUser, user_id)
    if user is None:
        raise StaffAccountError(f"there is no staff user {user_id}")
    if user.id == by.id:
        raise StaffAccountError("you cannot deactivate your own account")
    user.active = not user.active
    end_sessions(session, user.id)
    record_audit(session, actor=by.actor, action="staff_activated" if user.active else "staff_deactivated",
                 target_type="staff_user", target_id=user.id)  # fmt: skip
    return _account(user)
