"""Prometheus metrics of the web app and the `/metrics` endpoint that serves them.

Two sources. What the web app itself sees (turns it answered, loss reports created, Rasa errors,
Twilio webhook latency) is counted as it happens; under gunicorn every worker is its own process,
so with PROMETHEUS_MULTIPROC_DIR set (webhooks/gunicorn_conf.py sets it) each worker writes its
values to files there and `/metrics` sums them. What Rasa understood (messages by intent, and the
ones it could not place) is read from Rasa's tracker store when `/metrics` is scraped: the REST
reply does not carry the intent, and asking Rasa after every turn would load the whole tracker
again while the person waits. The metrics carry channels, intents, routes and error kinds: never
conversation ids.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, current_app
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.contract import LOSS_CREATED, LOSS_REFERENCE
from bot.review.transcripts import MessageCounts, TrackerStore, TrackerStoreUnavailable

bp = Blueprint("metrics", __name__)

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
log = logging.getLogger(__name__)

TURNS = Counter("assistant_turns_total", "User turns the web app answered through Rasa.", ["channel"])
LOSS_REPORTS = Counter("assistant_loss_reports_created_total", "Temporary loss reports created.", ["channel"])
RASA_ERRORS = Counter(
    "assistant_rasa_errors_total",
    "Turns Rasa did not answer: timeout, unreachable, http_error, bad_reply, empty_reply.",
    ["kind"],
)
# Twilio gives up after 15 s; the buckets resolve the targets (0.5 s chat, 0.8 s voice) and the limit.
TWILIO_LATENCY = Histogram(
    "assistant_twilio_webhook_seconds",
    "Time to answer a Twilio webhook, by route.",
    ["route"],
    buckets=(0.05, 0.1, 0.25, 0.5, 0.8, 1.0, 2.0, 4.0, 8.0, 15.0),
)


def count_turn(*, channel: str, loss_reports_created: int = 0) -> None:
    """Record one answered turn."""
    TURNS.labels(channel=channel).inc()
    if loss_reports_created:
        LOSS_REPORTS.labels(channel=channel).inc(loss_reports_created)


class UnderstandingCollector(Collector):
    """Messages by channel and intent, and fallbacks, from Rasa's tracker store at scrape time.

    Each scrape reads only what was added since the last one, so a long history is read once per
    process. Every worker reads the same store, so any of them gives the same totals.
    """

    def __init__(self, store: TrackerStore) -> None:
        self._store = store
        self._counts = MessageCounts()
        self._lock = threading.Lock()

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            try:
                self._store.count_messages(self._counts)
            except TrackerStoreUnavailable as error:
                log.warning("tracker store unreadable for metrics: %s", error)  # totals stay as last read
            messages = CounterMetricFamily(
                "assistant_messages",
                "Messages people sent, by channel and the intent Rasa gave them (from the tracker store).",
                labels=["channel", "intent"],
            )
            for (channel, intent), count in sorted(self._counts.messages.items()):
                messages.add_metric([channel, intent], count)
            fallbacks = CounterMetricFamily(
                "assistant_fallback_messages",
                "Messages the assistant could not place (nlu_fallback, or Rasa's own fallback); divide by "
                "assistant_messages_total for the fallback rate.",
                labels=["channel"],
            )
            for channel, count in sorted(self._counts.fallbacks.items()):
                fallbacks.add_metric([channel], count)
        yield messages
        yield fallbacks


def init_app(app: Flask, store: TrackerStore) -> None:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(UnderstandingCollector(store))
    app.extensions["understanding_metrics"] = registry
    app.register_blueprint(bp)


def loss_reports_created(replies: list[dict]) -> int:
    """How many replies mark a loss report the action has just created (not one that already existed)."""
    return sum(1 for m in replies if (m.get("custom") or {}).get(LOSS_REFERENCE) and m["custom"].get(LOSS_CREATED))


@bp.get("/metrics")
def metrics() -> Response:
    if os.environ.get(MULTIPROC_DIR_VARIABLE):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    understanding = generate_latest(current_app.extensions["understanding_metrics"])
    return Response(generate_latest(registry) + understanding, content_type=CONTENT_TYPE_LATEST)
