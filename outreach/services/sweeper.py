"""The database is the queue of record: re-enqueue what a lost Redis message left behind.

Safe to run as often as wanted: routing skips handled messages and sending claims a
message only once, so a message enqueued twice is still handled once.
"""

from datetime import timedelta

from django.db.models import Case, F, Value, When
from django.utils import timezone

from outreach.models import InboundMessage, OutboundKind, OutboundMessage, OutboundStatus
from outreach.services.outbound import MAX_ATTEMPTS
from outreach.wave_activity import waves_changed

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
    """Messages whose worker died (or stalled) while holding them go back to the queue.

    The claim token is cleared, so the old worker can no longer send or record them. A
    message that was already in flight is marked in doubt from the start of that attempt:
    its next sender asks the provider first. One claimed MAX_ATTEMPTS times ends failed,
    so no path loops forever.
    """
    expired = OutboundMessage.objects.filter(
        status=OutboundStatus.SENDING, provider_message_id="", lease_expires_at__lt=timezone.now()
    )
    exhausted = expired.filter(attempts__gte=MAX_ATTEMPTS)
    wave_ids = set(expired.values_list("wave_id", flat=True).distinct())
    failed = exhausted.update(
        status=OutboundStatus.FAILED,
        status_changed_at=timezone.now(),
        lease_expires_at=None,
        claim_token=None,
        error_code=Case(
            When(in_flight_at__isnull=False, then=Value("unknown")),
            When(outcome_unknown_since__isnull=False, then=Value("unknown")),
            default=Value("lease_expired"),
        ),
        error_message=Value(
            f"Gave up after {MAX_ATTEMPTS} attempts: its worker stopped each time."
        ),
    )
    released = expired.update(
        status=OutboundStatus.QUEUED,
        lease_expires_at=None,
        claim_token=None,
        outcome_unknown_since=Case(
            When(outcome_unknown_since__isnull=False, then=F("outcome_unknown_since")),
            default=F("in_flight_at"),
        ),
        in_flight_at=None,
    )
    waves_changed(wave_ids)
    return failed + released
