"""Writes on subscribers: finding them by address, staff edits, erasure."""

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, Value, When
from django.db.models.functions import MD5, Concat
from django.utils import timezone

from outreach.channel_kinds import Scheme
from outreach.errors import InvalidInput
from outreach.models import (
    NOT_HANDED_OVER,
    AnonymousTally,
    Channel,
    ConsentEvent,
    Contact,
    InboundMessage,
    LanguageSource,
    MessageStatusEvent,
    OutboundMessage,
    OutboundStatus,
    Region,
    Subscriber,
)

EDITABLE_FIELDS = ("language", "region", "age_band", "gender", "tags")
# The person's profile, the same on each of their addresses.
PERSON_FIELDS = (
    "language",
    "language_source",
    "region_id",
    "age_band",
    "gender",
    "tags",
    "onboarding_step",
)
ERASED_REASON = "The recipient was erased."


def subscriber_for_address(*, channel: Channel, address: str) -> Subscriber:
    """The organization's subscriber at `address` in the channel's scheme, created (not yet
    subscribed) on first contact.

    A new address joins the contact (the person) that already has the same phone number on
    the other phone scheme (SMS and WhatsApp), taking that person's profile; any other
    address is a new contact until the person proves both ends (`contacts_link_by_code`).
    """
    organization = channel.organization
    scheme = channel.scheme
    existing = Subscriber.objects.filter(
        organization=organization, scheme=scheme, address=address
    ).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            same_person = _same_number_elsewhere(organization.pk, scheme, address)
            contact = (
                Contact.objects.get(pk=same_person.contact_id)
                if same_person
                else Contact.objects.create(organization=organization)
            )
            profile = (
                {field: getattr(same_person, field) for field in PERSON_FIELDS}
                if same_person
                else {
                    "language": organization.default_language,
                    "language_source": LanguageSource.DEFAULT,
                }
            )
            return Subscriber.objects.create(
                organization=organization,
                contact=contact,
                channel=channel,
                scheme=scheme,
                address=address,
                **profile,
            )
    except IntegrityError:  # a concurrent first message from the same number
        return Subscriber.objects.get(organization=organization, scheme=scheme, address=address)


def _same_number_elsewhere(organization_id: int, scheme: str, address: str) -> Subscriber | None:
    if scheme not in Scheme.PHONE:
        return None
    return (
        Subscriber.objects.filter(
            organization_id=organization_id,
            scheme__in=[other for other in Scheme.PHONE if other != scheme],
            address=address,
        )
        .order_by("pk")
        .first()
    )


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
    profile_share(subscriber, fields=written)
    return subscriber


def profile_share(subscriber: Subscriber, *, fields: Iterable[str]) -> None:
    """Copy these profile fields of `subscriber` to the person's other addresses: the
    profile is the person's, whichever channel they answered the question on."""
    columns = [f if f not in ("region",) else "region_id" for f in fields]
    columns = [c for c in columns if c in PERSON_FIELDS]
    if not columns:
        return
    Subscriber.objects.filter(contact_id=subscriber.contact_id).exclude(pk=subscriber.pk).update(
        **{column: getattr(subscriber, column) for column in columns}, updated_at=timezone.now()
    )


@transaction.atomic
def subscriber_erase(
    *,
    subscriber: Subscriber,
    metric: str = AnonymousTally.Metric.ERASED,
    last_reply: OutboundMessage | None = None,
) -> None:
    """The right to be forgotten: delete the person — every address of theirs — and keep
    anonymous counts.

    Consent events stay, detached from the person; messages stay for delivery counts,
    without the number, the person's id, the text the person wrote or the provider's error
    text (which may name the number; the error code stays); pending messages are cancelled —
    except `last_reply` (the under-age goodbye), whose number is wiped once it is sent.
    """
    contact_id, organization_id = subscriber.contact_id, subscriber.organization_id
    addresses = list(
        Subscriber.objects.filter(contact_id=contact_id).values_list("pk", flat=True)
    ) or [subscriber.pk]
    for address_id in addresses:
        _erase_address(address_id, last_reply)
    Subscriber.objects.filter(pk__in=addresses).delete()
    Contact.objects.filter(pk=contact_id).delete()
    tally_increment(organization_id=organization_id, metric=metric)


def _erase_address(subscriber_id: int, last_reply: OutboundMessage | None) -> None:
    ConsentEvent.objects.detach_from_erased(subscriber_id)
    # Providers' message ids may carry the person (Telegram's name the chat, WhatsApp's
    # encode the number): kept only as digests, which still tell messages apart.
    MessageStatusEvent.objects.filter(message__subscriber_id=subscriber_id).update(
        raw=None, provider_message_id=_digest("provider_message_id")
    )
    InboundMessage.objects.filter(subscriber_id=subscriber_id).update(
        subscriber=None,
        body="",
        from_address="",
        raw=None,
        provider_message_id=_digest("provider_message_id"),
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
        contact_id=None,
        to_address="",
        provider_message_id=_digest("provider_message_id"),
        # A provider's error text may name the number: only the error code stays.
        error_message=Case(
            When(error_message=ERASED_REASON, then=Value(ERASED_REASON)), default=Value("")
        ),
    )
    OutboundMessage.objects.filter(subscriber_id=subscriber_id).update(
        subscriber=None, contact_id=None
    )


def _digest(field: str) -> Case:
    """SQL: "erased:" and the md5 of a provider id (blank stays blank), 39 characters."""
    return Case(
        When(**{field: ""}, then=Value("")),
        default=Concat(Value("erased:"), MD5(field)),
        output_field=CharField(),
    )


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
