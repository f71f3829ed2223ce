"""The country presets through the API: staff read them; campaigns and region lists use them."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rest_framework.test import APIClient

from outreach.content_hash import content_hash
from outreach.models import Role
from outreach.presets import shipped_presets

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.REVIEWER])
def test_staff_list_the_presets_with_their_hashes(organization, member_client, role):
    response = member_client(organization, role).get("/api/v1/presets/")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == 2
    kenya, mexico = body["results"]
    assert set(kenya) == {"country", "name", "languages", "timezone", "content_hash", "updated_at"}
    assert (kenya["country"], kenya["languages"], kenya["timezone"]) == (
        "KE",
        ["en", "sw"],
        "Africa/Nairobi",
    )
    assert (mexico["country"], mexico["name"], mexico["languages"]) == ("MX", "México", ["es"])
    assert mexico["content_hash"] == content_hash(shipped_presets()[1])


def test_a_preset_reads_whole_as_shipped(organization, member_client):
    response = member_client(organization, Role.REVIEWER).get("/api/v1/presets/mx/")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["data"] == shipped_presets()[1]
    assert body["content_hash"] == content_hash(body["data"])
    assert body["origin"] == {}
    assert body["data"]["elections"][0]["silence"]["hours_before_polling_day"] == 72


def test_an_unknown_country_is_a_404_naming_it(organization, member_client):
    response = member_client(organization).get("/api/v1/presets/TZ/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_funders_and_strangers_do_not_read_presets(organization, member_client):
    funder = member_client(organization, Role.FUNDER)

    assert funder.get("/api/v1/presets/").status_code == 403
    assert funder.get("/api/v1/presets/KE/").status_code == 403
    assert APIClient().get("/api/v1/presets/").status_code == 401


def test_no_one_writes_a_preset_through_the_api(organization, member_client):
    admin = member_client(organization, Role.ADMIN)

    created = admin.post("/api/v1/presets/", {"country": "TZ"}, format="json")
    changed = admin.patch("/api/v1/presets/KE/", {"name": "X"}, format="json")

    assert (created.status_code, changed.status_code) == (403, 403)
    assert admin.get("/api/v1/presets/").json()["count"] == 2
    assert admin.get("/api/v1/presets/KE/").json()["name"] == "Kenya"


@time_machine.travel(dt.datetime(2027, 3, 1, 9, tzinfo=ZoneInfo("America/Mexico_City")))
def test_a_manager_creates_a_mexican_campaign_from_the_preset(mexican_organization, member_client):
    manager = member_client(mexican_organization, Role.MANAGER)

    response = manager.post(
        "/api/v1/campaigns/", {"preset": "MX", "name": "Paz 2027"}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["country"], body["timezone"]) == ("MX", "America/Mexico_City")
    assert (body["languages"], body["default_language"]) == (["es"], "es")
    assert (body["quiet_start"], body["quiet_end"]) == ("21:00:00", "09:00:00")
    assert body["election_date"] == "2027-06-06"
    (silence,) = body["blackouts"]
    assert silence["starts_at_local"] == "2027-06-03T00:00:00-06:00"
    assert silence["ends_at_local"] == "2027-06-06T18:00:00-06:00"
    assert "LGIPE" in silence["reason"]


def test_an_unknown_campaign_preset_is_a_400_naming_the_field(organization, member_client):
    response = member_client(organization).post(
        "/api/v1/campaigns/", {"preset": "TZ", "name": "Amani"}, format="json"
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert "preset" in error["fields"]
    assert "KE, MX" in error["message"]


def test_a_manager_loads_mexicos_states_as_regions(mexican_organization, member_client):
    manager = member_client(mexican_organization, Role.MANAGER)

    added = manager.post("/api/v1/regions/load-preset/", {"preset": "MX-states"}, format="json")
    regions = manager.get("/api/v1/regions/", {"page_size": 100}).json()

    assert added.status_code == 201
    assert added.json() == {"added": 32}
    assert regions["count"] == 32
    assert {r["kind"] for r in regions["results"]} == {"state"}


def test_an_unknown_region_list_is_a_400_naming_the_field(organization, member_client):
    response = member_client(organization).post(
        "/api/v1/regions/load-preset/", {"preset": "TZ-regions"}, format="json"
    )

    assert response.status_code == 400
    assert "preset" in response.json()["error"]["fields"]
