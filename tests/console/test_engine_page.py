# ruff: noqa: F811 - the campaign fixtures are imported by name
"""The Engine page: the whole server's sending engine at a glance, for its operators
(superusers: every organization's staff members have Django's is_staff) only, refreshed
every 5 seconds; and on a wave's page, its send rate over the last minute and the time left
at it."""

import datetime as dt

import pytest
import time_machine

from campaigns.services import waves as services
from campaigns.services.fanout import fanout_wave
from config.celery import app as celery_app
from outreach.models import ChannelKind, ConsentStatus, Role
from outreach.services.channels import channel_create
from outreach.services.dispatch import dispatch_channel
from tests.campaigns.conftest import DUE, NOW, audience, campaign  # noqa: F401 - fixtures
from tests.support.people import make_subscriber

ENGINE = "/console/engine/"


@pytest.fixture(autouse=True)
def _fresh_counters(settings, empty_engine_counters: None) -> None:
    """Counters and queues of Redis start empty in each test; sessions outlast the campaign."""
    settings.SESSION_COOKIE_AGE = 365 * 24 * 3600


@pytest.fixture
def operator(organization, console_as):
    """A manager of an organization who is also one of the server's operators (a superuser)."""
    with time_machine.travel(NOW, tick=False):
        client = console_as(organization, Role.MANAGER)
    client.membership.user.is_superuser = True
    client.membership.user.save(update_fields=["is_superuser"])
    return client


@pytest.fixture
def manager(organization, console_as):
    with time_machine.travel(NOW, tick=False):
        return console_as(organization, Role.MANAGER)


@pytest.fixture
def second_channel(organization):
    return channel_create(
        organization=organization, name="Console two", kind=ChannelKind.CONSOLE, country="KE"
    )


@pytest.fixture
def half_sent_wave(
    organization, campaign, audience, manager, console_as, console_channel, second_channel
):
    """Four subscribers on the first channel, handed to it at DUE; two more on the second,
    still queued."""
    for index in range(2):
        make_subscriber(
            organization=organization,
            channel=second_channel,
            address=f"+25472234560{index}",
            language="en",
            consent_status=ConsentStatus.OPTED_IN,
        )
    with time_machine.travel(NOW, tick=False):
        reviewer = console_as(organization, Role.REVIEWER).membership.user
        wave = services.wave_create(
            campaign=campaign,
            created_by=manager.membership.user,
            name="E-7",
            send_at_relative="E-7d 10:00",
            segment=audience,
            channels=[console_channel, second_channel],
            variants=[{"language": "en", "body": "Peace in {campaign}."}],
        )
        services.wave_submit(wave=wave, by=wave.created_by)
        services.wave_approve(wave=wave, by=reviewer)
        services.wave_schedule(wave=wave, by=None)
    with time_machine.travel(DUE, tick=False):
        assert services.waves_tick(now=DUE) == [wave.pk]
        fanout_wave(wave_id=wave.pk)
        dispatch_channel(channel_id=console_channel.pk)
    return wave


@pytest.mark.django_db
def test_an_operator_sees_a_healthy_engine_refreshed_every_five_seconds(operator):
    with time_machine.travel(DUE, tick=False):
        html = operator.get(ENGINE).content.decode()

    assert "<strong>Healthy</strong>" in html
    assert 'hx-get="/console/engine/health/"' in html
    assert 'hx-trigger="every 5s"' in html
    assert f'<a href="{ENGINE}" aria-current="page">Engine</a>' in html


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore:task_always_eager has no effect on send_task")
def test_a_bulk_task_waiting_four_minutes_reads_as_falling_behind(operator):
    with time_machine.travel(DUE, tick=False):
        celery_app.send_task("outreach.tasks.sweep", queue="bulk")
    with time_machine.travel(DUE + dt.timedelta(minutes=4), tick=False):
        fragment = operator.get("/console/engine/health/").content.decode()

    assert "Falling behind: the bulk queue&#x27;s oldest task is 4 min old" in fragment
    assert '<tr data-queue="bulk"><th scope="row">bulk</th><td class="num" data-depth>1</td>' in (
        fragment
    )


@pytest.mark.django_db
def test_the_sends_of_a_wave_show_by_channel_kind_in_the_last_minute_and_hour(
    operator, half_sent_wave
):
    with time_machine.travel(DUE + dt.timedelta(seconds=30), tick=False):
        now = operator.get(ENGINE).content.decode()
    with time_machine.travel(DUE + dt.timedelta(minutes=5), tick=False):
        later = operator.get(ENGINE).content.decode()

    kind = "Console (records, never sends)"
    assert f'<tr data-sends="{kind}"><th scope="row">{kind}</th>' in now
    assert 'data-window="minute">4<' in now
    assert 'data-window="hour">4<' in now
    assert 'data-window="minute">0<' in later
    assert 'data-window="hour">4<' in later
    assert "E-7" not in now  # no wave, no organization: the figures span the server


@pytest.mark.django_db
def test_a_manager_with_djangos_staff_flag_is_refused_and_sees_no_link(manager):
    assert manager.membership.user.is_staff  # every staff role has it: not an operator
    with time_machine.travel(DUE, tick=False):
        refused = manager.get(ENGINE)
        fragment = manager.get("/console/engine/health/")
        home = manager.get("/console/").content.decode()

    assert refused.status_code == 403
    assert "This page is for the server&#x27;s operators." in refused.content.decode()
    assert fragment.status_code == 403
    assert ENGINE not in home


@pytest.mark.django_db
def test_a_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get(ENGINE)

    assert response.status_code == 302
    assert "next=/console/engine/" in response["Location"]


@pytest.mark.django_db
def test_an_operator_of_no_organization_still_sees_the_engine(django_user_model, client):
    operator = django_user_model.objects.create_user("night-operator", is_superuser=True)
    client.force_login(operator)

    with time_machine.travel(DUE, tick=False):
        html = client.get(ENGINE).content.decode()

    assert "<strong>Healthy</strong>" in html
    assert f'<a href="{ENGINE}">Engine</a>' in html


@pytest.mark.django_db
def test_a_sending_wave_shows_its_send_rate_and_the_time_left_at_it(manager, half_sent_wave):
    with time_machine.travel(DUE + dt.timedelta(seconds=30), tick=False):
        html = manager.get(f"/console/waves/{half_sent_wave.pk}/progress/").content.decode()

    # 4 went in the last minute, 2 are left: half a minute at that rate.
    assert 'data-rate="4"' in html
    assert "Send rate: 4 messages handed to the provider in the last minute." in html
    assert "About 30 s to go at this rate (done around 10:01, Africa/Nairobi)." in html


@pytest.mark.django_db
def test_when_nothing_went_in_the_last_minute_the_wave_gives_no_estimate(manager, half_sent_wave):
    with time_machine.travel(DUE + dt.timedelta(minutes=3), tick=False):
        html = manager.get(f"/console/waves/{half_sent_wave.pk}/").content.decode()

    assert "Send rate: 0 messages handed to the provider in the last minute." in html
    assert "No estimate of the time left: nothing went in the last minute." in html
