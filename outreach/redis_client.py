"""The one Redis connection pool of a process, for the rate limiter and wave activity."""

from functools import cache

import redis
from django.conf import settings

# A Redis that is down or unreachable costs a caller at most this long, never a hung request.
CONNECT_TIMEOUT_SECONDS = 1.0
COMMAND_TIMEOUT_SECONDS = 2.0


@cache
def redis_client() -> redis.Redis | None:
    """A client on REDIS_URL, or None without Redis (the demo)."""
    if not settings.REDIS_URL:
        return None
    return redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=COMMAND_TIMEOUT_SECONDS,
    )
