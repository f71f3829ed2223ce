"""Subscribers for NGO staff: find, filter, consent history, edit, erase. Funders: never."""

import pytest

from outreach.models import (
    AnonymousTally,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    Region,
    Role,
    Subscriber,
)
from outreach.services.consent import consent_record
from outreach.services.subscribers import subscriber_for_address

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(console_channel):
    result = []
    for number, language, tags in [
        ("+254712345678", "sw", ["youth-camp"]),
        ("+254722000111", "en", []),
        ("+254733000222", "sw", ["youth-camp", "kisumu"]),
    ]:
        person = subscriber_for_address(channel=console_channel, address=number)
        person.language, person.tags = language, tags
        person.save()
        consent_record(
            subscriber=person,
            kind=ConsentKind.OPT_IN,
            source=ConsentSource.KEYWORD,
            keyword_as_texted="JOIN",
        )
        result.append(person)
    return result


def test_managers_see_full_numbers_and_reviewers_masked_ones(organization, member_client, people):
    manager = member_client(organization, Role.MANAGER).get("/api/v1/subscribers/").json()
    reviewer = member_client(organization, Role.REVIEWER).get("/api/v1/subscribers/").json()

    assert "+254712345678" in {s["address"] for s in manager["results"]}
    assert "+254712345678" not in str(reviewer)
    assert {s["address"] for s in reviewer["results"]} >= {"+**********78"}


def test_a_funder_sees_no_subscriber_endpoint(organization, member_client, people):
    funder = member_client(organization, Role.FUNDER)

    assert funder.get("/api/v1/subscribers/").status_code == 403
    assert funder.get(f"/api/v1/subscribers/{people[0].pk}/").status_code == 403
    assert funder.get(f"/api/v1/subscribers/{people[0].pk}/consent/").status_code == 403


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("language=sw", 2),
        ("tag=youth-camp", 2),
        ("tag=kisumu", 1),
        ("consent_status=opted_out", 0),
    ],
)
def test_subscribers_are_filtered(organization, member_client, people, query, expected):
    response = member_client(organization, Role.MANAGER).get(f"/api/v1/subscribers/?{query}")

    assert response.json()["count"] == expected


@pytest.mark.parametrize("number", ["0712345678", "+254 712 345 678", "+254712345678"])
def test_a_manager_looks_a_subscriber_up_by_number_in_a_post_body(
    organization, member_client, people, number
):
    response = member_client(organization, Role.MANAGER).post(
        "/api/v1/subscribers/lookup/", {"number": number}
    )

    assert response.status_code == 200, response.json()
    assert response.json()["count"] == 1
    assert [s["address"] for s in response.json()["results"]] == ["+254712345678"]


def test_a_lookup_of_an_unknown_number_is_an_empty_page(organization, member_client, people):
    response = member_client(organization, Role.ADMIN).post(
        "/api/v1/subscribers/lookup/", {"number": "0799999999"}
    )

    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize("body", [{}, {"number": ""}, {"number": "no digits"}, {"number": "000"}])
def test_a_lookup_without_a_number_names_the_field(organization, member_client, people, body):
    response = member_client(organization, Role.MANAGER).post("/api/v1/subscribers/lookup/", body)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["number"]


def test_a_number_in_the_query_string_is_refused_and_points_to_the_lookup(
    organization, member_client, people
):
    response = member_client(organization, Role.MANAGER).get(
        "/api/v1/subscribers/", {"number": "0712345678"}
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert list(error["fields"]) == ["number"]
    assert "POST" in error["message"]
    assert "/api/v1/subscribers/lookup/" in error["message"]


def test_a_reviewer_cannot_look_anyone_up_by_number(organization, member_client, people):
    response = member_client(organization, Role.REVIEWER).post(
        "/api/v1/subscribers/lookup/", {"number": "+254712345678"}
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "254712345678" not in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"search": "+254712345678"},
        {"search": "0712345678"},
        {"ordering": "address"},
        {"ordering": "-address"},
        {"ordering": "channel__subscribers__address"},
    ],
)
def test_no_reviewer_filter_or_ordering_matches_on_the_number(
    organization, member_client, people, query
):
    reviewer = member_client(organization, Role.REVIEWER)
    unfiltered = [s["id"] for s in reviewer.get("/api/v1/subscribers/").json()["results"]]

    response = reviewer.get("/api/v1/subscribers/", query)

    assert response.status_code == 200
    assert [s["id"] for s in response.json()["results"]] == unfiltered


