"""Channels through the API: admins set them up; the auth token goes in and never comes out."""

import pytest
from django.db import connection

from outreach.models import Channel, Role
from tests.support.twilio_api import ACCOUNT_SID, AUTH_TOKEN

pytestmark = pytest.mark.django_db

TWILIO = {
    "name": "Main number",
    "kind": "twilio_sms",
    "country": "KE",
    "account_sid": ACCOUNT_SID,
    "auth_token": AUTH_TOKEN,
    "from_number": "0700 000 100",
}


def test_an_admin_creates_a_twilio_channel_with_its_webhook_urls(
    organization, admin_client_of, settings
):
    settings.PUBLIC_BASE_URL = "https://amani.example.org"

    response = admin_client_of(organization).post("/api/v1/channels/", TWILIO)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["from_number"] == "+254700000100"
    assert (
        body["inbound_url"] == f"https://amani.example.org/webhooks/twilio/{body['uuid']}/inbound/"
    )
    assert body["status_url"] == f"https://amani.example.org/webhooks/twilio/{body['uuid']}/status/"
    assert body["has_auth_token"] is True
    assert "auth_token" not in body


def test_the_auth_token_is_encrypted_at_rest(organization, admin_client_of):
    admin_client_of(organization).post("/api/v1/channels/", TWILIO)

    with connection.cursor() as cursor:
        cursor.execute("SELECT auth_token FROM outreach_channel")
        (stored,) = cursor.fetchone()
    assert AUTH_TOKEN not in stored
    assert Channel.objects.get().auth_token == AUTH_TOKEN


def test_the_auth_token_is_never_returned(organization, admin_client_of):
    client = admin_client_of(organization)
    channel_id = client.post("/api/v1/channels/", TWILIO).json()["id"]

    detail = client.get(f"/api/v1/channels/{channel_id}/").content.decode()
    listing = client.get("/api/v1/channels/").content.decode()

    assert AUTH_TOKEN not in detail
    assert AUTH_TOKEN not in listing


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"account_sid": "nope"}, "account_sid"),
        ({"auth_token": ""}, "auth_token"),
        ({"from_number": "", "messaging_service_sid": ""}, "from_number"),
        ({"from_number": "", "messaging_service_sid": "MG123"}, "messaging_service_sid"),
        ({"from_number": "call me"}, "from_number"),
        ({"country": "XX"}, "country"),
        ({"kind": "pigeon"}, "kind"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_channel_is_a_400_naming_the_field(organization, admin_client_of, change, field):
    response = admin_client_of(organization).post("/api/v1/channels/", {**TWILIO, **change})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert not Channel.objects.exists()


def test_a_manager_reads_channels_but_cannot_create_them(organization, member_client):
    manager = member_client(organization, Role.MANAGER)

    assert manager.get("/api/v1/channels/").status_code == 200
    assert manager.post("/api/v1/channels/", TWILIO).status_code == 403


def test_another_organizations_channel_is_a_404(organization, other_organization, admin_client_of):
    theirs = admin_client_of(other_organization).post("/api/v1/channels/", TWILIO).json()["id"]

    assert admin_client_of(organization).get(f"/api/v1/channels/{theirs}/").status_code == 404


def test_a_console_channel_takes_simulated_messages(
    organization, member_client, console_channel, django_capture_on_commit_callbacks
):
    manager = member_client(organization, Role.MANAGER)

    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(
            f"/api/v1/channels/{console_channel.pk}/simulate-inbound/",
            {"sender": "0712345678", "body": "JIUNGE"},
        )

    assert response.status_code == 200
    assert manager.get("/api/v1/subscribers/?consent_status=opted_in").json()["count"] == 1


def test_regions_load_the_kenyan_counties_once(organization, member_client):
    manager = member_client(organization, Role.MANAGER)

    first = manager.post("/api/v1/regions/load-preset/", {"preset": "KE-counties"})
    again = manager.post("/api/v1/regions/load-preset/", {"preset": "KE-counties"})

    assert first.json() == {"added": 47}
    assert again.json() == {"added": 0}
    assert manager.get("/api/v1/regions/").json()["count"] == 47


def test_regions_are_paginated_like_every_list(organization, member_client):
    manager = member_client(organization, Role.MANAGER)
    manager.post("/api/v1/regions/load-preset/", {"preset": "KE-counties"})

    page = manager.get("/api/v1/regions/?page_size=10&page=2").json()

    assert page["count"] == 47
    assert len(page["results"]) == 10
    assert page["next"]
    assert page["previous"]


def test_a_region_name_is_unique_in_an_organization(organization, member_client):
    manager = member_client(organization, Role.MANAGER)
    manager.post("/api/v1/regions/", {"name": "Kibera", "kind": "ward"})

    response = manager.post("/api/v1/regions/", {"name": "kibera", "kind": "ward"})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["name"]


WHATSAPP_CLOUD = {
    "name": "WhatsApp",
    "kind": "whatsapp_cloud",
    "country": "KE",
    "external_id": "106540352242922",
    "access_token": "EAAG-meta-token",
    "webhook_secret": "app-secret",
    "verify_token": "handshake-token",
}


def test_a_whatsapp_cloud_channel_gets_one_webhook_url_and_never_shows_its_secrets(
    organization, admin_client_of
):
    response = admin_client_of(organization).post("/api/v1/channels/", WHATSAPP_CLOUD)

    assert response.status_code == 201
    body = response.json()
    assert body["webhook_url"].endswith(f"/webhooks/whatsapp/{body['uuid']}/")
    assert (body["inbound_url"], body["status_url"]) == (None, None)
    assert [
        body[f"has_{secret}"] for secret in ("access_token", "webhook_secret", "verify_token")
    ] == [True] * 3
    assert body["messages_per_second"] == 80  # Meta's own default for the kind
    for secret in ("EAAG-meta-token", "app-secret", "handshake-token"):
        assert secret not in response.content.decode()


@pytest.mark.parametrize(
    "missing", ["external_id", "access_token", "webhook_secret", "verify_token"]
)
def test_a_whatsapp_cloud_channel_without_what_it_needs_is_a_400_naming_it(
    organization, admin_client_of, missing
):
    payload = {k: v for k, v in WHATSAPP_CLOUD.items() if k != missing}

    response = admin_client_of(organization).post("/api/v1/channels/", payload)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [missing]
    assert not Channel.objects.exists()


def test_a_telegram_channel_needs_its_bot_token(organization, admin_client_of):
    payload = {"name": "Bot", "kind": "telegram", "country": "KE"}

    response = admin_client_of(organization).post("/api/v1/channels/", payload)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["access_token"]
