"""Reads on segments: who is in an audience, how many, and in which languages and regions."""

from collections.abc import Collection, Iterable
from datetime import date, datetime, time
from functools import reduce
from operator import or_
from typing import TypedDict
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet

from campaigns.models import Segment
from outreach.models import Channel, ConsentStatus, Organization, Region, Subscriber

NO_REGION = "unknown"  # the breakdown's key for subscribers who never named their region


class Breakdown(TypedDict):
    count: int
    by_language: dict[str, int]
    by_region: dict[str, int]


def segment_members(segment: Segment) -> QuerySet[Subscriber]:
    """The subscribers a segment reaches now: its saved filters, opted-in subscribers only."""
    return subscribers_matching(
        segment.organization,
        languages=segment.languages,
        regions=list(segment.regions.all()),
        age_bands=segment.age_bands,
        genders=segment.genders,
        channels=list(segment.channels.all()),
        tags=segment.tags,
        joined_since=segment.joined_since,
    )


def subscribers_matching(
    organization: Organization,
    *,
    languages: Collection[str] = (),
    regions: Collection[Region] = (),
    age_bands: Collection[str] = (),
    genders: Collection[str] = (),
    channels: Collection[Channel] = (),
    tags: Collection[str] = (),
    joined_since: date | None = None,
) -> QuerySet[Subscriber]:
    """The organization's opted-in subscribers matching every non-empty filter.

    Within one filter any value matches (a language among `languages`, a tag among `tags`);
    a region also takes in its sub-regions. `joined_since` is a day in the organization's
    time zone.
    """
    members = Subscriber.objects.filter(
        organization=organization, consent_status=ConsentStatus.OPTED_IN
    )
    if languages:
        members = members.filter(language__in=languages)
    if regions:
        members = members.filter(region__in=_with_sub_regions(regions))
    if age_bands:
        members = members.filter(age_band__in=age_bands)
    if genders:
        members = members.filter(gender__in=genders)
    if channels:
        members = members.filter(channel__in=channels)
    if joined_since is not None:
        local_midnight = datetime.combine(
            joined_since, time.min, tzinfo=ZoneInfo(organization.timezone)
        )
        members = members.filter(joined_at__gte=local_midnight)
    if tags:
        members = _with_any_tag(members, tags)
    return members


def segment_count(segment: Segment) -> int:
    """People (contacts) the segment reaches now, whatever their number of addresses."""
    return people_in(segment_members(segment))


def people_in(members: QuerySet[Subscriber]) -> int:
    """How many people (contacts) these addresses are. count(DISTINCT …), not a DISTINCT
    subquery: PostgreSQL plans that one as a hash aggregate it underestimates, which takes
    minutes over a million addresses instead of a second."""
    return members.order_by().aggregate(n=Count("contact_id", distinct=True))["n"]


def segment_breakdown(segment: Segment) -> Breakdown:
    """How many a segment reaches, by language and by region name: the preview before a wave."""
    return audience_breakdown(segment_members(segment))


def audience_breakdown(members: QuerySet[Subscriber]) -> Breakdown:
    """People (contacts) among `members` by language and by region name, one GROUP BY
    query each: a person on SMS and WhatsApp counts once (their profile is one)."""
    by_language = _counts_by(members, "language")
    by_region = {
        (name if name is not None else NO_REGION): n
        for name, n in _counts_by(members, "region__name").items()
    }
    return {
        "count": sum(by_language.values()),
        "by_language": by_language,
        "by_region": by_region,
    }


def _counts_by(members: QuerySet[Subscriber], field: str) -> dict:
    rows = (
        members.order_by()
        .values_list(field)
        .annotate(n=Count("contact_id", distinct=True))
        .order_by(field)
    )
    return dict(rows)  # type: ignore[arg-type]


def _with_sub_regions(regions: Iterable[Region]) -> set[int]:
    # Region trees are shallow (county > sub-county > ward): one query per level.
    found = {region.pk for region in regions}
    frontier = set(found)
    while frontier:
        children = set(Region.objects.filter(parent__in=frontier).values_list("pk", flat=True))
        frontier = children - found
        found |= frontier
    return found


def _with_any_tag(members: QuerySet[Subscriber], tags: Collection[str]) -> QuerySet[Subscriber]:
    return members.filter(reduce(or_, (Q(tags__contains=[tag]) for tag in tags)))
