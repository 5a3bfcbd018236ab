"""rasa_sdk's action server, bound to a chosen address and closed to callers without the shared token.

rasa_sdk's own `run` binds every interface (`SANIC_HOST`, default 0.0.0.0) and executes whatever
tracker anyone POSTs to /webhook, believing its slots: a forged "verified" tracker could report any
card lost. Here the server binds ACTIONS_HOST (loopback unless a deployment says otherwise), and
every request but GET /health must carry ACTION_SERVER_TOKEN in the X-Action-Token header, which
Rasa sends from its endpoints file (`action_endpoint.headers`). /health stays open: it says only
`{"status": "ok"}`, and the web app's /healthz and container checks use it.

With several Sanic workers (ACTION_SERVER_SANIC_WORKERS), Sanic 21.12 forks them once and never
replaces one that dies. So each worker dies with its parent (no orphan keeps the port), and when a
worker dies the parent stops the others and exits: the supervisor (bot/platform/supervise.py) then starts the
whole action server again, at full strength.
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import logging
import os
import signal
import threading
import time

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.platform.lifelines import die_with_parent, living_children

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-Action-Token"  # endpoints.yml and deploy/endpoints.production.yml send it
OPEN_PATHS = frozenset({"/health"})


def require_token(app: Sanic, token: str) -> None:
    """Answer 401, before any action runs, to a request without the token (compared in constant time)."""
    expected = token.encode()

    @app.middleware("request")
    async def check_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        supplied = request.headers.get(TOKEN_HEADER, "").encode()
        if hmac.compare_digest(supplied, expected):
            return None
        log.warning("action server: refused a request without the token", extra={"outcome": "unauthorized"})
        return response.json({"error": "unauthorized"}, status=401)


def tie_workers(app: Sanic, workers: int) -> None:
    """Workers die with the main process; the main process stops when any worker dies (see above)."""
    main = os.getpid()

    @app.listener("before_server_start")
    async def worker_dies_with_main(app: Sanic, loop) -> None:
        if os.getpid() != main:
            die_with_parent(main)

    @app.listener("main_process_start")
    async def watch_workers(app: Sanic, loop) -> None:
        threading.Thread(target=_stop_when_a_worker_dies, args=(workers,), daemon=True).start()


def _stop_when_a_worker_dies(workers: int, poll_seconds: float = 0.5, start_seconds: float = 5.0) -> None:
    """Once every worker has been forked, wait for one to end, then end the rest.

    A worker counts from its fork (milliseconds after this starts), so fewer than `workers` after
    `start_seconds` means one died before it was seen. Read from /proc, not multiprocessing's
    bookkeeping, which Sanic's main thread updates only as it joins the workers one by one. When all
    end at once (Ctrl-C, SIGTERM: Sanic stops them) nothing is logged.
    """
    seen: set[int] = set()
    began = time.monotonic()
    while True:
        alive = living_children()
        seen |= alive
        if len(alive) < workers and (len(seen) >= workers or time.monotonic() - began > start_seconds):
            break
        time.sleep(poll_seconds)
    if alive:
        log.error("action server: a worker died; stopping the others so the whole server restarts")
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def configure_logging(args: argparse.Namespace) -> None:
    """As `rasa_sdk.__main__.main_from_args` does before it runs the server."""
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel, args.logging_config_file
    )
    utils.update_sanic_log_level()


def serve(args: argparse.Namespace, *, host: str, token: str) -> None:
    """`rasa_sdk.endpoint.run` with the token check and the bind address added."""
    # Imported here: rasa_sdk imports every module of this package, and sanic_cors warns on import.
    from rasa_sdk.endpoint import create_app, create_ssl_context
    from rasa_sdk.plugin import plugin_manager

    app = create_app(args.actions, cors_origins=args.cors, auto_reload=args.auto_reload)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    require_token(app, token)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    workers = utils.number_of_sanic_workers()
    if workers > 1:
        tie_workers(app, workers)
    log.info("action server listening on %s:%s", host, args.port)
    app.run(host, args.port, ssl=ssl_context, workers=workers)
