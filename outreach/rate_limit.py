"""A token bucket per channel in Redis: at most N SMS segments a second, shared by all workers.

One Lua script reads Redis's clock, refills and takes atomically, so concurrent workers never
overspend and one round trip decides. A take dearer than the whole bucket (a long message on
a slow channel) is granted once the bucket is full and leaves it in debt, so it is paid for.
Dispatch takes tokens for a few messages at once. Without Redis (the demo) nothing is limited.
"""

from functools import cache

from outreach.redis_client import redis_client

# KEYS[1] bucket; ARGV: rate per second, cost. Returns seconds to wait ("0" when granted).
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
    # Redis's clock, read inside the script: one clock for every worker.
    wait = _script()(keys=[f"amani:bucket:channel:{channel_id}"], args=[per_second, cost])
    return float(wait)


@cache
def _script():
    return redis_client().register_script(_TAKE)
