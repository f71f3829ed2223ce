"""The engine's state, read once for both doors: /metrics (outreach.metrics' collector turns
these into metric families) and the console's Engine page (which renders them).

Every function returns plain dataclasses of counts, seconds and labels: channel kind, channel
id, status, queue, webhook, error code — never a number, a name or an organization. Figures
that need Redis say so (`up`, `readable`) rather than raise: without Redis (the demo) the
page and the scrape still answer.
"""

import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import redis
from django.conf import settings
from django.db.models import Count
from django.db.models.functions import Now
from django.utils import timezone

from outreach import metrics
from outreach.outage_log import warn_outage
from outreach.redis_client import redis_client

logger = logging.getLogger(__name__)

# Messages created this long ago or less are counted by status.
MESSAGES_WINDOW = timedelta(hours=24)

# The verdict's thresholds. A STOP rides the priority queue and must reach the ledger within
# a second, so a few seconds there is already late; bulk sends tolerate a couple of minutes.
PRIORITY_QUEUE_MAX_AGE = 5.0
BULK_QUEUE_MAX_AGE = 120.0
QUEUE_MAX_AGE = {"priority": PRIORITY_QUEUE_MAX_AGE}  # any other queue: BULK_QUEUE_MAX_AGE
STATUS_INBOX_MAX_LAG = 60.0
WEBHOOK_P99_MAX = 0.5


# --- What the figures are -----------------------------------------------------------------


@dataclass(frozen=True)
class MessagesByStatus:
    """Messages created in the window: (channel kind, status) → n, and failures by code."""

    by_status: dict[tuple[str, str], int]
    failed: dict[tuple[str, str, str], int]  # (channel kind, status, error code label) → n


@dataclass(frozen=True)
class StatusInbox:
    waiting: int  # status reports received, not yet applied
    lag_seconds: float  # the oldest one's age (0 when none waits)


@dataclass(frozen=True)
class QueueState:
    name: str
    depth: int
    oldest_age_seconds: float  # 0 when none waits


@dataclass(frozen=True)
class Queues:
    readable: bool  # False: the broker did not answer; True with no queue: tasks run in-process
    queues: list[QueueState]


@dataclass(frozen=True)
class WebhookLatency:
    webhook: str
    buckets: list[tuple[str, float]]  # (upper bound "le", cumulative count), "+Inf" last
    sum_seconds: float

    @property
    def count(self) -> int:
        return int(self.buckets[-1][1]) if self.buckets else 0

    def quantile(self, q: float) -> float | None:
        """An estimate of the q-quantile, interpolated in its bucket as Prometheus's
        histogram_quantile does; the highest finite bound when it falls past them."""
        if not self.count:
            return None
        rank, lower, below = q * self.count, 0.0, 0.0
        for le, cumulative in self.buckets:
            if cumulative >= rank:
                if le == "+Inf":
                    return lower
                upper = float(le)
                inside = cumulative - below
                return lower + (upper - lower) * ((rank - below) / inside if inside else 1.0)
            lower, below = (float(le) if le != "+Inf" else lower), cumulative
        return lower


@dataclass(frozen=True)
class EventCounters:
    """Counted in Redis since its counters began (a restart of Redis starts them afresh)."""

    up: bool
    configured: bool = True  # False: this server runs without Redis (the demo), nothing counted
    sent: dict[str, int] = field(default_factory=dict)  # channel kind → messages
    provider_errors: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, code)
    rate_limit_refusals: dict[str, int] = field(default_factory=dict)  # channel id → times
    rate_limit_wait_seconds: dict[str, float] = field(default_factory=dict)  # channel id → s
    webhooks: list[WebhookLatency] = field(default_factory=list)


@dataclass(frozen=True)
class RecentSends:
    """Messages providers took lately, by channel kind (sliding windows, estimated)."""

    up: bool
    last_minute: dict[str, int]
    last_hour: dict[str, int]


@dataclass(frozen=True)
class Problem:
    """One reason the engine is behind: what (`kind`), where (`subject`), how far."""

    kind: str  # "queue_age", "inbox_lag", "webhook_p99", "queues_unreadable", "counters_down"
    subject: str = ""
    seconds: float = 0.0
    limit: float = 0.0


@dataclass(frozen=True)
class EngineHealth:
    queues: Queues
    inbox: StatusInbox
    counters: EventCounters
    recent: RecentSends
    problems: list[Problem]

    @property
    def healthy(self) -> bool:
        return not self.problems


# --- Reading them -------------------------------------------------------------------------


def engine_health() -> EngineHealth:
    """Everything the Engine page shows, and the problems its verdict names (worst first)."""
    queues, inbox, counters = celery_queues(), status_inbox(), event_counters()
    return EngineHealth(
        queues=queues,
        inbox=inbox,
        counters=counters,
        recent=recent_sends(),
        problems=_problems(queues, inbox, counters),
    )


