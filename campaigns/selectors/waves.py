"""Reads about waves: who a wave would reach, in which language, at what cost."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, QuerySet
from django.utils import timezone

from campaigns.composition import longest_short_link, message_as_sent
from campaigns.links import short_link_prefix
from campaigns.models import TrackedLink, Wave
from campaigns.selectors.segments import people_in, segment_members
from outreach.channel_kinds import PricingUnit
from outreach.models import (
    Channel,
    ChannelPrice,
    OutboundKind,
    OutboundMessage,
    Region,
)

FATIGUE_WINDOW = timedelta(days=7)


def wave_price(wave: Wave) -> tuple[Decimal | None, str | None]:
    """The per-segment price on the wave's first SMS channel to the campaign's country."""
    from campaigns.selectors.recipients import wave_channels

    sms = [c for c in wave_channels(wave) if c.spec.counts_segments]
    return channel_price(sms[0], wave.campaign.country) if sms else (None, None)


def channel_price(channel: Channel, country: str) -> tuple[Decimal | None, str | None]:
    """What one pricing unit of `channel` (an SMS segment, a WhatsApp conversation opened by
    a template) costs to `country`, if set."""
    price = ChannelPrice.objects.filter(channel=channel, country=country).first()
    return (price.price_per_segment, price.currency) if price else (None, None)


def fatigued_contacts(
    organization_id: int,
    cap: int | None,
    *,
    excluding_wave_id: int | None = None,
    contacts_between: tuple[int, int] | None = None,
    now: datetime | None = None,
) -> QuerySet | None:
    """Ids (a subquery) of people (contacts) who got `cap` waves in 7 days; None: no cap.

    A person is counted once per wave whatever their channels (a fallback is the same
    wave). `excluding_wave_id` leaves out a wave's own messages (a fan-out running again);
    `contacts_between` limits the count to an id range (a fan-out chunk), so a chunked
    fan-out reads each recent message once instead of once per chunk.
    """
    if not cap:
        return None
    since = (now or timezone.now()) - FATIGUE_WINDOW
    recent = OutboundMessage.objects.filter(
        kind=OutboundKind.WAVE, created_at__gte=since, subscriber__isnull=False
    )
    if contacts_between is not None:
        # A person belongs to one organization: their addresses' ids find their messages,
        # through the subscriber index, without visiting the whole organization's.
        low, high = contacts_between
        recent = recent.filter(subscriber__contact_id__gte=low, subscriber__contact_id__lte=high)
    else:
        recent = recent.filter(organization_id=organization_id)
    if excluding_wave_id is not None:
        recent = recent.exclude(wave_id=excluding_wave_id)
    return (
        recent.values("subscriber__contact_id")
        .annotate(n=Count("wave_id", distinct=True))
        .filter(n__gte=cap)
        .values("subscriber__contact_id")
    )


def longest_region_name(organization_id: int) -> str:
    """The longest region name, which `{region}` is counted as when a message is measured."""
    names = Region.objects.filter(organization_id=organization_id).values_list("name", flat=True)
    return max(names, key=len, default="")


def earlier_wave_ids(wave: Wave) -> list[int]:
    """The campaign's other waves, whose messages decide whether the footer is due ([0]: none)."""
    return list(wave.campaign.waves.exclude(pk=wave.pk).values_list("pk", flat=True)) or [0]


def footer_due_sql(*, every: int, earlier: str) -> str:
    """SQL true when a message carries the opt-out footer, `earlier` being the SQL count of the
    subscriber's messages in the campaign's other waves: the first, and every `every`th after
    (0: the first only). For a query run with parameters (its % doubled).
    """
    if every == 0:
        return f"{earlier} = 0"
    return f"{earlier} %% {int(every)} = 0"


def variant_previews(wave: Wave, *, longest_region: str) -> dict[str, str]:
    """Per language, a subscriber's first message of the wave as fan-out writes it (opt-out
    footer on) in the longest region; a link not made yet shows as a short link as long.
    """
    made: dict[tuple[str, str], str] = {
        (language, url): short_link_prefix() + code
        for language, url, code in TrackedLink.objects.filter(wave=wave).values_list(
            "language", "url", "code"
        )
    }
    return {
        variant.language: message_as_sent(
            variant.body,
            language=variant.language,
            campaign_name=wave.campaign.name,
            region=longest_region,
            link=lambda url, language=variant.language: made.get(
                (language, url), longest_short_link()
            ),
            with_footer=True,
        )
        for variant in wave.variants.all()
    }


