"""A provider's error text keeps no one's number: masked when stored, gone on erasure."""

import logging

import pytest

from outreach.models import (
    ConsentKind,
    ConsentSource,
    OutboundKind,
    OutboundMessage,
    OutboundStatus,
)
from outreach.privacy import mask_numbers_in_provider_text
from outreach.services.consent import consent_record
from outreach.services.dispatch import dispatch_channel
from outreach.services.outbound import message_send, reply_queue
from outreach.services.subscribers import subscriber_erase, subscriber_for_address

NUMBER = "+254711000001"
DIGITS = NUMBER.removeprefix("+")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "Twilio 21211: The 'To' number +254711000001 is not a valid phone number.",
            "Twilio 21211: The 'To' number +**********01 is not a valid phone number.",
        ),
        ("The 'To' number 0711000001 is not valid", "The 'To' number ********01 is not valid"),
        ("to 0711 000 001, refused", "to ********01, refused"),
        ("to 711-000-001 refused", "to *******01 refused"),
        ("local 5550100 refused", "local *****00 refused"),
        ("'+166321456' refused", "'+*******56' refused"),
        ("Twilio 21211: Invalid 'To' Phone Number", "Twilio 21211: Invalid 'To' Phone Number"),
        ("Twilio 20429: Too Many Requests", "Twilio 20429: Too Many Requests"),
        (
            "see https://www.twilio.com/docs/errors/21211",
            "see https://www.twilio.com/docs/errors/21211",
        ),
        (
            "message SM0123456789abcdef0123456789abcdef",
            "message SM0123456789abcdef0123456789abcdef",
        ),
    ],
)
def test_it_masks_every_number_in_a_providers_error_text(text, masked):
    assert mask_numbers_in_provider_text(text) == masked


@pytest.fixture
def subscribed(twilio_channel):
    person = subscriber_for_address(channel=twilio_channel, address=NUMBER)
    consent_record(subscriber=person, kind=ConsentKind.OPT_IN, source=ConsentSource.STAFF)
    person.refresh_from_db()
    return person


def queue(person):
    return reply_queue(
        subscriber=person, body="Reply STOP to stop.", reply_key="help", language="en"
    )


@pytest.mark.django_db
def test_twilios_21211_naming_the_number_is_stored_masked_and_never_logged(
    subscribed, twilio_api, caplog
):
    twilio_api.fail_number(NUMBER, code=21211)
    message = queue(subscribed)

    with caplog.at_level(logging.DEBUG):
        outcome = message_send(message_id=message.pk)

    message.refresh_from_db()
    assert outcome.status == OutboundStatus.FAILED
    assert message.error_code == "21211"
    assert message.error_message.startswith("Twilio 21211: ")
    assert message.error_message.endswith(
        "The 'To' number +**********01 is not a valid phone number."
    )
    assert "711000001" not in caplog.text


@pytest.mark.django_db
def test_a_transient_error_naming_a_national_number_is_stored_masked_for_the_retry(
    subscribed, twilio_api, caplog
):
    twilio_api.fail_number(
        NUMBER, code=20500, status=500, message="Could not reach 0711 000 001 just now."
    )
    message = queue(subscribed)

    with caplog.at_level(logging.DEBUG):
        outcome = message_send(message_id=message.pk)

    message.refresh_from_db()
    assert outcome.status == OutboundStatus.QUEUED
    assert message.error_message.endswith("Could not reach ********01 just now.")
    assert "711000001" not in caplog.text
    assert "711 000 001" not in caplog.text


@pytest.mark.django_db(transaction=True)  # the dispatcher's threads have their own connections
def test_a_dispatched_batch_stores_the_providers_refusal_masked(subscribed, twilio_api):
    twilio_api.fail_number(NUMBER, code=21211)
    message = OutboundMessage.objects.create(
        organization_id=subscribed.organization_id,
        channel_id=subscribed.channel_id,
        subscriber=subscribed,
        to_address=NUMBER,
        kind=OutboundKind.WAVE,
        body="Amani",
        priority=2,
    )

    dispatch_channel(channel_id=subscribed.channel_id)

    message.refresh_from_db()
    assert message.status == OutboundStatus.FAILED
    assert DIGITS not in message.error_message
    assert "+**********01" in message.error_message


@pytest.mark.django_db
def test_erasure_leaves_no_error_text_of_the_persons_messages(subscribed, twilio_api):
    twilio_api.fail_number(NUMBER, code=21211)
    failed = queue(subscribed)
    message_send(message_id=failed.pk)
    # A row stored before provider errors were masked still carries the whole number.
    earlier = queue(subscribed)
    OutboundMessage.objects.filter(pk=earlier.pk).update(
        status=OutboundStatus.FAILED,
        error_code="21211",
        error_message=f"Twilio 21211: The 'To' number {NUMBER} is not a valid phone number.",
    )
    pending = queue(subscribed)

    subscriber_erase(subscriber=subscribed)

    rows = {
        m.pk: m for m in OutboundMessage.objects.filter(pk__in=[failed.pk, earlier.pk, pending.pk])
    }
    assert rows[failed.pk].error_message == ""
    assert rows[earlier.pk].error_message == ""
    assert rows[failed.pk].error_code == "21211"  # the failure still counts, anonymously
    assert rows[pending.pk].status == OutboundStatus.CANCELED
    assert rows[pending.pk].error_message == "The recipient was erased."
    for row in rows.values():
        assert DIGITS[-9:] not in f"{row.to_address} {row.error_message} {row.body}"


@pytest.mark.django_db
def test_an_erased_persons_last_reply_that_fails_keeps_no_error_text(subscribed, twilio_api):
    twilio_api.fail_number(NUMBER, code=21211)
    goodbye = reply_queue(
        subscriber=subscribed, body="Goodbye.", reply_key="under_age", language="en"
    )
    subscriber_erase(subscriber=subscribed, last_reply=goodbye)

    outcome = message_send(message_id=goodbye.pk)

    goodbye.refresh_from_db()
    assert outcome.status == OutboundStatus.FAILED
    assert goodbye.error_code == "21211"
    assert (goodbye.to_address, goodbye.error_message) == ("", "")
