"""The web app: web chat page, SMS and voice webhooks, staff console and health, over `bot`.

`create_app()` builds it; nothing connects at import, and nothing is imported here at module level
but Flask: gunicorn's config (webhooks/gunicorn_conf.py) imports this package first and must set
PROMETHEUS_MULTIPROC_DIR before prometheus_client is imported, or every worker counts alone.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from webhooks.settings import WebSettings


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The Flask app; `test_config` overrides settings (tests pass a ready WebSettings as WEB)."""
    from webhooks.settings import load_web_settings

    app = Flask(__name__)
    web: WebSettings = (test_config or {}).get("WEB") or load_web_settings()
    app.config.update(SECRET_KEY=web.secret_key, WEB=web, JSON_AS_ASCII=False, MAX_CONTENT_LENGTH=64 * 1024)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=(web.public_base_url or "").startswith("https://"),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=8),  # staff sessions end this long after sign-in
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_TIME_LIMIT=8 * 3600,
    )
    if test_config:
        app.config.update({k: v for k, v in test_config.items() if k != "WEB"})
    app.json.ensure_ascii = False
    if web.trusted_proxies:
        # Behind a proxy every request comes from it: take the client address it forwards, or
        # one person's failed sign-ins would throttle everyone's.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=web.trusted_proxies)  # type: ignore[method-assign]

    from webhooks import chat, health, observability, sms, sms_status, staff, throttle, voice

    observability.init_app(app)
    throttle.init_app(app)

    # Every POST needs a CSRF token, except Twilio's webhooks, which are signed instead.
    csrf = CSRFProtect(app)
    csrf.exempt(sms.bp)
    csrf.exempt(sms_status.bp)
    csrf.exempt(voice.bp)
    app.register_blueprint(chat.bp)
    app.register_blueprint(sms.bp)
    app.register_blueprint(sms_status.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(voice.bp)
    staff.init_app(app)
    return app
