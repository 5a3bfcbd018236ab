"""Logs as JSON lines that carry the turn's request id, for the web app and the action server.

One request id follows a person's turn from the web app through Rasa (message metadata) to the
action server, so one grep finds the turn in every log. Records hold ids and outcomes only; the
formatter adds no values of its own beyond a fixed set of fields, and of an exception it keeps
the type and the code locations, never the message (database errors quote their parameters).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import secrets
import traceback
import warnings
from contextvars import ContextVar, Token
from pathlib import Path
from typing import Any

import yaml

CONFIG_FILE = Path(__file__).with_name("logging.yml")
REQUEST_ID_HEADER = "X-Request-ID"
# Short and from a safe alphabet: an incoming id is echoed in headers and logs, so it must not
# be able to carry text, markup or line breaks.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# Every field the code passes with `extra=` reaches the JSON line (ids, outcomes, measurements),
# except values that are not plain scalars and these names, which would hold personal data.
PERSONAL_FIELDS = frozenset(
    {"id_number", "name", "person_name", "phone", "phone_number", "caller", "text", "body", "speech", "code"}
)
# What every LogRecord has of its own (and what formatting adds): not fields passed by the code.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "color_message",  # uvicorn/sanic's coloured copy of the message
}

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def clean_request_id(value: Any) -> str | None:
    """`value` if it is an acceptable request id, else None (the caller then makes a new one)."""
    if isinstance(value, str) and _REQUEST_ID.fullmatch(value):
        return value
    return None


def new_request_id() -> str:
    return secrets.token_hex(8)


def bind_request_id(value: str | None) -> Token:
    """Make `value` the request id of log records written in the current context."""
    return _request_id.set(value)


def reset_request_id(token: Token) -> None:
    _request_id.reset(token)


def current_request_id() -> str | None:
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (handlers' filter, so third-party records get it too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request_id, process, pid."""

    def __init__(self, process: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
            "process": self.process,
            "pid": record.process,
        }
        line.update(passed_fields(record))
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = record.exc_info[0].__name__
            line["trace"] = [
                f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in traceback.extract_tb(record.exc_info[2])
            ]
        return json.dumps(line, ensure_ascii=False, default=str)


def passed_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The non-personal scalar fields the code passed with `extra=`."""
    return {
        name: value
        for name, value in record.__dict__.items()
        if name not in _RECORD_ATTRIBUTES
        and name not in PERSONAL_FIELDS
        and not name.startswith("_")
        and isinstance(value, (str, int, float, bool, type(None)))
    }


def logging_config(process: str, config_file: Path = CONFIG_FILE) -> dict[str, Any]:
    """The dictConfig for one of our processes; the action server reads the same file directly."""
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    config["formatters"]["json"]["process"] = process
    return config


# Deprecations raised in our own packages stay visible: they are ours to fix.
OWN_PACKAGES = r"(bot|actions|nlu|rasa_addons|webhooks)(\.|$)"


def quiet_library_deprecations() -> None:
    """Ignore libraries' deprecation warnings again, as Python does by default; keep our own.

    Sanic turns every DeprecationWarning on when it is imported (`filterwarnings("once", ...)`), so
    Rasa and the action server printed each deprecated call inside TensorFlow, SQLAlchemy,
    pkg_resources, matplotlib and sanic_cors at every start. Call this after Sanic is imported
    and before the rest: a filter added later wins. Other warnings, and errors, still show.
    """
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("default", category=DeprecationWarning, module=OWN_PACKAGES)
