"""Segments over the API: managers compose and save audiences, reviewers read, funders never."""

import json
from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.models import Segment
from campaigns.services.segments import segment_create
from campaigns.services.waves import wave_create
from outreach.models import (
    Channel,
    ChannelKind,
    ConsentKind,
    ConsentSource,
    ConsentStatus,
    Region,
    Role,
    Subscriber,
)
from outreach.services.consent import consent_record
from tests.support.people import make_subscriber

pytestmark = pytest.mark.django_db

_numbers = count(1)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.dates().map(str),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children)
    ),
    max_leaves=8,
)
segment_fields = st.sampled_from(
    [
        "name",
        "description",
        "languages",
        "regions",
        "age_bands",
        "genders",
        "channels",
        "tags",
        "joined_since",
        "x",
    ]
)


@pytest.fixture
def sms(organization):
    return Channel.objects.create(
        organization=organization, name="SMS", kind=ChannelKind.CONSOLE, country="KE"
    )


@pytest.fixture
def nairobi(organization):
    return Region.objects.create(organization=organization, name="Nairobi")


@pytest.fixture
def subscribe(organization, sms):
    def make(status: str = ConsentStatus.OPTED_IN, **fields) -> Subscriber:
        return make_subscriber(
            organization=organization,
            channel=sms,
            address=f"+2547{next(_numbers):08d}",
            language=fields.pop("language", "sw"),
            consent_status=status,
            **fields,
        )

    return make


@pytest.fixture
def manager(organization, member_client):
    return member_client(organization, Role.MANAGER)


@pytest.fixture
def reviewer(organization, member_client):
    return member_client(organization, Role.REVIEWER)


@pytest.fixture
def swahili_speakers(organization):
    return segment_create(
        organization=organization, created_by=None, name="Swahili speakers", languages=["sw"]
    )


