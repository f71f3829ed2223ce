"""Status callbacks: signed, stored once per (sid, status), and only ever moving forward."""

import pytest

from outreach.models import MessageStatusEvent, OutboundMessage, OutboundStatus
from outreach.services.outbound import message_send, reply_queue
from outreach.services.subscribers import subscriber_for_address
from tests.support.twilio_api import ACCOUNT_SID

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_message(twilio_channel, twilio_api):
    person = subscriber_for_address(channel=twilio_channel, address="+254712345678")
    message = reply_queue(subscriber=person, body="Karibu", reply_key="help", language="sw")
    message_send(message_id=message.pk)
    message.refresh_from_db()
    return message


@pytest.fixture
def report(twilio_post, twilio_channel):
    def post(message, status, error_code="", channel=None):
        form = {
            "AccountSid": ACCOUNT_SID,
            "MessageSid": message.provider_message_id if message else "SMdoesnotexist",
            "MessageStatus": status,
            "ApiVersion": "2010-04-01",
        }
        if error_code:
            form["ErrorCode"] = error_code
        return twilio_post(channel or twilio_channel, form, hook="status")

    return post


def test_a_delivered_report_moves_the_message_forward(report, sent_message):
    assert report(sent_message, "sent").status_code == 200
    assert report(sent_message, "delivered").status_code == 200

    sent_message.refresh_from_db()
    assert sent_message.status == OutboundStatus.DELIVERED


def test_a_late_sent_never_undoes_delivered(report, sent_message):
    report(sent_message, "delivered")
    report(sent_message, "sent")

    sent_message.refresh_from_db()
    assert sent_message.status == OutboundStatus.DELIVERED
    assert MessageStatusEvent.objects.count() == 2


def test_each_status_is_stored_once(report, sent_message):
    report(sent_message, "delivered")
    report(sent_message, "delivered")

    assert MessageStatusEvent.objects.count() == 1


def test_an_undelivered_report_keeps_the_error_code(report, sent_message):
    report(sent_message, "undelivered", error_code="30003")

    sent_message.refresh_from_db()
    assert sent_message.status == OutboundStatus.UNDELIVERED
    assert sent_message.error_code == "30003"


def test_an_unknown_sid_gets_200_and_waits_for_its_message(report):
    from outreach.models import StatusReportInbox

    response = report(None, "delivered")

    assert response.status_code == 200
    assert StatusReportInbox.objects.get().provider_message_id == "SMdoesnotexist"
    assert not MessageStatusEvent.objects.exists()


def test_an_unknown_provider_status_is_kept_but_moves_nothing(report, sent_message):
    report(sent_message, "teleported")

    sent_message.refresh_from_db()
    assert sent_message.status == OutboundStatus.SENDING
    assert MessageStatusEvent.objects.get().status == "unknown"


def test_a_forged_callback_gets_403_and_changes_nothing(twilio_post, twilio_channel, sent_message):
    form = {"MessageSid": sent_message.provider_message_id, "MessageStatus": "delivered"}

    response = twilio_post(twilio_channel, form, hook="status", token="forged")

    assert response.status_code == 403
    assert not MessageStatusEvent.objects.exists()
    assert OutboundMessage.objects.get().status == OutboundStatus.SENDING


def test_a_callback_for_another_channels_message_is_ignored(report, sent_message, organization):
    from outreach.services.channels import channel_create
    from tests.support.twilio_api import AUTH_TOKEN

    other = channel_create(
        organization=organization,
        name="Other number",
        kind="twilio_sms",
        country="KE",
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number="+254700000200",
    )

    response = report(sent_message, "delivered", channel=other)

    assert response.status_code == 200
    sent_message.refresh_from_db()
    assert sent_message.status == OutboundStatus.SENDING


