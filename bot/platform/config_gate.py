"""`python -m bot.platform.config_gate`: `python -m bot config check` without its message, for
deploy/rasa.sh, which runs it before every start of a Rasa server, restarts after a crash included.

It imports the settings modules only (0.3 s here), where `bot config check` imports the whole CLI
(1.5 s, and several seconds more on a busy machine), time a restarted Rasa server spent before it
even began to load. Exit 3 naming every problem, as `config check` does.
"""

from __future__ import annotations

import sys

from bot.errors import ConfigError
from bot.platform.service_settings import check_configuration


def main() -> int:
    try:
        check_configuration()
    except ConfigError as error:
        print(f"configuration: {error}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