def test_a_manager_saves_a_segment_and_sees_whom_it_reaches(manager, subscribe, nairobi, sms):
    subscribe(region=nairobi, tags=["choir"])
    subscribe(region=nairobi, tags=["football"])

    response = manager.post(
        "/api/v1/segments/",
        {
            "name": "Nairobi choir",
            "languages": ["sw"],
            "regions": [nairobi.pk],
            "channels": [sms.pk],
            "tags": ["Choir"],
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["count"] == 1
    assert body["regions"] == [nairobi.pk]
    assert body["channels"] == [sms.pk]
    assert body["tags"] == ["choir"]
    assert Segment.objects.get(pk=body["id"]).created_by == manager.membership.user


def test_the_count_is_live_and_grows_when_someone_opts_in(manager, subscribe, swahili_speakers):
    url = f"/api/v1/segments/{swahili_speakers.pk}/"
    person = subscribe(status=ConsentStatus.NONE)
    assert manager.get(url).json()["count"] == 0

    consent_record(
        subscriber=person,
        kind=ConsentKind.OPT_IN,
        source=ConsentSource.KEYWORD,
        keyword_as_texted="JIUNGE",
    )

    assert manager.get(url).json()["count"] == 1
    assert manager.get("/api/v1/segments/").json()["results"][0]["count"] == 1


def test_a_reviewer_reads_segments_but_cannot_change_them(reviewer, swahili_speakers):
    url = f"/api/v1/segments/{swahili_speakers.pk}/"

    assert reviewer.get("/api/v1/segments/").status_code == 200
    assert reviewer.get(url).status_code == 200
    assert reviewer.get(f"{url}breakdown/").status_code == 200
    assert reviewer.post("/api/v1/segments/", {"name": "Mine"}).status_code == 403
    assert reviewer.patch(url, {"name": "Renamed"}).status_code == 403
    assert reviewer.delete(url).status_code == 403
    assert Segment.objects.get().name == "Swahili speakers"


def test_a_funder_reaches_no_segment_endpoint(organization, member_client, swahili_speakers):
    funder = member_client(organization, Role.FUNDER)
    url = f"/api/v1/segments/{swahili_speakers.pk}/"

    response = funder.get("/api/v1/segments/")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert funder.get(url).status_code == 403
    assert funder.get(f"{url}breakdown/").status_code == 403
    assert funder.post("/api/v1/segments/preview/", {}).status_code == 403


def test_another_organizations_segment_is_not_found(
    other_organization, admin_client_of, swahili_speakers
):
    stranger = admin_client_of(other_organization)
    url = f"/api/v1/segments/{swahili_speakers.pk}/"

    assert stranger.get(url).status_code == 404
    assert stranger.get(f"{url}breakdown/").status_code == 404
    assert stranger.patch(url, {"name": "Mine now"}).status_code == 404
    assert stranger.delete(url).status_code == 404
    assert stranger.get("/api/v1/segments/").json()["results"] == []
    assert Segment.objects.get().name == "Swahili speakers"


def test_a_region_of_another_organization_is_a_400_naming_regions(manager, other_organization):
    theirs = Region.objects.create(organization=other_organization, name="Mombasa")

    response = manager.post("/api/v1/segments/", {"name": "Coast", "regions": [theirs.pk]})

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"regions"}
    assert not Segment.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "Youth", "languages": ["fr"]}, "languages"),
        ({"name": "Youth", "age_bands": ["teen"]}, "age_bands"),
        ({"name": "Youth", "joined_since": "2999-01-01"}, "joined_since"),
        ({"name": "Youth", "audience": "all"}, "audience"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(manager, payload, field):
    response = manager.post("/api/v1/segments/", payload)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Segment.objects.exists()


def test_a_manager_changes_and_deletes_a_segment(manager, subscribe, swahili_speakers):
    subscribe(language="en")
    url = f"/api/v1/segments/{swahili_speakers.pk}/"

    changed = manager.patch(url, {"name": "English speakers", "languages": ["en"]})

    assert changed.status_code == 200
    assert changed.json()["name"] == "English speakers"
    assert changed.json()["count"] == 1
    assert manager.delete(url).status_code == 204
    assert not Segment.objects.exists()


def test_the_breakdown_counts_by_language_and_region(manager, subscribe, nairobi):
    subscribe(region=nairobi)
    subscribe(region=nairobi)
    subscribe(region=None)
    subscribe(region=nairobi, status=ConsentStatus.OPTED_OUT)
    everyone = segment_create(
        organization=manager.membership.organization, created_by=None, name="Everyone"
    )

    response = manager.get(f"/api/v1/segments/{everyone.pk}/breakdown/")

    assert response.json() == {
        "count": 3,
        "by_language": {"sw": 3},
        "by_region": {"Nairobi": 2, "unknown": 1},
    }


def test_a_preview_counts_an_audience_without_saving_it(reviewer, subscribe, nairobi):
    subscribe(region=nairobi, language="en")
    subscribe(region=nairobi)
    subscribe(region=None)

    response = reviewer.post(
        "/api/v1/segments/preview/", {"regions": [nairobi.pk], "languages": ["sw"]}
    )

    assert response.status_code == 200
    assert response.json() == {"count": 1, "by_language": {"sw": 1}, "by_region": {"Nairobi": 1}}
    assert not Segment.objects.exists()


def test_a_preview_refuses_what_a_save_would(manager):
    response = manager.post("/api/v1/segments/preview/", {"name": "Youth", "languages": ["fr"]})

    assert response.status_code == 400
    assert "name" in response.json()["error"]["fields"]


def test_segments_are_found_by_name(manager, swahili_speakers):
    segment_create(organization=swahili_speakers.organization, created_by=None, name="Choir")

    response = manager.get("/api/v1/segments/?search=swahili")

    assert [segment["name"] for segment in response.json()["results"]] == ["Swahili speakers"]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.dictionaries(segment_fields, json_values) | json_values)
def test_any_json_sent_to_segments_gets_a_2xx_or_4xx(organization, member_client, body):
    client = member_client(organization, Role.MANAGER)

    for path in ("/api/v1/segments/", "/api/v1/segments/preview/"):
        response = client.generic("POST", path, json.dumps(body), content_type="application/json")

        assert response.status_code < 500, response.content
        if response.status_code >= 400:
            assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_a_region_used_by_a_segment_cannot_be_deleted(organization, member_client):
    from outreach.models import Region

    region = Region.objects.create(organization=organization, name="Kisumu")
    manager = member_client(organization, Role.MANAGER)
    created = manager.post("/api/v1/segments/", {"name": "Kisumu youth", "regions": [region.pk]})
    assert created.status_code == 201, created.json()

    response = manager.delete(f"/api/v1/regions/{region.pk}/")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["region"]
    assert Region.objects.filter(pk=region.pk).exists()


def test_a_segment_a_wave_sends_to_cannot_be_deleted_and_the_answer_names_the_waves(
    manager, swahili_speakers, campaign
):
    wave_create(
        campaign=campaign,
        created_by=manager.membership.user,
        name="E-1: vote calmly",
        segment=swahili_speakers,
    )

    response = manager.delete(f"/api/v1/segments/{swahili_speakers.pk}/")

    assert response.status_code == 400
    error = response.json()["error"]
    assert list(error["fields"]) == ["segment"]
    assert "E-1: vote calmly" in error["message"]
    assert Segment.objects.filter(pk=swahili_speakers.pk).exists()
