"""The WhatsApp Cloud API adapter against a local Graph API: what Meta is sent, and how each
of its answers is read."""

import pytest

from outreach.channels.base import NO_LOOKUP, TemplateCall, TransportError
from outreach.channels.whatsapp_cloud import WhatsAppCloudAdapter
from outreach.models import (
    ConsentKind,
    ConsentSource,
    ConsentStatus,
    OutboundStatus,
    TemplateStatus,
)
from outreach.services.consent import consent_record
from outreach.services.outbound import message_send, reply_queue
from outreach.services.subscribers import subscriber_for_address
from tests.support.meta_api import (
    PHONE_NUMBER_ID,
    WABA_ID,
    WHATSAPP_TOKEN,
    running_meta_api,
    whatsapp_channel_for,
)
from tests.support.servers import free_port

pytestmark = pytest.mark.django_db

PERSON = "+254712345678"
adapter = WhatsAppCloudAdapter()


@pytest.fixture
def meta_api(settings):
    with running_meta_api() as api:
        settings.META_GRAPH_BASE_URL = api.base_url
        yield api


@pytest.fixture
def channel(organization):
    return whatsapp_channel_for(organization)


def send(channel, **kwargs):
    return adapter.send(channel, to=PERSON, body="Amani kwa wote", status_callback="", **kwargs)


def test_a_text_goes_to_the_phone_number_id_with_the_channel_token(meta_api, channel):
    result = send(channel)

    (call,) = meta_api.calls_to("POST", f"/v21.0/{PHONE_NUMBER_ID}/messages")
    assert call.authorization == f"Bearer {WHATSAPP_TOKEN}"
    assert call.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "254712345678",
        "type": "text",
        "text": {"body": "Amani kwa wote"},
    }
    assert result.provider_message_id.startswith("wamid.")
    assert result.status == OutboundStatus.SENDING


def test_a_template_goes_by_name_and_language_with_its_body_parameters(meta_api, channel):
    template = TemplateCall("1234", "peace_week", "sw", variables=("Amina", "Jumamosi"))

    send(channel, template=template)

    (call,) = meta_api.calls
    assert call.body["type"] == "template"
    assert call.body["template"] == {
        "name": "peace_week",
        "language": {"code": "sw"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Amina"},
                    {"type": "text", "text": "Jumamosi"},
                ],
            }
        ],
    }
    assert "text" not in call.body


def test_a_text_outside_the_window_fails_for_good_while_a_template_still_goes(meta_api, channel):
    meta_api.outside_window(PERSON)

    with pytest.raises(TransportError) as refused:
        send(channel)
    sent = send(channel, template=TemplateCall("1234", "peace_week", "en"))

    assert refused.value.permanent
    assert refused.value.provider_code == "131047"
    assert not refused.value.unsubscribed
    assert sent.provider_message_id.startswith("wamid.")


def test_a_person_who_stopped_marketing_messages_is_an_opt_out(meta_api, channel):
    meta_api.stopped_marketing(PERSON)

    with pytest.raises(TransportError) as refused:
        send(channel, template=TemplateCall("1234", "peace_week", "en"))

    assert refused.value.permanent
    assert refused.value.unsubscribed
    assert refused.value.provider_code == "131050"


@pytest.mark.parametrize(
    ("code", "http_status", "permanent", "waits"),
    [
        pytest.param(131049, 400, True, False, id="per-person marketing limit"),
        pytest.param(131026, 400, True, False, id="undeliverable"),
        pytest.param(190, 401, True, False, id="token expired"),
        pytest.param(130429, 400, False, True, id="throughput limit"),
        pytest.param(131056, 400, False, True, id="pair rate limit"),
        pytest.param(131000, 500, False, False, id="something went wrong"),
        pytest.param(1, 500, False, False, id="API unknown"),
        pytest.param(2, 503, False, False, id="API service"),
        pytest.param(99999, 503, False, False, id="an unknown code on a 5xx"),
        pytest.param(99999, 400, True, False, id="an unknown code on a 4xx"),
    ],
)
def test_each_error_code_is_classified_as_data(
    meta_api, channel, code, http_status, permanent, waits
):
    meta_api.fail_next(code, http_status=http_status)

    with pytest.raises(TransportError) as refused:
        send(channel)

    assert refused.value.permanent is permanent
    assert refused.value.provider_code == str(code)
    assert not refused.value.unsubscribed
    assert not refused.value.outcome_unknown
    assert (refused.value.retry_after is not None) is waits


def test_a_number_in_meta_s_error_text_is_masked(meta_api, channel):
    meta_api.fail_next(131026, message="Message to 254712345678 is undeliverable")

    with pytest.raises(TransportError) as refused:
        send(channel)

    assert "254712345678" not in str(refused.value)
    assert "78" in str(refused.value)