def messages_by_status(window: timedelta = MESSAGES_WINDOW) -> MessagesByStatus:
    """Messages created in the last `window`, by channel kind and status; failures by code."""
    from outreach.models import Channel, OutboundMessage, OutboundStatus

    rows = (
        # The database's clock, which stamped the rows (fan-out writes them in SQL); a BRIN
        # index on created_at keeps it to the window's pages.
        OutboundMessage.objects.filter(created_at__gte=Now() - window)
        .order_by()
        .values_list("channel_id", "status", "error_code")
        .annotate(n=Count("id"))
    )
    kinds = dict(Channel.objects.values_list("pk", "kind"))
    by_status: Counter[tuple[str, str]] = Counter()
    failed: Counter[tuple[str, str, str]] = Counter()
    for channel_id, status, error_code, n in rows:
        kind = kinds.get(channel_id, "unknown")
        by_status[(kind, status)] += n
        if status in (OutboundStatus.FAILED, OutboundStatus.UNDELIVERED):  # no code: "none"
            failed[(kind, status, metrics.error_code_label(error_code))] += n
    return MessagesByStatus(by_status=dict(by_status), failed=dict(failed))


def status_inbox() -> StatusInbox:
    """How many status reports wait to be applied, and how long the oldest has waited."""
    from outreach.models import StatusReportInbox

    waiting = StatusReportInbox.objects.count()
    oldest = StatusReportInbox.objects.order_by("pk").values_list("received_at", flat=True)[:1]
    lag = max(0.0, (timezone.now() - oldest[0]).total_seconds()) if oldest else 0.0
    return StatusInbox(waiting=waiting, lag_seconds=lag)


# kombu's Redis transport keeps one list per priority step: "name", then "name\x06\x163" …
_PRIORITY_SEP = "\x06\x16"


