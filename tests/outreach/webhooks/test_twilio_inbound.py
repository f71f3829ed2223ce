"""Twilio's inbound webhook: signed or refused, stored once, answered at once."""

import pytest
from django.conf import settings
from django.urls import reverse

from outreach.models import ConsentStatus, InboundMessage, OutboundMessage, Subscriber
from tests.support.twilio_api import AUTH_TOKEN, twilio_signature
from tests.support.webhooks import twilio_form

pytestmark = pytest.mark.django_db


def inbound_url(channel) -> str:
    return reverse("twilio-inbound", args=[channel.uuid])


def test_a_signed_join_is_stored_and_answered_with_empty_twiml(
    client, twilio_post, twilio_channel, twilio_api
):
    response = twilio_post(twilio_channel, twilio_form("JOIN"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert b"<Response></Response>" in response.content
    assert InboundMessage.objects.count() == 1
    assert Subscriber.objects.get().is_subscribed


def test_a_forged_signature_gets_403_and_stores_nothing(client, twilio_post, twilio_channel):
    response = twilio_post(twilio_channel, twilio_form("STOP"), token="not-the-token")

    assert response.status_code == 403
    assert not InboundMessage.objects.exists()
    assert not Subscriber.objects.exists()


def test_a_missing_signature_gets_403(client, twilio_post, twilio_channel):
    response = client.post(inbound_url(twilio_channel), twilio_form("JOIN"))

    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


def test_a_signature_over_other_parameters_gets_403(client, twilio_post, twilio_channel):
    form = twilio_form("JOIN")
    path = inbound_url(twilio_channel)
    signature = twilio_signature(AUTH_TOKEN, settings.PUBLIC_BASE_URL + path, form)

    response = client.post(path, {**form, "Body": "STOP"}, HTTP_X_TWILIO_SIGNATURE=signature)

    assert response.status_code == 403


def test_the_signature_is_checked_against_the_public_url_behind_a_proxy(
    client, twilio_post, twilio_channel, settings, twilio_api
):
    settings.PUBLIC_BASE_URL = "https://amani.example.org"
    form = twilio_form("JOIN")
    path = inbound_url(twilio_channel)
    signature = twilio_signature(AUTH_TOKEN, "https://amani.example.org" + path, form)

    # The proxy forwards plain HTTP to another host name; the public URL is what Twilio signed.
    response = client.post(path, form, HTTP_X_TWILIO_SIGNATURE=signature, HTTP_HOST="127.0.0.1")

    assert response.status_code == 200


def test_an_unknown_channel_gets_404_and_stores_nothing(client, twilio_post, twilio_channel):
    path = reverse("twilio-inbound", args=["00000000-0000-0000-0000-000000000000"])

    response = client.post(path, twilio_form("JOIN"), HTTP_X_TWILIO_SIGNATURE="x")

    assert response.status_code == 404
    assert not InboundMessage.objects.exists()


def test_a_replayed_message_sid_is_stored_and_answered_once(
    client, twilio_post, twilio_channel, twilio_api
):
    form = twilio_form("JOIN")

    first = twilio_post(twilio_channel, form)
    again = twilio_post(twilio_channel, form)

    assert first.status_code == again.status_code == 200
    assert InboundMessage.objects.count() == 1
    assert OutboundMessage.objects.count() == 1
    assert len(twilio_api.sent) == 1


def test_an_empty_body_gets_a_help_reply_and_is_kept_as_a_free_reply(
    client, twilio_post, twilio_channel, twilio_api
):
    response = twilio_post(twilio_channel, twilio_form(""))

    assert response.status_code == 200
    inbound = InboundMessage.objects.get()
    assert inbound.intent == "free_reply"
    assert OutboundMessage.objects.get().reply_key == "not_subscribed"


def test_a_body_of_twilios_longest_1600_characters_is_stored_and_answered(
    client, twilio_post, twilio_channel, twilio_api
):
    response = twilio_post(twilio_channel, twilio_form(("amani " * 300)[:1600]))

    assert response.status_code == 200
    assert len(InboundMessage.objects.get().body) == 1600


def test_emoji_and_swahili_are_stored_as_sent(client, twilio_post, twilio_channel, twilio_api):
    text = "Habari! Tunataka amani Kenya 🇰🇪🙏🏾 — asanteni sana kwa ujumbe"
    twilio_post(twilio_channel, twilio_form("JIUNGE"))
    twilio_post(twilio_channel, twilio_form(text, sid="SM" + "1" * 32))

    assert InboundMessage.objects.filter(body=text).exists()
    assert Subscriber.objects.get().language == "sw"


def test_a_number_from_another_country_is_kept_in_e164(
    client, twilio_post, twilio_channel, twilio_api
):
    twilio_post(twilio_channel, twilio_form("JOIN", sender="+256772123456"))

    assert Subscriber.objects.get().address == "+256772123456"


def test_a_request_without_message_sid_is_a_400(client, twilio_post, twilio_channel):
    form = twilio_form("JOIN")
    del form["MessageSid"], form["SmsSid"]

    response = twilio_post(twilio_channel, form)

    assert response.status_code == 400
    assert not InboundMessage.objects.exists()


def test_get_is_not_allowed(client, twilio_post, twilio_channel):
    assert client.get(inbound_url(twilio_channel)).status_code == 405


def test_the_number_is_not_kept_twice_once_handled(client, twilio_post, twilio_channel, twilio_api):
    twilio_post(twilio_channel, twilio_form("JOIN"))

    assert InboundMessage.objects.get().from_address == ""


# Payloads no carrier delivers: each is a 400 naming Twilio's field, and nothing is stored.
REFUSED = [
    ("a body longer than Twilio's 1600 characters", {"Body": "amani " * 1700}, "Body"),
    ("a megabyte body", {"Body": "a" * 1_000_000}, "Body"),
    ("a message sid longer than the column", {"MessageSid": "SM" + "a" * 300}, "MessageSid"),
    ("a nul in the message sid", {"MessageSid": "SM\x00" + "a" * 31}, "MessageSid"),
    ("a nul in the sender", {"From": "+2547123\x0045678"}, "From"),
]


@pytest.mark.parametrize(("label", "changes", "field"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_payload_no_carrier_sends_is_a_400_naming_the_field_and_stores_nothing(
    client, twilio_post, twilio_channel, label, changes, field
):
    form = {**twilio_form("JOIN"), **changes}
    if "MessageSid" in changes:
        form["SmsSid"] = changes["MessageSid"]

    response = twilio_post(twilio_channel, form)

    assert response.status_code == 400
    assert response.content.decode().startswith(f"{field}:")
    assert not InboundMessage.objects.exists()
    assert not Subscriber.objects.exists()


def test_a_nul_in_the_body_is_removed_so_a_stop_still_counts(
    client, twilio_post, twilio_channel, twilio_api
):
    twilio_post(twilio_channel, twilio_form("JOIN"))

    response = twilio_post(twilio_channel, twilio_form("STOP\x00"))

    assert response.status_code == 200
    assert InboundMessage.objects.filter(body="STOP").exists()
    assert Subscriber.objects.get().consent_status == ConsentStatus.OPTED_OUT


def test_a_nul_under_a_forged_signature_is_a_403_before_any_check_of_fields(
    client, twilio_post, twilio_channel
):
    form = {**twilio_form("JOIN"), "MessageSid": "SM\x00", "SmsSid": "SM\x00"}

    response = twilio_post(twilio_channel, form, token="not-the-token")

    assert response.status_code == 403
    assert not InboundMessage.objects.exists()
