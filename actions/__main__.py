"""`python -m actions`: the action server, which first checks its settings.

In production mode it refuses to start (exit 3, one line naming every problem) rather than fail on
the first conversation; otherwise it is rasa_sdk's own server (same options, `--actions actions`
implied). `ACTION_SERVER_SANIC_WORKERS` sets how many worker processes it forks.
"""

from __future__ import annotations

import sys

from bot.config import load_settings
from bot.errors import ConfigError

EXIT_CONFIG = 3


def main(argv: list[str] | None = None) -> int:
    try:
        load_settings()
    except ConfigError as error:
        print(f"configuration: {error}", file=sys.stderr)
        return EXIT_CONFIG
    from rasa_sdk.__main__ import main_from_args
    from rasa_sdk.endpoint import create_argument_parser

    args = create_argument_parser().parse_args(["--actions", "actions", *(sys.argv[1:] if argv is None else argv)])
    main_from_args(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
