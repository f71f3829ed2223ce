"""Writes on channels and regions: how an organization reaches people, and where they live."""

import re

from django.db import IntegrityError, transaction

from outreach.addresses import provider_address
from outreach.channel_kinds import spec_of
from outreach.errors import InvalidInput
from outreach.models import Channel, ChannelKind, Organization, Region
from outreach.selectors.channels import forget_webhook_channels
from outreach.selectors.presets import region_preset, region_preset_names

_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
_SHORT_CODE = re.compile(r"^\d{3,8}$")
CHANNEL_FIELDS = (
    "name",
    "kind",
    "country",
    "account_sid",
    "auth_token",
    "from_number",
    "messaging_service_sid",
    "external_id",
    "access_token",
    "webhook_secret",
    "verify_token",
    "messages_per_second",
    "is_active",
)
# What each provider kind cannot work without, besides its name and country.
REQUIRED_OF_KIND = {
    ChannelKind.WHATSAPP_CLOUD: (
        ("external_id", "The WhatsApp phone-number id."),
        ("access_token", "A Meta access token with whatsapp_business_messaging."),
        ("webhook_secret", "The Meta app's secret: it signs the webhooks."),
        ("verify_token", "The verify token you type in the app's webhook settings."),
    ),
    ChannelKind.MESSENGER: (
        ("external_id", "The Facebook Page id."),
        ("access_token", "The Page access token."),
        ("webhook_secret", "The Meta app's secret: it signs the webhooks."),
        ("verify_token", "The verify token you type in the app's webhook settings."),
    ),
    ChannelKind.TELEGRAM: (("access_token", "The bot token from @BotFather."),),
}


@transaction.atomic
def channel_create(*, organization: Organization, **fields: object) -> Channel:
    """Create a channel; a Twilio one needs its account, token and a sender."""
    channel = Channel(organization=organization)
    return _apply(channel, fields)


@transaction.atomic
def channel_update(*, channel: Channel, **changes: object) -> Channel:
    """Change a channel's settings; the kind never changes (make a new channel instead)."""
    if "kind" in changes and changes["kind"] != channel.kind:
        raise InvalidInput("A channel's kind cannot change; create a new channel.", field="kind")
    return _apply(channel, changes)


@transaction.atomic
def regions_load_preset(*, organization: Organization, preset: str) -> int:
    """Add a country preset's list of regions (KE-counties: Kenya's 47 counties, MX-states:
    Mexico's 32 federal entities); existing names are kept."""
    found = region_preset(preset) if isinstance(preset, str) else None
    if found is None:
        raise InvalidInput(
            f"Unknown preset; choose one of {', '.join(region_preset_names())}.", field="preset"
        )
    kind, regions = found
    existing = {
        name.casefold()
        for name in Region.objects.filter(organization=organization).values_list("name", flat=True)
    }
    new = [
        Region(organization=organization, name=item["name"], kind=kind, aliases=item["aliases"])
        for item in regions
        if item["name"].casefold() not in existing
    ]
    Region.objects.bulk_create(new)
    return len(new)


def _apply(channel: Channel, fields: dict[str, object]) -> Channel:
    unknown = set(fields) - set(CHANNEL_FIELDS)
    if unknown:
        field = sorted(unknown)[0]
        raise InvalidInput(f"'{field}' is not a channel setting.", field=field)
    for name, value in fields.items():
        setattr(channel, name, value)
    if channel.kind not in ChannelKind.values:
        raise InvalidInput(f"Choose one of {', '.join(ChannelKind.values)}.", field="kind")
    if channel.pk is None and "messages_per_second" not in fields:
        channel.messages_per_second = spec_of(channel.kind).default_rate
    if channel.kind in (ChannelKind.TWILIO_SMS, ChannelKind.TWILIO_WHATSAPP):
        _check_twilio(channel)
    for field, need in REQUIRED_OF_KIND.get(channel.kind, ()):
        if not getattr(channel, field):
            raise InvalidInput(need, field=field)
    try:
        with transaction.atomic():
            channel.save()
    except IntegrityError as error:
        raise InvalidInput("A channel of that name exists already.", field="name") from error
    # This process's webhooks see the change at once; others within webhook_channel's TTL.
    transaction.on_commit(forget_webhook_channels)
    return channel


def _check_twilio(channel: Channel) -> None:
    if not _ACCOUNT_SID.match(channel.account_sid or ""):
        raise InvalidInput(
            "A Twilio account SID: AC followed by 32 hex digits.", field="account_sid"
        )
    if not channel.auth_token:
        raise InvalidInput("The account's auth token is needed.", field="auth_token")
    if channel.messaging_service_sid:
        if not _MESSAGING_SERVICE_SID.match(channel.messaging_service_sid):
            raise InvalidInput(
                "A messaging service SID: MG followed by 32 hex digits.",
                field="messaging_service_sid",
            )
    elif channel.from_number:
        sender = provider_address(channel.from_number, region=channel.country)
        if not (sender.startswith("+") or _SHORT_CODE.match(sender)):
            raise InvalidInput(
                f"'{channel.from_number}' is neither a phone number nor a short code.",
                field="from_number",
            )
        channel.from_number = sender
    else:
        raise InvalidInput("Give a From number or a messaging service SID.", field="from_number")
