"""The home page: campaigns in progress, waves sending now (refreshing by itself), waves
waiting for my review, replies needing a look, and the audience's size over time."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from campaigns.services import waves as services
from campaigns.services.fanout import fanout_wave
from outreach.models import ConsentKind, ConsentSource, InboundIntent, InboundMessage, Role
from outreach.services.consent import consent_record
from tests.campaigns.conftest import DUE, NOW, audience, campaign  # noqa: F401 - fixtures
from tests.support.people import make_subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _five_weeks_before_polling_day():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def write_wave(campaign, audience, console_channel):  # noqa: F811
    def write(author, name="E-7: what peace means"):
        wave = services.wave_create(
            campaign=campaign,
            created_by=author,
            name=name,
            send_at_relative="E-7d 10:00",
            segment=audience,
            channels=[console_channel],
            variants=[{"language": "en", "body": "Peace starts with you."}],
        )
        services.wave_submit(wave=wave, by=author)
        wave.refresh_from_db()
        return wave

    return write


def home_of(client):
    response = client.get("/console/")
    assert response.status_code == 200
    return response.content.decode()


def section(html, anchor):
    start = html.index(f'id="{anchor}"')
    return html[start : html.index("</section>", start)]


def test_a_reviewer_sees_the_waves_waiting_for_their_review_but_not_their_own(
    write_wave, organization, console_as
):
    manager = console_as(organization, Role.MANAGER)
    admin = console_as(organization, Role.ADMIN)
    theirs = write_wave(manager.membership.user, name="Written by the manager")
    own = write_wave(admin.membership.user, name="Written by the admin")

    waiting = section(home_of(admin), "to-review")

    assert f'href="/console/waves/{theirs.pk}/review/"' in waiting
    assert f"/console/waves/{own.pk}/review/" not in waiting


def test_a_manager_has_no_review_list(write_wave, organization, console_as):
    manager = console_as(organization, Role.MANAGER)
    write_wave(console_as(organization, Role.MANAGER).membership.user)

    assert 'id="to-review"' not in home_of(manager)


def test_campaigns_in_progress_are_listed_with_their_open_waves(
    write_wave, organization, console_as
):
    manager = console_as(organization, Role.MANAGER)
    write_wave(manager.membership.user)

    campaigns = section(home_of(manager), "campaigns-in-progress")

    assert "Amani 2027" in campaigns
    assert "2027-08-10" in campaigns
    assert '<td class="num">1</td>' in campaigns


def test_a_wave_sending_now_shows_its_progress_in_a_fragment_that_refreshes(
    write_wave, organization, console_as
):
    manager = console_as(organization, Role.MANAGER)
    reviewer = console_as(organization, Role.REVIEWER)
    wave = write_wave(manager.membership.user)
    services.wave_approve(wave=wave, by=reviewer.membership.user)
    services.wave_schedule(wave=wave, by=None)
    with time_machine.travel(DUE, tick=False):
        services.waves_tick(now=DUE)
        fanout_wave(wave_id=wave.pk)  # rows uncommitted here: the tick's own fan-out waits
        manager.force_login(manager.membership.user)
        html = home_of(manager)
        fragment = manager.get("/console/home/sending/").content.decode()

    sending = section(html, "home-sending")
    assert 'hx-get="/console/home/sending/"' in sending
    assert 'hx-trigger="every 5s"' in sending
    assert f'href="/console/waves/{wave.pk}/"' in sending
    assert "0 delivered · 0 sent · 4 queued · 0 failed · 0 held" in sending
    assert fragment.lstrip().startswith('<section id="home-sending"')
    assert "4 queued" in fragment


def test_free_replies_of_the_last_week_need_a_look_without_any_number(
    organization, console_channel, console_as
):
    manager = console_as(organization, Role.MANAGER)
    person = make_subscriber(
        organization=organization,
        channel=console_channel,
        address="+254711000777",
        language="sw",
    )
    for n, (body, intent, days_ago) in enumerate(
        [
            ("Kuna uvumi wa vurugu sokoni", InboundIntent.FREE_REPLY, 1),
            ("JOIN", InboundIntent.JOIN, 1),
            ("An old worry", InboundIntent.FREE_REPLY, 9),
        ]
    ):
        InboundMessage.objects.create(
            organization=organization,
            channel=console_channel,
            subscriber=person,
            provider_message_id=f"in-{n}",
            body=body,
            received_at=timezone.now() - dt.timedelta(days=days_ago),
            handled_at=timezone.now(),
            intent=intent,
            detected_language="sw" if n == 0 else "",
        )

    replies = section(home_of(manager), "replies")

    assert "1 reply in the last 7 days" in replies
    assert "Kuna uvumi wa vurugu sokoni" in replies
    assert "An old worry" not in replies
    assert "JOIN" not in replies
    assert "254711000777" not in replies
    assert 'href="/console/inbox/"' in replies


def test_the_audience_chart_counts_people_subscribed_each_day(
    organization, console_channel, console_as
):
    manager = console_as(organization, Role.MANAGER)
    for n in range(3):
        person = make_subscriber(
            organization=organization,
            channel=console_channel,
            address=f"+25471100090{n}",
            language="en",
        )
        consent_record(
            subscriber=person,
            kind=ConsentKind.OPT_IN,
            source=ConsentSource.KEYWORD,
            occurred_at=timezone.now() - dt.timedelta(days=2),
        )

    chart = section(home_of(manager), "audience-size")

    assert "<strong data-audience-now>3</strong>" in chart
    assert '<svg role="img" aria-label="People subscribed at the end of each day' in chart
    assert "<polyline" in chart


def test_a_funder_is_sent_to_their_dashboard(organization, console_as):
    funder = console_as(organization, Role.FUNDER)

    response = funder.get("/console/")

    assert response.status_code == 302
    assert response["Location"] == reverse("console:funder-home")
