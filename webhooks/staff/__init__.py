"""The staff console under /staff: the review queue, transcripts, overview and accounts.

Every page needs a signed-in member of staff (Flask-Login); every form that changes something
carries a CSRF token (Flask-WTF, enforced app-wide); failed sign-ins are throttled per address
and per user name (Flask-Limiter). Reviewers review; only admins manage accounts and reveal
personal data, and each reveal is audited with its reason.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from werkzeug.routing import IntegerConverter

from bot.review import MAX_ID

bp = Blueprint("staff", __name__, url_prefix="/staff")
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address)


class IdConverter(IntegerConverter):
    """`<id:…>`: a positive database id; anything larger than the column holds is simply not found."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


def init_app(app: Flask) -> None:
    app.url_map.converters["id"] = IdConverter
    web = app.config["WEB"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", web.ratelimit_storage_uri)
    # If the shared counter store (Redis) is down, count in memory rather than refuse every sign-in.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    login_manager.init_app(app)
    limiter.init_app(app)
    app.register_blueprint(bp)


from webhooks.staff import accounts, auth, overview, queue  # noqa: E402,F401  (their routes join bp)
