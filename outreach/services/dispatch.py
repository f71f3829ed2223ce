"""Dispatch: workers claim queued messages of a channel in batches and send them concurrently.

The database is the queue of record. A claim is one UPDATE … WHERE id IN (SELECT … FOR
UPDATE SKIP LOCKED) that moves a batch to "sending" with a lease, so any number of
workers share a channel without ever taking the same message; replies go before urgent
waves before the rest. The claimed batch is loaded in one query and checked for consent
at once; then, a few messages at a time, the dispatcher takes their tokens from the
channel's bucket and hands them to a pool of sending threads that only talk to the
provider. What the provider took is recorded a group at a time in one statement; a
failure goes through `message_failed`. A message whose lease expires (its worker died)
goes back to the queue through the sweeper, and the next sender asks the provider first.
"""

import logging
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from outreach import rate_limit
from outreach.channels.base import SendResult, TransportError
from outreach.models import Channel, OutboundMessage, OutboundStatus
from outreach.services.outbound import (
    LEASE,
    consent_refusal,
    message_failed,
    messages_record_sent,
    transmit,
)
from outreach.wave_activity import waves_changed

logger = logging.getLogger(__name__)

# A group shares one token take and one record statement: at most this many messages, and
# at most a tenth of a second of the channel's rate, so slow channels stay smooth.
GROUP_SIZE = 64


@dataclass
class DispatchReport:
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, status: str, n: int = 1) -> None:
        self.outcomes[status] = self.outcomes.get(status, 0) + n


def claim_batch(*, channel_id: int, limit: int) -> list[int]:
    """Atomically take up to `limit` queued messages of a channel: ids, in priority order."""
    now = timezone.now()
    with transaction.atomic():
        ready = (
            OutboundMessage.objects.select_for_update(skip_locked=True)
            .filter(channel_id=channel_id, status=OutboundStatus.QUEUED)
            .exclude(lease_expires_at__gt=now)  # a retry's "not before"
            .order_by("priority", "id")
            .values_list("pk", flat=True)[:limit]
        )
        ids = list(ready)
        if ids:
            OutboundMessage.objects.filter(pk__in=ids, status=OutboundStatus.QUEUED).update(
                status=OutboundStatus.SENDING,
                attempts=F("attempts") + 1,
                lease_expires_at=now + LEASE,
                status_changed_at=now,
            )
    return ids


def claimed_messages(channel: Channel, ids: list[int]) -> list[OutboundMessage]:
    """The claimed messages with their subscribers, in claim order, in one query."""
    by_id = {
        message.pk: message
        for message in OutboundMessage.objects.filter(pk__in=ids)
        .select_related("subscriber")
        .only(
            "id", "organization_id", "channel_id", "to_address", "kind", "reply_key", "body",
            "segments", "attempts", "error_code", "created_at", "wave_id",
            "subscriber__id", "subscriber__consent_status",
        )
    }  # fmt: skip
    messages = [by_id[pk] for pk in ids if pk in by_id]
    for message in messages:
        message.channel = channel
    return messages


def dispatch_channel(*, channel_id: int, seconds: float = 30.0) -> DispatchReport:
    """Send the channel's queued messages for up to `seconds`; returns what happened."""
    channel = Channel.objects.get(pk=channel_id)
    concurrency = max(1, settings.DISPATCH_CONCURRENCY)
    batch_size = max(concurrency * 4, min(1000, channel.messages_per_second * 2))
    report = DispatchReport()
    deadline = time.monotonic() + seconds
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="dispatch") as senders:
        while time.monotonic() < deadline:
            ids = claim_batch(channel_id=channel_id, limit=batch_size)
            if not ids:
                break
            report.claimed += len(ids)
            # One batch at a time: a pause takes effect at the next claim.
            _send_batch(channel, claimed_messages(channel, ids), senders, report)
    return report


def channels_with_queued_messages() -> list[int]:
    return list(
        OutboundMessage.objects.filter(status=OutboundStatus.QUEUED)
        .order_by()
        .values_list("channel_id", flat=True)
        .distinct()
    )


Outcome = SendResult | TransportError | Exception


def _send_batch(
    channel: Channel,
    messages: list[OutboundMessage],
    senders: ThreadPoolExecutor,
    report: DispatchReport,
) -> None:
    allowed = _cancel_refused(messages, report)
    in_flight: deque[tuple[OutboundMessage, Future[Outcome]]] = deque()
    for group in _groups(allowed, per_second=channel.messages_per_second):
        _take_tokens(channel, sum(message.segments for message in group))
        in_flight.extend((message, senders.submit(_transmit, message)) for message in group)
        _record(in_flight, report, wait=len(in_flight) > 4 * GROUP_SIZE)
    _record(in_flight, report, wait=True)


def _cancel_refused(
    messages: list[OutboundMessage], report: DispatchReport
) -> list[OutboundMessage]:
    """Consent again, at claim time: who stopped since fan-out is not sent to."""
    allowed: list[OutboundMessage] = []
    refused: dict[str, list[OutboundMessage]] = {}
    for message in messages:
        reason = consent_refusal(message)
        if reason:
            refused.setdefault(reason, []).append(message)
        else:
            allowed.append(message)
    for reason, those in refused.items():
        OutboundMessage.objects.filter(
            pk__in=[message.pk for message in those], status=OutboundStatus.SENDING
        ).update(
            status=OutboundStatus.CANCELED,
            status_changed_at=timezone.now(),
            error_message=reason,
            lease_expires_at=None,
        )
        report.count(OutboundStatus.CANCELED, len(those))
        waves_changed(message.wave_id for message in those)
    return allowed


def _groups(messages: list[OutboundMessage], *, per_second: int) -> Iterator[list[OutboundMessage]]:
    budget = max(1, per_second // 10)
    group: list[OutboundMessage] = []
    cost = 0
    for message in messages:
        if group and (len(group) >= GROUP_SIZE or cost + message.segments > budget):
            yield group
            group, cost = [], 0
        group.append(message)
        cost += message.segments
    if group:
        yield group


def _take_tokens(channel: Channel, cost: int) -> None:
    while (wait := rate_limit.take(
        channel_id=channel.pk, cost=cost, per_second=channel.messages_per_second
    )) > 0:  # fmt: skip
        time.sleep(wait)


def _transmit(message: OutboundMessage) -> Outcome:
    """On a sending thread: the provider only, no database."""
    try:
        return transmit(message)
    except Exception as error:  # a TransportError, or a surprise the dispatcher reports
        return error


def _record(
    in_flight: "deque[tuple[OutboundMessage, Future[Outcome]]]",
    report: DispatchReport,
    *,
    wait: bool,
) -> None:
    """Record the finished sends at the head of the line (all of them when `wait`)."""
    sent: list[tuple[OutboundMessage, SendResult]] = []
    while in_flight and (wait or in_flight[0][1].done()):
        message, future = in_flight.popleft()
        outcome = future.result()
        if isinstance(outcome, SendResult):
            sent.append((message, outcome))
            report.count(outcome.status)
        elif isinstance(outcome, TransportError):
            report.count(message_failed(message, outcome).status)
        else:
            # One message's surprise must not stop the batch; its lease will bring it back.
            logger.error(
                "delivering message %s failed unexpectedly",
                message.pk,
                exc_info=(type(outcome), outcome, outcome.__traceback__),
            )
            report.count("error")
    messages_record_sent(sent)
