"""Setup pages: channels (write-only credentials, webhook URLs), members, keywords, regions."""

import re

import pytest

from outreach.models import Channel, Keyword, Membership, Region, Role
from outreach.services.channels import channel_create
from tests.support.twilio_api import ACCOUNT_SID, AUTH_TOKEN

pytestmark = pytest.mark.django_db

TWILIO = {
    "kind": "twilio_sms",
    "name": "Main number",
    "country": "KE",
    "account_sid": ACCOUNT_SID,
    "auth_token": AUTH_TOKEN,
    "from_number": "0700 000 100",
    "is_active": "on",
}


@pytest.fixture
def admin(organization, console_as):
    return console_as(organization, Role.ADMIN)


def field_errors(html: str, field: str) -> str:
    found = re.search(rf'<ul class="errorlist" data-field="{field}"[^>]*>(.*?)</ul>', html, re.S)
    return found.group(1) if found else ""


def test_a_manager_sees_channels_but_no_form_to_change_them(
    organization, console_as, twilio_channel
):
    manager = console_as(organization, Role.MANAGER)

    listing = manager.get("/console/setup/").content.decode()
    page = manager.get(f"/console/setup/channels/{twilio_channel.pk}/").content.decode()

    assert "Safaricom shortcode" in listing
    assert "Add a channel" not in listing
    assert 'type="password"' not in page
    assert "Only an admin changes channels." in page


def test_a_manager_cannot_change_a_channel_by_posting(organization, console_as, twilio_channel):
    manager = console_as(organization, Role.MANAGER)

    response = manager.post(
        f"/console/setup/channels/{twilio_channel.pk}/", {**TWILIO, "name": "Renamed"}
    )

    assert response.status_code == 403
    assert manager.post("/console/setup/channels/new/", TWILIO).status_code == 403
    twilio_channel.refresh_from_db()
    assert twilio_channel.name == "Safaricom shortcode"


def test_an_admin_creates_a_twilio_channel(organization, admin):
    response = admin.post("/console/setup/channels/new/", TWILIO)

    assert response.status_code == 302
    channel = Channel.objects.get(organization=organization, name="Main number")
    assert channel.from_number == "+254700000100"
    assert channel.auth_token == AUTH_TOKEN


def test_a_missing_auth_token_is_shown_next_to_its_field_and_nothing_is_saved(admin):
    response = admin.post("/console/setup/channels/new/", {**TWILIO, "auth_token": ""})

    assert response.status_code == 400
    assert "auth token is needed" in field_errors(response.content.decode(), "auth_token")
    assert not Channel.objects.filter(name="Main number").exists()


def test_the_auth_token_is_never_filled_back_only_said_to_be_set(admin, twilio_channel):
    page = admin.get(f"/console/setup/channels/{twilio_channel.pk}/").content.decode()

    assert AUTH_TOKEN not in page
    assert ">set<" in page


def test_a_blank_auth_token_on_edit_keeps_the_one_stored(admin, twilio_channel):
    response = admin.post(
        f"/console/setup/channels/{twilio_channel.pk}/",
        {**TWILIO, "name": "Renamed", "auth_token": ""},
    )

    assert response.status_code == 302
    twilio_channel.refresh_from_db()
    assert (twilio_channel.name, twilio_channel.auth_token) == ("Renamed", AUTH_TOKEN)


def test_the_webhook_urls_shown_are_the_ones_the_api_returns(
    organization, admin, twilio_channel, member_client, settings
):
    settings.PUBLIC_BASE_URL = "https://amani.example.org"
    api = member_client(organization, Role.ADMIN).get(f"/api/v1/channels/{twilio_channel.pk}/")

    page = admin.get(f"/console/setup/channels/{twilio_channel.pk}/").content.decode()

    assert f'data-url="inbound">{api.json()["inbound_url"]}</code>' in page
    assert f'data-url="status">{api.json()["status_url"]}</code>' in page


def test_a_telegram_bots_one_webhook_url_is_the_apis(organization, admin, member_client):
    bot = channel_create(
        organization=organization, name="Bot", kind="telegram", country="KE", access_token="1:x"
    )
    api = member_client(organization, Role.ADMIN).get(f"/api/v1/channels/{bot.pk}/").json()

    page = admin.get(f"/console/setup/channels/{bot.pk}/").content.decode()

    assert api["webhook_url"]
    assert f'data-url="webhook">{api["webhook_url"]}</code>' in page
    assert "1:x" not in page


def test_another_organizations_channel_is_not_found(admin, other_organization):
    theirs = Channel.objects.create(
        organization=other_organization, name="Theirs", kind="console", country="KE"
    )

    assert admin.get(f"/console/setup/channels/{theirs.pk}/").status_code == 404


