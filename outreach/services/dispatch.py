"""Dispatch: workers claim queued messages of a channel in batches and send them concurrently.

The database is the queue of record. A claim is one UPDATE … WHERE id IN (SELECT … FOR
UPDATE SKIP LOCKED) that moves a batch to "sending" with a lease, so any number of
workers share a channel without ever taking the same message; replies go before urgent
waves before the rest. Each claimed message is then delivered by `message_deliver`
(consent again, the channel's token bucket, the adapter, the record) on a thread pool
sized to keep the provider busy at the channel's rate. A message whose lease expires
(its worker died) goes back to the queue through the sweeper.
"""

import logging
import queue
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F
from django.utils import timezone

from outreach.models import Channel, OutboundMessage, OutboundStatus
from outreach.services.outbound import LEASE, message_deliver

logger = logging.getLogger(__name__)


@dataclass
class DispatchReport:
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


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


def dispatch_channel(*, channel_id: int, seconds: float = 30.0) -> DispatchReport:
    """Send the channel's queued messages for up to `seconds`; returns what happened."""
    channel = Channel.objects.get(pk=channel_id)
    concurrency = max(1, settings.DISPATCH_CONCURRENCY)
    batch_size = max(concurrency * 4, min(1000, channel.messages_per_second * 2))
    report = DispatchReport()
    work: queue.Queue[int | None] = queue.Queue()
    lock = threading.Lock()
    senders = [
        threading.Thread(target=_sender, args=(work, report, lock), name=f"dispatch-{n}")
        for n in range(concurrency)
    ]
    for sender in senders:
        sender.start()
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            ids = claim_batch(channel_id=channel_id, limit=batch_size)
            if not ids:
                break
            report.claimed += len(ids)
            for message_id in ids:
                work.put(message_id)
            work.join()  # one batch at a time: a pause takes effect at the next claim
    finally:
        for _ in senders:
            work.put(None)
        for sender in senders:
            sender.join()
    return report


def channels_with_queued_messages() -> list[int]:
    return list(
        OutboundMessage.objects.filter(status=OutboundStatus.QUEUED)
        .order_by()
        .values_list("channel_id", flat=True)
        .distinct()
    )


def _sender(work: "queue.Queue[int | None]", report: DispatchReport, lock: threading.Lock) -> None:
    try:
        while (message_id := work.get()) is not None:
            status = _deliver(message_id)
            with lock:
                report.outcomes[status] = report.outcomes.get(status, 0) + 1
            work.task_done()
    finally:
        connections.close_all()  # this thread's own connection


def _deliver(message_id: int) -> str:
    try:
        message = OutboundMessage.objects.select_related("channel", "subscriber").get(pk=message_id)
        return message_deliver(message, wait_for_tokens=True).status
    except Exception:
        # One message's surprise must not stop the batch; its lease will bring it back.
        logger.exception("delivering message %s failed unexpectedly", message_id)
        return "error"
