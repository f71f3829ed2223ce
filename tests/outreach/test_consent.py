"""A STOP wins: it cancels what has not left yet, and no later write brings the person back."""

import uuid

import pytest
from django.utils import timezone

from outreach.models import (
    ConsentKind,
    ConsentSource,
    ConsentStatus,
    OnboardingStep,
    OutboundKind,
    OutboundMessage,
    OutboundStatus,
    Subscriber,
)
from outreach.services.consent import consent_record
from outreach.services.subscribers import subscriber_for_address, subscriber_update
from tests.support.webhooks import twilio_form

pytestmark = pytest.mark.django_db

NUMBER = "+254712345678"


@pytest.fixture
def member(twilio_channel) -> Subscriber:
    person = subscriber_for_address(channel=twilio_channel, address=NUMBER)
    consent_record(
        subscriber=person,
        kind=ConsentKind.OPT_IN,
        source=ConsentSource.KEYWORD,
        keyword_as_texted="JOIN",
    )
    return Subscriber.objects.get(pk=person.pk)


def wave_message(person: Subscriber, wave_id: int, **fields: object) -> OutboundMessage:
    return OutboundMessage.objects.create(
        organization_id=person.organization_id,
        channel_id=person.channel_id,
        subscriber=person,
        to_address=person.address,
        kind=OutboundKind.WAVE,
        wave_id=wave_id,
        body=f"Peace message {wave_id}",
        priority=2,
        **fields,
    )


def status_of(message: OutboundMessage) -> str:
    return OutboundMessage.objects.values_list("status", flat=True).get(pk=message.pk)


def test_a_stop_cancels_queued_and_claimed_messages_but_not_one_in_flight(
    member, twilio_post, twilio_channel, twilio_api
):
    queued = wave_message(member, 1)
    claimed = wave_message(member, 2, status=OutboundStatus.SENDING, claim_token=uuid.uuid4())
    in_flight = wave_message(
        member,
        3,
        status=OutboundStatus.SENDING,
        claim_token=uuid.uuid4(),
        in_flight_at=timezone.now(),
    )

    response = twilio_post(twilio_channel, twilio_form("STOP", sender=NUMBER))

    assert response.status_code == 200
    assert status_of(queued) == OutboundStatus.CANCELED
    assert status_of(claimed) == OutboundStatus.CANCELED
    assert status_of(in_flight) == OutboundStatus.SENDING
    (goodbye,) = twilio_api.sent_to(NUMBER)
    assert "no more messages" in goodbye.body


def test_a_staff_opt_out_cancels_the_queued_wave_message_too(member):
    queued = wave_message(member, 1)

    consent_record(subscriber=member, kind=ConsentKind.OPT_OUT, source=ConsentSource.STAFF)

    assert status_of(queued) == OutboundStatus.CANCELED


def test_a_cancelled_message_says_why(member):
    queued = wave_message(member, 1)

    consent_record(subscriber=member, kind=ConsentKind.OPT_OUT, source=ConsentSource.STAFF)

    assert "opted out" in OutboundMessage.objects.get(pk=queued.pk).error_message


def test_a_staff_edit_of_a_stale_copy_leaves_someone_who_texted_stop_opted_out(
    member, twilio_post, twilio_channel, twilio_api
):
    loaded_before_the_stop = Subscriber.objects.get(pk=member.pk)
    twilio_post(twilio_channel, twilio_form("STOP", sender=NUMBER))

    subscriber_update(subscriber=loaded_before_the_stop, language="sw", tags=["camp"])

    person = Subscriber.objects.get(pk=member.pk)
    assert person.consent_status == ConsentStatus.OPTED_OUT
    assert person.language == "sw"
    assert person.tags == ["camp"]


def test_a_staff_edit_of_a_stale_copy_keeps_the_onboarding_answers_texted_since(
    member, twilio_post, twilio_channel, twilio_api
):
    Subscriber.objects.filter(pk=member.pk).update(onboarding_step=OnboardingStep.AGE)
    loaded_before_the_answer = Subscriber.objects.get(pk=member.pk)
    twilio_post(twilio_channel, twilio_form("19", sender=NUMBER))

    subscriber_update(subscriber=loaded_before_the_answer, tags=["camp"])

    assert Subscriber.objects.get(pk=member.pk).age_band == "18_24"


@pytest.mark.django_db(transaction=True)
def test_a_stop_does_not_wait_for_a_fan_out_writing_that_persons_message(twilio_channel):
    """A fan-out chunk key-share locks every person it writes a message for, until it commits."""
    import threading

    from django.db import connection, transaction

    person = subscriber_for_address(channel=twilio_channel, address=NUMBER)
    consent_record(subscriber=person, kind=ConsentKind.OPT_IN, source=ConsentSource.KEYWORD)
    inserted, done = threading.Event(), threading.Event()

    def a_long_fan_out_chunk() -> None:
        try:
            with transaction.atomic():
                OutboundMessage.objects.create(
                    organization_id=person.organization_id,
                    channel=twilio_channel,
                    subscriber=person,
                    to_address=person.address,
                    kind=OutboundKind.WAVE,
                    body="Amani",
                    wave_id=77,
                )
                with connection.cursor() as cursor:  # the FK check takes KEY SHARE now
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                inserted.set()
                done.wait(10)
        finally:
            connection.close()

    chunk = threading.Thread(target=a_long_fan_out_chunk)
    chunk.start()
    inserted.wait(10)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            consent_record(
                subscriber=person, kind=ConsentKind.OPT_OUT, source=ConsentSource.KEYWORD
            )
    finally:
        done.set()
        chunk.join()

    person.refresh_from_db()
    assert person.consent_status == ConsentStatus.OPTED_OUT
