"""Campaign fixtures: a Kenyan campaign, its segment, and members to write and review waves."""

import datetime as dt

import pytest

from campaigns.services import waves as wave_services
from campaigns.services.campaigns import campaign_create
from campaigns.services.segments import segment_create
from outreach.models import ConsentStatus, Region, Role, Subscriber
from tests.campaigns.report_world import build_world
from tests.support.people import make_subscriber

ELECTION_DAY = dt.date(2027, 8, 10)
NOW = dt.datetime(2027, 7, 1, 9, 0, tzinfo=dt.UTC)  # five weeks before polling day
EAT = dt.timezone(dt.timedelta(hours=3))
DUE = dt.datetime(2027, 8, 3, 10, 0, tzinfo=EAT)  # when `sending_wave` starts: E-7d 10:00


@pytest.fixture
def campaign(organization):
    return campaign_create(
        organization=organization,
        created_by=None,
        preset="KE",
        name="Amani 2027",
        election_date=ELECTION_DAY,
        sensitive_terms=["Party X", "Candidate Y"],
    )


@pytest.fixture
def audience(organization, console_channel):
    for index, language in enumerate(["en", "sw", "sw", "fr"]):
        make_subscriber(
            organization=organization,
            channel=console_channel,
            address=f"+25471234560{index}",
            language=language,
            consent_status=ConsentStatus.OPTED_IN,
        )
    return segment_create(organization=organization, created_by=None, name="Everyone")


@pytest.fixture
def author(organization, member_client):
    return member_client(organization, Role.MANAGER)


@pytest.fixture
def reviewer(organization, member_client):
    return member_client(organization, Role.REVIEWER)


@pytest.fixture
def admin(organization, member_client):
    return member_client(organization, Role.ADMIN)


@pytest.fixture
def sending_wave(campaign, audience, author, reviewer, console_channel, organization):
    """A wave the tick started at DUE; its fan-out task has not run yet (nothing committed)."""
    kisumu = Region.objects.create(organization=organization, name="Kisumu")
    Subscriber.objects.filter(language="sw").update(region=kisumu)
    wave = wave_services.wave_create(
        campaign=campaign,
        created_by=author.membership.user,
        name="E-7",
        send_at_relative="E-7d 10:00",
        segment=audience,
        channels=[console_channel],
        variants=[
            {"language": "en", "body": "Peace in {region}, from {campaign}."},
            {"language": "sw", "body": "Amani {region}."},
        ],
    )
    wave_services.wave_submit(wave=wave, by=wave.created_by)
    wave_services.wave_approve(wave=wave, by=reviewer.membership.user)
    wave_services.wave_schedule(wave=wave, by=None)
    assert wave_services.waves_tick(now=DUE) == [wave.pk]
    return wave


@pytest.fixture
def world(organization, console_channel, campaign, django_capture_on_commit_callbacks):
    """A campaign a funder can attack (tests.campaigns.report_world)."""
    return build_world(
        organization=organization,
        channel=console_channel,
        campaign=campaign,
        capture=django_capture_on_commit_callbacks,
    )
