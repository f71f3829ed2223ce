"""Segments: who an audience reaches, and how managers save one without saving a wrong one."""

from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
import time_machine
from django.utils import timezone

from campaigns.models import Segment
from campaigns.selectors.segments import (
    segment_breakdown,
    segment_count,
    segment_members,
    subscribers_matching,
)
from campaigns.services.segments import segment_create, segment_delete, segment_update
from outreach.errors import InvalidInput
from outreach.models import (
    AgeBand,
    Channel,
    ChannelKind,
    ConsentStatus,
    Gender,
    Region,
    Subscriber,
)
from tests.support.people import make_subscriber

pytestmark = pytest.mark.django_db

_numbers = count(1)


@pytest.fixture
def sms(organization):
    return Channel.objects.create(
        organization=organization, name="SMS", kind=ChannelKind.CONSOLE, country="KE"
    )


@pytest.fixture
def whatsapp(organization):
    return Channel.objects.create(
        organization=organization, name="WhatsApp", kind=ChannelKind.CONSOLE, country="KE"
    )


@pytest.fixture
def nairobi(organization):
    return Region.objects.create(organization=organization, name="Nairobi")


@pytest.fixture
def kisumu(organization):
    return Region.objects.create(organization=organization, name="Kisumu")


@pytest.fixture
def subscribe(organization, sms):
    """Someone in `organization`'s audience; opted in unless told otherwise."""

    def make(**fields) -> Subscriber:
        values = {
            "organization": organization,
            "channel": sms,
            "address": f"+2547{next(_numbers):08d}",
            "language": "en",
            "consent_status": ConsentStatus.OPTED_IN,
            "joined_at": datetime(2026, 11, 1, 9, 0, tzinfo=UTC),
            **fields,
        }
        return make_subscriber(**values)

    return make


def members(organization, **filters) -> set[int]:
    return set(subscribers_matching(organization, **filters).values_list("pk", flat=True))


# --- Who is a member -----------------------------------------------------------------


def test_a_segment_without_filters_reaches_every_opted_in_subscriber(organization, subscribe):
    amina, baraka = subscribe(), subscribe(language="sw")

    assert members(organization) == {amina.pk, baraka.pk}


def test_opted_out_and_never_subscribed_people_are_never_members(organization, subscribe):
    subscribed = subscribe(tags=["youth-camp"])
    subscribe(consent_status=ConsentStatus.OPTED_OUT, tags=["youth-camp"])
    subscribe(consent_status=ConsentStatus.NONE, tags=["youth-camp"])

    assert members(organization) == {subscribed.pk}
    assert members(organization, languages=["en"], tags=["youth-camp"]) == {subscribed.pk}


def test_another_organizations_subscribers_are_never_members(
    organization, other_organization, subscribe
):
    channel = Channel.objects.create(
        organization=other_organization, name="SMS", kind=ChannelKind.CONSOLE, country="KE"
    )
    ours = subscribe()
    subscribe(organization=other_organization, channel=channel)

    assert members(organization) == {ours.pk}


@pytest.mark.parametrize(
    ("matching", "other", "filters"),
    [
        ({"language": "sw"}, {"language": "en"}, {"languages": ["sw"]}),
        ({"age_band": AgeBand.A18_24}, {"age_band": AgeBand.A25_29}, {"age_bands": ["18_24"]}),
        ({"age_band": AgeBand.A18_24}, {"age_band": ""}, {"age_bands": ["18_24"]}),
        ({"gender": Gender.FEMALE}, {"gender": Gender.MALE}, {"genders": ["female"]}),
        ({"tags": ["youth-camp"]}, {"tags": ["choir"]}, {"tags": ["youth-camp"]}),
        ({"tags": ["youth-camp"]}, {"tags": []}, {"tags": ["youth-camp"]}),
    ],
)
def test_each_profile_filter_keeps_only_the_subscribers_it_names(
    organization, subscribe, matching, other, filters
):
    member = subscribe(**matching)
    subscribe(**other)

    assert members(organization, **filters) == {member.pk}


def test_the_region_filter_keeps_subscribers_of_those_regions(
    organization, subscribe, nairobi, kisumu
):
    member = subscribe(region=nairobi)
    subscribe(region=kisumu)
    subscribe(region=None)

    assert members(organization, regions=[nairobi]) == {member.pk}


def test_a_region_takes_in_its_sub_regions(organization, subscribe, kisumu):
    ward = Region.objects.create(organization=organization, name="Kondele", parent=kisumu)
    village = Region.objects.create(organization=organization, name="Manyatta", parent=ward)
    in_county, in_ward, in_village = (
        subscribe(region=kisumu),
        subscribe(region=ward),
        subscribe(region=village),
    )

    assert members(organization, regions=[kisumu]) == {in_county.pk, in_ward.pk, in_village.pk}
    assert members(organization, regions=[ward]) == {in_ward.pk, in_village.pk}


