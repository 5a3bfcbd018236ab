"""What Rasa and the action server print while starting and serving: what an operator needs, not noise.

`make run` shows these processes' output on one console. Before, each start printed TensorFlow's
C++ notes (CPU features, CUDA, TensorRT, an "Executor start aborting" per model load), every
deprecated call in the libraries Rasa pulls in, and one line per registered action.
"""

import pytest

pytestmark = pytest.mark.e2e

NOISE = ("tensorflow/", "DeprecationWarning", "Deprecated", "Registered function", "Prefix dict")


def test_the_running_stack_prints_no_library_noise(stack):
    stack.say("e2e-console", "你好")  # a turn: the model and the actions have been used
    for name in ("rasa.log", "actions.log"):
        printed = (stack.logs / name).read_text(encoding="utf-8")
        assert printed, name
        assert [line for line in printed.splitlines() if any(n in line for n in NOISE)] == [], name
    assert "Rasa server is up and running" in (stack.logs / "rasa.log").read_text(encoding="utf-8")
