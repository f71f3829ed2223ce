"""Journey 1: a manager signs in, opens a campaign, composes a two-language wave (en + sw)
with a poll, watches the segment counter move as they type a long text, saves it, and
submits it: the campaign's page shows it in review, and so does the database."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from campaigns.models import Wave, WaveStatus
from campaigns.services.campaigns import campaign_create
from campaigns.services.segments import segment_create
from outreach.models import Role

LONG_SW = "Amani inaanza na wewe, katika kila kata na kila nyumba ya Kenya yetu. " * 3


@pytest.fixture
def campaign(organization, console_channel):
    segment_create(organization=organization, created_by=None, name="Everyone")
    return campaign_create(
        organization=organization,
        created_by=None,
        preset="KE",
        name="Amani 2027",
        election_date=dt.date(2027, 8, 10),
    )


def test_a_manager_composes_a_two_language_wave_with_a_poll_and_submits_it(
    campaign, organization, console_channel, make_member, sign_in, page
):
    manager = make_member(organization, Role.MANAGER)
    sign_in(manager.user.username)
    page.goto("/console/campaigns/")
    page.get_by_role("link", name="Amani 2027").click()
    page.get_by_role("link", name="New wave").click()

    page.get_by_label("Name").fill("A week before")
    page.get_by_label("Or relative to election day").fill("E-7d 10:00")
    page.get_by_label("Segment").select_option(label="Everyone")
    page.get_by_label("Console", exact=False).first.check()
    page.get_by_label("Text in English").fill("Peace starts with you.")
    page.get_by_label("Text in Kiswahili").fill("Amani inaanza na wewe.")
    segments_sw = page.get_by_test_id("segments-sw")
    expect(segments_sw).to_have_text("1")
    page.get_by_label("Text in Kiswahili").fill(LONG_SW)
    expect(segments_sw).not_to_have_text("1")
    assert int(segments_sw.inner_text()) >= 2

    page.get_by_label("Option 1 in English").fill("Pledge a peaceful vote")
    page.get_by_label("Option 1 in Kiswahili").fill("Ahidi kura ya amani")
    page.get_by_label("Option 2 in English").fill("Talk to a mentor")
    page.get_by_label("Option 2 in Kiswahili").fill("Ongea na mshauri")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_text("The wave is saved as a draft.")).to_be_visible()
    expect(page.get_by_test_id("segments-sw")).not_to_have_text("1")

    page.get_by_role("button", name="Save and submit for review").click()

    expect(page.get_by_role("heading", name="Amani 2027")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="A week before")).to_contain_text(
        "In review"
    )
    wave = Wave.objects.get(campaign=campaign)
    assert wave.status == WaveStatus.IN_REVIEW
    assert wave.poll.options.count() == 2
    assert sorted(wave.variants.values_list("language", flat=True)) == ["en", "sw"]
