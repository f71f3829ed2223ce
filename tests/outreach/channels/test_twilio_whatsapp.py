"""WhatsApp through Twilio: the real SDK against the loopback Twilio, read in what it was sent."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from outreach.channels.base import TemplateCall, TemplateInfo, TransportError
from outreach.channels.registry import adapter_for
from outreach.channels.twilio_whatsapp import TwilioWhatsAppAdapter
from outreach.models import Channel, OutboundStatus, TemplateStatus
from tests.conftest import WHATSAPP_SENDER

pytestmark = pytest.mark.django_db

NUMBER = "+254712345678"
TO = f"whatsapp:{NUMBER}"
SENDER = WHATSAPP_SENDER  # the channel fixture's sender
CALLBACK = "https://amani.test/webhooks/twilio/x/status/"
adapter = TwilioWhatsAppAdapter()


@pytest.fixture
def channel(twilio_whatsapp_channel: Channel, twilio_api) -> Channel:
    return twilio_whatsapp_channel  # its sends reach the local Twilio


def send(channel: Channel, body: str = "Amani kwa wote", **kwargs) -> object:
    return adapter.send(channel, to=NUMBER, body=body, status_callback=CALLBACK, **kwargs)


def test_the_registry_sends_whatsapp_channels_through_twilio_whatsapp(channel):
    assert isinstance(adapter_for(channel), TwilioWhatsAppAdapter)


def test_a_text_goes_to_the_whatsapp_address_from_the_channels_whatsapp_number(channel, twilio_api):
    result = send(channel)

    (sent,) = twilio_api.sent_to(TO)
    assert sent.from_ == f"whatsapp:{SENDER}"
    assert sent.body == "Amani kwa wote"
    assert sent.status_callback == CALLBACK
    assert "ContentSid" not in sent.params
    assert result.provider_message_id == sent.sid
    assert result.status == OutboundStatus.SENDING


def test_a_messaging_service_sends_without_a_from(channel, twilio_api):
    channel.messaging_service_sid = "MG" + "0" * 32

    send(channel)

    (sent,) = twilio_api.sent_to(TO)
    assert sent.from_ is None
    assert sent.messaging_service_sid == "MG" + "0" * 32


def test_a_template_goes_as_its_content_sid_and_numbered_variables_without_a_body(
    channel, twilio_api
):
    sid = twilio_api.add_content("wave_reminder", body="Habari {{1}}, tukutane {{2}}.")
    template = TemplateCall(sid, "wave_reminder", "sw", ("Amina", "Jumamosi"))

    send(channel, body="Habari Amina, tukutane Jumamosi.", template=template)

    (sent,) = twilio_api.sent_to(TO)
    assert sent.params["ContentSid"] == sid
    assert json.loads(sent.params["ContentVariables"]) == {"1": "Amina", "2": "Jumamosi"}
    assert "Body" not in sent.params
    assert sent.body == "Habari Amina, tukutane Jumamosi."  # as Twilio lists it


def test_a_template_without_a_content_sid_is_refused_before_twilio_is_called(channel, twilio_api):
    template = TemplateCall("", "wave_reminder", "sw")

    with pytest.raises(TransportError) as refused:
        send(channel, template=template)

    assert refused.value.permanent
    assert not twilio_api.calls


def test_free_text_outside_the_window_is_a_permanent_63016(channel, twilio_api):
    twilio_api.outside_window(NUMBER)

    with pytest.raises(TransportError) as refused:
        send(channel)

    assert refused.value.permanent
    assert refused.value.provider_code == "63016"
    assert not refused.value.unsubscribed
    assert not twilio_api.sent


def test_a_template_still_goes_outside_the_window(channel, twilio_api):
    twilio_api.outside_window(NUMBER)
    sid = twilio_api.add_content("wave_reminder", body="Amani inaanza na wewe.")

    send(channel, body="Amani inaanza na wewe.", template=TemplateCall(sid, "wave_reminder", "sw"))

    (sent,) = twilio_api.sent_to(TO)
    assert sent.params["ContentVariables"] == "{}"


ERRORS = [
    # (Twilio's code, HTTP status, permanent, unsubscribed)
    (63003, 400, True, False),  # no such WhatsApp user
    (63024, 400, True, False),  # invalid recipient
    (63018, 429, False, False),  # rate limit
    (63049, 400, True, False),  # Meta chose not to deliver this marketing message
    (63032, 400, True, True),  # the person's marketing opt-out
    (21610, 400, True, True),  # SMS codes keep their meaning on WhatsApp
    (63018, 400, False, False),  # a transient code even under a 400
]


@pytest.mark.parametrize(("code", "status", "permanent", "unsubscribed"), ERRORS)
def test_whatsapp_errors_are_classified_by_their_code(
    channel, twilio_api, code, status, permanent, unsubscribed
):
    twilio_api.fail_number(TO, code, status)

    with pytest.raises(TransportError) as refused:
        send(channel)

    assert refused.value.provider_code == str(code)
    assert refused.value.permanent is permanent
    assert refused.value.unsubscribed is unsubscribed


def test_a_number_twilio_cannot_take_is_refused_before_twilio_is_called(channel, twilio_api):
    with pytest.raises(TransportError) as refused:
        adapter.send(channel, to="0712345678", body="Amani", status_callback=CALLBACK)

    assert refused.value.permanent
    assert not twilio_api.calls


def test_a_send_twilio_took_without_answering_in_time_has_an_unknown_outcome(
    channel, twilio_api, settings
):
    settings.TWILIO_TIMEOUT_SECONDS = 0.5
    twilio_api.time_out_after_accepting(1, seconds=2)

    with pytest.raises(TransportError) as in_doubt:
        send(channel)

    assert in_doubt.value.outcome_unknown
    assert len(twilio_api.sent_to(TO)) == 1


def test_a_message_twilio_took_is_found_by_its_whatsapp_address(channel, twilio_api):
    since = datetime.now(UTC) - timedelta(minutes=1)
    result = send(channel)

    found = adapter.find_sent(channel, to=NUMBER, body="Amani kwa wote", since=since)

    assert found is not None
    assert found.provider_message_id == result.provider_message_id
    assert twilio_api.calls[-1].query["To"] == TO


def test_a_template_message_twilio_took_is_found_by_its_text(channel, twilio_api):
    since = datetime.now(UTC) - timedelta(minutes=1)
    sid = twilio_api.add_content("wave_reminder", body="Habari {{1}}.")
    send(
        channel, body="Habari Amina.", template=TemplateCall(sid, "wave_reminder", "sw", ("Amina",))
    )

    found = adapter.find_sent(channel, to=NUMBER, body="Habari Amina.", since=since)

    assert found is not None


def test_a_message_twilio_never_took_is_not_found(channel, twilio_api):
    since = datetime.now(UTC) - timedelta(minutes=1)

    assert adapter.find_sent(channel, to=NUMBER, body="Amani kwa wote", since=since) is None


def test_templates_are_listed_with_their_approval_in_our_words(channel, twilio_api):
    approvals = {
        "approved": TemplateStatus.APPROVED,
        "pending": TemplateStatus.PENDING,
        "received": TemplateStatus.PENDING,
        "unsubmitted": TemplateStatus.PENDING,
        "rejected": TemplateStatus.REJECTED,
        "paused": TemplateStatus.PAUSED,
        "disabled": TemplateStatus.PAUSED,
        "a status twilio adds later": TemplateStatus.PENDING,
    }
    sids = {
        status: twilio_api.add_content(f"t_{n}", language="sw", body=f"Amani {n}", status=status)
        for n, status in enumerate(approvals)
    }

    listed = {info.provider_template_id: info for info in adapter.list_templates(channel)}

    assert {sid: listed[sid].status for sid in sids.values()} == {
        sids[status]: ours for status, ours in approvals.items()
    }
    assert listed[sids["approved"]] == TemplateInfo(
        name="t_0",
        language="sw",
        provider_template_id=sids["approved"],
        status=TemplateStatus.APPROVED,
        category="UTILITY",
        body="Amani 0",
    )


def test_every_page_of_templates_is_read(channel, twilio_api):
    for n in range(120):
        twilio_api.add_content(f"t_{n}", body=f"Amani {n}")

    listed = adapter.list_templates(channel)

    assert [info.name for info in listed] == [f"t_{n}" for n in range(120)]
    pages = [call for call in twilio_api.calls if call.path == "/v1/ContentAndApprovals"]
    assert len(pages) == 3


def test_another_accounts_templates_are_not_listed(channel, twilio_api):
    twilio_api.add_content("ours", body="Amani")
    twilio_api.add_content("theirs", body="Vita", account_sid="AC" + "b2" * 16)

    assert [info.name for info in adapter.list_templates(channel)] == ["ours"]


def test_a_template_without_a_text_type_takes_its_other_types_body(channel, twilio_api):
    twilio_api.add_content(
        "poll",
        types={"twilio/quick-reply": {"body": "Utapiga kura?", "actions": []}},
    )

    (info,) = adapter.list_templates(channel)

    assert info.body == "Utapiga kura?"


def test_templates_asked_with_a_wrong_token_are_a_permanent_error(channel, twilio_api):
    channel.auth_token = "not-the-token"

    with pytest.raises(TransportError) as refused:
        adapter.list_templates(channel)

    assert refused.value.permanent
    assert refused.value.provider_code == "20003"
