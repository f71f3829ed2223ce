"""Twilio's webhooks on a WhatsApp channel, from forms as Twilio posts them.

Each case posts its fixtures (fixtures/twilio_whatsapp/), signed as Twilio signs them or
not, to the channel's inbound or status URL, the same URLs as SMS. What is stored (once per
MessageSid, once per status), what is refused and what the person's consent became is read
in the database; no case may leave the person's number, name or whereabouts in a stored
payload or a log line.
"""

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from outreach.models import (
    Channel,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentStatus,
    InboundMessage,
    MessageStatusEvent,
    OutboundMessage,
    OutboundStatus,
    StatusReportInbox,
    Subscriber,
)
from tests.support.twilio_api import AUTH_TOKEN, twilio_signature

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "twilio_whatsapp"
NUMBER = "+254712345678"  # the person in every fixture
# The MessageSid the status fixtures report on: the welcome the JOIN was answered with.
SENT_SID = "SMf0e1d2c3b4a5968778695a4b3c2d1e0f"
# What names or locates the person in the fixtures; never stored in `raw`, never logged.
PERSONAL = ("254712345678", "Amina", "Wanjiru", "Kenyatta", "-1.29", "36.82", "Home")


def form(name: str) -> dict[str, str]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@dataclass(frozen=True)
class Case:
    label: str
    # (hook, fixture) posted in order: hook is "inbound" or "status".
    posts: tuple[tuple[str, str], ...]
    codes: tuple[int, ...]
    channel: str = "whatsapp"  # or "sms" (a Twilio SMS channel), "unknown" (no such UUID)
    token: str = AUTH_TOKEN
    # The person joined first (inbound_join) and was sent a welcome, known as SENT_SID.
    joined: bool = False
    inbound: int | None = None  # inbound messages stored in all (the JOIN included)
    message_status: str | None = None  # the welcome's status after the posts
    status_events: int | None = None
    consent: str | None = None  # the person's consent status after the posts
    refused_field: str = ""  # the field a 400 names


CASES = [
    Case(
        "an inbound text from whatsapp:+… is stored as the number alone",
        posts=(("inbound", "inbound_join"),),
        codes=(200,),
        inbound=1,
        consent=ConsentStatus.OPTED_IN,
    ),
    Case(
        "a replayed inbound message is stored once",
        posts=(("inbound", "inbound_join"), ("inbound", "inbound_join")),
        codes=(200, 200),
        inbound=1,
    ),
    Case(
        "a location share is stored without where the person is",
        posts=(("inbound", "inbound_location"),),
        codes=(200,),
        inbound=1,
    ),
    Case(
        "stop on whatsapp is an opt-out",
        posts=(("inbound", "inbound_stop"),),
        codes=(200,),
        joined=True,
        inbound=2,
        consent=ConsentStatus.OPTED_OUT,
    ),
    Case(
        "a read status moves the message to read",
        posts=(("status", "status_sent"), ("status", "status_read")),
        codes=(200, 200),
        joined=True,
        message_status=OutboundStatus.READ,
        status_events=2,
    ),
    Case(
        "a status reported twice is stored once",
        posts=(("status", "status_delivered"), ("status", "status_delivered")),
        codes=(200, 200),
        joined=True,
        message_status=OutboundStatus.DELIVERED,
        status_events=1,
    ),
    Case(
        "a sent reported after delivered leaves it delivered",
        posts=(("status", "status_delivered"), ("status", "status_sent")),
        codes=(200, 200),
        joined=True,
        message_status=OutboundStatus.DELIVERED,
        status_events=2,
    ),
    Case(
        "a status twilio may add later is kept and moves nothing",
        posts=(("status", "status_unknown"),),
        codes=(200,),
        joined=True,
        message_status=OutboundStatus.SENDING,
        status_events=1,
    ),
    Case(
        "a failure for the persons marketing opt-out is their opt-out",
        posts=(("status", "status_failed_63032"),),
        codes=(200,),
        joined=True,
        message_status=OutboundStatus.FAILED,
        consent=ConsentStatus.OPTED_OUT,
    ),
    Case(
        "a forged inbound is 403 and stores nothing",
        posts=(("inbound", "inbound_join"),),
        codes=(403,),
        token="not-the-token",
        inbound=0,
    ),
    Case(
        "a forged status is 403 and stores nothing",
        posts=(("status", "status_read"),),
        codes=(403,),
        token="not-the-token",
        joined=True,
        message_status=OutboundStatus.SENDING,
        status_events=0,
    ),
    Case(
        "an unknown channel is 404 and stores nothing",
        posts=(("inbound", "inbound_join"),),
        codes=(404,),
        channel="unknown",
        inbound=0,
    ),
    Case(
        "an sms style from on a whatsapp channel is a 400 naming from",
        posts=(("inbound", "inbound_sms_style_from"),),
        codes=(400,),
        inbound=0,
        refused_field="From",
    ),
    Case(
        "a whatsapp from on an sms channel is a 400 naming from",
        posts=(("inbound", "inbound_join"),),
        codes=(400,),
        channel="sms",
        inbound=0,
        refused_field="From",
    ),
]


@pytest.fixture
def channels(
    twilio_whatsapp_channel: Channel, twilio_channel: Channel, twilio_api
) -> dict[str, Channel]:
    """The channels a case posts to; replies go to the loopback Twilio, never to Twilio."""
    return {"whatsapp": twilio_whatsapp_channel, "sms": twilio_channel}


