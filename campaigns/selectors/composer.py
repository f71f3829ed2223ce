"""Reads for the console's campaign pages and wave composer: lists, a timeline, live stats.

The stats a composer shows as the manager types are the API's own (campaigns.api.waves
get_variants): variant_stats with and without the opt-out footer, at the longest region
name and a tracked short link's length, priced on the first SMS channel chosen; and the
network lexicons' terms that inflame, found in the text (warnings, not errors).
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet

from campaigns.composition import (
    PlaceholderError,
    VariantStats,
    find_placeholders,
    longest_short_link,
    message_as_sent,
    opt_out_footer,
    validate_placeholders,
    variant_stats,
)
from campaigns.models import Adoption, Campaign, Segment, Wave, WaveStatus
from campaigns.selectors.library import TermHit, inflaming_terms_in
from campaigns.selectors.waves import channel_price, longest_region_name
from outreach.models import Channel, Organization

# A bare web address in a text: sent as typed, not tracked (write {link:URL} to track it).
_BARE_URL = re.compile(r"\b(?:https?://|www\.)[^\s{}]+", re.IGNORECASE)


def campaigns_for_console(organization: Organization) -> QuerySet[Campaign]:
    """The organization's campaigns, newest election first, with their waves counted."""
    return (
        Campaign.objects.filter(organization=organization)
        .annotate(
            wave_count=Count("waves"),
            draft_count=Count("waves", filter=Q(waves__status=WaveStatus.DRAFT)),
            sent_count=Count("waves", filter=Q(waves__status=WaveStatus.SENT)),
        )
        .order_by("-election_date", "name")
    )


@dataclass(frozen=True)
class TimelineEntry:
    """One wave on its campaign's timeline: where it falls against election day."""

    wave: Wave
    label: str  # "E-7", "E+1", "E"; "" when it has no send time or no election day
    local: dt.datetime | None
    utc: dt.datetime | None


def campaign_timeline(campaign: Campaign) -> list[TimelineEntry]:
    """The campaign's waves in send order (unset ones last), each labelled from election day."""
    zone = ZoneInfo(campaign.timezone)
    waves = list(campaign.waves.all())
    never = dt.datetime.max.replace(tzinfo=dt.UTC)
    waves.sort(key=lambda w: (w.scheduled_for or w.requested_at or never, w.pk))
    entries = []
    for wave in waves:
        at = wave.scheduled_for or wave.requested_at
        local = at.astimezone(zone) if at else None
        entries.append(
            TimelineEntry(
                wave=wave,
                label=election_day_label(local.date(), campaign.election_date) if local else "",
                local=local,
                utc=at.astimezone(dt.UTC) if at else None,
            )
        )
    return entries


def election_day_label(day: dt.date, election_date: dt.date | None) -> str:
    """A local date against election day: "E-7", "E", "E+1" ("" without an election day)."""
    if election_date is None:
        return ""
    offset = (day - election_date).days
    return "E" if offset == 0 else f"E{offset:+d}"


def composer_segments(organization: Organization) -> list[tuple[int, str]]:
    """The organization's segments, by name, for a select."""
    return list(
        Segment.objects.filter(organization=organization).order_by("name").values_list("pk", "name")
    )


def composer_channels(organization: Organization) -> list[Channel]:
    """The organization's channels a wave may go on, by name."""
    return list(Channel.objects.filter(organization=organization).order_by("name", "pk"))


@dataclass(frozen=True)
class DraftStats:
    """What one variant's text, as typed, will be: the API's numbers, or why it cannot be."""

    language: str
    error: str | None  # a placeholder problem: nothing else is measured
    stats: VariantStats | None  # as a subscriber's first message goes: footer included
    without_footer: VariantStats | None
    footer: str
    links: list[tuple[str, str]]  # (URL written, the short link it goes as)
    bare_urls: list[str]  # web addresses written without {link:…}: not tracked
    as_sent: str  # the first message as sent, footer included, in the longest region
    # Approved lexicon terms of the campaign's country and this language the text uses.
    lexicon: list[TermHit] = field(default_factory=list)


def draft_stats(
    text: str,
    *,
    language: str,
    campaign: Campaign,
    channel_ids: list[int],
    max_segments: int,
) -> DraftStats:
    """Stats of a variant's text not saved yet, priced on the first SMS channel of `channel_ids`."""
    footer = opt_out_footer(language)
    lexicon = inflaming_terms_in(
        text, organization=campaign.organization, country=campaign.country, language=language
    )
    try:
        validate_placeholders(text)
    except PlaceholderError as error:
        return DraftStats(language, str(error), None, None, footer, [], [], "", lexicon)
    price, currency = draft_price(campaign, channel_ids)
    longest_region = longest_region_name(campaign.organization_id)
    stats, without_footer = (
        variant_stats(
            text,
            declared_language=language,
            campaign_name=campaign.name,
            longest_region=longest_region,
            price_per_segment=price,
            currency=currency,
            max_segments=max_segments,
            with_footer=footer_on,
        )
        for footer_on in (True, False)
    )
    links = [
        (p.argument or "", longest_short_link())
        for p in find_placeholders(text)
        if p.name == "link"
    ]
    as_sent = message_as_sent(
        text,
        language=language,
        campaign_name=campaign.name,
        region=longest_region,
        link=longest_short_link,
        with_footer=True,
    )
    bare = _BARE_URL.findall(" ".join(_outside_placeholders(text)))
    return DraftStats(language, None, stats, without_footer, footer, links, bare, as_sent, lexicon)


def wave_adoption(wave: Wave) -> Adoption | None:
    """The library version the wave's texts came from, if any: a fork once edited."""
    return Adoption.objects.filter(wave=wave).select_related("version__template").first()


def draft_price(campaign: Campaign, channel_ids: list[int]) -> tuple[Decimal | None, str | None]:
    """The per-segment price on the first SMS channel among `channel_ids` (in that order)."""
    found = {
        c.pk: c
        for c in Channel.objects.filter(organization=campaign.organization, pk__in=channel_ids)
    }
    for pk in channel_ids:
        channel = found.get(pk)
        if channel is not None and channel.spec.counts_segments:
            return channel_price(channel, campaign.country)
    return None, None


def _outside_placeholders(text: str) -> list[str]:
    pieces, last = [], 0
    for placeholder in find_placeholders(text):
        pieces.append(text[last : placeholder.start])
        last = placeholder.end
    pieces.append(text[last:])
    return pieces
