"""The send choke point: claim once, consent again, classify provider errors, record outcomes."""

import pytest

from outreach.models import ConsentEvent, ConsentKind, ConsentSource, ConsentStatus, OutboundStatus
from outreach.services.consent import consent_record
from outreach.services.outbound import message_send, reply_queue
from outreach.services.subscribers import subscriber_for_address

pytestmark = pytest.mark.django_db

NUMBER = "+254712345678"


@pytest.fixture
def subscribed(twilio_channel):
    person = subscriber_for_address(channel=twilio_channel, address=NUMBER)
    consent_record(subscriber=person, kind=ConsentKind.OPT_IN, source=ConsentSource.STAFF)
    person.refresh_from_db()
    return person


def queue(person, key="help"):
    return reply_queue(subscriber=person, body="Reply STOP to stop.", reply_key=key, language="en")


def test_it_sends_through_the_twilio_sdk_and_records_the_sid(subscribed, twilio_api):
    message = queue(subscribed)

    outcome = message_send(message_id=message.pk)

    message.refresh_from_db()
    assert outcome.status == OutboundStatus.SENDING  # Twilio holds it; callbacks move it on
    assert message.provider_message_id == twilio_api.sent[0].sid
    assert message.attempts == 1
    assert message.sent_at is not None


def test_a_message_is_claimed_once_however_often_it_is_sent(subscribed, twilio_api):
    message = queue(subscribed)

    message_send(message_id=message.pk)
    second = message_send(message_id=message.pk)

    assert second.status == "not_queued"
    assert len(twilio_api.sent) == 1


def test_a_message_queued_before_an_opt_out_is_cancelled_and_never_sent(subscribed, twilio_api):
    message = queue(subscribed)
    consent_record(subscriber=subscribed, kind=ConsentKind.OPT_OUT, source=ConsentSource.KEYWORD)

    message_send(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == OutboundStatus.CANCELED
    assert twilio_api.sent == []


def test_it_marks_the_subscriber_stopped_on_21610(subscribed, twilio_api):
    twilio_api.fail_number(NUMBER, code=21610)
    message = queue(subscribed)

    outcome = message_send(message_id=message.pk)

    subscribed.refresh_from_db()
    message.refresh_from_db()
    assert outcome.status == OutboundStatus.FAILED
    assert message.error_code == "21610"
    assert subscribed.consent_status == ConsentStatus.OPTED_OUT
    assert ConsentEvent.objects.filter(kind="opt_out", source="carrier").count() == 1


def test_an_invalid_number_fails_permanently_without_retry(subscribed, twilio_api):
    twilio_api.fail_number(NUMBER, code=21211)
    message = queue(subscribed)

    outcome = message_send(message_id=message.pk)

    assert outcome.status == OutboundStatus.FAILED
    assert outcome.retry_in is None


def test_a_429_is_retried_later_and_then_sent(subscribed, twilio_api):
    twilio_api.fail_next(1, code=20429, status=429)
    message = queue(subscribed)

    first = message_send(message_id=message.pk)
    second = message_send(message_id=message.pk)

    message.refresh_from_db()
    assert first.status == OutboundStatus.QUEUED
    assert first.retry_in is not None
    assert second.retry_in is None
    assert message.attempts == 2
    assert len(twilio_api.sent) == 1


def test_a_5xx_is_transient_until_the_attempts_run_out(subscribed, twilio_api):
    twilio_api.fail_next(10, code=20500, status=500)
    message = queue(subscribed)

    outcomes = [message_send(message_id=message.pk) for _ in range(6)]

    assert [o.retry_in is not None for o in outcomes] == [True] * 5 + [False]
    assert outcomes[-1].status == OutboundStatus.FAILED


def test_the_rate_limit_defers_a_send_without_counting_an_attempt(subscribed, twilio_api):
    subscribed.channel.messages_per_second = 1
    subscribed.channel.save()
    first, second = queue(subscribed), queue(subscribed)

    message_send(message_id=first.pk)
    deferred = message_send(message_id=second.pk)

    second.refresh_from_db()
    assert deferred.retry_in is not None
    assert 0 < deferred.retry_in <= 1.0
    assert second.status == OutboundStatus.QUEUED
    assert second.attempts == 0
    assert len(twilio_api.sent) == 1


def test_the_console_channel_records_instead_of_sending(console_channel, caplog):
    person = subscriber_for_address(channel=console_channel, address=NUMBER)
    message = queue(person)

    with caplog.at_level("INFO", logger="amani.console"):
        outcome = message_send(message_id=message.pk)

    assert outcome.status == OutboundStatus.SENT
    assert "Reply STOP to stop." in caplog.text
    assert NUMBER not in caplog.text


def test_a_retry_waits_between_half_and_all_of_its_exponential_backoff():
    from outreach.services.outbound import retry_delay

    delays = [retry_delay(3) for _ in range(200)]

    assert all(4.0 <= delay <= 8.0 for delay in delays)
    assert len(set(delays)) > 1  # jittered
    assert 150.0 <= retry_delay(20) <= 300.0  # capped
