"""Every action's log records carry the request id the web app sent with the message."""

from __future__ import annotations

import logging

from rasa_sdk.executor import ActionExecutor

from actions.info import ActionAskTask
from bot.platform.logs import RequestIdFilter, current_request_id
from tests.support import make_tracker


def test_every_action_the_server_registers_is_traced():
    executor = ActionExecutor()
    executor.register_package("actions")
    assert executor.actions
    untraced = [name for name, run in executor.actions.items() if not getattr(run, "traced", False)]
    assert untraced == []


async def test_an_action_logs_under_the_request_id_of_the_message(dispatcher, domain, caplog):
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.INFO, logger="actions")
    tracker = make_tracker(metadata={"channel": "chat", "request_id": "turn-0123456789"}, sender_id="web-abc")
    await ActionAskTask().run(dispatcher, tracker, domain)
    (line,) = [r for r in caplog.records if r.name == "actions.runtime"]
    assert (line.request_id, line.action, line.outcome, line.conversation_id) == (
        "turn-0123456789",
        "action_ask_task",
        "done",
        "web-abc",
    )
    assert current_request_id() is None  # nothing leaks into the next call


async def test_an_unsafe_request_id_from_metadata_is_dropped(dispatcher, domain, caplog):
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.INFO, logger="actions")
    await ActionAskTask().run(dispatcher, make_tracker(metadata={"request_id": "a b\nc"}), domain)
    assert [r.request_id for r in caplog.records if r.name == "actions.runtime"] == [None]
