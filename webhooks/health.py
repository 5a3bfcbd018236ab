"""`GET /healthz`: 200 only when the web app, every Rasa server (with a model) and the action server answer.

The body lists each server by URL (no credentials) and whether it is ready, so a reader tells a
degraded service (some Rasa servers down: turns go to the others) from one that is down (no Rasa
ready, or no action server). Either way the answer is 503: one Rasa of two is not healthy.
"""

from __future__ import annotations

import requests
from flask import Blueprint, current_app, jsonify

from bot.platform.service_settings import shown_url

bp = Blueprint("health", __name__)


def _actions_ready(actions_url: str) -> bool:
    try:
        return requests.get(f"{actions_url}/health", timeout=2).ok
    except requests.RequestException:
        return False


@bp.get("/healthz")
def healthz():
    web = current_app.config["WEB"]
    servers = [
        {"role": "rasa", "url": url, "ready": ready} for url, ready in web.rasa.readiness(web.rasa_token).items()
    ]
    servers.append({"role": "actions", "url": shown_url(web.actions_url), "ready": _actions_ready(web.actions_url)})
    down = [{"role": s["role"], "url": s["url"]} for s in servers if not s["ready"]]
    rasa = [s["ready"] for s in servers if s["role"] == "rasa"]
    checks = {"web": True, "rasa": all(rasa), "actions": servers[-1]["ready"]}
    if not down:
        status = "ok"
    elif any(rasa) and checks["actions"]:
        status = "degraded"
    else:
        status = "unavailable"
    body = jsonify(status=status, checks=checks, servers=servers, down=down)
    return body, 200 if status == "ok" else 503
