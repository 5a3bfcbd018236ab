"""Staff accounts for the review console: creation and password checks (hashed with scrypt)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from bot.errors import BotError
from bot.models import STAFF_ROLES, StaffUser

MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")


class StaffAccountError(BotError, ValueError):
    """A staff account request that cannot be carried out (bad name, weak password, taken)."""


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
