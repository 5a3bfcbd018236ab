"""A Redis lock store whose every change is atomic, so several Rasa servers can share conversations.

Rasa 3.6's `RedisLockStore` reads a conversation's ticket lock, changes it and writes it back
without a transaction. When two Rasa servers take messages of one conversation at the same moment,
both can read the same lock and get the same ticket, and then run their turns at the same time;
the SQL tracker store then keeps one turn's events and silently drops the other's. Here each
read-change-write of a lock runs in a Redis WATCH/MULTI transaction, retried when another server
changed the lock in between. Configured in deploy/endpoints.production.yml with the same keys as
Rasa's own redis lock store.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

log = logging.getLogger(__name__)
T = TypeVar("T")


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
