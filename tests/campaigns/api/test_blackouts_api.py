"""Blackout windows through the API: local times are resolved to UTC before they are compared."""

import pytest

from campaigns.models import BlackoutWindow, Campaign

pytestmark = pytest.mark.django_db

# On 2027-03-14 New York's clocks jump from 02:00 to 03:00: 02:30 and 03:30 are the same instant.
IN_THE_SPRING_GAP = {"starts_at": "2027-03-14T02:30", "ends_at": "2027-03-14T03:30"}


def test_a_blackout_whose_ends_fall_on_one_instant_in_a_dst_gap_is_refused_naming_ends_at(author):
    response = author.post(
        "/api/v1/campaigns/",
        {
            "name": "Primaries",
            "country": "US",
            "timezone": "America/New_York",
            "blackouts": [IN_THE_SPRING_GAP],
        },
    )

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert list(error["fields"]) == ["blackouts.0.ends_at"]
    assert "does not exist" in error["message"]
    assert not Campaign.objects.exists()


def test_changing_blackouts_into_a_dst_gap_leaves_the_campaign_as_it_was(author):
    created = author.post(
        "/api/v1/campaigns/",
        {
            "name": "Primaries",
            "timezone": "America/New_York",
            "blackouts": [{"starts_at": "2027-03-13T20:00", "ends_at": "2027-03-14T01:00"}],
        },
    )
    assert created.status_code == 201, created.json()

    response = author.patch(
        f"/api/v1/campaigns/{created.json()['id']}/",
        {"name": "Primaries 2027", "blackouts": [IN_THE_SPRING_GAP]},
    )

    assert response.status_code == 400, response.json()
    assert list(response.json()["error"]["fields"]) == ["blackouts.0.ends_at"]
    assert Campaign.objects.get().name == "Primaries"
    (kept,) = BlackoutWindow.objects.all()
    assert kept.starts_at.isoformat() == "2027-03-14T01:00:00+00:00"


def test_a_blackout_across_the_spring_gap_is_kept_with_its_utc_times(author):
    response = author.post(
        "/api/v1/campaigns/",
        {
            "name": "Primaries",
            "timezone": "America/New_York",
            "blackouts": [{"starts_at": "2027-03-14T01:30", "ends_at": "2027-03-14T03:30"}],
        },
    )

    assert response.status_code == 201, response.json()
    (blackout,) = response.json()["blackouts"]
    assert (blackout["starts_at"], blackout["ends_at"]) == (
        "2027-03-14T06:30:00Z",
        "2027-03-14T07:30:00Z",
    )