def test_the_channel_filter_keeps_subscribers_reached_through_those_channels(
    organization, subscribe, sms, whatsapp
):
    member = subscribe(channel=whatsapp)
    subscribe(channel=sms)

    assert members(organization, channels=[whatsapp]) == {member.pk}


def test_a_subscriber_with_any_one_of_the_tags_is_a_member(organization, subscribe):
    camper, singer = subscribe(tags=["youth-camp", "kisumu"]), subscribe(tags=["choir"])
    subscribe(tags=["football"])

    assert members(organization, tags=["youth-camp", "choir"]) == {camper.pk, singer.pk}


def test_tags_match_whole_tags_only(organization, subscribe):
    subscribe(tags=["youth-camp"])

    assert members(organization, tags=["youth"]) == set()


def test_joined_since_starts_at_midnight_in_the_organizations_time_zone(organization, subscribe):
    assert organization.timezone == "Africa/Nairobi"  # UTC+3
    after_midnight = subscribe(joined_at=datetime(2026, 11, 23, 22, 30, tzinfo=UTC))  # 01:30
    subscribe(joined_at=datetime(2026, 11, 23, 20, 30, tzinfo=UTC))  # 23:30 the day before
    subscribe(joined_at=None)

    assert members(organization, joined_since=date(2026, 11, 24)) == {after_midnight.pk}


def test_filters_of_different_kinds_all_apply(organization, subscribe, nairobi, kisumu):
    member = subscribe(language="sw", region=nairobi, gender="female", tags=["choir"])
    subscribe(language="en", region=nairobi, gender="female", tags=["choir"])
    subscribe(language="sw", region=kisumu, gender="female", tags=["choir"])
    subscribe(language="sw", region=nairobi, gender="male", tags=["choir"])
    subscribe(language="sw", region=nairobi, gender="female", tags=["football"])

    reached = members(
        organization, languages=["sw"], regions=[nairobi], genders=["female"], tags=["choir"]
    )

    assert reached == {member.pk}


def test_a_saved_segment_reaches_whom_its_filters_name(
    organization, subscribe, nairobi, kisumu, whatsapp
):
    member = subscribe(language="sw", region=nairobi, channel=whatsapp, age_band="18_24")
    subscribe(language="sw", region=kisumu, channel=whatsapp, age_band="18_24")
    subscribe(language="sw", region=nairobi, age_band="18_24")
    segment = segment_create(
        organization=organization,
        created_by=None,
        name="Nairobi WhatsApp youth",
        languages=["sw"],
        regions=[nairobi],
        channels=[whatsapp],
        age_bands=["18_24"],
    )

    assert set(segment_members(segment).values_list("pk", flat=True)) == {member.pk}
    assert segment_count(segment) == 1


def test_the_breakdown_counts_members_by_language_and_region(
    organization, subscribe, nairobi, kisumu
):
    subscribe(language="sw", region=nairobi)
    subscribe(language="sw", region=kisumu)
    subscribe(language="en", region=nairobi)
    subscribe(language="en", region=None)
    subscribe(language="sw", region=nairobi, consent_status=ConsentStatus.OPTED_OUT)
    segment = segment_create(organization=organization, created_by=None, name="Everyone")

    assert segment_breakdown(segment) == {
        "count": 4,
        "by_language": {"en": 2, "sw": 2},
        "by_region": {"Nairobi": 2, "Kisumu": 1, "unknown": 1},
    }


def test_the_breakdown_of_an_empty_audience_is_zero(organization, subscribe):
    subscribe(consent_status=ConsentStatus.OPTED_OUT)
    segment = segment_create(organization=organization, created_by=None, name="Nobody")

    assert segment_breakdown(segment) == {"count": 0, "by_language": {}, "by_region": {}}


# --- Saving a segment ----------------------------------------------------------------


def test_a_segment_is_saved_with_its_filters_cleaned(organization, nairobi, sms):
    segment = segment_create(
        organization=organization,
        created_by=None,
        name="  Choir members  ",
        description="Sang at the peace concert.",
        languages=["sw", "en", "sw"],
        regions=[nairobi.pk],
        channels=[sms],
        tags=[" Choir ", "choir", "PEACE-Concert", " "],
        joined_since=date(2026, 1, 1),
    )

    segment.refresh_from_db()
    assert segment.name == "Choir members"
    assert segment.languages == ["sw", "en"]
    assert list(segment.regions.all()) == [nairobi]
    assert list(segment.channels.all()) == [sms]
    assert segment.tags == ["choir", "peace-concert"]
    assert segment.joined_since == date(2026, 1, 1)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": "  "}, "name", "Give the segment a name."),
        ({"name": "x" * 101}, "name", "at most 100"),
        ({"languages": ["fr"]}, "languages", "languages: en, sw."),
        ({"languages": "sw"}, "languages", "A list"),
        ({"age_bands": ["18-24"]}, "age_bands", "18_24"),
        ({"genders": ["woman"]}, "genders", "female"),
        ({"tags": ["x" * 41]}, "tags", "at most 40"),
        ({"tags": [7]}, "tags", "text"),
        ({"regions": [999_999]}, "regions", "No such region"),
        ({"regions": ["Nairobi"]}, "regions", "region ids"),
        ({"channels": [999_999]}, "channels", "No such channel"),
        ({"joined_since": "yesterday"}, "joined_since", "A day"),
        ({"joined_since": date(1999, 12, 31)}, "joined_since", "from 2000-01-01"),
        ({"audience": "everyone"}, "audience", "not a segment setting"),
    ],
)
def test_every_refusal_names_its_field(organization, fields, field, message):
    with pytest.raises(InvalidInput) as refusal:
        segment_create(organization=organization, created_by=None, **{"name": "Youth", **fields})

    assert refusal.value.field == field
    assert message in refusal.value.message
    assert not Segment.objects.exists()


