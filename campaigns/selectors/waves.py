"""Reads about waves: who a wave would reach, in which language, at what cost."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from campaigns.models import Wave
from campaigns.selectors.segments import segment_members
from outreach.models import ChannelPrice, OutboundKind, OutboundMessage, Region

FATIGUE_WINDOW = timedelta(days=7)


def wave_price(wave: Wave) -> tuple[Decimal | None, str | None]:
    """The per-segment price on the wave's first channel to the campaign's country, if set."""
    channel = wave.channels.order_by("pk").first()
    if channel is None:
        return None, None
    price = ChannelPrice.objects.filter(channel=channel, country=wave.campaign.country).first()
    return (price.price_per_segment, price.currency) if price else (None, None)


def fatigued_subscribers(
    organization_id: int,
    cap: int | None,
    *,
    excluding_wave_id: int | None = None,
    subscribers_between: tuple[int, int] | None = None,
    now: datetime | None = None,
) -> QuerySet | None:
    """Ids (a subquery) of subscribers who got `cap` wave messages in 7 days; None: no cap.

    `excluding_wave_id` leaves out a wave's own messages (a fan-out running again);
    `subscribers_between` limits the count to an id range (a fan-out chunk), so a chunked
    fan-out reads each recent message once instead of once per chunk.
    """
    if not cap:
        return None
    since = (now or timezone.now()) - FATIGUE_WINDOW
    recent = OutboundMessage.objects.filter(
        kind=OutboundKind.WAVE, created_at__gte=since, subscriber__isnull=False
    )
    if subscribers_between is not None:
        # A subscriber belongs to one organization: the id range alone finds their messages,
        # through the subscriber index, without visiting the whole organization's.
        low, high = subscribers_between
        recent = recent.filter(subscriber_id__gte=low, subscriber_id__lte=high)
    else:
        recent = recent.filter(organization_id=organization_id)
    if excluding_wave_id is not None:
        recent = recent.exclude(wave_id=excluding_wave_id)
    return (
        recent.values("subscriber_id")
        .annotate(n=Count("id"))
        .filter(n__gte=cap)
        .values("subscriber_id")
    )


def longest_region_name(organization_id: int) -> str:
    """The longest region name, which `{region}` is counted as when a message is measured."""
    names = Region.objects.filter(organization_id=organization_id).values_list("name", flat=True)
    return max(names, key=len, default="")


def wave_audience(wave: Wave) -> dict[str, Any]:
    """The preview a reviewer sees: counts by language (with fallbacks), region, capped, cost."""
    from campaigns.composition import variant_stats
    from campaigns.services.waves import MAX_SEGMENTS

    if wave.segment is None:
        return {"count": 0, "by_language": {}, "by_region": {}, "fatigue_capped": 0}
    campaign = wave.campaign
    members = segment_members(wave.segment)
    if wave.channels.exists():
        members = members.filter(channel__in=wave.channels.all())
    capped_ids = fatigued_subscribers(wave.organization_id, campaign.fatigue_cap_per_week)
    capped = members.filter(pk__in=capped_ids).count() if capped_ids is not None else 0
    reachable = members.exclude(pk__in=capped_ids) if capped_ids is not None else members
    variants = {v.language: v for v in wave.variants.all()}
    by_language: dict[str, dict[str, int]] = {}
    for language, count in _counts(reachable, "language").items():
        sent_in = language if language in variants else campaign.default_language
        entry = by_language.setdefault(sent_in, {"subscribers": 0, "fallback": 0})
        entry["subscribers"] += count
        if sent_in != language:
            entry["fallback"] += count
    by_region = {
        (name or "unknown"): count for name, count in _counts(reachable, "region__name").items()
    }
    price, currency = wave_price(wave)
    total_cost = Decimal(0) if price is not None else None
    longest_region = longest_region_name(campaign.organization_id)
    segments = 0
    for language, entry in by_language.items():
        variant = variants.get(language)
        if variant is None:
            continue
        stats = variant_stats(
            variant.body,
            declared_language=language,
            campaign_name=campaign.name,
            longest_region=longest_region,
            price_per_segment=price,
            currency=currency,
            max_segments=MAX_SEGMENTS,
        )
        segments += stats.segments * entry["subscribers"]
        if total_cost is not None and stats.cost_per_message is not None:
            total_cost += stats.cost_per_message * entry["subscribers"]
    return {
        "count": sum(entry["subscribers"] for entry in by_language.values()),
        "by_language": by_language,
        "by_region": by_region,
        "fatigue_capped": capped,
        "sms_segments": segments,
        "estimated_cost": total_cost,
        "currency": currency,
    }


def _counts(members: Any, field: str) -> dict[Any, int]:
    return dict(
        members.order_by().values_list(field).annotate(n=Count("id")).values_list(field, "n")
    )
