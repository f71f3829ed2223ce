"""Test sends: a wave's text to staff numbers, marked as a test and left out of reports."""

from django.db import transaction

from campaigns.composition import message_as_sent
from campaigns.links import short_link_for
from campaigns.models import Wave
from outreach.addresses import normalize_phone_number
from outreach.errors import InvalidInput
from outreach.models import Channel, OutboundKind, OutboundMessage, User
from outreach.services.outbound import message_enqueue
from outreach.sms_encoding import sms_length


@transaction.atomic
def wave_test_send(
    *,
    wave: Wave,
    by: User,
    numbers: list[str],
    language: str | None = None,
    channel: int | None = None,
) -> int:
    """Queue the wave's variant in `language` to each staff number; returns how many."""
    campaign = wave.campaign
    language = language or campaign.default_language
    variant = wave.variants.filter(language=language).first()
    if variant is None:
        raise InvalidInput(f"The wave has no {language} variant.", field="language")
    sender = _channel(wave, channel)
    body = "[TEST] " + message_as_sent(
        variant.body,
        language=language,
        campaign_name=campaign.name,
        region="Nairobi",
        link=lambda url: short_link_for(wave=wave, language=language, url=url),
        with_footer=False,
    )
    queued = 0
    for index, raw in enumerate(numbers):
        number = normalize_phone_number(raw, region=sender.country, field=f"numbers.{index}")
        message = OutboundMessage.objects.create(
            organization_id=wave.organization_id,
            channel=sender,
            to_address=number,
            kind=OutboundKind.TEST,
            body=body,
            language=language,
            segments=sms_length(body).segments,
        )
        message_enqueue(message)
        queued += 1
    return queued


def _channel(wave: Wave, channel_id: int | None) -> Channel:
    channels = wave.channels.all()
    chosen = (
        channels.filter(pk=channel_id).first() if channel_id else channels.order_by("pk").first()
    )
    if chosen is None:
        raise InvalidInput("Choose one of the wave's channels.", field="channel")
    return chosen
