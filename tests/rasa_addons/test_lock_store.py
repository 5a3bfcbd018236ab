"""Two lock stores on one Redis (two Rasa servers) never serve the same conversation at once."""

from __future__ import annotations

import asyncio
import os
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from rasa.utils.endpoints import EndpointConfig

from rasa_addons.lock_store import AtomicRedisLockStore

HOST = os.environ.get("PRODUCTION_TEST_REDIS_HOST", "127.0.0.1")
PORT = int(os.environ.get("PRODUCTION_TEST_REDIS_PORT", "6379"))


@pytest.fixture
def stores():
    try:
        redis.Redis(host=HOST, port=PORT, socket_timeout=3).ping()
    except redis.RedisError as error:
        if os.environ.get("REQUIRE_PRODUCTION_TESTS"):
            pytest.fail(f"Redis at {HOST}:{PORT} is required: {type(error).__name__}")
        pytest.skip(f"Redis at {HOST}:{PORT} is not reachable ({type(error).__name__})")
    prefix = "lt" + secrets.token_hex(4)
    config = EndpointConfig(url=HOST, port=str(PORT), db="1", password="", key_prefix=prefix, type="x")
    yield AtomicRedisLockStore(config), AtomicRedisLockStore(config)
    client = redis.Redis(host=HOST, port=PORT, db=1)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def test_tickets_issued_at_the_same_moment_are_all_different(stores):
    conversation = "c-" + secrets.token_hex(4)
    with ThreadPoolExecutor(16) as pool:
        tickets = list(pool.map(lambda n: stores[n % 2].issue_ticket(conversation), range(64)))
    assert sorted(tickets) == list(range(64))


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

    loop = asyncio.new_event_loop()  # its own loop, closed here: nothing left for later tests to collect
    try:
        loop.run_until_complete(all_turns())
    finally:
        loop.close()
    assert (served, overlaps) == (20, 0)
    assert stores[0].get_lock(conversation) is None  # the last turn removed the lock
