"""gunicorn settings for the web app in production: sized from the environment, checked before forking.

Run as `gunicorn -c deploy/gunicorn.conf.py 'webhooks:create_app()'`. The settings are checked once
in the master process, so unsafe production settings stop it with one clear line and exit 3
instead of every worker failing to boot with a stack trace.
"""

import os
import sys

# JSON logs with request ids, and metrics summed over the workers, as in development.
from webhooks.gunicorn_conf import access_log_format, child_exit, logconfig_dict, logger_class  # noqa: F401
from webhooks.gunicorn_conf import on_starting as empty_metric_files

bind = f"{os.environ.get('WEB_HOST', '0.0.0.0')}:{os.environ.get('WEB_PORT', '8000')}"
workers = int(os.environ.get("WEB_WORKERS", "2"))
# Turns mostly wait for Rasa: with enough threads they wait in Rasa's one first-come-first-served
# queue rather than in the queue of the worker that accepted them (docs/benchmarks.md).
threads = int(os.environ.get("WEB_THREADS", "32"))
timeout = 30  # a worker silent this long is replaced; turns give up on Rasa after RASA_TIMEOUT_SECONDS
accesslog = "-"


def on_starting(server) -> None:
    """Refuse to start on configuration problems, before any worker is forked."""
    from bot.errors import ConfigError
    from webhooks.settings import load_web_settings

    try:
        load_web_settings()
    except ConfigError as error:
        print(f"configuration: {error}", file=sys.stderr)
        raise SystemExit(3) from None
    empty_metric_files(server)
