"""Prometheus metrics for operators (served at /metrics): what the engine is doing, no one's data.

Two kinds of figure, one design that holds across processes and hosts:

- Events (sends handed to a provider, provider refusals, rate-limiter refusals and waits,
  webhook latency) are counted in Redis where they happen: one HINCRBY per batch or request
  (none extra on the rate limiter: its script counts). Every gunicorn and Celery process on
  every host adds to the same counters, so one scrape of any web process sees them all; no
  per-process files to aggregate (prometheus_client's multiprocess mode sees one host only).
  Redis losing its data reads as a counter reset, which Prometheus's rate() expects; without
  Redis (the demo) events are not counted and `amani_event_counters_up` is 0.
- State (messages by status, Celery queue depths and ages, the status inbox's lag) is read at
  scrape time by `AmaniCollector`: one grouped query over the last day's messages (a BRIN
  index on created_at keeps it to that day's pages), one on the inbox, a few Redis reads.

Labels are channel kind, channel id, status, queue, webhook and error code: never a number,
a name or an organization.
"""

import json
import logging
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import timedelta

import redis
from celery.signals import before_task_publish
from django.conf import settings
from django.db.models import Count
from django.db.models.functions import Now
from django.utils import timezone
from prometheus_client.core import (
    CollectorRegistry,
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import Collector

from outreach.outage_log import warn_outage
from outreach.privacy import mask_phone_numbers_in
from outreach.redis_client import redis_client

logger = logging.getLogger(__name__)

# Messages created this long ago or less are counted by status.
MESSAGES_WINDOW = timedelta(hours=24)
# Webhook latency buckets, in seconds: a signed callback should take a few milliseconds.
WEBHOOK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# Stamped on every Celery task message, so the oldest waiting one tells its queue's age.
PUBLISHED_AT_HEADER = "amani_published_at"

SENT_KEY = "amani:metrics:sent"
PROVIDER_ERRORS_KEY = "amani:metrics:provider_errors"
RATE_LIMIT_REFUSALS_KEY = "amani:metrics:rate_limit_refusals"  # counted by rate_limit's script
RATE_LIMIT_WAIT_KEY = "amani:metrics:rate_limit_wait_seconds"
WEBHOOK_KEY = "amani:metrics:webhook_seconds"
_SEP = "|"


# --- Counting events, where they happen -------------------------------------------------


def messages_sent(channel_kinds: Iterable[str]) -> None:
    """Count messages a provider took, one channel kind per message."""
    counts = Counter(channel_kinds)
    _add(SENT_KEY, dict(counts))


def provider_refused(*, channel_kind: str, code: str) -> None:
    """Count one provider error at the send (its code, or "none" when it gave none)."""
    _add(PROVIDER_ERRORS_KEY, {f"{channel_kind}{_SEP}{error_code_label(code)}": 1})


def rate_limit_waited(*, channel_id: int, seconds: float) -> None:
    """Count time a dispatcher slept waiting for its channel's tokens."""
    if seconds > 0:
        _add(RATE_LIMIT_WAIT_KEY, {str(channel_id): seconds})


def webhook_handled(*, webhook: str, seconds: float) -> None:
    """Observe one webhook request's time in the histogram (its bucket, sum and count)."""
    bucket = next((str(le) for le in WEBHOOK_BUCKETS if seconds <= le), "+Inf")
    _add(
        WEBHOOK_KEY,
        {
            f"{webhook}{_SEP}{bucket}": 1,
            f"{webhook}{_SEP}sum": seconds,
            f"{webhook}{_SEP}count": 1,
        },
    )


_LABEL_SAFE = re.compile(r"^[A-Za-z0-9_./-]{1,16}$")


def error_code_label(code: str) -> str:
    """A provider's error code as a label: its own words only when they are a short code,
    and never a number that could be a person's."""
    if not code:
        return "none"
    if not _LABEL_SAFE.match(code) or sum(c.isdigit() for c in code) >= 7:
        return "other"  # a national number has 7 digits or more: never a label
    return mask_phone_numbers_in(code)


@before_task_publish.connect(weak=False, dispatch_uid="amani-published-at")
def _stamp_published_at(headers: dict | None = None, **kwargs: object) -> None:
    if headers is not None:
        headers.setdefault(PUBLISHED_AT_HEADER, time.time())


# After Redis failed to count, events are not counted for this long: a webhook or a send must
# not wait out Redis's timeouts for a metric (a scrape shows amani_event_counters_up 0). The
# pause is kept on the client, so a client built anew (new settings) counts at once.
PAUSE_AFTER_OUTAGE = 30.0


def counting_paused(client: redis.Redis) -> bool:
    return time.monotonic() < getattr(client, "amani_counting_paused_until", 0.0)


def _add(key: str, amounts: dict[str, float]) -> None:
    client = redis_client()
    if client is None or not amounts or counting_paused(client):
        return
    try:
        with client.pipeline(transaction=False) as pipe:
            for field, amount in amounts.items():
                if isinstance(amount, int):
                    pipe.hincrby(key, field, amount)
                else:
                    pipe.hincrbyfloat(key, field, amount)
            pipe.execute()
    except redis.RedisError:
        paused = time.monotonic() + PAUSE_AFTER_OUTAGE
        client.amani_counting_paused_until = paused  # type: ignore[attr-defined]
        warn_outage(logger, "metrics not counted (Redis unavailable)")


# --- The scrape ---------------------------------------------------------------------------


class AmaniCollector(Collector):
    """Every figure of /metrics, read when Prometheus scrapes."""

    def collect(self) -> Iterator[object]:
        yield from _messages_by_status()
        yield from _status_inbox()
        yield from _celery_queues()
        yield from _event_counters()


REGISTRY = CollectorRegistry(auto_describe=False)
REGISTRY.register(AmaniCollector())


def _messages_by_status() -> Iterator[object]:
    from outreach.models import Channel, OutboundMessage, OutboundStatus

    rows = (
        # The database's clock, which stamped the rows (fan-out writes them in SQL).
        OutboundMessage.objects.filter(created_at__gte=Now() - MESSAGES_WINDOW)
        .order_by()
        .values_list("channel_id", "status", "error_code")
        .annotate(n=Count("id"))
    )
    kinds = dict(Channel.objects.values_list("pk", "kind"))
    by_status: Counter[tuple[str, str]] = Counter()
    errors: Counter[tuple[str, str, str]] = Counter()
    for channel_id, status, error_code, n in rows:
        kind = kinds.get(channel_id, "unknown")
        by_status[(kind, status)] += n
        if status in (OutboundStatus.FAILED, OutboundStatus.UNDELIVERED):  # no code: "none"
            errors[(kind, status, error_code_label(error_code))] += n
    messages = GaugeMetricFamily(
        "amani_messages",
        "Messages created in the last 24 hours, by channel kind and their status now.",
        labels=["channel_kind", "status"],
    )
    for kind in sorted({kind for kind, _ in by_status}):
        for status in OutboundStatus.values:  # every status, 0 too: series do not come and go
            messages.add_metric([kind, status], by_status[(kind, status)])
    yield messages
    failed = GaugeMetricFamily(
        "amani_messages_failed",
        "Messages created in the last 24 hours that failed or went undelivered, by the "
        "provider's error code (at the send or in a delivery report).",
        labels=["channel_kind", "status", "code"],
    )
    for (kind, status, code), n in sorted(errors.items()):
        failed.add_metric([kind, status, code], n)
    yield failed


def _status_inbox() -> Iterator[object]:
    from outreach.models import StatusReportInbox

    waiting = StatusReportInbox.objects.count()
    oldest = StatusReportInbox.objects.order_by("pk").values_list("received_at", flat=True)[:1]
    lag = max(0.0, (timezone.now() - oldest[0]).total_seconds()) if oldest else 0.0
    yield GaugeMetricFamily(
        "amani_status_inbox_reports", "Status reports received, not yet applied.", value=waiting
    )
    yield GaugeMetricFamily(
        "amani_status_inbox_lag_seconds",
        "Age of the oldest status report not yet applied (0 when none waits).",
        value=lag,
    )


# kombu's Redis transport keeps one list per priority step: "name", then "name\x06\x163" …
_PRIORITY_SEP = "\x06\x16"


def _celery_queues() -> Iterator[object]:
    client = _broker_client()
    if client is None:
        return  # tasks run in-process (the demo): there are no queues
    from kombu.transport.redis import PRIORITY_STEPS

    names = _queue_names()
    lists = {
        name: [name, *(f"{name}{_PRIORITY_SEP}{step}" for step in PRIORITY_STEPS[1:])]
        for name in names
    }
    try:
        with client.pipeline(transaction=False) as pipe:
            for keys in lists.values():
                for key in keys:
                    pipe.llen(key)
                    pipe.lindex(key, -1)  # LPUSH in, BRPOP out: the oldest is last
            answers = pipe.execute()
    except redis.RedisError:
        warn_outage(logger, "queue depths not read (broker unavailable)")
        return
    depth = GaugeMetricFamily(
        "amani_queue_depth", "Celery tasks waiting in each queue.", labels=["queue"]
    )
    age = GaugeMetricFamily(
        "amani_queue_oldest_task_age_seconds",
        "How long the oldest task waiting in each queue has waited (0 when none waits).",
        labels=["queue"],
    )
    now = time.time()
    position = 0
    for name, keys in lists.items():
        waiting, published = 0, []
        for _ in keys:
            length, tail = answers[position], answers[position + 1]
            position += 2
            waiting += length
            if tail is not None and (at := _published_at(tail)) is not None:
                published.append(at)
        depth.add_metric([name], waiting)
        age.add_metric([name], max(0.0, now - min(published)) if published else 0.0)
    yield depth
    yield age


def _event_counters() -> Iterator[object]:
    client = redis_client()
    keys = [SENT_KEY, PROVIDER_ERRORS_KEY, RATE_LIMIT_REFUSALS_KEY, RATE_LIMIT_WAIT_KEY]
    counted: list[dict[bytes, bytes]] = [{} for _ in range(len(keys) + 1)]
    up = 0
    if client is not None:
        try:
            with client.pipeline(transaction=False) as pipe:
                for key in [*keys, WEBHOOK_KEY]:
                    pipe.hgetall(key)
                counted = pipe.execute()
            up = 1
        except redis.RedisError:
            warn_outage(logger, "metrics' counters not read (Redis unavailable)")
    sent, refused, refusals, waited, webhooks = (_decoded(hash_) for hash_ in counted)
    yield GaugeMetricFamily(
        "amani_event_counters_up",
        "1 when the event counters (in Redis) could be read; 0 without Redis.",
        value=up,
    )
    family = CounterMetricFamily(
        "amani_messages_sent",
        "Messages handed to a provider and taken by it, by channel kind.",
        labels=["channel_kind"],
    )
    for kind, n in sorted(sent.items()):
        family.add_metric([kind], float(n))
    yield family
    family = CounterMetricFamily(
        "amani_provider_errors",
        "Errors a provider answered a send with, by channel kind and the provider's code.",
        labels=["channel_kind", "code"],
    )
    for field, n in sorted(refused.items()):
        kind, _, code = field.partition(_SEP)
        family.add_metric([kind, code], float(n))
    yield family
    family = CounterMetricFamily(
        "amani_rate_limit_refusals",
        "Times a channel's rate limiter refused tokens (the sender waited or queued again).",
        labels=["channel_id"],
    )
    for channel_id, n in sorted(refusals.items()):
        family.add_metric([channel_id], float(n))
    yield family
    family = CounterMetricFamily(
        "amani_rate_limit_wait_seconds",
        "Seconds dispatchers slept waiting for a channel's rate limiter.",
        labels=["channel_id"],
    )
    for channel_id, seconds in sorted(waited.items()):
        family.add_metric([channel_id], float(seconds))
    yield family
    yield _webhook_histogram(webhooks)


def _webhook_histogram(fields: dict[str, str]) -> HistogramMetricFamily:
    histogram = HistogramMetricFamily(
        "amani_webhook_duration_seconds",
        "Time to handle a provider's webhook request, by webhook.",
        labels=["webhook"],
    )
    names = sorted({field.partition(_SEP)[0] for field in fields})
    for name in names:
        cumulative, buckets = 0.0, []
        for le in [*(str(b) for b in WEBHOOK_BUCKETS), "+Inf"]:
            cumulative += float(fields.get(f"{name}{_SEP}{le}", 0))
            buckets.append((le, cumulative))
        histogram.add_metric([name], buckets, sum_value=float(fields.get(f"{name}{_SEP}sum", 0)))
    return histogram


def _decoded(hash_: dict[bytes, bytes]) -> dict[str, str]:
    return {key.decode(): value.decode() for key, value in hash_.items()}


def _published_at(raw: bytes) -> float | None:
    try:
        return float(json.loads(raw)["headers"][PUBLISHED_AT_HEADER])
    except (ValueError, KeyError, TypeError):
        return None  # a message from before the stamp, or not Celery's


def _queue_names() -> list[str]:
    from config.celery import app

    names = {queue.name for queue in app.conf.task_queues or ()}
    names |= {route["queue"] for route in (app.conf.task_routes or {}).values() if "queue" in route}
    names.add(app.conf.task_default_queue)
    return sorted(names)


_broker: redis.Redis | None = None


def _broker_client() -> redis.Redis | None:
    """A client on the Celery broker (often REDIS_URL, but not always); None without one."""
    global _broker
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):  # the demo's memory:// (no queues)
        return None
    if url == settings.REDIS_URL:
        return redis_client()
    if _broker is None:
        from outreach.redis_client import COMMAND_TIMEOUT_SECONDS, CONNECT_TIMEOUT_SECONDS

        _broker = redis.Redis.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            socket_timeout=COMMAND_TIMEOUT_SECONDS,
        )
    return _broker
