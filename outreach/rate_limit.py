"""A token bucket per channel in Redis: at most N SMS segments a second, shared by all workers.

One Lua script reads Redis's clock, refills and takes atomically, so concurrent workers never
overspend and one round trip decides. A take dearer than the whole bucket (a long message on
a slow channel) is granted once the bucket is full and leaves it in debt, so it is paid for.
Dispatch takes tokens for a few messages at once. Without Redis (the demo) nothing is limited.
"""

import logging
import threading
import time
from functools import cache

import redis

from outreach.metrics import RATE_LIMIT_REFUSALS_KEY
from outreach.outage_log import warn_outage
from outreach.redis_client import redis_client

logger = logging.getLogger(__name__)

# KEYS[1] bucket, KEYS[2] the refusals counted for /metrics; ARGV: rate per second, cost, the
# channel id. Returns seconds to wait ("0" when granted).
_TAKE = """
local rate = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or rate
local at = tonumber(state[2]) or now
tokens = math.min(rate, tokens + math.max(0, now - at) * rate)
local wait = 0
local needed = math.min(cost, rate)
if tokens >= needed then
  tokens = tokens - cost
else
  wait = (needed - tokens) / rate
  redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('EXPIRE', KEYS[1], 60)
return tostring(wait)
"""


def take(*, channel_id: int, cost: int, per_second: int) -> float:
    """Take `cost` tokens from the channel's bucket: 0.0 if granted, else seconds to wait."""
    client = redis_client()
    if client is None:
        return 0.0
    try:
        # Redis's clock, read inside the script: one clock for every worker.
        wait = _script()(
            keys=[f"amani:bucket:channel:{channel_id}", RATE_LIMIT_REFUSALS_KEY],
            args=[per_second, cost, channel_id],
        )
    except redis.RedisError:
        # Redis holds no data: without it, each process keeps a share of the rate itself.
        return _local_take(channel_id, cost, per_second)
    return float(wait)


_local: dict[int, tuple[float, float]] = {}  # channel -> (tokens, at)
_local_lock = threading.Lock()


def _local_take(channel_id: int, cost: int, per_second: int) -> float:
    """The same bucket in this process, at a share of the rate, while Redis is away."""
    from django.conf import settings

    warn_outage(logger, "rate limiter unavailable (Redis); limiting in this process")
    rate = max(1.0, per_second / max(1, settings.DISPATCHERS_PER_CHANNEL))
    now = time.monotonic()
    with _local_lock:
        tokens, at = _local.get(channel_id, (rate, now))
        tokens = min(rate, tokens + (now - at) * rate)
        needed = min(cost, rate)
        if tokens >= needed:
            _local[channel_id] = (tokens - cost, now)
            return 0.0
        _local[channel_id] = (tokens, now)
        return (needed - tokens) / rate


@cache
def _script():
    return redis_client().register_script(_TAKE)
