"""The one Redis connection pool of a process, for the rate limiter and wave activity."""

from functools import cache

import redis
from django.conf import settings


@cache
def redis_client() -> redis.Redis | None:
    """A client on REDIS_URL, or None without Redis (the demo)."""
    return redis.Redis.from_url(settings.REDIS_URL) if settings.REDIS_URL else None
