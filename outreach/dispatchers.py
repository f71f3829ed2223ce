"""At most DISPATCHERS_PER_CHANNEL dispatchers per channel: slots in Redis, kept by heartbeat.

A dispatcher takes a free slot (a Redis lock with a time to live) before it claims
anything and renews it while it works, including while it waits for tokens; a task that
finds every slot taken ends at once, so however many dispatch tasks fan-outs, retries and
ticks enqueue, a channel never has more dispatchers than slots. A dispatcher that dies
frees its slot when the lock's time runs out. Correctness never rests on the slots (every
send is fenced on its claim in the database): with Redis down, dispatch goes on unbounded
and says so once.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import redis
from django.conf import settings
from redis.exceptions import LockError

from outreach.outage_log import warn_outage
from outreach.redis_client import redis_client

logger = logging.getLogger(__name__)

SLOT_SECONDS = 30  # a slot's time to live; its holder renews it every few seconds


class Slot:
    """One held slot; `heartbeat()` renews it and answers whether it is still ours."""

    def __init__(self, lock: redis.lock.Lock | None) -> None:
        self._lock = lock

    def heartbeat(self) -> bool:
        if self._lock is None:
            return True
        try:
            self._lock.reacquire()
            return True
        except LockError:
            logger.warning("a dispatcher lost its slot; it stops after this group")
            return False
        except redis.RedisError:
            return True  # Redis is down: the database fences every send, go on

    def release(self) -> None:
        if self._lock is None:
            return
        with suppress(LockError, redis.RedisError):  # expired, or Redis is gone: it frees itself
            self._lock.release()


@contextmanager
def dispatcher_slot(channel_id: int) -> Iterator[Slot | None]:
    """A free dispatcher slot of the channel for the `with` block, or None when all are held."""
    slot = _take(channel_id)
    try:
        yield slot
    finally:
        if slot is not None:
            slot.release()


def dispatchers_active(channel_id: int) -> int:
    """How many dispatchers hold a slot of the channel now (0 without Redis)."""
    client = redis_client()
    if client is None:
        return 0
    try:
        return int(client.exists(*_names(channel_id)))
    except redis.RedisError:
        return 0


def _take(channel_id: int) -> Slot | None:
    client = redis_client()
    if client is None:
        return Slot(None)  # the demo: tasks run in-process, one at a time
    try:
        for name in _names(channel_id):
            lock = client.lock(name, timeout=SLOT_SECONDS, blocking=False, thread_local=False)
            if lock.acquire(blocking=False):
                return Slot(lock)
    except redis.RedisError:
        warn_outage(logger, "dispatcher slots unavailable (Redis); dispatching unbounded")
        return Slot(None)
    return None


def _names(channel_id: int) -> list[str]:
    count = max(1, settings.DISPATCHERS_PER_CHANNEL)
    return [f"amani:dispatcher:{channel_id}:{slot}" for slot in range(count)]
