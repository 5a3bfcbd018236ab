"""The console's forms. Every form that changes something carries a CSRF token (Flask-WTF)."""

from __future__ import annotations

import datetime as dt

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from bot.handover.live import MAX_STAFF_MESSAGE
from bot.models import FLAG_REASONS, FLAG_STATUSES, INTENTS, STAFF_ROLES
from bot.review.accounts import MIN_PASSWORD_LENGTH
from bot.review.queue import CHANNELS, MAX_NOTE_LENGTH


class DateRange:
    """Dates the queue can hold (far-off years would overflow the time zone arithmetic)."""

    def __call__(self, form: FlaskForm, field: DateField) -> None:
        if field.data and not dt.date(2000, 1, 1) <= field.data <= dt.date(2100, 12, 31):
            raise ValidationError("out of range")


class LoginForm(FlaskForm):
    username = StringField(validators=[DataRequired(), Length(max=64)])
    password = PasswordField(validators=[DataRequired(), Length(max=200)])


class QueueFilterForm(FlaskForm):
    """The queue's filters, read from the query string (a GET form changes nothing, so no token)."""

    class Meta:
        csrf = False

    reason = SelectField(choices=[("", "")] + [(r, r) for r in FLAG_REASONS], validators=[Optional()])
    status = SelectField(choices=[("", "")] + [(s, s) for s in FLAG_STATUSES], validators=[Optional()])
    channel = SelectField(choices=[("", "")] + [(c, c) for c in CHANNELS], validators=[Optional()])
    date_from = DateField(validators=[Optional(), DateRange()])
    date_to = DateField(validators=[Optional(), DateRange()])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100_000)], default=1)


class NoteForm(FlaskForm):
    text = TextAreaField(validators=[DataRequired(), Length(max=MAX_NOTE_LENGTH)])


class RevealForm(FlaskForm):
    reason = StringField(validators=[DataRequired(), Length(min=5, max=500)])


class LabelForm(FlaskForm):
    message_id = HiddenField(validators=[DataRequired(), Regexp(r"^[A-Za-z0-9_-]{1,64}$")])
    intent = SelectField(choices=[(i, i) for i in INTENTS], validators=[DataRequired()])


class BulkReviewForm(FlaskForm):
    flag_ids = SelectMultipleField(coerce=int, validate_choice=False, validators=[DataRequired()])


class NewUserForm(FlaskForm):
    username = StringField(validators=[DataRequired(), Length(min=2, max=64)])
    password = PasswordField(validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)])
    role = SelectField(choices=[(r, r) for r in STAFF_ROLES], validators=[DataRequired()])


class ReplyForm(FlaskForm):
    text = TextAreaField(validators=[DataRequired(), Length(max=MAX_STAFF_MESSAGE)])
