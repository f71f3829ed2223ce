"""Many people of one organization texting at once: every message stored, routed, answered.

Real PostgreSQL, real transactions, one thread per webhook caller: the webhook's insert
and the routing of earlier messages meet on the organization's and the channel's rows.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from outreach.models import Channel, ConsentEvent, ConsentKind, ConsentSource, InboundMessage
from outreach.services.consent import consent_record
from outreach.services.inbound import inbound_handle
from outreach.services.subscribers import subscriber_for_address
from tests.support.twilio_api import AUTH_TOKEN, twilio_signature
from tests.support.webhooks import twilio_form

pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE = 12
TEXTS = ("JOIN", "19", "hello there", "STOP")


@pytest.fixture
def fast_channel(twilio_channel: Channel) -> Channel:
    # Replies are never held back by the rate limiter: this test is about locks.
    Channel.objects.filter(pk=twilio_channel.pk).update(messages_per_second=10_000)
    return twilio_channel


def text_the_service(channel: Channel, number: str) -> list[int]:
    """One person's conversation through the signed webhook; the status of each answer."""
    client = Client(raise_request_exception=False)
    path = reverse("twilio-inbound", args=[channel.uuid])
    statuses = []
    try:
        for body in TEXTS:
            form = twilio_form(body, sender=number)
            signature = twilio_signature(AUTH_TOKEN, settings.PUBLIC_BASE_URL + path, form)
            statuses.append(client.post(path, form, HTTP_X_TWILIO_SIGNATURE=signature).status_code)
    finally:
        connection.close()
    return statuses


def test_people_of_one_organization_texting_at_once_are_all_answered_without_a_deadlock(
    fast_channel, twilio_api
):
    numbers = [f"+2547123400{i:02d}" for i in range(PEOPLE)]
    start = threading.Barrier(PEOPLE)

    def converse(number: str) -> list[int]:
        start.wait()
        return text_the_service(fast_channel, number)

    with ThreadPoolExecutor(max_workers=PEOPLE) as pool:
        statuses = list(pool.map(converse, numbers))

    assert statuses == [[200] * len(TEXTS)] * PEOPLE
    assert not InboundMessage.objects.filter(handled_at__isnull=True).exists()
    assert ConsentEvent.objects.filter(kind="opt_out").count() == PEOPLE
    for number in numbers:
        assert len(twilio_api.sent_to(number)) >= 3  # welcome, next question, goodbye


def test_routing_a_message_while_an_opt_out_of_the_same_person_commits_does_not_deadlock(
    fast_channel, twilio_api
):
    person = subscriber_for_address(channel=fast_channel, address="+254712340000")
    consent_record(subscriber=person, kind=ConsentKind.OPT_IN, source=ConsentSource.KEYWORD)
    inbound = InboundMessage.objects.create(
        organization_id=fast_channel.organization_id,
        channel=fast_channel,
        provider_message_id="SM-hello",
        from_address=person.address,
        body="hello",
        received_at=timezone.now(),
    )
    recorded = threading.Event()
    errors: list[BaseException] = []

    def staff_opt_out() -> None:
        # The ledger's transaction holds the person's row; its foreign keys are checked
        # (FOR KEY SHARE on the channel and the organization) only when it commits.
        try:
            with transaction.atomic():
                consent_record(
                    subscriber=person, kind=ConsentKind.OPT_OUT, source=ConsentSource.STAFF
                )
                recorded.set()
                time.sleep(0.5)  # the routing below starts and waits for the person's row
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    def route() -> None:
        recorded.wait(5)
        try:
            inbound_handle(inbound_id=inbound.pk)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=staff_opt_out), threading.Thread(target=route)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert InboundMessage.objects.get(pk=inbound.pk).handled_at is not None
    assert ConsentEvent.objects.filter(kind="opt_out").count() == 1
