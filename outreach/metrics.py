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

The figures are read by outreach.selectors.engine, the one place the console's Engine page
reads them too; this module counts events and turns those readings into metric families.
Sends are also counted in 10-second buckets kept an hour (by channel kind and by wave), for
the console's "last minute / last hour" and a wave's send rate: a sliding window Prometheus
does not need (it takes rate() of the counter), a person watching a wave does.

Labels are channel kind, channel id, status, queue, webhook and error code: never a number,
a name or an organization.
"""

import atexit
import logging
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import redis
from celery.signals import before_task_publish
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

if TYPE_CHECKING:
    from outreach.selectors.engine import EventCounters, MessagesByStatus, Queues, StatusInbox

logger = logging.getLogger(__name__)

# Webhook latency buckets, in seconds: a signed callback should take a few milliseconds.
WEBHOOK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# Stamped on every Celery task message, so the oldest waiting one tells its queue's age.
PUBLISHED_AT_HEADER = "amani_published_at"

SENT_KEY = "amani:metrics:sent"
PROVIDER_ERRORS_KEY = "amani:metrics:provider_errors"
RATE_LIMIT_REFUSALS_KEY = "amani:metrics:rate_limit_refusals"  # counted by rate_limit's script
RATE_LIMIT_WAIT_KEY = "amani:metrics:rate_limit_wait_seconds"
WEBHOOK_KEY = "amani:metrics:webhook_seconds"
SEP = "|"
# Recent sends: one hash per 10 seconds ("amani:metrics:sent_recent:<bucket>"), fields
# "kind:<channel kind>" and "wave:<wave id>", each kept a little over an hour.
RECENT_KEY = "amani:metrics:sent_recent:"
RECENT_BUCKET_SECONDS = 10
RECENT_HOUR = 3600
RECENT_KIND = "kind:"
RECENT_WAVE = "wave:"
_RECENT_KEEP_SECONDS = RECENT_HOUR + 2 * RECENT_BUCKET_SECONDS


# --- Counting events, where they happen -------------------------------------------------


def messages_sent(sends: Iterable[tuple[str, int | None]]) -> None:
    """Count messages a provider took, one (channel kind, wave id or None) per message: in
    the lasting counter by kind, and in this moment's bucket by kind and by wave."""
    kinds: Counter[str] = Counter()
    recent: Counter[str] = Counter()
    for kind, wave_id in sends:
        kinds[kind] += 1
        recent[f"{RECENT_KIND}{kind}"] += 1
        if wave_id:
            recent[f"{RECENT_WAVE}{wave_id}"] += 1
    bucket = recent_key(int(time.time() // RECENT_BUCKET_SECONDS))
    _add(SENT_KEY, dict(kinds), also=(bucket, dict(recent)))


def recent_key(bucket: int) -> str:
    """The hash of recent sends for the 10-second bucket `bucket` (seconds since the epoch
    divided by RECENT_BUCKET_SECONDS)."""
    return f"{RECENT_KEY}{bucket}"


def provider_refused(*, channel_kind: str, code: str) -> None:
    """Count one provider error at the send (its code, or "none" when it gave none)."""
    _add(PROVIDER_ERRORS_KEY, {f"{channel_kind}{SEP}{error_code_label(code)}": 1})


def rate_limit_waited(*, channel_id: int, seconds: float) -> None:
    """Count time a dispatcher slept waiting for its channel's tokens."""
    if seconds > 0:
        _add(RATE_LIMIT_WAIT_KEY, {str(channel_id): seconds})


def webhook_handled(*, webhook: str, seconds: float) -> None:
    """Observe one webhook request's time in the histogram (its bucket, sum and count).

    Kept in this process and written to Redis at most once a second, in one round trip for
    every request of that second: a round trip per request was an eighth of a status
    callback's time. A second after the first unwritten one a timer writes them; reading
    the counters (a scrape, the Engine page) writes this process's first."""
    global _webhook_timer
    bucket = next((str(le) for le in WEBHOOK_BUCKETS if seconds <= le), "+Inf")
    with _webhook_lock:
        pending = _webhook_pending
        pending[f"{webhook}{SEP}{bucket}"] += 1
        pending[f"{webhook}{SEP}sum"] += seconds
        pending[f"{webhook}{SEP}count"] += 1
        if _webhook_timer is not None:
            return
        timer = _webhook_timer = threading.Timer(WEBHOOK_WRITE_EVERY, webhook_observations_write)
        timer.daemon = True
    timer.start()


def webhook_observations_write() -> None:
    """Write this process's kept webhook observations to Redis now (none: nothing)."""
    global _webhook_pending, _webhook_timer
    with _webhook_lock:
        pending, _webhook_pending = _webhook_pending, Counter()
        if _webhook_timer is not None and _webhook_timer is not threading.current_thread():
            _webhook_timer.cancel()
        _webhook_timer = None
    if pending:
        _add(WEBHOOK_KEY, {field: _as_counted(field, n) for field, n in pending.items()})


def _as_counted(field: str, amount: float) -> float:
    # Bucket and count fields are whole numbers (HINCRBY); the sum is seconds (HINCRBYFLOAT).
    return float(amount) if field.endswith(f"{SEP}sum") else int(amount)


WEBHOOK_WRITE_EVERY = 1.0  # seconds a process keeps webhook observations before writing them
_webhook_lock = threading.Lock()
_webhook_pending: Counter[str] = Counter()
_webhook_timer: threading.Timer | None = None


def _forget_webhook_observations_in_child() -> None:
    # A forked worker starts with none kept and no timer (the parent's does not run in it).
    global _webhook_lock, _webhook_pending, _webhook_timer
    _webhook_lock = threading.Lock()
    _webhook_pending = Counter()
    _webhook_timer = None


os.register_at_fork(after_in_child=_forget_webhook_observations_in_child)
atexit.register(webhook_observations_write)


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


def _add(
    key: str, amounts: dict[str, float], *, also: tuple[str, dict[str, int]] | None = None
) -> None:
    """Add `amounts` to the hash `key` (and `also`'s, a recent bucket expiring after an hour),
    in one round trip."""
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
            if also is not None:
                bucket, counts = also
                for field, amount in counts.items():
                    pipe.hincrby(bucket, field, amount)
                pipe.expire(bucket, _RECENT_KEEP_SECONDS)
            pipe.execute()
    except redis.RedisError:
        paused = time.monotonic() + PAUSE_AFTER_OUTAGE
        client.amani_counting_paused_until = paused  # type: ignore[attr-defined]
        warn_outage(logger, "metrics not counted (Redis unavailable)")


# --- The scrape ---------------------------------------------------------------------------


class AmaniCollector(Collector):
    """Every figure of /metrics, read when Prometheus scrapes (through the engine's selectors,
    as the console's Engine page reads them)."""

    def collect(self) -> Iterator[object]:
        from outreach.selectors import engine

        yield from _messages_families(engine.messages_by_status())
        yield from _inbox_families(engine.status_inbox())
        yield from _queue_families(engine.celery_queues())
        yield from _counter_families(engine.event_counters())


REGISTRY = CollectorRegistry(auto_describe=False)
REGISTRY.register(AmaniCollector())


def _messages_families(counted: "MessagesByStatus") -> Iterator[object]:
    from outreach.models import OutboundStatus

    messages = GaugeMetricFamily(
        "amani_messages",
        "Messages created in the last 24 hours, by channel kind and their status now.",
        labels=["channel_kind", "status"],
    )
    for kind in sorted({kind for kind, _ in counted.by_status}):
        for status in OutboundStatus.values:  # every status, 0 too: series do not come and go
            messages.add_metric([kind, status], counted.by_status.get((kind, status), 0))
    yield messages
    failed = GaugeMetricFamily(
        "amani_messages_failed",
        "Messages created in the last 24 hours that failed or went undelivered, by the "
        "provider's error code (at the send or in a delivery report).",
        labels=["channel_kind", "status", "code"],
    )
    for (kind, status, code), n in sorted(counted.failed.items()):
        failed.add_metric([kind, status, code], n)
    yield failed


def _inbox_families(inbox: "StatusInbox") -> Iterator[object]:
    yield GaugeMetricFamily(
        "amani_status_inbox_reports",
        "Status reports received, not yet applied.",
        value=inbox.waiting,
    )
    yield GaugeMetricFamily(
        "amani_status_inbox_lag_seconds",
        "Age of the oldest status report not yet applied (0 when none waits).",
        value=inbox.lag_seconds,
    )


def _queue_families(read: "Queues") -> Iterator[object]:
    if not read.queues:
        return  # tasks run in-process (the demo), or the broker did not answer
    depth = GaugeMetricFamily(
        "amani_queue_depth", "Celery tasks waiting in each queue.", labels=["queue"]
    )
    age = GaugeMetricFamily(
        "amani_queue_oldest_task_age_seconds",
        "How long the oldest task waiting in each queue has waited (0 when none waits).",
        labels=["queue"],
    )
    for queue in read.queues:
        depth.add_metric([queue.name], queue.depth)
        age.add_metric([queue.name], queue.oldest_age_seconds)
    yield depth
    yield age


def _counter_families(counters: "EventCounters") -> Iterator[object]:
    yield GaugeMetricFamily(
        "amani_event_counters_up",
        "1 when the event counters (in Redis) could be read; 0 without Redis.",
        value=1 if counters.up else 0,
    )
    family = CounterMetricFamily(
        "amani_messages_sent",
        "Messages handed to a provider and taken by it, by channel kind.",
        labels=["channel_kind"],
    )
    for kind, n in sorted(counters.sent.items()):
        family.add_metric([kind], float(n))
    yield family
    family = CounterMetricFamily(
        "amani_provider_errors",
        "Errors a provider answered a send with, by channel kind and the provider's code.",
        labels=["channel_kind", "code"],
    )
    for (kind, code), n in sorted(counters.provider_errors.items()):
        family.add_metric([kind, code], float(n))
    yield family
    family = CounterMetricFamily(
        "amani_rate_limit_refusals",
        "Times a channel's rate limiter refused tokens (the sender waited or queued again).",
        labels=["channel_id"],
    )
    for channel_id, n in sorted(counters.rate_limit_refusals.items()):
        family.add_metric([channel_id], float(n))
    yield family
    family = CounterMetricFamily(
        "amani_rate_limit_wait_seconds",
        "Seconds dispatchers slept waiting for a channel's rate limiter.",
        labels=["channel_id"],
    )
    for channel_id, seconds in sorted(counters.rate_limit_wait_seconds.items()):
        family.add_metric([channel_id], seconds)
    yield family
    histogram = HistogramMetricFamily(
        "amani_webhook_duration_seconds",
        "Time to handle a provider's webhook request, by webhook.",
        labels=["webhook"],
    )
    for latency in counters.webhooks:
        histogram.add_metric([latency.webhook], latency.buckets, sum_value=latency.sum_seconds)
    yield histogram
