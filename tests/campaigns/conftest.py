"""Campaign fixtures: a Kenyan campaign, its segment, and members to write and review waves."""

import datetime as dt

import pytest

from campaigns.services.campaigns import campaign_create
from campaigns.services.segments import segment_create
from outreach.models import ConsentStatus, Role, Subscriber

ELECTION_DAY = dt.date(2027, 8, 10)
NOW = dt.datetime(2027, 7, 1, 9, 0, tzinfo=dt.UTC)  # five weeks before polling day


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
        Subscriber.objects.create(
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
