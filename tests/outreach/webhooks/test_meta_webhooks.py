"""Meta's webhooks (WhatsApp Cloud API and Messenger): signed deliveries of the documented
payloads in tests/outreach/webhooks/fixtures/meta/, read as a table of what each one must
store, and the GET verification handshake."""

import json
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.urls import reverse

from outreach.channels.meta_graph import stored_id
from outreach.models import (
    ChannelKind,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentStatus,
    InboundMessage,
    MessageStatusEvent,
    OutboundKind,
    OutboundMessage,
    OutboundStatus,
    StatusReportInbox,
)
from outreach.services.consent import consent_record
from outreach.services.subscribers import subscriber_for_address
from tests.support.meta_api import (
    APP_SECRET,
    VERIFY_TOKEN,
    hub_signature,
    messenger_channel_for,
    running_meta_api,
    whatsapp_channel_for,
)

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "meta"
NUMBER = "+254712345678"
PSID = "6543210987654321"
NAME = "Amina Wanjiru"
WAMID_OUT = "wamid.HBgMMjU0NzEyMzQ1Njc4FQIAERgSOUT1"  # the message the statuses report on
MIDS_OUT = ("m_out0000000000000000000000000000001", "m_out0000000000000000000000000000002")
LONG_MID = (
    "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P"
)
URL_NAME = {
    ChannelKind.WHATSAPP_CLOUD: "whatsapp-cloud-webhook",
    ChannelKind.MESSENGER: "messenger-webhook",
}


@dataclass(frozen=True)
class Case:
    label: str
    kind: str
    fixture: str
    status_code: int = 200
    # (stored provider id, sender's address, body) of each inbound message stored.
    inbound: tuple[tuple[str, str, str], ...] = ()
    # (provider id, our status) of each status report stored.
    reports: tuple[tuple[str, str], ...] = ()
    field: str = ""  # the field a 400 names

    def __str__(self) -> str:
        return self.label


WA, MS = ChannelKind.WHATSAPP_CLOUD, ChannelKind.MESSENGER
CASES = [
    Case(
        "a WhatsApp text is an inbound message from the number",
        WA,
        "whatsapp_text.json",
        inbound=(("wamid.HBgMMjU0NzEyMzQ1Njc4FQIAEhggQTEB", NUMBER, "Habari, nataka amani"),),
    ),
    Case(
        "a template's quick-reply button says its text",
        WA,
        "whatsapp_button.json",
        inbound=(("wamid.HBgMMjU0NzEyMzQ1Njc4FQIAEhggQjIB", NUMBER, "Jiunge"),),
    ),
    Case(
        "an interactive reply says the title tapped",
        WA,
        "whatsapp_interactive.json",
        inbound=(("wamid.HBgMMjU0NzEyMzQ1Njc4FQIAEhggQzMB", NUMBER, "Ndiyo"),),
    ),
    Case("a reaction is acknowledged and ignored", WA, "whatsapp_reaction.json"),
    Case(
        "a WhatsApp status is a report in our words",
        WA,
        "whatsapp_status_delivered.json",
        reports=((WAMID_OUT, OutboundStatus.DELIVERED),),
    ),
    Case("a template review update is ignored", WA, "whatsapp_template_status_update.json"),
    Case("another phone number's delivery is 404", WA, "whatsapp_other_number.json", 404),
    Case(
        "a message without an id is 400 naming it",
        WA,
        "whatsapp_message_without_id.json",
        400,
        field="entry.0.changes.0.value.messages.0.id",
    ),
    Case(
        "a Messenger text is an inbound message from the PSID, its long mid digested",
        MS,
        "messenger_text.json",
        inbound=((stored_id(LONG_MID), PSID, "Habari, nataka amani"),),
    ),
    Case(
        "the Get Started button says its payload",
        MS,
        "messenger_postback_get_started.json",
        inbound=(("m_postbackGetStarted0000000000000000001", PSID, "JOIN"),),
    ),
    Case(
        "a delivery reports each of its mids delivered",
        MS,
        "messenger_delivery.json",
        reports=tuple((mid, OutboundStatus.DELIVERED) for mid in MIDS_OUT),
    ),
    Case("a read watermark is ignored", MS, "messenger_read.json"),
    Case("the echo of our own send is ignored", MS, "messenger_echo.json"),
    Case("an opt-in is ignored", MS, "messenger_optin.json"),
    Case("another Page's delivery is 404", MS, "messenger_other_page.json", 404),
]


