"""Staff accounts and the audit log: admins only."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, url_for
from sqlalchemy import select

from bot.models import AuditEntry, StaffUser
from bot.review.accounts import StaffAccountError, add_staff_user, end_sessions
from bot.review.audit import record_audit
from webhooks.staff import bp
from webhooks.staff.auth import admin_required, reviewer
from webhooks.staff.forms import NewUserForm
from webhooks.staff.labels import t

AUDIT_PAGE = 200


def _render_users(form: NewUserForm, status: int = 200) -> Any:
    with current_app.config["WEB"].read_sessions.begin() as db:
        users = list(db.scalars(select(StaffUser).order_by(StaffUser.username)))
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
            user = add_staff_user(
                db, username=form.username.data.strip().lower(), password=form.password.data, role=form.role.data
            )
            record_audit(db, actor=reviewer().actor, action="staff_add_user", target_type="staff_user",
                         target_id=user.id, detail={"role": user.role})  # fmt: skip
    except StaffAccountError as error:
        flash(str(error))
        return _render_users(form, 400)
    flash(t("saved"))
    return redirect(url_for("staff.users"), 303)


@bp.post("/users/<id:user_id>/active")
@admin_required
def toggle_active(user_id: int) -> Any:
    """Deactivate or reactivate an account; an admin cannot lock themselves out."""
    with current_app.config["WEB"].sessions.begin() as db:
        user = db.get(StaffUser, user_id)
        if user is None or user.id == reviewer().id:
            flash(t("bad_form"))
            return redirect(url_for("staff.users"), 303)
        user.active = not user.active
        end_sessions(db, user.id)
        record_audit(db, actor=reviewer().actor, action="staff_activated" if user.active else "staff_deactivated",
                     target_type="staff_user", target_id=user.id)  # fmt: skip
    flash(t("saved"))
    return redirect(url_for("staff.users"), 303)


@bp.get("/audit")
@admin_required
def audit() -> Any:
    with current_app.config["WEB"].read_sessions.begin() as db:
        entries = list(db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(AUDIT_PAGE)))
    return render_template("staff/audit.html", entries=entries)
