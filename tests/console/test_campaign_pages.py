# ruff: noqa: F811 - the campaign fixtures are imported by name
"""Campaign pages: the list, a campaign's settings in both clocks and its waves on a
timeline from election day, and creating and editing campaigns through the services."""

import datetime as dt

import pytest

from campaigns.models import Campaign
from campaigns.services import waves as wave_services
from outreach.models import Role
from tests.campaigns.conftest import campaign  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db
DASH = "\N{EN DASH}"


@pytest.fixture
def manager(organization, console_as):
    return console_as(organization, Role.MANAGER)


def new_campaign_form(**changes):
    form = {
        "name": "Amani 2027",
        "country": "KE",
        "election_date": "2027-08-10",
        "timezone": "Africa/Nairobi",
        "quiet_end": "08:00",
        "quiet_start": "18:00",
        "default_language": "en",
        "languages": ["en", "sw"],
        "sensitive_terms": "Party X\nCandidate Y",
        "blackouts.0.starts_at": "2027-08-09T06:00",
        "blackouts.0.ends_at": "2027-08-10T18:00",
        "blackouts.0.reason": "Polling",
    }
    return {**form, **changes}


def test_the_list_shows_campaigns_with_their_election_day_and_waves(campaign, manager):
    wave_services.wave_create(
        campaign=campaign, created_by=manager.membership.user, name="First", variants=[]
    )

    page = manager.get("/console/campaigns/").content.decode()

    assert "Amani 2027" in page
    assert "2027-08-10" in page
    assert '<td class="num">1</td>' in page
    assert "New campaign" in page


def test_a_reviewer_sees_the_list_without_new_campaign(campaign, organization, console_as):
    page = console_as(organization, Role.REVIEWER).get("/console/campaigns/").content.decode()

    assert "Amani 2027" in page
    assert "New campaign" not in page


def test_a_manager_creates_a_campaign_with_a_blackout_in_local_time(manager, organization):
    response = manager.post("/console/campaigns/new/", new_campaign_form())

    created = Campaign.objects.get(organization=organization, name="Amani 2027")
    assert response.status_code == 302
    assert created.sensitive_terms == ["Candidate Y", "Party X"]
    assert created.blackouts.get().starts_at == dt.datetime(2027, 8, 9, 3, 0, tzinfo=dt.UTC)


def test_the_campaign_page_shows_times_in_local_time_and_utc(manager, organization):
    manager.post("/console/campaigns/new/", new_campaign_form())
    created = Campaign.objects.get(organization=organization)

    page = manager.get(f"/console/campaigns/{created.pk}/").content.decode()

    assert "starts 2027-08-10 00:00 Africa/Nairobi = 2027-08-09 21:00 UTC" in page
    assert f"08:00{DASH}18:00 Africa/Nairobi" in page
    assert f"05:00{DASH}15:00 UTC" in page
    assert f"2027-08-09 06:00 {DASH} 2027-08-10 18:00 Africa/Nairobi" in page
    assert f"2027-08-09 03:00 {DASH} 2027-08-10 15:00 UTC" in page


def test_a_blackout_ending_before_it_starts_is_refused_next_to_its_end(manager, organization):
    form = new_campaign_form(**{"blackouts.0.ends_at": "2027-08-08T06:00"})

    response = manager.post("/console/campaigns/new/", form)

    assert response.status_code == 400
    assert 'data-field="blackouts.0.ends_at"' in response.content.decode()
    assert not Campaign.objects.filter(organization=organization).exists()


def test_a_language_the_organization_lacks_is_refused_next_to_languages(manager, organization):
    response = manager.post("/console/campaigns/new/", new_campaign_form(languages=["en", "fr"]))

    assert response.status_code == 400
    assert 'data-field="languages"' in response.content.decode()
    assert not Campaign.objects.filter(organization=organization).exists()


def test_a_manager_edits_a_campaign_and_its_relative_waves_follow(campaign, manager):
    wave = wave_services.wave_create(
        campaign=campaign,
        created_by=manager.membership.user,
        name="A week before",
        send_at_relative="E-7d 10:00",
    )
    form = new_campaign_form(election_date="2027-08-17", **{"blackouts.0.starts_at": ""})
    form["blackouts.0.ends_at"] = ""

    response = manager.post(f"/console/campaigns/{campaign.pk}/edit/", form)

    wave.refresh_from_db()
    campaign.refresh_from_db()
    assert response.status_code == 302
    assert campaign.election_date == dt.date(2027, 8, 17)
    assert wave.requested_at == dt.datetime(2027, 8, 10, 7, 0, tzinfo=dt.UTC)


def test_the_campaign_page_shows_its_waves_from_election_day(campaign, manager):
    for name, relative in [("After", "E+1d 09:00"), ("Before", "E-7d 10:00")]:
        wave_services.wave_create(
            campaign=campaign,
            created_by=manager.membership.user,
            name=name,
            send_at_relative=relative,
        )

    page = manager.get(f"/console/campaigns/{campaign.pk}/").content.decode()

    assert page.index("E-7") < page.index("Before") < page.index("E+1") < page.index("After")
    assert "/compose/" in page


def test_a_reviewer_cannot_create_a_campaign(organization, console_as):
    reviewer = console_as(organization, Role.REVIEWER)

    response = reviewer.post("/console/campaigns/new/", new_campaign_form())

    assert response.status_code == 403
    assert not Campaign.objects.filter(organization=organization).exists()


def test_another_organizations_campaign_is_not_found(campaign, other_organization, console_as):
    stranger = console_as(other_organization, Role.MANAGER)

    assert stranger.get(f"/console/campaigns/{campaign.pk}/").status_code == 404
    assert stranger.post(f"/console/campaigns/{campaign.pk}/edit/", {}).status_code == 404


def test_the_edit_form_shows_the_blackout_in_local_time(manager, organization):
    manager.post("/console/campaigns/new/", new_campaign_form())
    created = Campaign.objects.get(organization=organization)

    page = manager.get(f"/console/campaigns/{created.pk}/edit/").content.decode()

    assert 'value="2027-08-09T06:00"' in page
    assert 'value="08:00"' in page