@pytest.fixture(autouse=True)
def meta_api(settings):
    """Replies the routing sends go to a local Graph API, never to Meta."""
    with running_meta_api() as api:
        settings.META_GRAPH_BASE_URL = api.base_url
        yield api


@pytest.fixture
def channels(organization):
    return {WA: whatsapp_channel_for(organization), MS: messenger_channel_for(organization)}


@pytest.fixture
def sent(channels):
    """The messages the fixtures' statuses report on, as the dispatcher recorded them."""
    wa = subscriber_for_address(channel=channels[WA], address=NUMBER)
    ms = subscriber_for_address(channel=channels[MS], address=PSID)
    made = {}
    for kind, subscriber, ids in ((WA, wa, (WAMID_OUT,)), (MS, ms, MIDS_OUT)):
        for provider_id in ids:
            made[provider_id] = OutboundMessage.objects.create(
                organization=channels[kind].organization,
                channel=channels[kind],
                subscriber=subscriber,
                contact_id=subscriber.contact_id,
                kind=OutboundKind.WAVE,
                body="Amani kwa wote",
                status=OutboundStatus.SENDING,
                provider_message_id=provider_id,
            )
    return made


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    """POSTs a body to a channel's webhook signed as Meta signs it (or as told); what the
    request queued after commit (routing, applying statuses) runs before this returns."""

    def post(channel, body: bytes, *, secret: str = APP_SECRET, signature: str | None = None):
        path = reverse(URL_NAME[channel.kind], args=[channel.uuid])
        header = hub_signature(body, secret) if signature is None else signature
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                path, data=body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=header
            )

    return post


