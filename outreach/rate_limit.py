"""A token bucket per channel in Redis: at most N SMS segments a second, shared by all workers.

One Lua script refills and takes atomically, so concurrent workers never overspend.
Without Redis (the demo) nothing is limited.
"""

from functools import cache

import redis
from django.conf import settings

# KEYS[1] bucket; ARGV: rate per second, cost, now (seconds, float). Returns seconds to wait.
_TAKE = """
local rate = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or rate
local at = tonumber(state[2]) or now
tokens = math.min(rate, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
else
  wait = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('EXPIRE', KEYS[1], 60)
return tostring(wait)
"""


def take(*, channel_id: int, cost: int, per_second: int) -> float:
    """Take `cost` tokens from the channel's bucket: 0.0 if granted, else seconds to wait."""
    client = _client()
    if client is None:
        return 0.0
    seconds, microseconds = client.time()
    now = seconds + microseconds / 1_000_000  # Redis's clock: one clock for every worker
    wait = _script()(keys=[f"amani:bucket:channel:{channel_id}"], args=[per_second, cost, now])
    return float(wait)


@cache
def _client() -> redis.Redis | None:
    return redis.Redis.from_url(settings.REDIS_URL) if settings.REDIS_URL else None


@cache
def _script():
    return _client().register_script(_TAKE)
