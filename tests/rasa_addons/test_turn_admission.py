"""Turns are let into Rasa two at a time, in the order they came, and a turn kept waiting on the
action server lets the next one in."""

import asyncio

import pytest
from aiohttp import web
from rasa.core.processor import MessageProcessor
from rasa.utils.endpoints import EndpointConfig

from rasa_addons import turn_admission
from rasa_addons.turn_admission import Admission, away, turn
from tests.rasa_addons.webhook_server import serving


async def test_at_most_the_limit_inside_and_the_rest_in_the_order_they_came():
    door = Admission(2)
    order: list[int] = []
    inside, most_inside = 0, 0

    async def one(n: int) -> None:
        nonlocal inside, most_inside
        await door.enter()
        inside += 1
        most_inside = max(most_inside, inside)
        order.append(n)
        await asyncio.sleep(0.01)
        inside -= 1
        door.leave()

    await asyncio.gather(*(one(n) for n in range(6)))
    assert most_inside == 2
    assert order == list(range(6))
    assert door.inside == 0 and not door.waiting


async def test_a_place_given_back_goes_to_the_first_waiter_not_to_a_newcomer():
    door = Admission(1)
    await door.enter()
    waiter = asyncio.create_task(door.enter())
    await asyncio.sleep(0)
    door.leave()
    newcomer = asyncio.create_task(door.enter())
    await asyncio.sleep(0)
    assert waiter.done() and not newcomer.done()
    door.leave()
    await asyncio.wait_for(newcomer, 1)
    door.leave()
    assert door.inside == 0


async def test_a_cancelled_wait_leaves_no_trace_and_passes_on_a_place_given_meanwhile():
    door = Admission(1)
    await door.enter()
    gone = asyncio.create_task(door.enter())
    await asyncio.sleep(0)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert not door.waiting

    given = asyncio.create_task(door.enter())
    after = asyncio.create_task(door.enter())
    await asyncio.sleep(0)
    door.leave()  # the place goes to `given`, which is cancelled before it runs
    given.cancel()
    with pytest.raises(asyncio.CancelledError):
        await given
    await asyncio.wait_for(after, 1)  # so the place went on to the next waiter
    door.leave()
    assert door.inside == 0 and not door.waiting


async def test_a_turn_gives_its_place_back_when_it_fails(monkeypatch):
    door = Admission(1)
    monkeypatch.setattr(turn_admission, "admission", lambda: door)
    with pytest.raises(RuntimeError):
        async with turn():
            raise RuntimeError("the turn failed")
    assert door.inside == 0


async def test_a_turn_waiting_too_long_elsewhere_lets_the_next_one_in(monkeypatch):
    door = Admission(1)
    monkeypatch.setattr(turn_admission, "admission", lambda: door)
    monkeypatch.setattr(turn_admission, "PATIENCE_SECONDS", 0.05)
    answer = asyncio.Event()
    events: list[str] = []

    async def slow() -> None:
        async with turn():
            async with away():
                await answer.wait()  # a hung action server
            events.append("slow done")

    async def quick() -> None:
        async with turn():
            events.append("quick done")

    slow_turn = asyncio.create_task(slow())
    await asyncio.sleep(0)
    quick_turn = asyncio.create_task(quick())
    await asyncio.wait_for(quick_turn, 1)  # let in once the slow turn had waited its patience
    answer.set()
    await asyncio.wait_for(slow_turn, 1)
    assert events == ["quick done", "slow done"]
    assert door.inside == 0  # the slow turn gave its place back once, not twice


async def test_a_quick_call_keeps_the_place(monkeypatch):
    door = Admission(1)
    monkeypatch.setattr(turn_admission, "admission", lambda: door)
    async with turn():
        async with away():
            await asyncio.sleep(0)
        assert turn_admission._place.get().held
    assert door.inside == 0


@pytest.fixture
async def action_server():
    async def webhook(request: web.Request) -> web.Response:
        await asyncio.sleep(float((await request.json())["seconds"]))
        return web.json_response({"events": []})

    async with serving(webhook) as url:
        yield url


async def test_installed_rasa_turns_go_through_the_door_and_endpoint_calls_count_as_away(action_server, monkeypatch):
    """Rasa's message handling and its calls to endpoints, as installed in the Rasa server."""
    monkeypatch.setattr(MessageProcessor, "handle_message", MessageProcessor.handle_message)
    monkeypatch.setattr(EndpointConfig, "request", EndpointConfig.request)
    monkeypatch.setattr(turn_admission, "PATIENCE_SECONDS", 0.05)
    door = Admission(1)
    monkeypatch.setattr(turn_admission, "admission", lambda: door)
    order: list[str] = []

    async def handle_message(self, message):  # what Rasa does: predict, call the action server
        order.append(f"{message} in")
        await EndpointConfig(action_server).request(json={"seconds": 0.3 if message == "slow" else 0}, method="post")
        order.append(f"{message} out")
        return []

    monkeypatch.setattr(MessageProcessor, "handle_message", handle_message)
    turn_admission.install()
    processor = object.__new__(MessageProcessor)
    await asyncio.gather(processor.handle_message("slow"), processor.handle_message("quick"))
    # "quick" came in while "slow" waited on the action server past its patience, and left first.
    assert order == ["slow in", "quick in", "quick out", "slow out"]
    assert door.inside == 0


async def test_the_patience_is_the_turns_not_each_calls(monkeypatch):
    """Two calls just under the patience each: the place goes during the second."""
    door = Admission(1)
    monkeypatch.setattr(turn_admission, "admission", lambda: door)
    monkeypatch.setattr(turn_admission, "PATIENCE_SECONDS", 0.2)
    held: list[bool] = []
    async with turn():
        for _ in range(2):
            async with away():
                await asyncio.sleep(0.15)
            held.append(turn_admission._place.get().held)
    assert held == [True, False]
    assert door.inside == 0
