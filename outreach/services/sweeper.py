"""The database is the queue of record: re-enqueue what a lost Redis message left behind.

Safe to run as often as wanted: routing skips handled messages and sending claims a
message only once, so a message enqueued twice is still handled once.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from outreach import send_gates
from outreach.models import InboundMessage, OutboundKind, OutboundMessage, OutboundStatus
from outreach.services.outbound import MAX_ATTEMPTS, held_as
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


def release_expired_leases(*, limit: int = 10_000) -> int:
    """Messages whose worker died (or stalled) while holding them go back to the queue.

    The claim token is cleared, so the old worker can no longer send or record them. A
    message that was already in flight is marked in doubt from the start of that attempt:
    its next sender asks the provider first. One claimed MAX_ATTEMPTS times ends failed,
    so no path loops forever. A wave that was cancelled or paused meanwhile keeps its
    message cancelled or held, not queued. Rows locked by someone else now are left for
    the next sweep (SKIP LOCKED: the sweeper never waits, so it is never in a deadlock).
    """
    now = timezone.now()
    with transaction.atomic():
        expired = list(
            OutboundMessage.objects.filter(
                status=OutboundStatus.SENDING, provider_message_id="", lease_expires_at__lt=now
            )
            .order_by("pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", "wave_id", "attempts")[:limit]
        )
        if not expired:
            return 0
        mine = OutboundMessage.objects.filter(pk__in=[pk for pk, _, _ in expired])
        mine.filter(attempts__gte=MAX_ATTEMPTS).update(
            status=OutboundStatus.FAILED,
            status_changed_at=now,
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
        mine.filter(status=OutboundStatus.SENDING).update(
            status=OutboundStatus.QUEUED,
            lease_expires_at=None,
            claim_token=None,
            outcome_unknown_since=Case(
                When(outcome_unknown_since__isnull=False, then=F("outcome_unknown_since")),
                default=F("in_flight_at"),
            ),
            in_flight_at=None,
        )
        wave_ids = {wave_id for _, wave_id, _ in expired if wave_id}
        for wave_id, hold in send_gates.holds_for(wave_ids, now).items():
            status, _ = held_as(hold)
            if status != OutboundStatus.QUEUED:  # a closed window: its next claim defers it
                mine.filter(wave_id=wave_id, status=OutboundStatus.QUEUED).update(
                    status=status, status_changed_at=now, error_message=hold.reason[:500]
                )
        waves_changed(wave_ids)
    return len(expired)
