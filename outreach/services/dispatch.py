"""Dispatch: workers claim queued messages of a channel in batches and send them concurrently.

The database is the queue of record. A claim is one UPDATE … WHERE id IN (SELECT … FOR
UPDATE SKIP LOCKED) that moves a batch to "sending" with a lease and a claim token, so
any number of workers share a channel without ever taking the same message; replies go
before urgent waves before the rest. A batch is no larger than half a lease of the
channel's rate, and its lease is renewed while the dispatcher waits for tokens. Then, a
few messages at a time: tokens from the channel's bucket, and right before the provider
call the wave's gate, consent and the claim are checked in one short transaction
(`messages_take_in_flight`); the group goes to a pool of sending threads that only talk to
the provider, and is recorded in one statement fenced on the claim. A failure goes through
`message_failed`. A message whose lease expires (its worker died) goes back to the queue
through the sweeper, in doubt if its call may have gone out.
"""

import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from outreach import metrics, rate_limit
from outreach.channels.base import SendResult, TransportError
from outreach.models import Channel, OutboundMessage, OutboundStatus
from outreach.send_gates import KeptHolds
from outreach.services.outbound import (
    IN_FLIGHT_CALLS_PER_THREAD,
    MAX_ATTEMPTS,
    message_failed,
    message_give_up,
    messages_record_sent,
    messages_renew_lease,
    messages_take_in_flight,
    template_calls,
    transmit,
)
from outreach.services.outbound import lease as lease_duration

logger = logging.getLogger(__name__)

# A group shares one token take, one fence and one record statement: at most this many
# messages, and at most a tenth of a second of the channel's rate, so slow channels stay smooth.
GROUP_SIZE = 64
# Calls handed to the threads and not finished, per thread: a message marked in flight waits
# behind one call at most, so consent is read a moment before its own call. (A group is
# marked when fewer than this wait, so a thread may have twice as many: the in-flight
# lease covers IN_FLIGHT_CALLS_PER_THREAD.) Finished sends are recorded GROUP_SIZE at a time.
LINE_PER_THREAD = IN_FLIGHT_CALLS_PER_THREAD // 2
RECORD_EVERY = 1.0  # seconds a finished send may wait to be recorded with others

Keepalive = Callable[[], bool]  # renews what the dispatcher holds; False when it lost it


@dataclass
class DispatchReport:
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, status: str, n: int = 1) -> None:
        self.outcomes[status] = self.outcomes.get(status, 0) + n


@dataclass(frozen=True)
class Claim:
    token: uuid.UUID
    ids: list[int]


def claim_batch(*, channel_id: int, limit: int) -> Claim:
    """Atomically take up to `limit` ready messages of a channel, in priority order."""
    now = timezone.now()
    token = uuid.uuid4()
    with transaction.atomic():
        ready = (
            OutboundMessage.objects.select_for_update(skip_locked=True)
            .filter(channel_id=channel_id, status=OutboundStatus.QUEUED)
            .exclude(lease_expires_at__gt=now)  # a retry's or a closed window's "not before"
            .order_by("priority", "id")
            .values_list("pk", flat=True)[:limit]
        )
        ids = list(ready)
        if ids:
            OutboundMessage.objects.filter(pk__in=ids, status=OutboundStatus.QUEUED).update(
                status=OutboundStatus.SENDING,
                attempts=F("attempts") + 1,
                lease_expires_at=now + lease_duration(),
                status_changed_at=now,
                claim_token=token,
                in_flight_at=None,
            )
    return Claim(token=token, ids=ids)


def claimed_messages(channel: Channel, claim: Claim) -> list[OutboundMessage]:
    """The claimed messages with their subscribers, in claim order, in one query."""
    by_id = {
        message.pk: message
        for message in OutboundMessage.objects.filter(pk__in=claim.ids, claim_token=claim.token)
        .select_related("subscriber")
        .only(
            "id", "organization_id", "channel_id", "to_address", "kind", "reply_key", "body",
            "segments", "attempts", "error_code", "created_at", "wave_id", "claim_token",
            "outcome_unknown_since", "subscriber__id", "subscriber__consent_status",
            "contact_id", "fallback_step", "template_id",
        )
    }  # fmt: skip
    messages = [by_id[pk] for pk in claim.ids if pk in by_id]
    for message in messages:
        message.channel = channel
    template_calls(messages)
    return messages


def dispatch_channel(
    *, channel_id: int, seconds: float = 30.0, keepalive: Keepalive | None = None
) -> DispatchReport:
    """Send the channel's queued messages for up to `seconds`; returns what happened.

    `keepalive` (the dispatcher's slot heartbeat) is called between groups and while
    waiting for tokens; when it answers False the dispatcher stops after the current group.
    """
    channel = Channel.objects.get(pk=channel_id)
    concurrency = max(1, settings.DISPATCH_CONCURRENCY)
    report = DispatchReport()
    deadline = time.monotonic() + seconds
    alive = keepalive or (lambda: True)
    segments = 1.0  # per message, as the last batch had them
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="dispatch") as senders:
        while time.monotonic() < deadline and alive():
            limit = batch_size(channel, concurrency, segments_per_message=segments)
            claim = claim_batch(channel_id=channel_id, limit=limit)
            if not claim.ids:
                break
            report.claimed += len(claim.ids)
            messages = claimed_messages(channel, claim)
            segments = sum(m.segments for m in messages) / max(1, len(messages))
            _send_batch(channel, messages, senders, concurrency, report, alive)
    return report


