"""The campaigns send gate: dispatch asks it right before each provider call (issue 10, item 8).

Cancel is final, pause holds, and a wave's sending window and blackouts hold every message,
not only when the wave starts; the wave says it is held, and until when.
"""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from campaigns.models import BlackoutWindow, Wave, WavePriority
from campaigns.services import waves as services
from outreach.send_gates import holds_for
from tests.campaigns.conftest import DUE, EAT, NOW

pytestmark = pytest.mark.django_db

EVENING = dt.datetime(2027, 8, 3, 18, 30, tzinfo=EAT)  # past Kenya's 18:00 cut-off
NEXT_MORNING = dt.datetime(2027, 8, 4, 8, 0, tzinfo=EAT)


@pytest.fixture(autouse=True)
def _before_polling_day():
    with time_machine.travel(NOW, tick=False):
        yield


def _blackout(wave: Wave, starts: dt.datetime, ends: dt.datetime) -> None:
    BlackoutWindow.objects.create(campaign=wave.campaign, starts_at=starts, ends_at=ends)


def test_a_sending_wave_inside_its_window_is_not_held(sending_wave):
    assert holds_for([sending_wave.pk], DUE + dt.timedelta(hours=2)) == {}


def test_a_cancelled_wave_is_held_for_good(sending_wave):
    services.wave_cancel(wave=sending_wave, by=sending_wave.created_by)

    hold = holds_for([sending_wave.pk], DUE)[sending_wave.pk]

    assert hold.final
    assert "cancelled" in hold.reason


def test_a_paused_wave_is_held_until_someone_resumes_it(sending_wave):
    services.wave_pause(wave=sending_wave, by=sending_wave.created_by)

    hold = holds_for([sending_wave.pk], DUE)[sending_wave.pk]

    assert not hold.final
    assert hold.until is None
    assert "paused" in hold.reason


def test_a_wave_still_sending_at_the_local_cut_off_is_held_until_the_next_morning(sending_wave):
    hold = holds_for([sending_wave.pk], EVENING)[sending_wave.pk]

    assert not hold.final
    assert hold.until == NEXT_MORNING
    assert hold.until.tzinfo == dt.UTC
    assert "08:00" in hold.reason  # the local opening, as staff read it on the message


def test_quiet_hours_are_read_in_the_campaigns_time_zone(sending_wave):
    # 17:30 UTC is 20:30 in Nairobi: quiet there, whatever the server's clock says.
    hold = holds_for([sending_wave.pk], dt.datetime(2027, 8, 3, 17, 30, tzinfo=dt.UTC))

    assert hold[sending_wave.pk].until == NEXT_MORNING


def test_a_wave_running_into_a_blackout_is_held_until_it_ends(sending_wave):
    noon = dt.datetime(2027, 8, 3, 12, 0, tzinfo=EAT)
    _blackout(sending_wave, noon, noon + dt.timedelta(hours=2))

    hold = holds_for([sending_wave.pk], noon + dt.timedelta(minutes=30))[sending_wave.pk]

    assert hold.until == noon + dt.timedelta(hours=2)
    assert "blackout" in hold.reason


def test_the_opening_after_a_blackout_skips_quiet_hours_and_the_next_blackout(sending_wave):
    noon = dt.datetime(2027, 8, 3, 12, 0, tzinfo=EAT)
    _blackout(sending_wave, noon, noon + dt.timedelta(hours=7))  # to 19:00, into quiet hours
    _blackout(sending_wave, NEXT_MORNING, NEXT_MORNING + dt.timedelta(hours=1))

    hold = holds_for([sending_wave.pk], noon)[sending_wave.pk]

    assert hold.until == NEXT_MORNING + dt.timedelta(hours=1)


def test_an_urgent_wave_an_admin_approved_for_the_blackout_goes_through_it(sending_wave, admin):
    noon = dt.datetime(2027, 8, 3, 12, 0, tzinfo=EAT)
    _blackout(sending_wave, noon, noon + dt.timedelta(hours=2))
    Wave.objects.filter(pk=sending_wave.pk).update(priority=WavePriority.URGENT)
    services.wave_approve_blackout(
        wave=sending_wave, by=admin.membership.user, reason="Rumour of violence in Kisumu"
    )

    assert holds_for([sending_wave.pk], noon + dt.timedelta(minutes=30)) == {}
    assert sending_wave.pk in holds_for([sending_wave.pk], EVENING)  # quiet hours still hold


def test_a_group_of_messages_costs_the_gate_one_query(
    sending_wave, campaign, django_assert_num_queries
):
    noon = dt.datetime(2027, 8, 3, 12, 0, tzinfo=EAT)
    _blackout(sending_wave, noon, noon + dt.timedelta(hours=2))
    other = Wave.objects.create(
        organization=campaign.organization, campaign=campaign, name="E-6", status="sending"
    )

    with django_assert_num_queries(1):
        holds = holds_for([sending_wave.pk, other.pk, 999_999], noon)

    assert set(holds) == {sending_wave.pk, other.pk}


def test_the_wave_says_it_is_held_by_its_window_and_until_when(sending_wave, author):
    with time_machine.travel(EVENING, tick=False):
        body = author.get(f"/api/v1/waves/{sending_wave.pk}/").json()

    assert body["status"] == "sending"
    assert body["hold"]["until_utc"] == "2027-08-04T05:00:00Z"
    assert body["hold"]["until_local"] == "2027-08-04T08:00:00+03:00"
    assert "quiet hours" in body["hold"]["reason"]


def test_a_wave_in_its_window_shows_no_hold(sending_wave, author):
    with time_machine.travel(DUE + dt.timedelta(hours=1), tick=False):
        body = author.get(f"/api/v1/waves/{sending_wave.pk}/").json()

    assert body["hold"] is None


def test_the_admin_page_of_a_held_wave_says_until_when(sending_wave, client, admin_user):
    with time_machine.travel(EVENING, tick=False):
        client.force_login(admin_user)
        page = client.get(reverse("admin:campaigns_wave_change", args=[sending_wave.pk]))

    assert page.status_code == 200
    assert "held until 2027-08-04 08:00 local (2027-08-04 05:00 UTC)" in page.content.decode()
