"""Which waves changed since their report cells were computed: a set of wave ids in Redis.

Sends, status reports, cancellations, replies, opt-outs, poll answers and clicks mark
their wave, after their transaction commits; the rollup task (campaigns) recomputes the
marked waves only, so a quiet wave costs nothing however many messages it has. Without
Redis (the demo) nothing is marked and every recent wave is recomputed. A mark lost with
Redis costs little: every recent wave is recomputed at least every few minutes anyway.
"""

import logging
from collections.abc import Callable, Iterable

import redis
from django.db import transaction

from outreach.redis_client import redis_client

logger = logging.getLogger(__name__)

KEY = "amani:waves:changed"


def waves_changed(wave_ids: Iterable[int | None]) -> None:
    """Mark these waves (None is ignored) once the current transaction commits."""
    ids = {int(wave_id) for wave_id in wave_ids if wave_id}
    if ids:
        transaction.on_commit(lambda: _mark(ids))


FailureHandler = Callable[[list[int]], None]
_failure_handlers: list[FailureHandler] = []


def register_failure_handler(handler: FailureHandler) -> None:
    """Let campaigns act when wave messages fail for good (a fallback channel). Idempotent."""
    if handler not in _failure_handlers:
        _failure_handlers.append(handler)


def wave_messages_failed(message_ids: Iterable[int]) -> None:
    """These wave messages failed for good (an error, or undelivered): note them in the
    current transaction (FallbackDue) and, once it commits, tell the handlers (campaigns
    sends the next channel's message; what a lost task leaves, the wave tick takes)."""
    from outreach.models import FallbackDue

    ids = sorted(set(message_ids))
    if not ids:
        return
    FallbackDue.objects.bulk_create(
        [FallbackDue(message_id=message_id) for message_id in ids], ignore_conflicts=True
    )
    if _failure_handlers:
        transaction.on_commit(lambda: [handler(ids) for handler in _failure_handlers])


def waves_changed_take() -> set[int] | None:
    """The marked waves, unmarked at once; None when nothing is tracked (no Redis)."""
    client = redis_client()
    if client is None:
        return None
    try:
        with client.pipeline() as pipe:  # MULTI/EXEC: no mark slips between read and delete
            members, _ = pipe.smembers(KEY).delete(KEY).execute()
    except redis.RedisError:
        logger.warning("wave activity could not be read; every recent wave will be recomputed")
        return None
    return {int(member) for member in members}


def _mark(ids: set[int]) -> None:
    client = redis_client()
    if client is None:
        return
    try:
        client.sadd(KEY, *ids)
    except redis.RedisError:
        logger.warning("wave activity not marked (Redis); the periodic full refresh catches up")
