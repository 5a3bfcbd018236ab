"""JSON log lines, request ids and the logging config the web app and the action server share."""

from __future__ import annotations

import ast
import json
import logging
import subprocess
import sys
import warnings

import pytest

from bot.config import ROOT
from bot.platform.logs import (
    PERSONAL_FIELDS,
    JsonFormatter,
    RequestIdFilter,
    bind_request_id,
    clean_request_id,
    new_request_id,
    quiet_library_deprecations,
    reset_request_id,
)

ID_NUMBER = "320102198503121015"


def record(message: str, *args, exc_info=None, **extra) -> logging.LogRecord:
    made = logging.LogRecord("bot.example", logging.WARNING, __file__, 1, message, args, exc_info)
    made.__dict__.update(extra)
    return made


def test_a_record_is_one_json_object_with_the_agreed_fields():
    token = bind_request_id("turn-0123456789")
    try:
        line = JsonFormatter(process="web").format(record("flag %s", 42, conversation_id="web-abc", color="blue"))
    finally:
        reset_request_id(token)
    assert "\n" not in line
    fields = json.loads(line)
    assert fields["time"].endswith("+00:00")
    assert {k: fields[k] for k in ("level", "logger", "message", "request_id", "process")} == {
        "level": "WARNING",
        "logger": "bot.example",
        "message": "flag 42",
        "request_id": "turn-0123456789",
        "process": "web",
    }
    assert fields["conversation_id"] == "web-abc" and fields["color"] == "blue"


def test_personal_and_non_scalar_fields_stay_out_of_the_line():
    made = record("checked", id_number=ID_NUMBER, person_name="张伟", phone="+8613900001001", details={"a": ID_NUMBER})
    line = JsonFormatter().format(made)
    assert ID_NUMBER not in line and "张伟" not in line and "13900001001" not in line


def _extra_fields_in_the_code() -> dict[str, set[str]]:
    """Every key our modules pass in `extra={...}`, with the modules that pass it."""
    found: dict[str, set[str]] = {}
    for package in ("bot", "actions", "webhooks", "rasa_addons", "nlu"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.keyword) and node.arg == "extra" and isinstance(node.value, ast.Dict):
                    for key in node.value.keys:
                        if isinstance(key, ast.Constant) and isinstance(key.value, str):
                            found.setdefault(key.value, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_field_the_code_logs_reaches_the_json_line():
    passed = _extra_fields_in_the_code()
    assert {"succeeded", "loss_report_id", "card_id", "path", "outcome"} <= set(passed)
    for name, modules in passed.items():
        assert name not in PERSONAL_FIELDS, f"{sorted(modules)} log a personal field: {name}"
        line = json.loads(JsonFormatter().format(record("event", **{name: 7})))
        assert line.get(name) == 7, f"{name} (logged by {sorted(modules)}) is dropped from the JSON line"


def test_an_exception_keeps_its_type_and_places_never_its_message():
    try:
        raise ValueError(f"bad id {ID_NUMBER}")
    except ValueError:
        line = JsonFormatter().format(record("import failed", exc_info=sys.exc_info()))
    fields = json.loads(line)
    assert fields["error"] == "ValueError"
    assert any("test_logs.py" in place for place in fields["trace"])
    assert ID_NUMBER not in line


def test_the_filter_stamps_the_request_id_current_when_the_record_was_made():
    token = bind_request_id("turn-aaaaaaaaaa")
    made = record("x")
    RequestIdFilter().filter(made)
    reset_request_id(token)
    assert made.request_id == "turn-aaaaaaaaaa"
    assert json.loads(JsonFormatter().format(made))["request_id"] == "turn-aaaaaaaaaa"


@pytest.mark.parametrize(
    ("offered", "kept"),
    [
        ("0123456789abcdef", True),
        ("lb.7f3a-9c21_0001", True),
        ("short", False),
        ("x" * 65, False),
        ("a b c d e f g h", False),
        ("abc\n12345678", False),
        ("１２３４５６７８９", False),
        (None, False),
        (12345678, False),
    ],
)
def test_request_ids_are_short_and_safe(offered, kept):
    assert clean_request_id(offered) == (offered if kept else None)
    assert clean_request_id(new_request_id())


def test_the_shared_config_writes_json_lines_to_stderr():
    """Run in a fresh interpreter: configuring logging here would replace pytest's own handlers."""
    program = (
        "import logging, logging.config\n"
        "from bot.platform.logs import logging_config, bind_request_id\n"
        "logging.config.dictConfig(logging_config('actions'))\n"
        "bind_request_id('turn-0000000001')\n"
        "logging.getLogger('actions.example').info('action %s done', 'action_x')\n"
        "logging.getLogger('sanic.error').error('sanic says')\n"
    )
    result = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, timeout=30)
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(f["logger"], f["message"], f["request_id"], f["process"]) for f in lines] == [
        ("actions.example", "action action_x done", "turn-0000000001", "actions"),
        ("sanic.error", "sanic says", "turn-0000000001", "actions"),
    ]
    assert result.stdout == ""


def test_library_deprecations_are_quiet_again_but_ours_still_show():
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("default")  # shown, not raised as this suite does
        warnings.filterwarnings("once", category=DeprecationWarning)  # what importing Sanic does
        quiet_library_deprecations()
        for module in ("sqlalchemy.orm", "matplotlib.fontconfig_pattern", "bot.cards.holders", "webhooks.voice"):
            warnings.warn_explicit(f"old API in {module}", DeprecationWarning, "x.py", 1, module=module)
        warnings.warn_explicit("not a deprecation", UserWarning, "x.py", 1, module="sqlalchemy.orm")
    assert [str(w.message) for w in shown] == [
        "old API in bot.cards.holders",
        "old API in webhooks.voice",
        "not a deprecation",
    ]
