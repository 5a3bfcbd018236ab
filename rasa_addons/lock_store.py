"""A Redis lock store whose every change is atomic, so several Rasa servers can share conversations.

Rasa 3.6's `RedisLockStore` reads a conversation's ticket lock, changes it and writes it back
without a transaction. When two Rasa servers take messages of one conversation at the same moment,
both can read the same lock and get the same ticket, and then run their turns at the same time;
the SQL tracker store then keeps one turn's events and silently drops the other's. Here each
read-change-write of a lock runs in a Redis WATCH/MULTI transaction, retried when another server
changed the lock in between. Configured in deploy/endpoints.production.yml with the same keys as
Rasa's own redis lock store.

Rasa gives each ticket a fixed lifetime of 60 s, so a server killed in the middle of a turn held up
every later turn of that conversation on the other servers for up to a minute: the person got the
apology to each message meanwhile. Here a ticket is a lease: it lives `LEASE_SECONDS` and the server
that holds it renews it every `RENEW_SECONDS` for as long as it waits for its turn or runs it, so a
live server keeps its place however long the turn takes, and a dead server's ticket lapses within
`LEASE_SECONDS`. A renewal can be late only if the server's event loop is blocked for longer than
`LEASE_SECONDS - RENEW_SECONDS`; then the next turn could start before this one ends.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

log = logging.getLogger(__name__)
T = TypeVar("T")

LEASE_SECONDS = 10.0
RENEW_SECONDS = 2.0


class AtomicRedisLockStore(RedisLockStore):
    """`RedisLockStore` with atomic ticket issuing, expiry and clean-up."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)

    def _change(self, conversation_id: str, change: Callable[[TicketLock | None], tuple[TicketLock | None, T]]) -> T:
        """Apply `change` to the stored lock in one transaction; None as the new lock deletes it."""
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    stored = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(stored)) if stored else None
                    new_lock, result = change(lock)
                    pipe.multi()
                    if new_lock is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, new_lock.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:
                    log.debug("lock changed by another server meanwhile; retrying")

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: TicketLock | None) -> tuple[TicketLock, int]:
            lock = lock or TicketLock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, issue)
        except redis.RedisError as error:
            raise LockError(f"Error while acquiring lock: {type(error).__name__}") from None

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncIterator[TicketLock]:
        """Rasa's lock, with a ticket leased for `LEASE_SECONDS` and renewed until it is given back.

        `lock_lifetime` is Rasa's fixed lifetime, which the lease replaces.
        """
        ticket = self.issue_ticket(conversation_id, LEASE_SECONDS)
        renewal = asyncio.ensure_future(self._keep_renewing(conversation_id, ticket))
        try:
            yield await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
        finally:
            renewal.cancel()
            with suppress(asyncio.CancelledError):
                await renewal
            self.cleanup(conversation_id, ticket)

    async def _acquire_lock(self, conversation_id: str, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        """Wait for the ticket's turn, as Rasa does, but give up with LockError once the ticket has lapsed
        (Rasa's own loop then waits forever: a ticket no longer in the lock is never served)."""
        while True:
            lock = self.get_lock(conversation_id)
            if lock is None or all(t.number != ticket for t in lock.tickets):
                raise LockError("a lock ticket lapsed while it waited for its turn")
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
            self.update_lock(conversation_id)

    async def _keep_renewing(self, conversation_id: str, ticket_number: int) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            try:
                self.renew(conversation_id, ticket_number)
            except redis.RedisError as error:  # the next renewal may get through; the lease allows a few
                log.warning("could not renew a lock ticket: %s", type(error).__name__)

    def renew(self, conversation_id: str, ticket_number: int) -> None:
        """Extend the ticket to `LEASE_SECONDS` from now (if it is still there)."""

        def extend(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            for ticket in lock.tickets if lock is not None else ():
                if ticket.number == ticket_number:
                    ticket.expires = time.time() + LEASE_SECONDS
            return lock, None

        self._change(conversation_id, extend)

    def update_lock(self, conversation_id: str) -> None:
        def expire(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, expire)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Give the ticket back, and remove the lock if no one else is waiting, in one step."""

        def finish(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._change(conversation_id, finish)
