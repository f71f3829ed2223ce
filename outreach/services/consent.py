"""The consent ledger: every opt-in and opt-out is an appended event; status follows from it."""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from outreach.models import (
    Channel,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentStatus,
    Subscriber,
    User,
)
from outreach.services.outbound import messages_cancel_unsent

OPTED_OUT = "The subscriber opted out."
STATUS_AFTER = {
    ConsentKind.OPT_IN: ConsentStatus.OPTED_IN,
    ConsentKind.OPT_OUT: ConsentStatus.OPTED_OUT,
}


@transaction.atomic
def consent_record(
    *,
    subscriber: Subscriber,
    kind: ConsentKind,
    source: ConsentSource,
    channel: Channel | None = None,
    occurred_at: datetime | None = None,
    keyword_as_texted: str = "",
    provider_message_id: str = "",
    consent_text_version: str = "",
    consent_text_language: str = "",
    evidence: dict[str, Any] | None = None,
    recorded_by: User | None = None,
) -> ConsentEvent:
    """Append an opt-in or opt-out and set the subscriber's status from it, in one transaction.

    The status follows the ledger's latest event by `occurred_at`: an event that happened
    before one already recorded is kept, and changes nothing.

    An opt-out also cancels every message to the person that has not reached the provider
    (the goodbye stays). Locks the subscriber's row first, then the messages' rows: the
    order dispatch takes them in.
    """
    # NO KEY: not waiting behind the key-share locks a fan-out chunk holds on every person
    # it inserts messages for; still exclusive against dispatch's fence and other writers.
    locked = Subscriber.objects.select_for_update(no_key=True).get(pk=subscriber.pk)
    event = ConsentEvent.objects.create(
        organization_id=locked.organization_id,
        subscriber=locked,
        channel=channel or locked.channel,
        scheme=locked.scheme,
        kind=kind,
        source=source,
        occurred_at=occurred_at or timezone.now(),
        keyword_as_texted=keyword_as_texted[:40],
        provider_message_id=provider_message_id,
        consent_text_version=consent_text_version,
        consent_text_language=consent_text_language,
        evidence=evidence or {},
        recorded_by=recorded_by,
    )
    if ConsentEvent.objects.filter(subscriber=locked, occurred_at__gt=event.occurred_at).exists():
        # The status follows the latest event by when it happened, not by when it was
        # recorded: a JOIN routed after the STOP the webhook recorded at once stays history.
        return event
    subscriber.consent_status = STATUS_AFTER[kind]
    changes = {"consent_status": subscriber.consent_status}
    if kind == ConsentKind.OPT_IN and not locked.joined_at:
        subscriber.joined_at = event.occurred_at
        subscriber.joined_keyword = keyword_as_texted[:40]
        changes |= {"joined_at": subscriber.joined_at, "joined_keyword": subscriber.joined_keyword}
    Subscriber.objects.filter(pk=locked.pk).update(**changes, updated_at=timezone.now())
    if kind == ConsentKind.OPT_OUT:
        messages_cancel_unsent(subscriber_id=locked.pk, reason=OPTED_OUT)
    return event


def status_from_ledger(subscriber: Subscriber) -> str:
    """The status the ledger implies, for checks that the stored status never drifts."""
    last = subscriber.consent_events.order_by("-occurred_at", "-id").values_list("kind", flat=True)
    kind = last.first()
    return STATUS_AFTER[kind] if kind else ConsentStatus.NONE


def consent_opt_out_reported(
    *,
    channel: Channel,
    address: str,
    reason: str,
    occurred_at: datetime | None = None,
    evidence: dict[str, Any] | None = None,
) -> ConsentEvent | None:
    """A provider says the person at `address` on `channel` left (Telegram: they blocked or
    kicked the bot; WhatsApp: they stopped marketing messages): record it as their opt-out
    of that address. None when they were not subscribed there (nothing to record)."""
    with transaction.atomic():
        subscriber = (
            Subscriber.objects.select_for_update(no_key=True)
            .filter(organization_id=channel.organization_id, scheme=channel.scheme, address=address)
            .first()
        )
        if subscriber is None or subscriber.consent_status != ConsentStatus.OPTED_IN:
            return None
        return consent_record(
            subscriber=subscriber,
            kind=ConsentKind.OPT_OUT,
            source=ConsentSource.CARRIER,
            channel=channel,
            occurred_at=occurred_at,
            evidence={"reason": reason, **(evidence or {})},
        )
