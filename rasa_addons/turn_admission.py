"""Turns let into the Rasa server two at a time, first come first served.

Rasa runs every conversation's turn on one event loop. A turn uses the CPU until it calls the
action server; when the answer comes back, the rest of the turn queues behind every message that
arrived meanwhile, each of which first runs its understanding and predictions. So under load a
turn with an action call (an answer, a form step, an identity check) queued once more than a
greeting: with 8 conversations at once through the web app, the turn with the identity check took
1.9-2.1× as long as a greeting (medians), where alone it takes 1.5-1.8×.

Here at most `TURNS_AT_ONCE` turns are inside Rasa's message handling; the others wait at the door
in the order they came, and a turn that leaves hands its place straight to the first waiter. A
turn back from the action server then queues behind at most one other turn: the same ratio fell to
1.3× at the same turns per second (2026-12-01). Two rather than one: while one turn waits for the
action server, the other uses the CPU (one at a time cost a fifth of the turns per second).

A turn whose calls to an endpoint (the action server) take longer than `PATIENCE_SECONDS` in all
gives its place to the next one and finishes without it: a slow or hung action server holds up the
turns that need it, not every conversation. The patience is the turn's, not each call's: a form
step calls the action server twice, and a server just under the limit per call must not hold two
places for twice the limit.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from contextvars import ContextVar
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.utils.endpoints import EndpointConfig

TURNS_AT_ONCE = 2
PATIENCE_SECONDS = 0.5


class Admission:
    """At most `limit` holders at once; the others wait first come first served, and a place that
    is given back goes straight to the first of them (a newcomer never takes it in between)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.inside = 0
        self.waiting: deque[asyncio.Future[None]] = deque()

    async def enter(self) -> None:
        if self.inside < self.limit and not self.waiting:
            self.inside += 1
            return
        place = asyncio.get_running_loop().create_future()
        self.waiting.append(place)
        try:
            await place
        except asyncio.CancelledError:
            if place.done() and not place.cancelled():
                self.leave()  # given a place just as the wait was cancelled: pass it on
            else:
                with suppress(ValueError):
                    self.waiting.remove(place)
            raise

    def leave(self) -> None:
        while self.waiting:
            place = self.waiting.popleft()
            if not place.done():
                place.set_result(None)  # the place changes hands: `inside` stays as it is
                return
        self.inside -= 1


class _Place:
    """One turn's place, given back once: when the turn ends or when it has waited too long elsewhere."""

    def __init__(self, admission: Admission) -> None:
        self.admission = admission
        self.held = True
        self.patience = PATIENCE_SECONDS  # what is left of the time it may spend away with the place

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self.admission.leave()


_admissions: dict[asyncio.AbstractEventLoop, Admission] = {}
_place: ContextVar[_Place | None] = ContextVar("turn_place", default=None)


def admission() -> Admission:
    """This event loop's admission (Rasa's server has one loop; tests run several)."""
    loop = asyncio.get_running_loop()
    if loop not in _admissions:
        _admissions[loop] = Admission(TURNS_AT_ONCE)
    return _admissions[loop]


@asynccontextmanager
async def turn() -> AsyncIterator[None]:
    """A place for the turn run inside, given back when it ends however it ends."""
    door = admission()
    await door.enter()
    place = _Place(door)
    token = _place.set(place)
    try:
        yield
    finally:
        _place.reset(token)
        place.give_back()


@asynccontextmanager
async def away() -> AsyncIterator[None]:
    """Around a call out of Rasa: the turn keeps its place while its patience lasts, then gives it up."""
    place = _place.get()
    if place is None or not place.held:
        yield
        return
    loop = asyncio.get_running_loop()
    started = loop.time()
    timer = loop.call_later(place.patience, place.give_back)
    try:
        yield
    finally:
        timer.cancel()
        place.patience -= loop.time() - started


def install() -> None:
    """Admit Rasa's message handling through the door, and time its calls to endpoints."""
    handle_message = MessageProcessor.handle_message
    request = EndpointConfig.request

    async def admitted(self: MessageProcessor, message: UserMessage) -> Any:
        async with turn():
            return await handle_message(self, message)

    async def timed(self: EndpointConfig, *args: Any, **kwargs: Any) -> Any:
        async with away():
            return await request(self, *args, **kwargs)

    MessageProcessor.handle_message = admitted  # type: ignore[method-assign]
    EndpointConfig.request = timed  # type: ignore[method-assign]
