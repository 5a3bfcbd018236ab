"""`GET /healthz`: 200 only when the web app, Rasa (with a model) and the action server all answer."""

from __future__ import annotations

import requests
from flask import Blueprint, current_app, jsonify

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    web = current_app.config["WEB"]
    try:
        actions_ok = requests.get(f"{web.actions_url}/health", timeout=2).ok
    except requests.RequestException:
        actions_ok = False
    checks = {"web": True, "rasa": web.rasa.is_ready(web.rasa_token), "actions": actions_ok}
    down = [name for name, ok in checks.items() if not ok]
    return jsonify(status="ok" if not down else "unavailable", checks=checks, down=down), 503 if down else 200
