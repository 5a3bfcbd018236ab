"""Staff accounts and the audit log: admins only."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, url_for

from bot.review.accounts import StaffAccountError, create_staff_account, staff_accounts, toggle_staff_active
from bot.review.audit import recent_audit
from webhooks.staff import bp
from webhooks.staff.auth import admin_required, reviewer
from webhooks.staff.forms import NewUserForm
from webhooks.staff.labels import t

AUDIT_PAGE = 200


def _render_users(form: NewUserForm, status: int = 200) -> Any:
    with current_app.config["WEB"].read_sessions.begin() as db:
        users = staff_accounts(db)
    return render_template("staff/users.html", users=users, form=form), status


@bp.get("/users")
@admin_required
def users() -> Any:
    return _render_users(NewUserForm(formdata=None))


@bp.post("/users")
@admin_required
def create_user() -> Any:
    form = NewUserForm()
    if not form.validate_on_submit():
        flash(t("bad_form"))
        return _render_users(form, 400)
    try:
        with current_app.config["WEB"].sessions.begin() as db:
            create_staff_account(
                db, username=form.username.data.strip().lower(), password=form.password.data, role=form.role.data,
                by=reviewer(),
            )  # fmt: skip
    except StaffAccountError as error:
        flash(str(error))
        return _render_users(form, 400)
    flash(t("saved"))
    return redirect(url_for("staff.users"), 303)


@bp.post("/users/<id:user_id>/active")
@admin_required
def toggle_active(user_id: int) -> Any:
    """Deactivate or reactivate an account; an admin cannot lock themselves out."""
    try:
        with current_app.config["WEB"].sessions.begin() as db:
            toggle_staff_active(db, user_id, by=reviewer())
    except StaffAccountError:
        flash(t("bad_form"))
        return redirect(url_for("staff.users"), 303)
    flash(t("saved"))
    return redirect(url_for("staff.users"), 303)


@bp.get("/audit")
@admin_required
def audit() -> Any:
    with current_app.config["WEB"].read_sessions.begin() as db:
        entries = recent_audit(db, limit=AUDIT_PAGE)
    return render_template("staff/audit.html", entries=entries)