def test_the_detail_carries_the_consent_history(organization, member_client, people):
    detail = member_client(organization, Role.MANAGER).get(f"/api/v1/subscribers/{people[0].pk}/")

    (event,) = detail.json()["consent_history"]
    assert event["kind"] == "opt_in"
    assert event["keyword_as_texted"] == "JOIN"


def test_the_consent_history_is_a_paginated_list(organization, member_client, people):
    manager = member_client(organization, Role.MANAGER)

    history = manager.get(f"/api/v1/subscribers/{people[0].pk}/consent/").json()

    assert history["count"] == 1
    assert history["next"] is None
    assert [event["kind"] for event in history["results"]] == ["opt_in"]


def test_staff_record_an_opt_out_with_a_note(organization, member_client, people):
    manager = member_client(organization, Role.MANAGER)

    response = manager.post(
        f"/api/v1/subscribers/{people[0].pk}/consent/",
        {"kind": "opt_out", "note": "Asked by phone at the Kisumu workshop"},
    )

    assert response.status_code == 201
    people[0].refresh_from_db()
    assert people[0].consent_status == "opted_out"
    assert response.json()["source"] == "staff"


def test_staff_cannot_opt_someone_in(organization, member_client, people):
    response = member_client(organization, Role.MANAGER).post(
        f"/api/v1/subscribers/{people[1].pk}/consent/", {"kind": "opt_in", "note": "trust me"}
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["kind"]


def test_a_manager_edits_the_profile(organization, member_client, people):
    region = Region.objects.create(organization=organization, name="Kisumu")

    response = member_client(organization, Role.MANAGER).patch(
        f"/api/v1/subscribers/{people[1].pk}/",
        {"language": "sw", "region": region.pk, "tags": [" Peace-Club ", "peace-club"]},
    )

    assert response.status_code == 200, response.json()
    assert response.json()["tags"] == ["peace-club"]
    assert response.json()["region_name"] == "Kisumu"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"language": "fr"}, "language"),
        ({"age_band": "old"}, "age_band"),
        ({"consent_status": "opted_in"}, "consent_status"),
        ({"address": "+254700000000"}, "address"),
    ],
)
def test_a_bad_edit_names_the_field(organization, member_client, people, change, field):
    response = member_client(organization, Role.MANAGER).patch(
        f"/api/v1/subscribers/{people[1].pk}/", change
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_a_region_of_another_organization_is_refused(
    organization, other_organization, member_client, people
):
    theirs = Region.objects.create(organization=other_organization, name="Mombasa")

    response = member_client(organization, Role.MANAGER).patch(
        f"/api/v1/subscribers/{people[1].pk}/", {"region": theirs.pk}
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["region"]


def test_erasure_forgets_the_person_and_keeps_anonymous_counts(organization, member_client, people):
    manager = member_client(organization, Role.MANAGER)

    response = manager.delete(f"/api/v1/subscribers/{people[0].pk}/")

    assert response.status_code == 204
    assert not Subscriber.objects.filter(address="+254712345678").exists()
    assert ConsentEvent.objects.filter(subscriber__isnull=True).count() == 1
    assert ConsentEvent.objects.count() == 3
    assert AnonymousTally.objects.get(metric="erased").count == 1
    assert manager.get(f"/api/v1/subscribers/{people[0].pk}/").status_code == 404


def test_a_reviewer_cannot_erase(organization, member_client, people):
    response = member_client(organization, Role.REVIEWER).delete(
        f"/api/v1/subscribers/{people[0].pk}/"
    )

    assert response.status_code == 403
    assert Subscriber.objects.filter(pk=people[0].pk).exists()


def test_another_organizations_subscriber_is_a_404(
    organization, other_organization, member_client, people
):
    response = member_client(other_organization, Role.ADMIN).get(
        f"/api/v1/subscribers/{people[0].pk}/"
    )

    assert response.status_code == 404
