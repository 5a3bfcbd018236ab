"""The staff console under /staff: the review queue, transcripts, overview and accounts.

Every page needs a signed-in member of staff (Flask-Login); every form that changes something
carries a CSRF token (Flask-WTF, enforced app-wide); failed sign-ins are throttled per address
and per user name (`webhooks.throttle`). Reviewers review; only admins manage accounts and reveal
personal data, and each reveal is audited with its reason.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_login import LoginManager
from werkzeug.routing import IntegerConverter

from bot.review.queue import MAX_ID

bp = Blueprint("staff", __name__, url_prefix="/staff")
login_manager = LoginManager()


class IdConverter(IntegerConverter):
    """`<id:…>`: a positive database id; anything larger than the column holds is simply not found."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


def init_app(app: Flask) -> None:
    app.url_map.converters["id"] = IdConverter
    login_manager.init_app(app)
    app.register_blueprint(bp)


from webhooks.staff import accounts, auth, live, overview, queue  # noqa: E402,F401  (their routes join bp)