@pytest.fixture
def joined(twilio_post, twilio_whatsapp_channel, twilio_api) -> OutboundMessage:
    """The person wrote JOIN on WhatsApp and was welcomed; Twilio knows the welcome as SENT_SID."""
    assert twilio_post(twilio_whatsapp_channel, form("inbound_join")).status_code == 200
    welcome = OutboundMessage.objects.get(channel=twilio_whatsapp_channel)
    OutboundMessage.objects.filter(pk=welcome.pk).update(provider_message_id=SENT_SID)
    welcome.refresh_from_db()
    return welcome


@pytest.mark.parametrize("case", CASES, ids=[case.label for case in CASES])
def test_a_twilio_whatsapp_webhook(case: Case, request, client, channels, twilio_post, caplog):
    welcome = request.getfixturevalue("joined") if case.joined else None
    caplog.set_level(logging.DEBUG)

    codes = []
    for hook, fixture in case.posts:
        if case.channel == "unknown":
            path = reverse(f"twilio-{hook}", args=["00000000-0000-0000-0000-000000000000"])
            response = _signed_post(client, path, form(fixture), case.token)
        else:
            response = twilio_post(
                channels[case.channel], form(fixture), hook=hook, token=case.token
            )
        codes.append(response.status_code)

    assert tuple(codes) == case.codes
    if case.refused_field:
        assert response.content.decode().startswith(f"{case.refused_field}:")
    if case.inbound is not None:
        assert InboundMessage.objects.count() == case.inbound
    if case.message_status is not None:
        welcome.refresh_from_db()
        assert welcome.status == case.message_status
    if case.status_events is not None:
        assert MessageStatusEvent.objects.filter(provider_message_id=SENT_SID).count() == (
            case.status_events
        )
    if case.consent is not None:
        person = Subscriber.objects.get(channel=channels["whatsapp"])
        assert person.consent_status == case.consent
    _assert_nothing_personal_kept_or_logged(caplog)


def test_an_inbound_whatsapp_message_is_kept_by_its_number_on_the_whatsapp_scheme(
    twilio_post, twilio_whatsapp_channel, twilio_api
):
    twilio_post(twilio_whatsapp_channel, form("inbound_join"))

    person = Subscriber.objects.get()
    assert (person.scheme, person.address) == ("whatsapp", NUMBER)
    assert InboundMessage.objects.get().provider_message_id == form("inbound_join")["MessageSid"]


def test_the_profile_name_and_number_are_not_in_the_kept_payload(
    twilio_post, twilio_whatsapp_channel, twilio_api
):
    twilio_post(twilio_whatsapp_channel, form("inbound_join"))

    raw = InboundMessage.objects.get().raw
    assert raw["MessageSid"] == form("inbound_join")["MessageSid"]
    assert raw["MessageType"] == "text"
    for key in ("ProfileName", "WaId", "From", "To", "Body", "ChannelMetadata"):
        assert key not in raw


def test_the_welcome_goes_to_the_whatsapp_address_from_the_channels_whatsapp_number(
    twilio_post, twilio_whatsapp_channel, twilio_api
):
    twilio_post(twilio_whatsapp_channel, form("inbound_join"))

    (welcome,) = twilio_api.sent_to(f"whatsapp:{NUMBER}")
    assert welcome.from_ == "whatsapp:+14155238886"
    assert welcome.status_callback == settings.PUBLIC_BASE_URL + reverse(
        "twilio-status", args=[twilio_whatsapp_channel.uuid]
    )


def test_a_read_status_keeps_the_report_without_the_number(
    twilio_post, twilio_whatsapp_channel, joined
):
    twilio_post(twilio_whatsapp_channel, form("status_read"), hook="status")

    event = MessageStatusEvent.objects.get(provider_message_id=SENT_SID)
    assert (event.provider_status, event.status) == ("read", OutboundStatus.READ)
    assert event.raw["EventType"] == "READ"
    assert "To" not in event.raw
    assert "ChannelToAddress" not in event.raw


def test_a_marketing_opt_out_is_recorded_as_reported_by_the_carrier_with_its_evidence(
    twilio_post, twilio_whatsapp_channel, joined
):
    twilio_post(twilio_whatsapp_channel, form("status_failed_63032"), hook="status")

    event = ConsentEvent.objects.filter(kind=ConsentKind.OPT_OUT).get()
    assert event.source == ConsentSource.CARRIER
    assert event.evidence["ErrorCode"] == "63032"
    assert event.evidence["MessageSid"] == SENT_SID


def test_an_opt_out_failure_without_a_whatsapp_to_is_a_400_naming_to(
    twilio_post, twilio_whatsapp_channel, joined
):
    report = {**form("status_failed_63032"), "To": NUMBER}

    response = twilio_post(twilio_whatsapp_channel, report, hook="status")

    assert response.status_code == 400
    assert response.content.decode().startswith("To:")
    assert not StatusReportInbox.objects.exists()
    assert Subscriber.objects.get().consent_status == ConsentStatus.OPTED_IN


def test_an_empty_whatsapp_from_is_a_400_naming_from(twilio_post, twilio_whatsapp_channel):
    response = twilio_post(twilio_whatsapp_channel, {**form("inbound_join"), "From": "whatsapp:"})

    assert response.status_code == 400
    assert response.content.decode().startswith("From:")
    assert not InboundMessage.objects.exists()


def _signed_post(client, path: str, data: dict[str, str], token: str):
    signature = twilio_signature(token, settings.PUBLIC_BASE_URL + path, data)
    return client.post(path, data, HTTP_X_TWILIO_SIGNATURE=signature)


def _assert_nothing_personal_kept_or_logged(caplog) -> None:
    kept = [
        *InboundMessage.objects.values_list("raw", flat=True),
        *StatusReportInbox.objects.values_list("raw", flat=True),
        *MessageStatusEvent.objects.values_list("raw", flat=True),
    ]
    stored = json.dumps(kept)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for value in PERSONAL:
        assert value not in stored
        assert value not in logged
