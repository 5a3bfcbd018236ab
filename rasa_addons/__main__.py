"""`python -m rasa_addons …`: the `rasa` command (same arguments), with our additions installed first.

The Procfile, `deploy/rasa.sh` and the tests start Rasa this way, and `make train` trains this way; see
rasa_addons/action_responses.py.
`run --enable-api` takes its token from RASA_TOKEN in the environment rather than from the command
line, where every local user could read it (`ps`, /proc/PID/cmdline): the token is added to the
arguments inside the process, which leaves the command line the kernel shows unchanged.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping

from bot.platform.logs import quiet_library_deprecations
from rasa_addons import without_tensorflow

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


def quiet_start() -> None:
    """Keep the console to what an operator needs: no TensorFlow C++ notes or library deprecations.

    TensorFlow's C++ side logs at import (CPU features, CUDA, TensorRT, one "DEBUG INFO" line per
    model load); Rasa sets TF_CPP_MIN_LOG_LEVEL=2 itself, but only after TensorFlow is imported. 2
    keeps errors; TF_CPP_MIN_LOG_LEVEL=0 in the environment shows everything again. Jieba logs its
    dictionary loading at DEBUG; Rasa's own log level (`--loglevel`, LOG_LEVEL_LIBRARIES) is left as is.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import jieba
    import sanic  # noqa: F401  (imported first: it turns every deprecation warning on, undone next)

    quiet_library_deprecations()
    jieba.setLogLevel(logging.WARNING)
    # Rasa imports matplotlib anyway; imported here, while libraries' deprecations are ignored, not
    # after Rasa has turned every UserWarning back on (pyparsing's deprecations are both kinds).
    import matplotlib.font_manager  # noqa: F401


def skip_jax() -> None:
    """Keep JAX out of the process: about 100 MiB of resident memory that nothing here uses.

    Rasa imports TensorFlow, whose TFLite helpers try `from jax import xla_computation` when JAX is
    installed (it is, as a dependency of a dependency) and carry on without it on ImportError. A
    None entry in sys.modules makes that import fail at once.
    """
    sys.modules.setdefault("jax", None)  # type: ignore[arg-type]


def runs_without_tensorflow(argv: list[str], environ: Mapping[str, str]) -> bool:
    """`run` and `train` go without TensorFlow unless RASA_WITH_TENSORFLOW=1 (rasa_addons/without_tensorflow.py)."""
    return bool(argv) and argv[0] in {"run", "train"} and environ.get(without_tensorflow.ENVIRONMENT_SWITCH) != "1"


def main() -> None:
    sys.argv[1:] = with_token(sys.argv[1:], os.environ)
    skip_jax()
    if runs_without_tensorflow(sys.argv[1:], os.environ):
        without_tensorflow.install()
    quiet_start()
    # Imported only now: they import Rasa, hence Sanic (and TensorFlow, unless placeholders stand in).
    from rasa.__main__ import main as rasa_main

    from rasa_addons import (
        action_calls,
        action_responses,
        applied_events,
        debug_states,
        empty_domain,
        graph_runner,
        kept_connections,
        model_loading,
        past_states,
        rule_matching,
        slot_copies,
        tracker_copies,
        turn_admission,
    )

    action_calls.install()
    action_responses.install()
    applied_events.install()
    debug_states.install()
    empty_domain.install()
    graph_runner.install()
    kept_connections.install()
    past_states.install()
    rule_matching.install()
    slot_copies.install()
    tracker_copies.install()
    model_loading.install()
    turn_admission.install()

    rasa_main()


if __name__ == "__main__":
    main()
