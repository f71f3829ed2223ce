"""The audience's size over time: people subscribed at each day's end, from the consent
ledger, counted in people (a person on SMS and WhatsApp is one) and in local days."""

import datetime as dt

import pytest

from outreach.models import ChannelKind, ConsentKind, ConsentSource, Subscriber
from outreach.selectors.audience_history import audience_history
from outreach.services.channels import channel_create
from outreach.services.consent import consent_record
from tests.support.people import make_subscriber

pytestmark = pytest.mark.django_db

EAT = dt.timezone(dt.timedelta(hours=3))
TODAY = dt.date(2026, 11, 30)


def at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, 0, tzinfo=EAT)


def record(subscriber, kind, when):
    consent_record(
        subscriber=subscriber,
        kind=kind,
        source=ConsentSource.KEYWORD,
        occurred_at=when,
        keyword_as_texted="JOIN" if kind == ConsentKind.OPT_IN else "STOP",
    )


@pytest.fixture
def sms_and_whatsapp(organization, console_channel):
    whatsapp = channel_create(
        organization=organization,
        name="Console WhatsApp",
        kind=ChannelKind.CONSOLE_WHATSAPP,
        country="KE",
    )
    return console_channel, whatsapp


def people_by_day(organization, days=5):
    return [d.people for d in audience_history(organization, days=days, today=TODAY)]


def test_a_person_on_two_channels_counts_once_until_they_leave_both(organization, sms_and_whatsapp):
    sms, whatsapp = sms_and_whatsapp
    on_sms = make_subscriber(
        organization=organization, channel=sms, address="+254711000001", language="en"
    )
    on_whatsapp = Subscriber.objects.create(
        organization=organization,
        contact=on_sms.contact,
        channel=whatsapp,
        scheme=whatsapp.scheme,
        address="+254711000001",
        language="en",
    )
    record(on_sms, ConsentKind.OPT_IN, at(26, 10))
    record(on_whatsapp, ConsentKind.OPT_IN, at(27, 10))
    record(on_sms, ConsentKind.OPT_OUT, at(28, 10))  # still on WhatsApp
    record(on_whatsapp, ConsentKind.OPT_OUT, at(29, 10))

    assert people_by_day(organization) == [1, 1, 1, 0, 0]


def test_people_who_joined_before_the_period_are_counted_from_its_first_day(
    organization, console_channel
):
    for n in range(3):
        person = make_subscriber(
            organization=organization,
            channel=console_channel,
            address=f"+25471100010{n}",
            language="sw",
        )
        record(person, ConsentKind.OPT_IN, at(1, 9))
    record(person, ConsentKind.OPT_OUT, at(30, 9))

    assert people_by_day(organization) == [3, 3, 3, 3, 2]


def test_a_second_join_on_the_same_address_adds_nobody(organization, console_channel):
    person = make_subscriber(
        organization=organization, channel=console_channel, address="+254711000201", language="en"
    )
    record(person, ConsentKind.OPT_IN, at(27, 9))
    record(person, ConsentKind.OPT_IN, at(28, 9))

    assert people_by_day(organization) == [0, 1, 1, 1, 1]


def test_days_are_the_organizations_local_days(organization, console_channel):
    person = make_subscriber(
        organization=organization, channel=console_channel, address="+254711000301", language="en"
    )
    record(person, ConsentKind.OPT_IN, dt.datetime(2026, 11, 28, 22, 30, tzinfo=dt.UTC))

    # 22:30 UTC on the 28th is 01:30 on the 29th in Nairobi.
    assert people_by_day(organization, days=3) == [0, 1, 1]


def test_another_organizations_people_are_not_counted(
    organization, other_organization, console_channel
):
    theirs = channel_create(
        organization=other_organization, name="Theirs", kind=ChannelKind.CONSOLE, country="KE"
    )
    person = make_subscriber(
        organization=other_organization, channel=theirs, address="+254711000401", language="en"
    )
    record(person, ConsentKind.OPT_IN, at(27, 9))

    assert people_by_day(organization) == [0, 0, 0, 0, 0]
