"""Prometheus metrics of the web app and the `/metrics` endpoint that serves them.

Under gunicorn every worker is its own process: with PROMETHEUS_MULTIPROC_DIR set (the gunicorn
config sets it, see webhooks/gunicorn_conf.py) each worker writes its values to files there and
`/metrics` sums them. Without it (the Flask test client, `flask run`) the process's own registry
is served. The metrics carry channels, intents, routes and error kinds: never conversation ids.
"""

from __future__ import annotations

import os

from flask import Blueprint, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

bp = Blueprint("metrics", __name__)

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
UNKNOWN_INTENT = "unknown"

TURNS = Counter("assistant_turns_total", "User turns answered through Rasa.", ["channel", "intent"])
FALLBACK_TURNS = Counter(
    "assistant_fallback_turns_total",
    "Turns the assistant did not understand (top intent nlu_fallback, or a fallback action ran); "
    "divide by assistant_turns_total for the fallback rate.",
    ["channel"],
)
LOSS_REPORTS = Counter("assistant_loss_reports_created_total", "Temporary loss reports created.", ["channel"])
RASA_ERRORS = Counter(
    "assistant_rasa_errors_total",
    "Turns Rasa did not answer: timeout, unreachable, http_error, bad_reply, empty_reply.",
    ["kind"],
)
INTENT_LOOKUP_ERRORS = Counter(
    "assistant_intent_lookup_errors_total", "Turns whose intent could not be read from Rasa's tracker."
)
# Twilio gives up after 15 s; the buckets resolve the targets (0.5 s chat, 0.8 s voice) and the limit.
TWILIO_LATENCY = Histogram(
    "assistant_twilio_webhook_seconds",
    "Time to answer a Twilio webhook, by route.",
    ["route"],
    buckets=(0.05, 0.1, 0.25, 0.5, 0.8, 1.0, 2.0, 4.0, 8.0, 15.0),
)


def count_turn(*, channel: str, intent: str | None, fallback: bool, loss_reports_created: int = 0) -> None:
    """Record one answered turn."""
    TURNS.labels(channel=channel, intent=intent or UNKNOWN_INTENT).inc()
    if fallback:
        FALLBACK_TURNS.labels(channel=channel).inc()
    if loss_reports_created:
        LOSS_REPORTS.labels(channel=channel).inc(loss_reports_created)


def loss_reports_created(replies: list[dict]) -> int:
    """How many replies mark a loss report the action has just created (not one that already existed)."""
    return sum(1 for m in replies if (m.get("custom") or {}).get("loss_reference") and m["custom"].get("created"))


@bp.get("/metrics")
def metrics() -> Response:
    if os.environ.get(MULTIPROC_DIR_VARIABLE):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
