"""Signing in and out, who is signed in, and what their role lets them do."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError

from bot.review.accounts import end_sessions, sign_in
from bot.review.queue import Reviewer, load_reviewer
from webhooks.staff import bp, labels, login_manager
from webhooks.staff.forms import LoginForm
from webhooks.staff.labels import t
from webhooks.throttle import reserve

log = logging.getLogger(__name__)

# Failed sign-ins only count against these (a successful one costs nothing).
PER_NAME_LIMIT = "5 per 15 minutes"
PER_ADDRESS_LIMIT = "20 per 15 minutes"
# When the session began (seconds since the epoch): it ends PERMANENT_SESSION_LIFETIME later,
# however active it has been since.
SIGNED_IN_AT = "signed_in_at"


class StaffLogin(UserMixin):
    """The signed-in member of staff as Flask-Login sees them."""

    def __init__(self, reviewer: Reviewer) -> None:
        self.reviewer = reviewer

    def get_id(self) -> str:
        return f"{self.reviewer.id}.{self.reviewer.epoch}"


@login_manager.user_loader
def load_user(session_id: str) -> StaffLogin | None:
    """Reloaded on every request, so deactivation or signing out elsewhere takes effect at once."""
    user_id, _, epoch = session_id.partition(".")
    if not (user_id.isdigit() and epoch.isdigit()) or len(session_id) > 40:
        return None
    with current_app.config["WEB"].read_sessions.begin() as db:
        reviewer = load_reviewer(db, int(user_id), int(epoch))
    return StaffLogin(reviewer) if reviewer else None


@login_manager.unauthorized_handler
def unauthorized() -> Any:
    flash(t("please_login"))
    return redirect(url_for("staff.login", next=request.full_path if request.method == "GET" else None))


def reviewer() -> Reviewer:
    return current_user.reviewer


def admin_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not reviewer().is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.before_request
def require_sign_in() -> Any:
    """Every console page but the sign-in page needs a session (no view can forget it)."""
    if current_user.is_authenticated and _signed_in_too_long():
        logout_user()
        session.clear()
    if request.endpoint != "staff.login" and not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def _signed_in_too_long() -> bool:
    """A fixed lifetime from sign-in: Flask renews the cookie on every request, so it alone would slide."""
    started = session.get(SIGNED_IN_AT)
    if not isinstance(started, (int, float)):
        return True
    return time.time() - started >= current_app.permanent_session_lifetime.total_seconds()


@bp.context_processor
def page_context() -> dict[str, Any]:
    return {
        "t": t,
        "label": labels.label,
        "lang": labels.language(),
        "switch_language_url": labels.switch_language_url,
        "local": labels.local_time,
        "REASONS": labels.REASONS,
        "STATUSES": labels.STATUSES,
        "CHANNELS": labels.CHANNELS,
        "ROLES": labels.ROLES,
        "HANDOVER_STATES": labels.HANDOVER_STATES,
        "LIVE_SENDERS": labels.LIVE_SENDERS,
        "me": current_user.reviewer if current_user.is_authenticated else None,
    }


def _sign_in_limits() -> list[tuple[str, str]]:
    name = (request.form.get("username") or "").strip().lower()[:64]
    address = request.remote_addr or "127.0.0.1"
    return [(PER_NAME_LIMIT, "name:" + name), (PER_ADDRESS_LIMIT, "address:" + address)]


@bp.after_request
def never_cached(response: Any) -> Any:
    """Console pages may show personal data (a reveal): keep them out of caches and the Back button."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(429)
def too_many_attempts(_error: Exception) -> Any:
    flash(t("too_many"))
    return render_template("staff/login.html", form=LoginForm()), 429


@bp.errorhandler(403)
def forbidden(_error: Exception) -> Any:
    return render_template("staff/message.html", message=t("admins_only")), 403


@bp.errorhandler(CSRFError)
def bad_token(_error: Exception) -> Any:
    return render_template("staff/message.html", message=t("bad_form")), 400


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if request.method != "POST":
        return render_template("staff/login.html", form=form)
    attempt = reserve("staff-login", _sign_in_limits())  # counted before the check, so parallel tries count
    if attempt is None:
        abort(429)
    if not form.validate_on_submit():
        attempt.give_back()
        flash(t("bad_form"))
        return render_template("staff/login.html", form=form), 400
    signed_in = _check_password(form.username.data.strip().lower(), form.password.data)
    if signed_in is None:
        flash(t("login_failed"))
        return render_template("staff/login.html", form=form), 401
    attempt.give_back()  # only failed sign-ins count
    _start_session(signed_in)
    return redirect(_next_page())


def _start_session(signed_in: Reviewer) -> None:
    language = session.get("staff_lang")
    session.clear()  # a fresh session on sign-in (no fixation)
    if language:
        session["staff_lang"] = language
    login_user(StaffLogin(signed_in))
    session.permanent = True
    session[SIGNED_IN_AT] = time.time()


def _check_password(username: str, password: str) -> Reviewer | None:
    try:
        with current_app.config["WEB"].sessions.begin() as db:
            return sign_in(db, username=username, password=password)
    except SQLAlchemyError as error:
        log.error("staff sign-in: database error %s", type(error).__name__)
        abort(503)


def _next_page() -> str:
    """Back to the page that asked for sign-in, but only ever a console page (no open redirect)."""
    target = request.args.get("next") or ""
    if target.startswith("/staff/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("staff.overview")


@bp.post("/logout")
def logout() -> Any:
    with current_app.config["WEB"].sessions.begin() as db:
        end_sessions(db, reviewer().id)
    logout_user()
    session.clear()
    flash(t("signed_out"))
    return redirect(url_for("staff.login"))
