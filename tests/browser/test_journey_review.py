"""Journey 2: a wave a manager composed and submitted is approved by a reviewer, scheduled
by the manager, and its page moves to sent on the demo's console channel while it is open —
updated by htmx polling, without a reload — as the scheduler's beat sends it."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from campaigns.models import Wave, WaveStatus
from campaigns.services import waves as services
from campaigns.services.campaigns import campaign_create
from campaigns.services.segments import segment_create
from outreach.models import ConsentStatus, OutboundMessage, OutboundStatus, Role
from tests.support.people import make_subscriber

NAIROBI = ZoneInfo("Africa/Nairobi")


@pytest.fixture
def nine_in_the_morning_in_nairobi():
    """Inside Kenya's sending window (08:00-18:00), today: the browser's cookies stay valid."""
    today = dt.datetime.now(NAIROBI).date()
    with time_machine.travel(dt.datetime.combine(today, dt.time(9, 0), NAIROBI), tick=True):
        yield


@pytest.fixture
def submitted_wave(nine_in_the_morning_in_nairobi, organization, console_channel, make_member):
    manager = make_member(organization, Role.MANAGER)
    for n in range(3):
        make_subscriber(
            organization=organization,
            channel=console_channel,
            address=f"+25471200030{n}",
            language="en",
            consent_status=ConsentStatus.OPTED_IN,
        )
    campaign = campaign_create(
        organization=organization, created_by=None, preset="KE", name="Amani today"
    )
    wave = services.wave_create(
        campaign=campaign,
        created_by=manager.user,
        name="Peace at the market",
        send_at=dt.datetime.now(NAIROBI) + dt.timedelta(minutes=3),
        segment=segment_create(organization=organization, created_by=None, name="Everyone"),
        channels=[console_channel],
        variants=[{"language": "en", "body": "Peace starts at the market, with you."}],
    )
    services.wave_submit(wave=wave, by=manager.user)
    return wave, manager


def test_a_reviewer_approves_and_the_waves_page_moves_to_sent_without_a_reload(
    submitted_wave, organization, make_member, sign_in, page
):
    wave, manager = submitted_wave
    reviewer = make_member(organization, Role.REVIEWER)

    # The reviewer finds the wave on the home page and approves it.
    sign_in(reviewer.user.username)
    waiting = page.locator("#to-review")
    expect(waiting).to_contain_text("Peace at the market")
    waiting.get_by_role("link", name="Peace at the market").click()
    expect(page.get_by_role("heading", name="Review: Peace at the market")).to_be_visible()
    expect(page.get_by_text("Peace starts at the market, with you.", exact=True)).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved: the wave may now be scheduled.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    # The manager schedules it from the wave's page.
    sign_in(manager.user.username)
    page.goto(f"/console/waves/{wave.pk}/")
    page.get_by_role("button", name="Schedule").click()
    status = page.locator("#wave-progress [data-wave-status]")
    expect(status).to_have_text("Scheduled")
    page.evaluate("window.stillTheSamePage = true")

    # The scheduler's beat comes while the page is open.
    wave.refresh_from_db()
    for _ in range(5):
        services.waves_tick(now=wave.scheduled_for)
        if Wave.objects.get(pk=wave.pk).status == WaveStatus.SENT:
            break

    delivered = OutboundMessage.objects.filter(
        wave_id=wave.pk, status=OutboundStatus.DELIVERED
    ).count()
    expect(status).to_have_text("Sent")
    expect(page.locator("#wave-status")).to_have_text("Sent")  # the wave's card follows too
    expect(page.locator('#wave-progress [data-total="delivered"]')).to_have_text(str(delivered))
    row = page.locator(f'#wave-progress tr[data-channel="{wave.channels.get().pk}"]')
    expect(row.locator('[data-count="delivered"]')).to_have_text(str(delivered))
    assert delivered > 0
    assert page.evaluate("window.stillTheSamePage") is True
    expect(page.locator("#wave-progress")).not_to_have_attribute("hx-trigger", "every 2s")