def batch_size(channel: Channel, concurrency: int, *, segments_per_message: float = 1.0) -> int:
    """Enough to keep the threads busy, never more than half a lease of the channel's rate
    (its rate is in segments: long messages make smaller batches)."""
    wanted = max(concurrency * 4, min(1000, channel.messages_per_second * 2))
    seconds = lease_duration().total_seconds() / 2
    covered = int(channel.messages_per_second * seconds / max(1.0, segments_per_message))
    return max(1, min(wanted, covered))


def channels_with_queued_messages() -> list[int]:
    return list(
        OutboundMessage.objects.filter(status=OutboundStatus.QUEUED)
        .order_by()
        .values_list("channel_id", flat=True)
        .distinct()
    )


def channel_has_ready_messages(channel_id: int) -> bool:
    """Queued messages whose "not before" has passed: work for a dispatcher now."""
    return (
        OutboundMessage.objects.filter(channel_id=channel_id, status=OutboundStatus.QUEUED)
        .exclude(lease_expires_at__gt=timezone.now())
        .exists()
    )


Outcome = SendResult | TransportError


def _send_batch(
    channel: Channel,
    messages: list[OutboundMessage],
    senders: ThreadPoolExecutor,
    threads: int,
    report: DispatchReport,
    alive: Keepalive,
) -> None:
    exhausted = [message for message in messages if message.attempts > MAX_ATTEMPTS]
    for message in exhausted:
        report.count(message_give_up(message).status)
    waiting = deque(message for message in messages if message.attempts <= MAX_ATTEMPTS)
    in_flight: list[tuple[OutboundMessage, Future[Outcome]]] = []
    keep = _LeaseKeeper(waiting, alive)
    holds = KeptHolds().holds_for
    line = LINE_PER_THREAD * threads
    recorded_at = time.monotonic()
    for group in _groups(list(waiting), per_second=channel.messages_per_second, most=line):
        if not keep.alive:
            break  # the lease lapses; the sweeper gives the rest to another dispatcher
        _take_tokens(channel, sum(message.segments for message in group), keep)
        for _ in group:
            waiting.popleft()
        # A short line at the threads: a message is marked in flight (consent and claim
        # checked) only when a thread will call the provider for it a moment later.
        while len(calling := [f for _, f in in_flight if not f.done()]) >= line:
            wait(calling, return_when=FIRST_COMPLETED)
        for message in messages_take_in_flight(group, counts=report.outcomes, holds=holds):
            in_flight.append((message, senders.submit(transmit, message)))
        # GROUP_SIZE at a time, and at least every RECORD_EVERY seconds on a slow channel.
        overdue = time.monotonic() - recorded_at > RECORD_EVERY
        if _record(in_flight, report, at_least=1 if overdue else GROUP_SIZE):
            recorded_at = time.monotonic()
        keep.tick()
    _record(in_flight, report, finish=True)


class _LeaseKeeper:
    """Renews the claim on the messages still waiting, and the dispatcher's slot, in time."""

    HEARTBEAT_EVERY = 5.0  # seconds between slot heartbeats

    def __init__(self, waiting: "deque[OutboundMessage]", alive: Keepalive) -> None:
        self.waiting = waiting
        self.check_alive = alive
        self.alive = True
        self.renewed_at = self.beat_at = time.monotonic()
        self.renew_every = lease_duration().total_seconds() / 3

    def tick(self) -> None:
        now = time.monotonic()
        if now - self.beat_at >= min(self.HEARTBEAT_EVERY, self.renew_every):
            self.alive = self.check_alive()
            self.beat_at = now
        if now - self.renewed_at >= self.renew_every and self.waiting:
            messages_renew_lease(list(self.waiting))
            self.renewed_at = now


def _groups(
    messages: list[OutboundMessage], *, per_second: int, most: int
) -> Iterator[list[OutboundMessage]]:
    budget = max(1, per_second // 10)
    size = max(1, min(GROUP_SIZE, most))
    group: list[OutboundMessage] = []
    cost = 0
    for message in messages:
        if group and (len(group) >= size or cost + message.segments > budget):
            yield group
            group, cost = [], 0
        group.append(message)
        cost += message.segments
    if group:
        yield group


def _take_tokens(channel: Channel, cost: int, keep: _LeaseKeeper) -> None:
    slept = 0.0
    while (wait := rate_limit.take(
        channel_id=channel.pk, cost=cost, per_second=channel.messages_per_second
    )) > 0:  # fmt: skip
        time.sleep(min(wait, 1.0))
        slept += min(wait, 1.0)
        keep.tick()
    metrics.rate_limit_waited(channel_id=channel.pk, seconds=slept)


def _record(
    in_flight: list[tuple[OutboundMessage, Future[Outcome]]],
    report: DispatchReport,
    *,
    at_least: int = 1,
    finish: bool = False,
) -> bool:
    """Record the finished sends in one statement, once there are `at_least` of them (all
    of them, waiting for the rest, when `finish`). True when it recorded."""
    if finish:
        wait([future for _, future in in_flight])
    finished, calling = [], []
    for entry in in_flight:
        (finished if entry[1].done() else calling).append(entry)
    if len(finished) < at_least and not finish:
        return False
    in_flight[:] = calling
    sent: list[tuple[OutboundMessage, SendResult]] = []
    for message, future in finished:
        try:
            outcome: Outcome = future.result()
        except TransportError as error:
            outcome = error
        if isinstance(outcome, SendResult):
            sent.append((message, outcome))
            report.count(outcome.status)
        else:
            report.count(message_failed(message, outcome).status)
    messages_record_sent(sent)
    return True
