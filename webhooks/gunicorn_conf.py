"""gunicorn settings for the web app: JSON logs, and metrics summed over all workers.

Every worker is its own process with its own counters; prometheus-client's multiprocess mode
keeps them in files under PROMETHEUS_MULTIPROC_DIR, which must be set before any worker imports
prometheus_client, is emptied at start (values of an earlier run must not be added in), and is
told when a worker exits. Command-line options (Procfile) still win over the values here.
"""

from __future__ import annotations

import os
from pathlib import Path

from gunicorn.glogging import Logger

from bot.platform.logs import REQUEST_ID_HEADER, bind_request_id, logging_config, reset_request_id

ROOT = Path(__file__).resolve().parents[1]
MULTIPROC_DIR = Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(ROOT / "var" / "prometheus")))

logconfig_dict = logging_config("web")
# No client address (Twilio's or a citizen's): the request line, status, size, time and request id.
access_log_format = '"%(r)s" %(s)s %(b)s %(M)sms'


class RequestIdLogger(Logger):
    """gunicorn's logger, whose access line carries the request id the app answered with."""

    def access(self, resp, req, environ, request_time) -> None:
        request_id = next((v for k, v in resp.headers if k.lower() == REQUEST_ID_HEADER.lower()), None)
        token = bind_request_id(request_id)
        try:
            super().access(resp, req, environ, request_time)
        finally:
            reset_request_id(token)


logger_class = RequestIdLogger


def on_starting(server) -> None:
    """Start from empty metric files: a file left by an earlier run would be summed in."""
    MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)
    for stale in MULTIPROC_DIR.glob("*.db"):
        stale.unlink()


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
