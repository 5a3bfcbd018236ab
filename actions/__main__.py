"""`python -m actions`: the action server, which first checks its settings.

In production mode it refuses to start (exit 3, one line naming every problem) rather than fail on
the first conversation; otherwise it is rasa_sdk's own server (same options, `--actions actions`
implied), bound to ACTIONS_HOST (default 127.0.0.1) and answering only requests that carry
ACTION_SERVER_TOKEN (actions/server.py). `ACTION_SERVER_SANIC_WORKERS` sets how many worker
processes it forks.
"""

from __future__ import annotations

import sys

from bot.config import load_settings, merged_environment
from bot.errors import ConfigError
from bot.platform.logs import quiet_library_deprecations
from bot.platform.service_settings import action_server_token

EXIT_CONFIG = 3
DEFAULT_HOST = "127.0.0.1"


def _binding() -> tuple[str, str]:
    """The address to bind and the token every caller must send."""
    env = merged_environment()
    return env.get("ACTIONS_HOST") or DEFAULT_HOST, action_server_token(env)


def main(argv: list[str] | None = None) -> int:
    try:
        load_settings()
        host, token = _binding()
    except ConfigError as error:
        print(f"configuration: {error}", file=sys.stderr)
        return EXIT_CONFIG
    import sanic  # noqa: F401  (imported first: it turns every deprecation warning on, undone next)

    quiet_library_deprecations()
    from rasa_sdk.endpoint import create_argument_parser

    from actions.server import configure_logging, serve

    args = create_argument_parser().parse_args(["--actions", "actions", *(sys.argv[1:] if argv is None else argv)])
    configure_logging(args)
    serve(args, host=host, token=token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