def wave_audience(wave: Wave) -> dict[str, Any]:
    """The preview a reviewer sees: people by language (with fallbacks), region and channel,
    capped, outside every window, segments and cost — counted from the same recipients
    fan-out writes (campaigns.selectors.recipients), one address per person.

    Segments and cost count each message as sent: with the opt-out footer where it is due;
    a message on a channel that is not SMS is one unit of its channel's pricing.
    """
    from campaigns.composition import variant_stats
    from campaigns.selectors.recipients import VariantRow, recipients_sql, wave_channels
    from campaigns.services.waves import MAX_SEGMENTS

    if wave.segment is None:
        return {"count": 0, "by_language": {}, "by_region": {}, "fatigue_capped": 0}
    campaign = wave.campaign
    members = segment_members(wave.segment)
    channels = wave_channels(wave)
    if channels:
        members = members.filter(channel__in=channels)
    capped_ids = fatigued_contacts(wave.organization_id, campaign.fatigue_cap_per_week)
    targeted = people_in(members)
    capped = people_in(members.filter(contact_id__in=capped_ids)) if capped_ids is not None else 0
    reachable = members.exclude(contact_id__in=capped_ids) if capped_ids is not None else members
    variants = {v.language: v for v in wave.variants.select_related("template")}
    rows = [
        VariantRow(
            language,
            "",
            0,
            "",
            0,
            template_id=v.template_id if _approved(v) else None,
            template_channel_id=v.template.channel_id if _approved(v) else None,
        )
        for language, v in variants.items()
    ]
    recipients, params = recipients_sql(wave, reachable, rows)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT r.language, s.language, r.channel_id, g.name, r.footer_due,
                   r.template_id IS NOT NULL, count(*)
            FROM ({recipients}) r
            JOIN outreach_subscriber s ON s.id = r.subscriber_id
            LEFT JOIN outreach_region g ON g.id = r.region_id
            GROUP BY 1, 2, 3, 4, 5, 6
            """,  # noqa: S608 - only the recipients' own SQL is interpolated
            params,
        )
        groups = cursor.fetchall()
    by_language: dict[str, dict[str, int]] = {}
    by_region: dict[str, int] = {}
    by_channel: dict[str, dict[str, int]] = {}
    sms: dict[tuple[int, str, bool], int] = {}  # (channel, language, footer) → SMS messages
    conversations: dict[int, int] = {}  # WhatsApp channel → template messages
    names = {c.pk: c for c in channels}
    for sent_in, own, channel_id, region, footer, templated, count in groups:
        entry = by_language.setdefault(sent_in, {"subscribers": 0, "fallback": 0})
        entry["subscribers"] += count
        if own != sent_in:
            entry["fallback"] += count
        by_region[region or "unknown"] = by_region.get(region or "unknown", 0) + count
        channel = names[channel_id]
        line = by_channel.setdefault(
            str(channel.pk),
            {"name": channel.name, "kind": channel.kind, "people": 0, "as_template": 0},
        )
        line["people"] += count
        line["as_template"] += count if templated else 0
        if channel.spec.counts_segments:
            key = (channel_id, sent_in, footer)
            sms[key] = sms.get(key, 0) + count
        elif templated and channel.spec.pricing_unit == PricingUnit.CONVERSATION:
            conversations[channel_id] = conversations.get(channel_id, 0) + count
    # The cost in each priced channel's unit; unknown (None) once a used channel has no price.
    total_cost: Decimal | None = Decimal(0)
    currency: str | None = None
    longest_region = longest_region_name(campaign.organization_id)
    segments = 0
    for (channel_id, language, footer), count in sms.items():
        price, currency = channel_price(names[channel_id], campaign.country)
        stats = variant_stats(
            variants[language].body,
            declared_language=language,
            campaign_name=campaign.name,
            longest_region=longest_region,
            price_per_segment=price,
            currency=currency,
            max_segments=MAX_SEGMENTS,
            with_footer=footer,
        )
        segments += stats.segments * count
        if total_cost is not None and stats.cost_per_message is not None:
            total_cost += stats.cost_per_message * count
        else:
            total_cost = None
    for channel_id, count in conversations.items():
        price, unit_currency = channel_price(names[channel_id], campaign.country)
        currency = currency or unit_currency
        total_cost = total_cost + price * count if total_cost is not None and price else None
    count = sum(entry["subscribers"] for entry in by_language.values())
    return {
        "count": count,
        "by_language": by_language,
        "by_region": by_region,
        "by_channel": by_channel,
        "fatigue_capped": capped,
        "no_open_channel": max(0, targeted - capped - count),
        "sms_segments": segments,
        "estimated_cost": total_cost,
        "currency": currency,
    }


def _approved(variant: Any) -> bool:
    from outreach.models import TemplateStatus

    return variant.template is not None and variant.template.status == TemplateStatus.APPROVED