def payload(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sender_of(message: InboundMessage) -> str:
    # Routing moves the address to the subscriber row and clears it on the message.
    return message.subscriber.address if message.subscriber else message.from_address


@pytest.mark.parametrize("case", CASES, ids=str)
def test_each_delivery_stores_what_its_row_says(case, channels, sent, deliver, caplog):
    caplog.set_level(logging.DEBUG)
    channel = channels[case.kind]

    response = deliver(channel, payload(case.fixture))

    assert response.status_code == case.status_code, response.content
    if case.field:
        assert response.content.decode().startswith(f"{case.field}:")
    stored = InboundMessage.objects.filter(channel=channel).order_by("pk")
    assert [(m.provider_message_id, sender_of(m), m.body) for m in stored] == list(case.inbound)
    reports = MessageStatusEvent.objects.filter(channel=channel).order_by("pk")
    assert [(r.provider_message_id, r.status) for r in reports] == list(case.reports)
    for provider_id, status in case.reports:
        assert OutboundMessage.objects.get(pk=sent[provider_id].pk).status == status
    for raw in [m.raw for m in stored] + [r.raw for r in reports]:
        kept = json.dumps(raw)
        assert "254712345678" not in kept
        assert PSID not in kept
        assert NAME not in kept
    for record in caplog.records:
        line = record.getMessage()
        assert "254712345678" not in line
        assert PSID not in line
        assert NAME not in line


@pytest.mark.parametrize(
    ("kind", "fixture"),
    [(WA, "whatsapp_text.json"), (MS, "messenger_text.json"), (MS, "messenger_delivery.json")],
)
def test_a_delivery_made_twice_is_stored_once(kind, fixture, channels, sent, deliver):
    first = deliver(channels[kind], payload(fixture))
    again = deliver(channels[kind], payload(fixture))

    assert (first.status_code, again.status_code) == (200, 200)
    expected = CASES[[c.fixture for c in CASES].index(fixture)]
    assert InboundMessage.objects.count() == len(expected.inbound)
    assert MessageStatusEvent.objects.count() == len(expected.reports)


def test_a_late_sent_never_undoes_delivered(channels, sent, deliver):
    deliver(channels[WA], payload("whatsapp_status_delivered.json"))
    deliver(channels[WA], payload("whatsapp_status_sent.json"))

    sent[WAMID_OUT].refresh_from_db()
    assert sent[WAMID_OUT].status == OutboundStatus.DELIVERED
    assert MessageStatusEvent.objects.filter(provider_message_id=WAMID_OUT).count() == 2


def test_a_failed_status_for_stopped_marketing_is_an_opt_out(channels, sent, deliver):
    person = sent[WAMID_OUT].subscriber
    consent_record(
        subscriber=person,
        kind=ConsentKind.OPT_IN,
        source=ConsentSource.KEYWORD,
        channel=channels[WA],
        occurred_at=sent[WAMID_OUT].created_at.replace(year=2025),
        keyword_as_texted="JIUNGE",
    )

    response = deliver(channels[WA], payload("whatsapp_status_failed_131050.json"))

    assert response.status_code == 200
    person.refresh_from_db()
    assert person.consent_status == ConsentStatus.OPTED_OUT
    opt_out = ConsentEvent.objects.get(subscriber=person, kind=ConsentKind.OPT_OUT)
    assert opt_out.source == ConsentSource.CARRIER
    assert opt_out.evidence["reason"] == "whatsapp_marketing_stopped"
    assert opt_out.evidence["provider_message_id"] == WAMID_OUT
    sent[WAMID_OUT].refresh_from_db()
    assert sent[WAMID_OUT].status == OutboundStatus.FAILED
    assert sent[WAMID_OUT].error_code == "131050"


@pytest.mark.parametrize("kind", [WA, MS])
@pytest.mark.parametrize(
    "signing",
    [
        pytest.param({"secret": "another-app-secret"}, id="another app's secret"),
        pytest.param({"signature": ""}, id="no signature"),
        pytest.param({"signature": "sha1=0123456789abcdef"}, id="the old sha1 header"),
        pytest.param({"signature": "sha256=" + "0" * 64}, id="a made-up digest"),
    ],
)
def test_a_bad_signature_is_403_and_stores_nothing(kind, signing, channels, sent, deliver):
    fixture = "whatsapp_text.json" if kind == WA else "messenger_delivery.json"

    response = deliver(channels[kind], payload(fixture), **signing)

    assert response.status_code == 403
    assert not InboundMessage.objects.exists()
    assert not StatusReportInbox.objects.exists()
    assert not MessageStatusEvent.objects.exists()


def test_a_body_changed_after_signing_is_403(channels, deliver):
    body = payload("whatsapp_text.json")
    signature = hub_signature(body)

    response = deliver(channels[WA], body.replace(b"amani", b"vita"), signature=signature)

    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize("kind", [WA, MS])
def test_malformed_json_is_400_naming_the_body(kind, channels, deliver):
    response = deliver(channels[kind], b'{"object": "page", "entry": [')

    assert response.status_code == 400
    assert response.content.decode().startswith("body:")


def test_an_unknown_channel_is_404(client):
    body = payload("whatsapp_text.json")
    path = reverse("whatsapp-cloud-webhook", args=[uuid.uuid4()])

    response = client.post(
        path,
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=hub_signature(body),
    )

    assert response.status_code == 404


def test_a_whatsapp_channel_is_not_found_at_the_messenger_url(channels, client):
    body = payload("messenger_text.json")
    path = reverse("messenger-webhook", args=[channels[WA].uuid])

    response = client.post(
        path,
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=hub_signature(body),
    )

    assert response.status_code == 404
    assert not InboundMessage.objects.exists()


HANDSHAKE = {
    "hub.mode": "subscribe",
    "hub.verify_token": VERIFY_TOKEN,
    "hub.challenge": "1158201444",
}


@pytest.mark.parametrize("kind", [WA, MS])
def test_the_verification_handshake_echoes_the_challenge(kind, channels, client):
    response = client.get(reverse(URL_NAME[kind], args=[channels[kind].uuid]), HANDSHAKE)

    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({**HANDSHAKE, "hub.verify_token": "guess"}, id="a wrong token"),
        pytest.param({**HANDSHAKE, "hub.mode": "unsubscribe"}, id="a wrong mode"),
        pytest.param(
            {k: v for k, v in HANDSHAKE.items() if k != "hub.verify_token"}, id="no token"
        ),
        pytest.param({**HANDSHAKE, "hub.challenge": ""}, id="no challenge"),
    ],
)
def test_a_wrong_handshake_is_403(query, channels, client):
    response = client.get(reverse("whatsapp-cloud-webhook", args=[channels[WA].uuid]), query)

    assert response.status_code == 403
    assert b"1158201444" not in response.content


def test_a_channel_without_a_verify_token_never_verifies(organization, client):
    channel = whatsapp_channel_for(organization, verify_token="")

    response = client.get(
        reverse("whatsapp-cloud-webhook", args=[channel.uuid]),
        {**HANDSHAKE, "hub.verify_token": ""},
    )

    assert response.status_code == 403


def test_a_handshake_for_an_unknown_channel_is_404(client):
    response = client.get(reverse("messenger-webhook", args=[uuid.uuid4()]), HANDSHAKE)

    assert response.status_code == 404