def test_a_wrong_token_is_refused_by_meta_and_permanent(meta_api, channel):
    channel.access_token = "EAA-someone-else"

    with pytest.raises(TransportError) as refused:
        send(channel)

    assert refused.value.permanent
    assert refused.value.provider_code == "190"


def test_an_answer_not_seen_in_time_leaves_the_outcome_unknown(meta_api, channel, settings):
    settings.PROVIDER_TIMEOUT_SECONDS = 0.3
    meta_api.time_out_next(3)

    with pytest.raises(TransportError) as lost:
        send(channel)

    assert lost.value.outcome_unknown
    assert not lost.value.permanent
    assert len(meta_api.calls) == 1  # Meta did get it


def test_a_connection_never_made_is_transient_and_certainly_not_sent(channel, settings):
    settings.META_GRAPH_BASE_URL = f"http://127.0.0.1:{free_port()}/v21.0"

    with pytest.raises(TransportError) as unreachable:
        send(channel)

    assert not unreachable.value.permanent
    assert not unreachable.value.outcome_unknown


def test_a_send_in_doubt_cannot_be_looked_up(channel):
    with pytest.raises(TransportError) as cannot:
        adapter.find_sent(channel, to=PERSON, body="Amani", since=channel.created_at)

    assert cannot.value.permanent
    assert cannot.value.provider_code == NO_LOOKUP


def test_templates_are_listed_page_after_page(meta_api, channel):
    statuses = ["APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", "IN_APPEAL"]
    meta_api.templates = [
        {
            "id": str(9000 + n),
            "name": f"peace_{n}",
            "language": "sw" if n % 2 else "en",
            "status": statuses[n % len(statuses)],
            "category": "MARKETING",
            "components": [
                {"type": "HEADER", "format": "TEXT", "text": "Amani"},
                {"type": "BODY", "text": f"Habari {{{{1}}}}, ujumbe {n}"},
            ],
        }
        for n in range(205)
    ]

    templates = adapter.list_templates(channel)

    calls = meta_api.calls_to("GET", f"/v21.0/{WABA_ID}/message_templates")
    assert len(calls) == 3
    assert "after" not in calls[0].query
    assert calls[1].query["after"]
    assert calls[2].query["after"] != calls[1].query["after"]
    assert all(call.authorization == f"Bearer {WHATSAPP_TOKEN}" for call in calls)
    assert [t.name for t in templates] == [f"peace_{n}" for n in range(205)]
    assert [t.status for t in templates[:6]] == [
        TemplateStatus.APPROVED,
        TemplateStatus.PENDING,
        TemplateStatus.REJECTED,
        TemplateStatus.PAUSED,
        TemplateStatus.PAUSED,
        TemplateStatus.PENDING,
    ]
    assert templates[1].body == "Habari {{1}}, ujumbe 1"
    assert templates[1].language == "sw"
    assert templates[1].provider_template_id == "9001"
    assert templates[1].category == "MARKETING"


def test_a_template_status_meta_adds_later_is_not_sendable(meta_api, channel):
    meta_api.templates = [{"id": "1", "name": "x", "language": "en", "status": "ARCHIVED"}]

    (template,) = adapter.list_templates(channel)

    assert template.status == TemplateStatus.PAUSED


def test_a_reply_goes_out_through_the_cloud_api_and_its_wamid_is_recorded(meta_api, channel):
    person = subscriber_for_address(channel=channel, address=PERSON)
    message = reply_queue(subscriber=person, body="Karibu", reply_key="help", language="sw")

    message_send(message_id=message.pk)

    message.refresh_from_db()
    (call,) = meta_api.calls_to("POST", f"/v21.0/{PHONE_NUMBER_ID}/messages")
    assert call.body["to"] == "254712345678"
    assert call.body["text"] == {"body": "Karibu"}
    assert message.provider_message_id.startswith("wamid.")
    assert message.status == OutboundStatus.SENDING


def test_a_send_refused_with_131050_fails_and_records_the_opt_out(meta_api, channel):
    person = subscriber_for_address(channel=channel, address=PERSON)
    consent_record(
        subscriber=person, kind=ConsentKind.OPT_IN, source=ConsentSource.KEYWORD, channel=channel
    )
    meta_api.stopped_marketing(PERSON)
    message = reply_queue(subscriber=person, body="Karibu", reply_key="help", language="sw")

    message_send(message_id=message.pk)

    message.refresh_from_db()
    person.refresh_from_db()
    assert message.status == OutboundStatus.FAILED
    assert message.error_code == "131050"
    assert "254712345678" not in message.error_message
    assert person.consent_status == ConsentStatus.OPTED_OUT
