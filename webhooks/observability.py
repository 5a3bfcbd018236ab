"""Request ids and webhook timing for every request of the web app.

An incoming `X-Request-ID` is kept when it is short and safe, otherwise a new one is made; it is
bound to the request's log records, sent to Rasa with the message and returned in the response.
"""

from __future__ import annotations

import time

from flask import Flask, Response, g, request

from bot.platform.logs import REQUEST_ID_HEADER, bind_request_id, clean_request_id, new_request_id, reset_request_id
from webhooks import metrics

TWILIO_PREFIX = "/twilio/"


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_forget)
    metrics.init_app(app, app.config["WEB"].tracker_store)


def _start() -> None:
    g.request_id = clean_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_request_id()
    g.started = time.perf_counter()
    g.request_id_token = bind_request_id(g.request_id)


def _finish(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = g.request_id
    if request.url_rule is not None and request.path.startswith(TWILIO_PREFIX):
        # Labelled by the route's rule, not the URL: query strings must not multiply series.
        metrics.TWILIO_LATENCY.labels(route=request.url_rule.rule).observe(time.perf_counter() - g.started)
    return response


def _forget(error: BaseException | None) -> None:
    """Records written after the request (gunicorn's access line) take the id from the response."""
    token = g.pop("request_id_token", None)
    if token is not None:
        reset_request_id(token)
