"""A STOP reaches the ledger in the webhook itself, ahead of queued work; the task says goodbye."""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from outreach.keywords import Intent
from outreach.models import (
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentStatus,
    InboundMessage,
    OutboundMessage,
    Subscriber,
)
from outreach.services.consent import consent_record
from outreach.services.keywords import keyword_create
from outreach.services.subscribers import subscriber_for_address
from tests.support.twilio_api import AUTH_TOKEN, twilio_signature
from tests.support.webhooks import twilio_form

pytestmark = pytest.mark.django_db

NUMBER = "+254712345678"


@pytest.fixture
def member(twilio_channel) -> Subscriber:
    person = subscriber_for_address(channel=twilio_channel, address=NUMBER)
    consent_record(subscriber=person, kind=ConsentKind.OPT_IN, source=ConsentSource.KEYWORD)
    return person


@pytest.fixture
def post_while_the_queue_is_busy(client, twilio_channel, django_capture_on_commit_callbacks):
    """Posts a signed inbound SMS; the routing task it queues has not run yet when it returns.

    Returns the response and the queued work, to run later (as a busy worker would).
    """

    def post(body: str, sid: str | None = None):
        path = reverse("twilio-inbound", args=[twilio_channel.uuid])
        form = twilio_form(body, sender=NUMBER, sid=sid)
        signature = twilio_signature(AUTH_TOKEN, settings.PUBLIC_BASE_URL + path, form)
        with django_capture_on_commit_callbacks() as queued:
            response = client.post(path, form, HTTP_X_TWILIO_SIGNATURE=signature)
        return response, queued

    return post


def opt_outs() -> list[ConsentEvent]:
    return list(ConsentEvent.objects.filter(kind=ConsentKind.OPT_OUT))


def test_a_stop_is_in_the_ledger_when_the_webhook_answers_before_its_task_runs(
    member, post_while_the_queue_is_busy, twilio_api
):
    response, _ = post_while_the_queue_is_busy("STOP")

    assert response.status_code == 200
    assert Subscriber.objects.get(pk=member.pk).consent_status == ConsentStatus.OPTED_OUT
    (event,) = opt_outs()
    assert event.source == ConsentSource.KEYWORD
    assert event.keyword_as_texted == "STOP"
    assert twilio_api.sent == []  # the goodbye is the task's


def test_the_task_then_says_goodbye_once_without_a_second_opt_out(
    member, post_while_the_queue_is_busy, twilio_api, django_capture_on_commit_callbacks
):
    _, queued = post_while_the_queue_is_busy("Stop please")

    with django_capture_on_commit_callbacks(execute=True):
        for work in queued:
            work()

    (goodbye,) = twilio_api.sent_to(NUMBER)
    assert "no more messages" in goodbye.body
    assert len(opt_outs()) == 1


def test_a_replayed_stop_is_recorded_once(member, post_while_the_queue_is_busy, twilio_api):
    post_while_the_queue_is_busy("STOP", sid="SM-stop-1")

    response, _ = post_while_the_queue_is_busy("STOP", sid="SM-stop-1")

    assert response.status_code == 200
    assert len(opt_outs()) == 1


def test_a_stop_from_a_stranger_records_nothing_and_creates_no_one(
    twilio_channel, post_while_the_queue_is_busy, twilio_api
):
    response, _ = post_while_the_queue_is_busy("STOP")

    assert response.status_code == 200
    assert opt_outs() == []
    assert not Subscriber.objects.exists()


def test_free_text_is_left_to_the_task(member, post_while_the_queue_is_busy, twilio_api):
    post_while_the_queue_is_busy("the violence must end")

    assert Subscriber.objects.get(pk=member.pk).consent_status == ConsentStatus.OPTED_IN
    assert opt_outs() == []


def test_a_join_routed_after_the_stop_that_followed_it_leaves_the_person_stopped(
    member, post_while_the_queue_is_busy, twilio_api, django_capture_on_commit_callbacks
):
    _, join_routing = post_while_the_queue_is_busy("JOIN")  # its worker is busy …
    _, stop_routing = post_while_the_queue_is_busy("STOP")  # … the STOP is recorded at once

    with django_capture_on_commit_callbacks(execute=True):
        for work in [*stop_routing, *join_routing]:  # and the JOIN is routed last
            work()

    assert Subscriber.objects.get(pk=member.pk).consent_status == ConsentStatus.OPTED_OUT
    (goodbye,) = twilio_api.sent_to(NUMBER)  # no welcome after it
    assert goodbye.body == OutboundMessage.objects.get(reply_key="goodbye").body


def test_a_newcomers_stop_waits_for_their_join_to_be_routed(
    twilio_channel, post_while_the_queue_is_busy, twilio_api
):
    from outreach.models import InboundMessage
    from outreach.services.inbound import WAITING, inbound_handle

    post_while_the_queue_is_busy("JIUNGE")
    post_while_the_queue_is_busy("STOP")
    join, stop = InboundMessage.objects.order_by("received_at", "pk")

    first = inbound_handle(inbound_id=stop.pk, in_order=True)  # a worker takes the STOP first
    inbound_handle(inbound_id=join.pk, in_order=True)
    inbound_handle(inbound_id=stop.pk, in_order=True)  # its retry

    assert first == WAITING
    assert Subscriber.objects.get(address=NUMBER).consent_status == ConsentStatus.OPTED_OUT


def test_a_keyword_the_organization_adds_for_stop_opts_out_in_the_webhook_at_once(
    member, post_while_the_queue_is_busy, twilio_api
):
    post_while_the_queue_is_busy("hello")  # the webhook now keeps the organization's keywords
    keyword_create(organization=member.organization, word="ACHA", intent=Intent.STOP)

    post_while_the_queue_is_busy("ACHA")

    assert Subscriber.objects.get(pk=member.pk).consent_status == ConsentStatus.OPTED_OUT
    (event,) = opt_outs()
    assert event.keyword_as_texted == "ACHA"


@pytest.mark.django_db(transaction=True)
def test_a_message_that_is_not_a_stop_is_stored_in_one_statement(
    member, post_while_the_queue_is_busy, twilio_api
):
    post_while_the_queue_is_busy("hello")  # the channel and keywords are kept from now on

    with CaptureQueriesContext(connection) as statements:
        response, _ = post_while_the_queue_is_busy("the violence must end")

    assert response.status_code == 200
    # It opens no transaction of its own (BEGIN, SAVEPOINT … COMMIT): its first statement is
    # the insert, committed as it runs (then the routing runs, in-process in the tests).
    first, second = (s["sql"].split()[0] for s in statements.captured_queries[:2])
    assert first == "INSERT"
    assert second not in ("SAVEPOINT", "RELEASE", "COMMIT")
    assert InboundMessage.objects.filter(body="the violence must end").count() == 1