def test_adding_a_member_shows_their_first_password_once(organization, admin):
    response = admin.post("/console/setup/members/", {"username": "wanjiru", "role": "reviewer"})

    html = response.content.decode()
    password = re.search(r'<code class="one-time-password">(.*?)</code>', html).group(1)
    member = Membership.objects.get(organization=organization, user__username="wanjiru")
    assert member.role == Role.REVIEWER
    assert member.user.check_password(password)
    assert password not in admin.get("/console/setup/members/").content.decode()


def test_a_taken_username_is_shown_next_to_the_field(organization, admin):
    response = admin.post("/console/setup/members/", {"username": "pyk-admin", "role": "manager"})

    html = response.content.decode()
    assert response.status_code == 400
    assert "is taken" in field_errors(html, "username")
    described = re.search(r'name="username"[^>]*aria-describedby="([^"]+)"', html).group(1)
    assert all(f'id="{named}"' in html for named in described.split())  # read with the field


def test_the_last_admin_cannot_step_down(organization, admin):
    founder = Membership.objects.get(organization=organization, user__username="pyk-admin")
    admin.post(f"/console/setup/members/{founder.pk}/remove/", {"confirm": "yes"})

    response = admin.post(
        f"/console/setup/members/{admin.membership.pk}/role/", {"role": "manager"}
    )

    assert response.status_code == 400
    assert "must keep at least one admin" in response.content.decode()
    admin.membership.refresh_from_db()
    assert admin.membership.role == Role.ADMIN


def test_removing_a_member_asks_first(organization, admin):
    founder = Membership.objects.get(organization=organization, user__username="pyk-admin")

    confirm = admin.get(f"/console/setup/members/{founder.pk}/remove/")

    assert "Yes, remove them" in confirm.content.decode()
    assert Membership.objects.filter(pk=founder.pk).exists()


def test_an_admin_cannot_remove_themselves(admin):
    response = admin.post(
        f"/console/setup/members/{admin.membership.pk}/remove/", {"confirm": "yes"}
    )

    assert response.status_code == 400
    assert "cannot remove yourself" in response.content.decode()


def test_a_manager_adds_a_keyword_and_a_clash_with_stop_is_refused(organization, console_as):
    manager = console_as(organization, Role.MANAGER)

    added = manager.post("/console/setup/keywords/", {"word": "UMOJA", "intent": "join"})
    clash = manager.post("/console/setup/keywords/", {"word": "STOP", "intent": "join"})

    assert added.status_code == 302
    assert list(Keyword.objects.values_list("word", flat=True)) == ["UMOJA"]
    assert clash.status_code == 400
    assert field_errors(clash.content.decode(), "word")


def test_a_manager_adds_a_region_and_loads_the_counties(organization, console_as):
    manager = console_as(organization, Role.MANAGER)

    manager.post("/console/setup/regions/", {"name": "Kibera", "kind": "ward", "aliases": "Kibra"})
    manager.post("/console/setup/regions/preset/", {"preset": "KE-counties"})
    again = manager.post("/console/setup/regions/", {"name": "kibera", "kind": "ward"})

    assert Region.objects.get(name="Kibera").aliases == ["Kibra"]
    assert Region.objects.filter(organization=organization).count() == 48
    assert "exists already" in field_errors(again.content.decode(), "name")


def test_the_regions_page_offers_every_presets_region_list(organization, console_as):
    manager = console_as(organization, Role.MANAGER)

    page = manager.get("/console/setup/regions/").content.decode()
    loaded = manager.post("/console/setup/regions/preset/", {"preset": "MX-states"})
    unknown = manager.post("/console/setup/regions/preset/", {"preset": "TZ-regions"})

    assert 'value="KE-counties"' in page
    assert 'value="MX-states"' in page
    assert loaded.status_code == 302
    assert Region.objects.filter(organization=organization, kind="state").count() == 32
    assert unknown.status_code == 400
    assert field_errors(unknown.content.decode(), "preset")


def test_a_reviewer_sees_no_channels(organization, console_as):
    assert console_as(organization, Role.REVIEWER).get("/console/setup/").status_code == 403


def test_a_manager_sees_the_members_but_cannot_add_one(organization, console_as):
    manager = console_as(organization, Role.MANAGER)

    page = manager.get("/console/setup/members/").content.decode()
    response = manager.post("/console/setup/members/", {"username": "kamau", "role": "admin"})

    assert "pyk-admin" in page
    assert "Add a member" not in page
    assert response.status_code == 403
    assert not Membership.objects.filter(user__username="kamau").exists()


def test_a_reviewer_reads_the_keywords_but_cannot_add_one(organization, console_as):
    reviewer = console_as(organization, Role.REVIEWER)

    assert reviewer.get("/console/setup/keywords/").status_code == 200
    response = reviewer.post("/console/setup/keywords/", {"word": "UMOJA", "intent": "join"})

    assert response.status_code == 403
    assert not Keyword.objects.exists()


def test_another_organizations_member_is_not_found(admin, other_organization):
    theirs = Membership.objects.get(organization=other_organization)

    response = admin.post(f"/console/setup/members/{theirs.pk}/role/", {"role": "funder"})

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.role == Role.ADMIN