def celery_queues() -> Queues:
    """Each Celery queue's waiting tasks and the oldest one's age, read from the broker."""
    client = _broker_client()
    if client is None:
        return Queues(readable=True, queues=[])  # tasks run in-process (the demo): no queues
    from kombu.transport.redis import PRIORITY_STEPS

    lists = {
        name: [name, *(f"{name}{_PRIORITY_SEP}{step}" for step in PRIORITY_STEPS[1:])]
        for name in _queue_names()
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
        return Queues(readable=False, queues=[])
    now, position, queues = time.time(), 0, []
    for name, keys in lists.items():
        waiting, published = 0, []
        for _ in keys:
            length, tail = answers[position], answers[position + 1]
            position += 2
            waiting += length
            if tail is not None and (at := _published_at(tail)) is not None:
                published.append(at)
        age = max(0.0, now - min(published)) if published else 0.0
        queues.append(QueueState(name=name, depth=waiting, oldest_age_seconds=age))
    return Queues(readable=True, queues=queues)


def event_counters() -> EventCounters:
    """The event counters kept in Redis: sends, provider errors, rate-limiter refusals and
    waits, webhook latency histograms."""
    client = redis_client()
    if client is None:
        return EventCounters(up=False, configured=False)
    metrics.webhook_observations_write()  # what this process keeps, as the others will
    keys = [
        metrics.SENT_KEY,
        metrics.PROVIDER_ERRORS_KEY,
        metrics.RATE_LIMIT_REFUSALS_KEY,
        metrics.RATE_LIMIT_WAIT_KEY,
        metrics.WEBHOOK_KEY,
    ]
    try:
        with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hgetall(key)
            counted = pipe.execute()
    except redis.RedisError:
        warn_outage(logger, "metrics' counters not read (Redis unavailable)")
        return EventCounters(up=False)
    sent, refused, refusals, waited, webhooks = (_decoded(hash_) for hash_ in counted)
    errors = {}
    for key, n in refused.items():
        kind, _, code = key.partition(metrics.SEP)
        errors[(kind, code)] = int(float(n))
    return EventCounters(
        up=True,
        sent={kind: int(float(n)) for kind, n in sent.items()},
        provider_errors=errors,
        rate_limit_refusals={channel: int(float(n)) for channel, n in refusals.items()},
        rate_limit_wait_seconds={channel: float(s) for channel, s in waited.items()},
        webhooks=_webhook_latencies(webhooks),
    )


def recent_sends(now: float | None = None) -> RecentSends:
    """Messages providers took in the last minute and the last hour, by channel kind."""
    now = time.time() if now is None else now
    read = _recent_buckets(metrics.RECENT_HOUR, now)
    if read is None:
        return RecentSends(up=False, last_minute={}, last_hour={})
    kinds = {
        key.removeprefix(metrics.RECENT_KIND)
        for bucket in read
        for key in bucket
        if key.startswith(metrics.RECENT_KIND)
    }
    fields = {kind: metrics.RECENT_KIND + kind for kind in kinds}
    return RecentSends(
        up=True,
        last_minute={kind: _windowed(read, f, 60, now) for kind, f in sorted(fields.items())},
        last_hour={
            kind: _windowed(read, f, metrics.RECENT_HOUR, now) for kind, f in sorted(fields.items())
        },
    )


def wave_sends_last_minute(wave_id: int, now: float | None = None) -> int | None:
    """Messages of wave `wave_id` providers took in the last minute; None without Redis."""
    now = time.time() if now is None else now
    read = _recent_buckets(60, now, field=f"{metrics.RECENT_WAVE}{wave_id}")
    if read is None:
        return None
    return _windowed(read, f"{metrics.RECENT_WAVE}{wave_id}", 60, now)


# --- helpers ------------------------------------------------------------------------------


def _problems(queues: Queues, inbox: StatusInbox, counters: EventCounters) -> list[Problem]:
    found = []
    if not queues.readable:
        found.append(Problem(kind="queues_unreadable"))
    for queue in queues.queues:
        limit = QUEUE_MAX_AGE.get(queue.name, BULK_QUEUE_MAX_AGE)
        if queue.oldest_age_seconds > limit:
            found.append(
                Problem(
                    kind="queue_age",
                    subject=queue.name,
                    seconds=queue.oldest_age_seconds,
                    limit=limit,
                )
            )
    if inbox.lag_seconds > STATUS_INBOX_MAX_LAG:
        found.append(
            Problem(kind="inbox_lag", seconds=inbox.lag_seconds, limit=STATUS_INBOX_MAX_LAG)
        )
    for webhook in counters.webhooks:
        p99 = webhook.quantile(0.99)
        if p99 is not None and p99 > WEBHOOK_P99_MAX:
            found.append(
                Problem(
                    kind="webhook_p99", subject=webhook.webhook, seconds=p99, limit=WEBHOOK_P99_MAX
                )
            )
    if counters.configured and not counters.up:
        found.append(Problem(kind="counters_down"))
    # Worst first: the furthest past its threshold (a missing reading after every lateness).
    return sorted(found, key=lambda p: -(p.seconds / p.limit) if p.limit else 0.0)


def _recent_buckets(
    span: int, now: float, *, field: str | None = None
) -> list[dict[str, int]] | None:
    """The buckets covering the last `span` seconds and one before (prorated), newest first:
    each a dict field → count (only `field` when given). None without Redis."""
    client = redis_client()
    if client is None or metrics.counting_paused(client):
        return None
    newest = int(now // metrics.RECENT_BUCKET_SECONDS)
    count = span // metrics.RECENT_BUCKET_SECONDS + 1
    keys = [metrics.recent_key(newest - back) for back in range(count)]
    try:
        with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hget(key, field) if field else pipe.hgetall(key)
            answers = pipe.execute()
    except redis.RedisError:
        warn_outage(logger, "recent sends not read (Redis unavailable)")
        return None
    if field:
        return [{field: int(answer)} if answer else {} for answer in answers]
    return [{k.decode(): int(v) for k, v in answer.items()} for answer in answers]


def _windowed(buckets: list[dict[str, int]], field: str, span: int, now: float) -> int:
    """A sliding window's count over the last `span` seconds: the buckets it covers whole
    or in part, the oldest weighted by the share of it still inside the window."""
    width = metrics.RECENT_BUCKET_SECONDS
    whole = span // width  # the current (partial) bucket and the whole ones before it
    elapsed = (now % width) / width
    total = sum(bucket.get(field, 0) for bucket in buckets[:whole])
    if len(buckets) > whole:
        total += buckets[whole].get(field, 0) * (1.0 - elapsed)
    return round(total)


def _webhook_latencies(fields: dict[str, str]) -> list[WebhookLatency]:
    latencies = []
    for name in sorted({key.partition(metrics.SEP)[0] for key in fields}):
        cumulative, buckets = 0.0, []
        for le in [*(str(b) for b in metrics.WEBHOOK_BUCKETS), "+Inf"]:
            cumulative += float(fields.get(f"{name}{metrics.SEP}{le}", 0))
            buckets.append((le, cumulative))
        sum_seconds = float(fields.get(f"{name}{metrics.SEP}sum", 0))
        latencies.append(WebhookLatency(webhook=name, buckets=buckets, sum_seconds=sum_seconds))
    return latencies


def _decoded(hash_: dict[bytes, bytes]) -> dict[str, str]:
    return {key.decode(): value.decode() for key, value in hash_.items()}


def _published_at(raw: bytes) -> float | None:
    try:
        return float(json.loads(raw)["headers"][metrics.PUBLISHED_AT_HEADER])
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
