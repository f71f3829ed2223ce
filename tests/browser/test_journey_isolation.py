"""Journey 5: a manager of another organization sees nothing of ours, even by typing its URL."""

from django.urls import reverse
from playwright.sync_api import expect

from campaigns.services import waves as wave_services
from campaigns.services.campaigns import campaign_create
from campaigns.services.segments import segment_create
from outreach.models import Role
from tests.campaigns.conftest import ELECTION_DAY


def test_a_manager_of_another_organization_sees_none_of_our_campaigns(
    organization, other_organization, console_channel, make_member, sign_in, page
):
    ours = make_member(organization, Role.MANAGER)
    campaign = campaign_create(
        organization=organization,
        created_by=None,
        preset="KE",
        name="Amani 2027",
        election_date=ELECTION_DAY,
    )
    wave = wave_services.wave_create(
        campaign=campaign,
        created_by=ours.user,
        name="E-7 pledge",
        send_at_relative="E-7d 10:00",
        segment=segment_create(organization=organization, created_by=None, name="Everyone"),
        channels=[console_channel],
        variants=[{"language": "en", "body": "Peace in {region}, from {campaign}."}],
    )
    wave_services.wave_submit(wave=wave, by=ours.user)
    campaign_create(organization=other_organization, created_by=None, name="Sauti 2027")
    theirs = make_member(other_organization, Role.MANAGER)

    sign_in(theirs.user.username)

    for path in ("/console/", "/console/campaigns/", "/console/reports/"):
        response = page.goto(path)
        assert response.status == 200, path
        expect(page.locator("main")).not_to_contain_text("Amani 2027")
        expect(page.locator("main")).not_to_contain_text("E-7 pledge")
        expect(page.locator("header")).to_contain_text("Sauti ya Amani")
    expect(page.get_by_role("link", name="Sauti 2027")).to_be_visible()  # their own, listed

    for url in (
        reverse("console:wave", args=[wave.pk]),
        reverse("console:funder-campaign", args=[campaign.pk]),
    ):
        response = page.goto(url)
        assert response.status == 404, url
        expect(page.get_by_role("heading", level=1, name="Not found")).to_be_visible()
        expect(page.locator("body")).not_to_contain_text("E-7 pledge")
        expect(page.locator("body")).not_to_contain_text("Amani 2027")
