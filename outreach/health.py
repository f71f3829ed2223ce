"""Liveness (`/healthz`) and readiness (`/readyz`), JSON per component.

Readiness checks the database, Redis and — when a broker is configured — that
at least one Celery worker answers a ping. A component that is not configured
(the demo has no Redis) is reported as "skipped" and does not fail readiness.
"""

import time
from collections.abc import Callable
from typing import Any

import redis
from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

Check = Callable[[], dict[str, Any]]


@transaction.non_atomic_requests
@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and serving requests; touches nothing else."""
    return JsonResponse({"status": "ok"})


@transaction.non_atomic_requests
@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Every configured dependency answers; 503 as soon as one does not."""
    components = {name: _timed(check) for name, check in CHECKS.items()}
    ready = all(component["status"] in ("ok", "skipped") for component in components.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "components": components},
        status=200 if ready else 503,
    )


def check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"status": "ok", "vendor": connection.vendor}


def check_redis() -> dict[str, Any]:
    if not settings.REDIS_URL:
        return {"status": "skipped", "reason": "REDIS_URL is not set (demo mode)."}
    timeout = settings.HEALTH_CHECK_TIMEOUT_SECONDS
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout
    )
    try:
        client.ping()
    finally:
        client.close()
    return {"status": "ok"}


def check_celery() -> dict[str, Any]:
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.CELERY_BROKER_URL:
        return {"status": "skipped", "reason": "No broker: tasks run in-process."}
    from config.celery import app

    replies = app.control.ping(timeout=settings.HEALTH_CHECK_TIMEOUT_SECONDS) or []
    if not replies:
        return {"status": "down", "error": "No Celery worker answered a ping."}
    return {"status": "ok", "workers": len(replies)}


CHECKS: dict[str, Check] = {
    "database": check_database,
    "redis": check_redis,
    "celery": check_celery,
}


def _timed(check: Check) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = check()
    except Exception as error:
        # The class name only: error texts can carry connection strings with passwords.
        result = {"status": "down", "error": type(error).__name__}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result
