"""Writes on subscribers: finding them by address, staff edits, erasure."""

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from outreach.errors import InvalidInput
from outreach.models import (
    NOT_HANDED_OVER,
    AnonymousTally,
    Channel,
    ConsentEvent,
    InboundMessage,
    LanguageSource,
    OutboundMessage,
    OutboundStatus,
    Region,
    Subscriber,
)

EDITABLE_FIELDS = ("language", "region", "age_band", "gender", "tags")
ERASED_REASON = "The recipient was erased."


def subscriber_for_address(*, channel: Channel, address: str) -> Subscriber:
    """The organization's subscriber at `address`, created (not yet subscribed) on first contact."""
    organization = channel.organization
    existing = Subscriber.objects.filter(organization=organization, address=address).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            return Subscriber.objects.create(
                organization=organization,
                channel=channel,
                address=address,
                language=organization.default_language,
                language_source=LanguageSource.DEFAULT,
            )
    except IntegrityError:  # a concurrent first message from the same number
        return Subscriber.objects.get(organization=organization, address=address)


@transaction.atomic
def subscriber_update(*, subscriber: Subscriber, **changes: object) -> Subscriber:
    """Staff edits of a subscriber's profile; consent changes go through the ledger instead.

    Only the edited fields are written: `subscriber` may have been loaded before a STOP or
    an onboarding answer, and its other fields must not overwrite them.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        field = sorted(unknown)[0]
        raise InvalidInput(f"'{field}' cannot be changed here.", field=field)
    organization = subscriber.organization
    if "language" in changes:
        if changes["language"] not in organization.languages:
            raise InvalidInput(
                f"Choose one of the organization's languages: {', '.join(organization.languages)}.",
                field="language",
            )
        subscriber.language_source = LanguageSource.CHOSEN
    region = changes.get("region")
    if isinstance(region, Region) and region.organization_id != organization.pk:
        raise InvalidInput("No such region in this organization.", field="region")
    if "tags" in changes:
        changes["tags"] = _clean_tags(changes["tags"])  # type: ignore[arg-type]
    written = [*changes]
    if "language" in changes:
        written.append("language_source")
    for field, value in changes.items():
        setattr(subscriber, field, value)
    subscriber.save(update_fields=[*written, "updated_at"])
    return subscriber


@transaction.atomic
def subscriber_erase(
    *,
    subscriber: Subscriber,
    metric: str = AnonymousTally.Metric.ERASED,
    last_reply: OutboundMessage | None = None,
) -> None:
    """The right to be forgotten: delete the person, keep anonymous counts.

    Consent events stay, detached from the person; messages stay for delivery counts,
    without the number, the text the person wrote or the provider's error text (which may
    name the number; the error code stays); pending messages are cancelled — except
    `last_reply` (the under-age goodbye), whose number is wiped once it is sent.
    """
    subscriber_id, organization_id = subscriber.pk, subscriber.organization_id
    ConsentEvent.objects.detach_from_erased(subscriber_id)
    InboundMessage.objects.filter(subscriber_id=subscriber_id).update(
        subscriber=None, body="", from_address=""
    )
    others = OutboundMessage.objects.filter(subscriber_id=subscriber_id).exclude(
        pk=last_reply.pk if last_reply else None
    )
    # Everything no provider has yet (the last reply, a goodbye, still goes).
    others.filter(NOT_HANDED_OVER).update(
        status=OutboundStatus.CANCELED,
        status_changed_at=timezone.now(),
        claim_token=None,
        error_message=ERASED_REASON,
    )
    others.update(
        subscriber=None,
        to_address="",
        # A provider's error text may name the number: only the error code stays.
        error_message=Case(
            When(error_message=ERASED_REASON, then=Value(ERASED_REASON)), default=Value("")
        ),
    )
    OutboundMessage.objects.filter(subscriber_id=subscriber_id).update(subscriber=None)
    Subscriber.objects.filter(pk=subscriber_id).delete()
    tally_increment(organization_id=organization_id, metric=metric)


def tally_increment(*, organization_id: int, metric: str) -> None:
    """Add one to today's anonymous count of `metric`."""
    from django.db.models import F

    today = timezone.now().date()
    updated = AnonymousTally.objects.filter(
        organization_id=organization_id, metric=metric, day=today
    ).update(count=F("count") + 1)
    if not updated:
        try:
            with transaction.atomic():
                AnonymousTally.objects.create(
                    organization_id=organization_id, metric=metric, day=today, count=1
                )
        except IntegrityError:
            AnonymousTally.objects.filter(
                organization_id=organization_id, metric=metric, day=today
            ).update(count=F("count") + 1)


def _clean_tags(tags: Iterable[str]) -> list[str]:
    cleaned = sorted({str(tag).strip().lower() for tag in tags if str(tag).strip()})
    if any(len(tag) > 40 for tag in cleaned):
        raise InvalidInput("A tag has at most 40 characters.", field="tags")
    return cleaned