def test_a_name_is_unique_in_the_organization_whatever_its_case(organization, other_organization):
    segment_create(organization=organization, created_by=None, name="Youth")

    with pytest.raises(InvalidInput) as refusal:
        segment_create(organization=organization, created_by=None, name="YOUTH")

    assert refusal.value.field == "name"
    assert segment_create(organization=other_organization, created_by=None, name="Youth")


def test_a_region_of_another_organization_is_refused_not_dropped(
    organization, other_organization, nairobi
):
    theirs = Region.objects.create(organization=other_organization, name="Nairobi")

    with pytest.raises(InvalidInput) as refusal:
        segment_create(
            organization=organization, created_by=None, name="Youth", regions=[nairobi, theirs]
        )

    assert refusal.value.field == "regions"
    assert str(theirs.pk) in refusal.value.message
    assert not Segment.objects.exists()


def test_a_channel_of_another_organization_is_refused(organization, other_organization):
    theirs = Channel.objects.create(
        organization=other_organization, name="SMS", kind=ChannelKind.CONSOLE, country="KE"
    )

    with pytest.raises(InvalidInput) as refusal:
        segment_create(organization=organization, created_by=None, name="Youth", channels=[theirs])

    assert refusal.value.field == "channels"


def test_joined_since_may_be_today_in_the_organization_but_not_later(organization):
    with time_machine.travel(datetime(2026, 11, 23, 22, 30, tzinfo=UTC)):  # 01:30 on the 24th
        segment = segment_create(
            organization=organization,
            created_by=None,
            name="Joined today",
            joined_since=date(2026, 11, 24),
        )
        with pytest.raises(InvalidInput) as refusal:
            segment_update(segment=segment, joined_since=date(2026, 11, 25))

    assert refusal.value.field == "joined_since"
    assert "future" in refusal.value.message


def test_an_update_changes_only_what_it_names(organization, nairobi, kisumu):
    segment = segment_create(
        organization=organization, created_by=None, name="Youth", regions=[nairobi], tags=["a"]
    )

    segment_update(segment=segment, regions=[kisumu], description="Moved west.")

    segment.refresh_from_db()
    assert list(segment.regions.all()) == [kisumu]
    assert segment.description == "Moved west."
    assert segment.name == "Youth"
    assert segment.tags == ["a"]


def test_an_update_may_keep_the_segments_own_name(organization):
    segment = segment_create(organization=organization, created_by=None, name="Youth")

    segment_update(segment=segment, name="youth")

    segment.refresh_from_db()
    assert segment.name == "youth"


def test_emptying_a_filter_means_any_again(organization, nairobi, subscribe, kisumu):
    subscribe(region=nairobi)
    subscribe(region=kisumu)
    segment = segment_create(
        organization=organization, created_by=None, name="Nairobi", regions=[nairobi]
    )

    segment_update(segment=segment, regions=[])

    assert segment_count(segment) == 2


def test_a_refused_update_changes_nothing(organization, other_organization, nairobi, kisumu):
    segment = segment_create(
        organization=organization, created_by=None, name="Youth", regions=[nairobi]
    )
    theirs = Channel.objects.create(
        organization=other_organization, name="SMS", kind=ChannelKind.CONSOLE, country="KE"
    )

    with pytest.raises(InvalidInput):
        segment_update(
            segment=segment, name="Renamed", regions=[kisumu], tags=["new"], channels=[theirs]
        )

    stored = Segment.objects.get(pk=segment.pk)
    assert stored.name == "Youth"
    assert stored.tags == []
    assert list(stored.regions.all()) == [nairobi]


def test_a_deleted_segment_leaves_its_subscribers_alone(organization, subscribe):
    person = subscribe()
    segment = segment_create(organization=organization, created_by=None, name="Everyone")

    segment_delete(segment=segment)

    assert not Segment.objects.exists()
    assert Subscriber.objects.filter(pk=person.pk).exists()


def test_a_future_day_is_refused_whatever_the_clock(organization):
    tomorrow = timezone.localdate() + timedelta(days=2)

    with pytest.raises(InvalidInput) as refusal:
        segment_create(organization=organization, created_by=None, name="Y", joined_since=tomorrow)

    assert refusal.value.field == "joined_since"
