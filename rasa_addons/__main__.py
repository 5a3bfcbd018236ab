"""`python -m rasa_addons …`: the `rasa` command (same arguments), with our additions installed first.

The Procfile, `deploy/rasa.sh` and the tests start Rasa this way; see rasa_addons/action_responses.py.
`run --enable-api` takes its token from RASA_TOKEN in the environment rather than from the command
line, where every local user could read it (`ps`, /proc/PID/cmdline): the token is added to the
arguments inside the process, which leaves the command line the kernel shows unchanged.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from rasa_addons import action_responses, model_loading

EXIT_CONFIG = 3


def with_token(argv: list[str], environ: Mapping[str, str]) -> list[str]:
    """`argv` with `--auth-token RASA_TOKEN` added to an API-serving `run`; SystemExit if there is no token."""
    given = any(arg in {"-t", "--auth-token"} or arg.startswith("--auth-token=") for arg in argv)
    if not argv or argv[0] != "run" or "--enable-api" not in argv or given:
        return argv
    token = environ.get("RASA_TOKEN") or ""
    if not token:
        print("configuration: RASA_TOKEN is not set: Rasa's HTTP API would be open to anyone", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG)
    return [*argv, f"--auth-token={token}"]  # one argument: a token may start with "-"


def main() -> None:
    sys.argv[1:] = with_token(sys.argv[1:], os.environ)
    action_responses.install()
    model_loading.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
