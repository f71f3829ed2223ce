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
from campaigns.selectors.segments import segment_members
from outreach.models import ChannelPrice, OutboundKind, OutboundMessage, Region, Subscriber

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


def footer_due_by_language(wave: Wave, members: QuerySet[Subscriber]) -> dict[str, tuple[int, int]]:
    """Per subscriber language: how many `members` the wave reaches, and how many of their
    messages carry the opt-out footer (the same rule fan-out writes them with).
    """
    members_sql, members_params = members.values("pk").query.sql_with_params()
    due = footer_due_sql(every=wave.campaign.opt_out_footer_every, earlier="coalesce(c.n, 0)")
    # Only Django's compiled SQL and an int are interpolated; values are params.
    sql = f"""
        SELECT s.language, count(*), count(*) FILTER (WHERE {due})
        FROM outreach_subscriber s
        LEFT JOIN (
            SELECT subscriber_id, count(*) AS n FROM outreach_outboundmessage
            WHERE wave_id = ANY(%s) GROUP BY subscriber_id
        ) c ON c.subscriber_id = s.id
        WHERE s.id IN ({members_sql})
        GROUP BY s.language
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [earlier_wave_ids(wave), *members_params])
        return {language: (count, due) for language, count, due in cursor.fetchall()}


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
    """The preview a reviewer sees: counts by language (with fallbacks), region, capped, cost.

    Segments and cost count each message as sent: with the opt-out footer where it is due.
    """
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
    with_footer: dict[str, int] = {}  # of them, how many get the opt-out footer this time
    for language, (count, due) in footer_due_by_language(wave, reachable).items():
        sent_in = language if language in variants else campaign.default_language
        entry = by_language.setdefault(sent_in, {"subscribers": 0, "fallback": 0})
        entry["subscribers"] += count
        with_footer[sent_in] = with_footer.get(sent_in, 0) + due
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
        due = with_footer[language]
        for footer, count in ((True, due), (False, entry["subscribers"] - due)):
            stats = variant_stats(
                variant.body,
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
