"""Two lock stores on one Redis (two Rasa servers) never serve the same conversation at once."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from rasa.utils.endpoints import EndpointConfig

from bot.config import ROOT
from rasa_addons import lock_store
from rasa_addons.lock_store import AtomicRedisLockStore
from tests.support import redis_for_tests


@pytest.fixture
def stores():
    host, port = redis_for_tests()
    prefix = "lt" + secrets.token_hex(4)
    config = EndpointConfig(url=host, port=str(port), db="1", password="", key_prefix=prefix, type="x")
    yield AtomicRedisLockStore(config), AtomicRedisLockStore(config)
    client = redis.Redis(host=host, port=port, db=1)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def test_tickets_issued_at_the_same_moment_are_all_different(stores):
    conversation = "c-" + secrets.token_hex(4)
    with ThreadPoolExecutor(16) as pool:
        tickets = list(pool.map(lambda n: stores[n % 2].issue_ticket(conversation), range(64)))
    assert sorted(tickets) == list(range(64))


def run(coroutine) -> None:
    loop = asyncio.new_event_loop()  # its own loop, closed here: nothing left for later tests to collect
    try:
        loop.run_until_complete(coroutine)
    finally:
        loop.close()


@pytest.fixture
def short_lease(monkeypatch) -> float:
    monkeypatch.setattr(lock_store, "LEASE_SECONDS", 0.6)
    monkeypatch.setattr(lock_store, "RENEW_SECONDS", 0.1)
    return 0.6


KILLED_MID_TURN = """
import asyncio, sys, time
from rasa.utils.endpoints import EndpointConfig
from bot.config import ROOT
from rasa_addons import lock_store
lock_store.LEASE_SECONDS, lock_store.RENEW_SECONDS = 0.6, 0.1
host, port, prefix, conversation = sys.argv[1:]
config = EndpointConfig(url=host, port=port, db="1", password="", key_prefix=prefix, type="x")

async def turn():
    async with lock_store.AtomicRedisLockStore(config).lock(conversation):
        print("in", flush=True)
        time.sleep(60)  # killed here

asyncio.run(turn())
"""


def test_a_server_killed_mid_turn_holds_the_conversation_up_for_the_lease_not_rasas_minute(stores, short_lease):
    conversation = "c-" + secrets.token_hex(4)
    prefix = stores[0].key_prefix.split(":")[0]  # as configured, before Rasa adds its own
    host, port = redis_for_tests()
    command = [sys.executable, "-c", KILLED_MID_TURN, host, str(port), prefix, conversation]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as server:
        assert server.stdout.readline() == "in\n"
        server.kill()  # mid-turn: it never gives its ticket back, nor renews it
    assert [ticket.number for ticket in stores[1].get_lock(conversation).tickets] == [0]
    waited = []

    async def next_turn() -> None:
        started = time.monotonic()
        async with stores[1].lock(conversation, wait_time_in_seconds=0.05):
            waited.append(time.monotonic() - started)

    run(next_turn())
    assert waited[0] < short_lease + 1


def test_a_live_turn_longer_than_the_lease_keeps_its_place(stores, short_lease):
    conversation = "c-" + secrets.token_hex(4)
    log = []

    leases = []

    async def turn(store: AtomicRedisLockStore, name: str, seconds: float) -> None:
        async with store.lock(conversation, wait_time_in_seconds=0.05):
            log.append(f"{name} in")
            for _ in range(int(seconds / 0.2)):
                await asyncio.sleep(0.2)
                leases.append(store.get_lock(conversation).tickets[0].expires - time.time())
            log.append(f"{name} out")

    async def both() -> None:
        long = asyncio.ensure_future(turn(stores[0], "long", 4 * short_lease))
        await asyncio.sleep(0.1)
        await asyncio.gather(long, turn(stores[1], "next", 0))

    run(both())
    assert log == ["long in", "long out", "next in", "next out"]
    assert 0 < min(leases) and max(leases) <= short_lease  # renewed all along, never for Rasa's minute
    assert stores[0].get_lock(conversation) is None


def test_turns_of_one_conversation_never_overlap_across_stores(stores):
    conversation = "c-" + secrets.token_hex(4)
    inside, overlaps, served = 0, 0, 0

    async def turn(store: AtomicRedisLockStore) -> None:
        nonlocal inside, overlaps, served
        async with store.lock(conversation, wait_time_in_seconds=0.01):
            inside += 1
            overlaps += inside > 1
            await asyncio.sleep(0.005)
            inside -= 1
            served += 1

    async def all_turns() -> None:
        await asyncio.gather(*(turn(stores[n % 2]) for n in range(20)))

    run(all_turns())
    assert (served, overlaps) == (20, 0)
    assert stores[0].get_lock(conversation) is None  # the last turn removed the lock
