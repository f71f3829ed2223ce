"""A JOIN stored by the webhook is routed by a real worker, which replies through Twilio's API."""

import time

import pytest
from django.utils import timezone

from outreach.models import ConsentStatus, OutboundMessage, Subscriber
from outreach.services.inbound import inbound_receive
from tests.support.twilio_api import running_twilio_api

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def twilio_api_for_worker():
    with running_twilio_api() as api:
        yield api


@pytest.fixture
def worker_env(twilio_api_for_worker):
    return {"TWILIO_BASE_URL": twilio_api_for_worker.base_url}


def test_a_join_is_routed_by_the_worker_and_answered_through_twilio(
    celery_worker_process, twilio_channel, twilio_api_for_worker
):
    inbound_receive(
        channel=twilio_channel,
        provider_message_id="SM" + "7" * 32,
        from_address="+254712345678",
        body="JIUNGE",
        received_at=timezone.now(),
    )

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not twilio_api_for_worker.sent:
        time.sleep(0.05)

    (sent,) = twilio_api_for_worker.sent
    assert sent.to == "+254712345678"
    assert sent.body.startswith("Karibu")
    assert Subscriber.objects.get().consent_status == ConsentStatus.OPTED_IN
    assert OutboundMessage.objects.get().provider_message_id == sent.sid
