"""API throttling that fails open: Redis holds no data, so losing it never takes the API down."""

import logging
import threading
import time
from typing import TYPE_CHECKING

import redis
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

if TYPE_CHECKING:  # DRF imports this module while it builds rest_framework.views
    from rest_framework.request import Request
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)

# While the cache is down every request would say so: one line a minute per process is enough.
WARN_AT_MOST_EVERY = 60.0
_last_warned = float("-inf")
_warn_lock = threading.Lock()


class FailOpenUserRateThrottle(UserRateThrottle):
    """DRF's per-user rate, counted in the shared cache; every request passes while it is down."""

    def get_rate(self) -> str | None:
        # Read per request, not once at import: a changed setting (or a test's) takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request: "Request", view: "APIView") -> bool:
        try:
            return super().allow_request(request, view)
        except (redis.RedisError, OSError) as error:
            _warn_cache_down(error)
            return True


def _warn_cache_down(error: Exception) -> None:
    global _last_warned
    now = time.monotonic()
    with _warn_lock:
        if now - _last_warned < WARN_AT_MOST_EVERY:
            return
        _last_warned = now
    # The class name only: the error's text can carry the cache's URL and password.
    logger.warning("API throttling off: the cache is unreachable (%s)", type(error).__name__)
