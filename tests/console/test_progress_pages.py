"""The wave's page: status, times in both clocks, texts, live progress per channel that
polls while the wave moves and stops once it is sent; schedule, pause, resume, and cancel
after a confirmation, for those whose role runs waves."""

import datetime as dt

import pytest
import time_machine

from campaigns.models import WaveStatus
from campaigns.services import waves as services
from outreach.models import OutboundMessage, OutboundStatus, Role
from tests.campaigns.conftest import DUE, NOW, audience, campaign  # noqa: F401 - fixtures

POLLING = 'hx-trigger="every 2s"'


@pytest.fixture(autouse=True)
def _sessions_outlast_the_campaign(settings):
    """The clients sign in at NOW; some tests then move on to the wave's day, weeks later."""
    settings.SESSION_COOKIE_AGE = 365 * 24 * 3600


@pytest.fixture
def manager(organization, console_as):
    with time_machine.travel(NOW, tick=False):
        return console_as(organization, Role.MANAGER)


@pytest.fixture
def reviewer_client(organization, console_as):
    with time_machine.travel(NOW, tick=False):
        return console_as(organization, Role.REVIEWER)


@pytest.fixture
def approved_wave(campaign, audience, console_channel, manager, reviewer_client):  # noqa: F811
    with time_machine.travel(NOW, tick=False):
        wave = services.wave_create(
            campaign=campaign,
            created_by=manager.membership.user,
            name="E-7: what peace means",
            send_at_relative="E-7d 10:00",
            segment=audience,
            channels=[console_channel],
            variants=[
                {"language": "en", "body": "Peace starts with you."},
                {"language": "sw", "body": "Amani inaanza na wewe."},
            ],
        )
        services.wave_submit(wave=wave, by=wave.created_by)
        return services.wave_approve(wave=wave, by=reviewer_client.membership.user)


def page_of(client, wave):
    return client.get(f"/console/waves/{wave.pk}/")


@pytest.mark.django_db
def test_the_wave_page_shows_its_times_in_local_time_and_utc_and_its_texts(approved_wave, manager):
    with time_machine.travel(NOW, tick=False):
        html = page_of(manager, approved_wave).content.decode()

    assert "2027-08-03 10:00 Africa/Nairobi (2027-08-03 07:00 UTC)" in html
    assert "Peace starts with you." in html
    assert "Amani inaanza na wewe." in html
    assert 'class="badge approved"' in html


@pytest.mark.django_db
def test_a_manager_schedules_an_approved_wave_and_its_progress_starts_polling(
    approved_wave, manager
):
    with time_machine.travel(NOW, tick=False):
        before = page_of(manager, approved_wave).content.decode()
        response = manager.post(f"/console/waves/{approved_wave.pk}/schedule/")
        after = manager.get(response["Location"]).content.decode()

    assert POLLING not in before  # an approved wave does not move by itself
    assert response.status_code == 302
    approved_wave.refresh_from_db()
    assert approved_wave.status == WaveStatus.SCHEDULED
    assert POLLING in after
    assert f'hx-get="/console/waves/{approved_wave.pk}/progress/"' in after
    assert "The wave is scheduled." in after


@pytest.mark.django_db
def test_a_reviewer_sees_no_run_buttons_and_may_not_pause(approved_wave, reviewer_client):
    with time_machine.travel(NOW, tick=False):
        html = page_of(reviewer_client, approved_wave).content.decode()
        services.wave_schedule(wave=approved_wave, by=None)
        refused = reviewer_client.post(f"/console/waves/{approved_wave.pk}/pause/")

    assert ">Schedule<" not in html
    assert "Cancel the wave" not in html
    assert refused.status_code == 403
    approved_wave.refresh_from_db()
    assert approved_wave.status == WaveStatus.SCHEDULED


@pytest.mark.django_db
def test_a_refused_schedule_says_why_on_the_page_and_changes_nothing(approved_wave, manager):
    with time_machine.travel(DUE + dt.timedelta(days=1), tick=False):  # its time has passed
        response = manager.post(f"/console/waves/{approved_wave.pk}/schedule/")

    assert response.status_code == 400
    assert "The send time has passed; choose a later one." in response.content.decode()
    approved_wave.refresh_from_db()
    assert approved_wave.status == WaveStatus.APPROVED


@pytest.mark.django_db
def test_pause_then_resume_a_scheduled_wave(approved_wave, manager):
    with time_machine.travel(NOW, tick=False):
        services.wave_schedule(wave=approved_wave, by=None)
        manager.post(f"/console/waves/{approved_wave.pk}/pause/")
        approved_wave.refresh_from_db()
        paused = approved_wave.status
        html = page_of(manager, approved_wave).content.decode()
        manager.post(f"/console/waves/{approved_wave.pk}/resume/")

    approved_wave.refresh_from_db()
    assert paused == WaveStatus.PAUSED
    assert ">Resume<" in html
    assert POLLING in html
    assert approved_wave.status == WaveStatus.SCHEDULED


@pytest.mark.django_db
def test_cancel_asks_first_and_cancels_only_once_confirmed(approved_wave, manager):
    with time_machine.travel(NOW, tick=False):
        services.wave_schedule(wave=approved_wave, by=None)
        asked = manager.get(f"/console/waves/{approved_wave.pk}/cancel/")
        approved_wave.refresh_from_db()
        still = approved_wave.status
        unconfirmed = manager.post(f"/console/waves/{approved_wave.pk}/cancel/")
        approved_wave.refresh_from_db()
        still_after_a_bare_post = approved_wave.status
        done = manager.post(f"/console/waves/{approved_wave.pk}/cancel/", {"confirm": "yes"})

    assert "Cancelling is final" in asked.content.decode()
    assert 'name="confirm" value="yes"' in asked.content.decode()
    assert still == still_after_a_bare_post == WaveStatus.SCHEDULED
    assert unconfirmed.status_code == 200
    assert done.status_code == 302
    approved_wave.refresh_from_db()
    assert approved_wave.status == WaveStatus.CANCELLED


@pytest.mark.django_db
def test_another_organizations_wave_is_not_found(approved_wave, other_organization, console_as):
    with time_machine.travel(NOW, tick=False):
        stranger = console_as(other_organization, Role.MANAGER)

    for url in ("", "progress/", "cancel/", "review/"):
        assert stranger.get(f"/console/waves/{approved_wave.pk}/{url}").status_code == 404
    assert stranger.post(f"/console/waves/{approved_wave.pk}/pause/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_progress_fragment_shows_delivered_per_channel_and_stops_polling_once_sent(
    approved_wave, manager, console_channel
):
    with time_machine.travel(NOW, tick=False):
        services.wave_schedule(wave=approved_wave, by=None)
    with time_machine.travel(DUE, tick=False):
        waiting = manager.get(f"/console/waves/{approved_wave.pk}/progress/").content.decode()
        services.waves_tick(now=DUE)  # committed rows: fan-out and dispatch run at once
        services.waves_tick(now=DUE)  # the next beat finds every message handed over
        sent = manager.get(f"/console/waves/{approved_wave.pk}/progress/").content.decode()

    delivered = OutboundMessage.objects.filter(
        wave_id=approved_wave.pk, status=OutboundStatus.DELIVERED
    ).count()
    assert POLLING in waiting
    assert "Scheduled" in waiting
    assert delivered > 0
    assert f'data-count="delivered">{delivered}<' in sent
    assert f'data-total="delivered">{delivered}<' in sent
    assert "Sent</span>" in sent
    assert 'data-status="sent"' in sent
    assert POLLING not in sent
    assert 'class="bar"' in sent
    assert 'class="delivered"' in sent
