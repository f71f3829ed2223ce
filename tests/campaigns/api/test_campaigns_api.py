"""Campaigns through the API: what its quiet hours mean on the campaign's own clock."""

import pytest

pytestmark = pytest.mark.django_db


def test_quiet_hours_are_local_times_of_day(author):
    response = author.post(
        "/api/v1/campaigns/", {"name": "Amani 2027", "quiet_start": "20:30", "quiet_end": "07:00"}
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["quiet_start"], body["quiet_end"]) == ("20:30:00", "07:00:00")


@pytest.mark.parametrize("given", ["20:30:00+03:00", "20:30Z", "8pm", "24:00"])
def test_a_quiet_hour_with_an_offset_or_off_the_clock_is_refused(author, given):
    response = author.post("/api/v1/campaigns/", {"name": "Amani 2027", "quiet_start": given})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["quiet_start"]
