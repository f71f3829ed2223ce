"""The database is the queue of record: re-enqueue what a lost Redis message left behind.

Safe to run as often as wanted: routing skips handled messages and sending claims a
message only once, so a message enqueued twice is still handled once.
"""

from datetime import timedelta

from django.utils import timezone

from outreach.models import InboundMessage, OutboundKind, OutboundMessage, OutboundStatus
from outreach.services.outbound import LEASE_EXPIRED

GRACE = timedelta(seconds=60)  # long enough for the normal path to have run
BATCH = 500


def sweep_unrouted_inbound() -> list[int]:
    """Ids of inbound messages stored but not routed after the grace period."""
    cutoff = timezone.now() - GRACE
    return list(
        InboundMessage.objects.filter(handled_at__isnull=True, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:BATCH]
    )


def sweep_unsent_replies() -> list[int]:
    """Ids of replies still queued after the grace period (their task was lost or delayed)."""
    cutoff = timezone.now() - GRACE
    return list(
        OutboundMessage.objects.filter(
            kind=OutboundKind.REPLY, status=OutboundStatus.QUEUED, created_at__lt=cutoff
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:BATCH]
    )


def release_expired_leases() -> int:
    """Messages whose worker died while holding them go back to the queue, marked so that
    the next sender first asks the provider whether the dead worker's call went through."""
    return OutboundMessage.objects.filter(
        status=OutboundStatus.SENDING, provider_message_id="", lease_expires_at__lt=timezone.now()
    ).update(status=OutboundStatus.QUEUED, lease_expires_at=None, error_code=LEASE_EXPIRED)