def test_a_report_that_beats_its_message_to_the_database_is_applied_when_it_is_recorded(
    report, twilio_channel, twilio_api
):
    from outreach.services.dispatch import claim_batch, claimed_messages
    from outreach.services.outbound import messages_record_sent, messages_take_in_flight, transmit
    from outreach.services.status import status_reports_apply_all

    person = subscriber_for_address(channel=twilio_channel, address="+254712345679")
    reply_queue(subscriber=person, body="Karibu", reply_key="help", language="sw")
    claim = claim_batch(channel_id=twilio_channel.pk, limit=1)
    (message,) = messages_take_in_flight(claimed_messages(twilio_channel, claim))
    result = transmit(message)
    report(OutboundMessage(provider_message_id=result.provider_message_id), "delivered")

    messages_record_sent([(message, result)])
    status_reports_apply_all()

    message.refresh_from_db()
    assert message.status == OutboundStatus.DELIVERED
    assert MessageStatusEvent.objects.get().message_id == message.pk


def test_a_rotated_auth_token_is_accepted_at_once(
    report, twilio_channel, sent_message, django_capture_on_commit_callbacks
):
    from outreach.models import Channel

    report(sent_message, "sent")  # this process now keeps the channel with its old token
    # Rotated by another process: this one was not told.
    Channel.objects.filter(pk=twilio_channel.pk).update(auth_token="rotated-token")
    form = {"MessageSid": sent_message.provider_message_id, "MessageStatus": "delivered"}

    with django_capture_on_commit_callbacks(execute=True):
        accepted = _signed_post(twilio_channel, form, token="rotated-token")
    assert accepted.status_code == 200
    assert _signed_post(twilio_channel, form, token="forged").status_code == 403
    sent_message.refresh_from_db()
    assert sent_message.status == OutboundStatus.DELIVERED


def test_a_deactivated_channel_stops_answering(
    report, twilio_channel, sent_message, django_capture_on_commit_callbacks
):
    from outreach.services.channels import channel_update

    report(sent_message, "sent")

    with django_capture_on_commit_callbacks(execute=True):
        channel_update(channel=twilio_channel, is_active=False)

    assert report(sent_message, "delivered").status_code == 404
    sent_message.refresh_from_db()
    assert sent_message.status == OutboundStatus.SENT


def _signed_post(channel, form, *, token):
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from tests.support.twilio_api import twilio_signature

    path = reverse("twilio-status", args=[channel.uuid])
    signature = twilio_signature(token, settings.PUBLIC_BASE_URL + path, form)
    return Client().post(path, form, HTTP_X_TWILIO_SIGNATURE=signature)


# Reports no provider sends: each is a 400 naming Twilio's field, and nothing is stored.
REFUSED = [
    ("no message sid", {"MessageSid": None}, "MessageSid"),
    ("an empty message sid", {"MessageSid": ""}, "MessageSid"),
    ("a message sid longer than the column", {"MessageSid": "SM" + "a" * 300}, "MessageSid"),
    ("a nul in the message sid", {"MessageSid": "SM\x00" + "a" * 31}, "MessageSid"),
    ("a nul in the status", {"MessageStatus": "deliv\x00ered"}, "MessageStatus"),
    ("a nul in the error code", {"ErrorCode": "300\x0003"}, "ErrorCode"),
]


@pytest.mark.parametrize(("label", "changes", "field"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_report_no_provider_sends_is_a_400_naming_the_field_and_stores_nothing(
    twilio_post, twilio_channel, sent_message, label, changes, field
):
    from outreach.models import StatusReportInbox

    form = {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": sent_message.provider_message_id,
        "MessageStatus": "delivered",
        **changes,
    }
    form = {name: value for name, value in form.items() if value is not None}

    response = twilio_post(twilio_channel, form, hook="status")

    assert response.status_code == 400
    assert response.content.decode().startswith(f"{field}:")
    assert not StatusReportInbox.objects.exists()
    assert not MessageStatusEvent.objects.exists()


def test_a_nul_under_a_forged_signature_is_a_403(twilio_post, twilio_channel, sent_message):
    form = {"MessageSid": "SM\x00", "MessageStatus": "delivered"}

    response = twilio_post(twilio_channel, form, hook="status", token="forged")

    assert response.status_code == 403
