"""A wave over WhatsApp then SMS through real prefork workers, real Redis, real PostgreSQL and
the Twilio API (issue 13): every person gets exactly one delivered message — on WhatsApp, or
by SMS once WhatsApp is known to have failed (refused for good, or reported undelivered) —
also when each "undelivered" report arrives twice at once and the fallbacks race."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.services import waves as services
from campaigns.services.campaigns import campaign_create
from campaigns.services.segments import segment_create
from outreach.models import (
    ChannelKind,
    ConsentStatus,
    OutboundMessage,
    OutboundStatus,
    Role,
    Subscriber,
)
from outreach.services.channels import channel_create
from outreach.services.organizations import member_add
from tests.integration.conftest import wait_for
from tests.support.people import with_contacts
from tests.support.twilio_api import ACCOUNT_SID, AUTH_TOKEN, twilio_signature

pytestmark = pytest.mark.integration

PEOPLE = 300
NOT_ON_WHATSAPP = range(0, PEOPLE, 3)  # WhatsApp refuses them at once (63003)
UNREACHABLE = range(1, PEOPLE, 3)  # WhatsApp takes them, then reports them undelivered


def number(i: int) -> str:
    return f"+2547{20_000_000 + i:08d}"


@pytest.fixture
def worker_env(twilio_api_for_workers):
    twilio_api_for_workers.reset()
    return {"TWILIO_BASE_URL": twilio_api_for_workers.base_url, "TWILIO_TIMEOUT_SECONDS": "2"}


@pytest.fixture
def channels(organization):
    def make(name, kind, sender):
        return channel_create(
            organization=organization,
            name=name,
            kind=kind,
            country="KE",
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            from_number=sender,
            messages_per_second=2_000,
        )

    return {
        "whatsapp": make("WhatsApp", ChannelKind.TWILIO_WHATSAPP, "+254700000200"),
        "sms": make("SMS", ChannelKind.TWILIO_SMS, "+254700000100"),
    }


@pytest.fixture
def due_wave(organization, channels, twilio_api_for_workers):
    """PEOPLE people, each on SMS and on WhatsApp with the same number (one contact, their
    WhatsApp window open), and a wave to all of them over WhatsApp then SMS."""
    sms = Subscriber.objects.bulk_create(
        with_contacts(
            Subscriber(
                organization=organization,
                channel=channels["sms"],
                address=number(i),
                language="en",
                consent_status=ConsentStatus.OPTED_IN,
            )
            for i in range(PEOPLE)
        )
    )
    Subscriber.objects.bulk_create(
        Subscriber(
            organization=organization,
            contact_id=person.contact_id,
            channel=channels["whatsapp"],
            scheme="whatsapp",
            address=person.address,
            language="en",
            consent_status=ConsentStatus.OPTED_IN,
            last_inbound_at=timezone.now(),
        )
        for person in sms
    )
    for i in NOT_ON_WHATSAPP:
        twilio_api_for_workers.fail_number(f"whatsapp:{number(i)}", 63003)
    campaign = campaign_create(
        organization=organization, created_by=None, name="Amani", fatigue_cap_per_week=None
    )
    campaign.quiet_start = campaign.quiet_end  # no quiet hours: the test runs at any hour
    campaign.save()
    author = member_add(organization=organization, username="author", role=Role.MANAGER)
    reviewer = member_add(organization=organization, username="reviewer", role=Role.REVIEWER)
    wave = services.wave_create(
        campaign=campaign,
        created_by=author.membership.user,
        name="Vote calmly",
        send_at=timezone.now() + dt.timedelta(minutes=5),
        segment=segment_create(organization=organization, created_by=None, name="All"),
        channels=[channels["whatsapp"], channels["sms"]],
        variants=[{"language": "en", "body": "Vote calmly."}],
    )
    services.wave_submit(wave=wave, by=author.membership.user)
    services.wave_approve(wave=wave, by=reviewer.membership.user)
    services.wave_schedule(wave=wave, by=None)
    wave.refresh_from_db()
    return wave


def report(channel, sid: str, status: str) -> int:
    """Twilio's signed status callback for one message, as it posts it."""
    path = reverse("twilio-status", args=[channel.uuid])
    form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": ACCOUNT_SID}
    signature = twilio_signature(AUTH_TOKEN, settings.PUBLIC_BASE_URL + path, form)
    try:
        return Client().post(path, form, HTTP_X_TWILIO_SIGNATURE=signature).status_code
    finally:
        connection.close()  # this thread's own connection: the test database is dropped after


def handed_over(wave, channel) -> list[OutboundMessage]:
    return list(
        OutboundMessage.objects.filter(wave_id=wave.pk, channel=channel).exclude(
            provider_message_id=""
        )
    )


def test_each_person_gets_one_delivered_message_on_their_first_channel_that_works(
    start_worker, due_wave, channels, twilio_api_for_workers
):
    wave = due_wave
    start_worker(pool="prefork", concurrency=2)
    start_worker(pool="prefork", concurrency=2)
    assert services.waves_tick(now=wave.scheduled_for) == [wave.pk]

    whatsapp_done = PEOPLE - len(NOT_ON_WHATSAPP)
    assert wait_for(lambda: len(handed_over(wave, channels["whatsapp"])) == whatsapp_done, 120)
    unreachable = {number(i) for i in UNREACHABLE}
    with ThreadPoolExecutor(max_workers=8) as pool:
        posts = [
            (
                message.provider_message_id,
                "undelivered" if message.to_address in unreachable else "delivered",
            )
            for message in handed_over(wave, channels["whatsapp"])
        ]
        # Each "undelivered" twice at once: two applies, two fallback tasks, one fallback.
        posts += [post for post in posts if post[1] == "undelivered"]
        codes = list(pool.map(lambda post: report(channels["whatsapp"], *post), posts))
    assert set(codes) == {200}

    owed = len(NOT_ON_WHATSAPP) + len(UNREACHABLE)
    assert wait_for(lambda: len(handed_over(wave, channels["sms"])) == owed, 120)
    with ThreadPoolExecutor(max_workers=8) as pool:
        sids = [m.provider_message_id for m in handed_over(wave, channels["sms"])]
        list(pool.map(lambda sid: report(channels["sms"], sid, "delivered"), sids))

    messages = OutboundMessage.objects.filter(wave_id=wave.pk)
    assert wait_for(lambda: messages.filter(status=OutboundStatus.DELIVERED).count() == PEOPLE, 60)
    delivered = messages.filter(status=OutboundStatus.DELIVERED)
    assert delivered.values("contact_id").distinct().count() == PEOPLE
    sms_sends = [m.to for m in twilio_api_for_workers.sent if not m.to.startswith("whatsapp:")]
    assert sorted(sms_sends) == sorted(number(i) for i in [*NOT_ON_WHATSAPP, *UNREACHABLE])
    assert messages.filter(fallback_step=1).count() == owed
    assert messages.count() == PEOPLE + owed
