"""API throttling that fails open: Redis holds no data, so losing it never takes the API down."""

import logging
from typing import TYPE_CHECKING

import redis
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

from outreach.outage_log import warn_outage

if TYPE_CHECKING:  # DRF imports this module while it builds rest_framework.views
    from rest_framework.request import Request
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)


class FailOpenUserRateThrottle(UserRateThrottle):
    """DRF's per-user rate, counted in the shared cache; every request passes while it is down."""

    def get_rate(self) -> str | None:
        # Read per request, not once at import: a changed setting (or a test's) takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request: "Request", view: "APIView") -> bool:
        try:
            return super().allow_request(request, view)
        except (redis.RedisError, OSError) as error:
            # The class name only: the error's text can carry the cache's URL and password.
            warn_outage(
                logger, "API throttling off: the cache is unreachable (%s)", type(error).__name__
            )
            return True
