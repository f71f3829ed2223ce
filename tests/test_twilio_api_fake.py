"""The local Twilio API, through the real SDK: lookups, outcomes the client never sees, latency.

The recovery path of dispatch lists and fetches messages, and must meet sends that Twilio took
but whose answer was lost; these tests show the fake does what Twilio would.
"""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from outreach.channels.twilio_client import twilio_client
from tests.support.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilioApi, running_twilio_api

SENDER = "+15005550006"
RECIPIENT = "+254700000001"
ANOTHER = "+254700000002"


@pytest.fixture
def api(settings) -> Iterator[FakeTwilioApi]:
    with running_twilio_api() as api:
        settings.TWILIO_BASE_URL = api.base_url
        settings.TWILIO_TIMEOUT_SECONDS = 0.5
        yield api


@pytest.fixture
def twilio(api: FakeTwilioApi) -> Client:
    return twilio_client(ACCOUNT_SID, AUTH_TOKEN)


def test_a_sent_message_can_be_fetched_by_its_sid(api, twilio):
    created = twilio.messages.create(to=RECIPIENT, from_=SENDER, body="Amani kwa wote")

    fetched = twilio.messages(created.sid).fetch()

    assert fetched.sid == created.sid
    assert fetched.to == RECIPIENT
    assert fetched.body == "Amani kwa wote"
    assert fetched.status == "queued"
    assert fetched.date_created is not None


def test_fetching_an_unknown_message_is_twilios_20404(api, twilio):
    with pytest.raises(TwilioRestException) as raised:
        twilio.messages("SM" + "e" * 32).fetch()

    assert (raised.value.status, raised.value.code) == (404, 20404)


def test_fetching_another_accounts_message_is_401(api, twilio):
    created = twilio.messages.create(to=RECIPIENT, from_=SENDER, body="Hi")
    api.add_account("AC" + "b2" * 16, "other-token")
    other = twilio_client("AC" + "b2" * 16, "wrong-token")

    with pytest.raises(TwilioRestException) as raised:
        other.messages(created.sid).fetch()

    assert (raised.value.status, raised.value.code) == (401, 20003)


def test_the_list_gives_only_the_messages_to_that_number_newest_first(api, twilio):
    first = twilio.messages.create(to=RECIPIENT, from_=SENDER, body="one")
    twilio.messages.create(to=ANOTHER, from_=SENDER, body="other")
    second = twilio.messages.create(to=RECIPIENT, from_=SENDER, body="two")

    listed = twilio.messages.list(to=RECIPIENT, limit=20)

    assert [message.sid for message in listed] == [second.sid, first.sid]
    assert [message.body for message in listed] == ["two", "one"]


def test_the_list_asks_for_the_limit_as_its_page_size(api, twilio):
    for number in range(5):
        twilio.messages.create(to=RECIPIENT, from_=SENDER, body=f"message {number}")

    listed = twilio.messages.list(to=RECIPIENT, limit=3)

    assert [message.body for message in listed] == ["message 4", "message 3", "message 2"]
    [lookup] = [call for call in api.calls if call.method == "GET"]
    assert lookup.query == {"To": RECIPIENT, "PageSize": "3"}


def test_the_sdk_follows_the_next_page_to_read_everything(api, twilio):
    for number in range(7):
        twilio.messages.create(to=RECIPIENT, from_=SENDER, body=f"message {number}")

    listed = twilio.messages.list(to=RECIPIENT, page_size=3)

    assert [message.body for message in listed] == [f"message {n}" for n in range(6, -1, -1)]
    assert len([call for call in api.calls if call.method == "GET"]) == 3


def test_the_list_filters_by_the_time_a_message_was_sent(api, twilio):
    before = twilio.messages.create(to=RECIPIENT, from_=SENDER, body="before")
    api.sent[0].created_at -= timedelta(hours=1)
    after = twilio.messages.create(to=RECIPIENT, from_=SENDER, body="after")
    boundary = datetime.now(UTC) - timedelta(minutes=30)

    since = twilio.messages.list(to=RECIPIENT, date_sent_after=boundary, limit=20)
    until = twilio.messages.list(to=RECIPIENT, date_sent_before=boundary, limit=20)

    assert [message.sid for message in since] == [after.sid]
    assert [message.sid for message in until] == [before.sid]


def test_a_send_timed_out_after_accepting_is_recorded_and_listed(api, twilio):
    api.time_out_after_accepting(count=1, seconds=3)

    with pytest.raises(requests.ReadTimeout):  # the client's 0.5 s, not the 3 s hold
        twilio.messages.create(to=RECIPIENT, from_=SENDER, body="Amani")
    listed = twilio.messages.list(to=RECIPIENT, limit=20)

    [accepted] = api.sent
    assert accepted.to == RECIPIENT
    assert [message.sid for message in listed] == [accepted.sid]
    assert twilio.messages(accepted.sid).fetch().body == "Amani"


def test_only_the_next_count_sends_time_out(api, twilio):
    api.time_out_after_accepting(count=2, seconds=3)

    outcomes = []
    for number in range(3):
        try:
            twilio.messages.create(to=f"+2547000000{number:02}", from_=SENDER, body="Hi")
            outcomes.append("answered")
        except requests.ReadTimeout:
            outcomes.append("timed out")

    assert outcomes == ["timed out", "timed out", "answered"]
    assert len(api.sent) == 3


def test_a_send_dropped_after_accepting_is_a_connection_error_and_is_recorded(api, twilio):
    twilio.messages.create(to=ANOTHER, from_=SENDER, body="warms the pooled connection")
    api.drop_after_accepting(count=1)

    with pytest.raises(requests.ConnectionError):
        twilio.messages.create(to=RECIPIENT, from_=SENDER, body="Amani")
    answered = twilio.messages.create(to=RECIPIENT, from_=SENDER, body="next")

    assert [message.body for message in api.sent_to(RECIPIENT)] == ["Amani", "next"]
    assert answered.body == "next"


def test_a_dropped_send_is_not_resent_by_the_client(api, twilio):
    api.drop_after_accepting(count=1)

    with pytest.raises(requests.ConnectionError):
        twilio.messages.create(to=RECIPIENT, from_=SENDER, body="Amani")

    assert len([call for call in api.calls if call.method == "POST"]) == 1
    assert len(api.sent) == 1


def test_injected_failures_come_before_a_timeout_after_accepting(api, twilio):
    api.time_out_after_accepting(count=1, seconds=3)
    api.fail_next(1)

    with pytest.raises(TwilioRestException):
        twilio.messages.create(to=RECIPIENT, from_=SENDER, body="refused")
    with pytest.raises(requests.ReadTimeout):
        twilio.messages.create(to=RECIPIENT, from_=SENDER, body="taken")

    assert [message.body for message in api.sent] == ["taken"]


def test_a_message_records_when_its_request_arrived_before_the_latency(api, twilio):
    api.latency = 0.3

    asked = datetime.now(UTC)
    twilio.messages.create(to=RECIPIENT, from_=SENDER, body="Hi")

    [sent] = api.sent
    assert sent.received_at - asked < timedelta(seconds=0.2)
    assert sent.created_at - sent.received_at >= timedelta(seconds=0.3)


def test_latency_is_served_to_many_requests_at_once(api, settings):
    settings.TWILIO_TIMEOUT_SECONDS = 10
    twilio = twilio_client(ACCOUNT_SID, AUTH_TOKEN)
    api.latency = 1.0

    with ThreadPoolExecutor(max_workers=20) as pool:
        list(
            pool.map(
                lambda n: twilio.messages.create(to=f"+2547001{n:05}", from_=SENDER, body="Hi"),
                range(20),
            )
        )

    # Each request waits its latency on a thread of its own: most arrived before any answer.
    first_answer = min(message.created_at for message in api.sent)
    waiting_together = [m for m in api.sent if m.received_at < first_answer]
    assert len(api.sent) == 20
    assert len(waiting_together) > 10


def test_latency_changed_at_run_time_applies_to_the_next_request(api, twilio):
    api.latency = 0.4
    twilio.messages.create(to=RECIPIENT, from_=SENDER, body="slow")
    api.latency = 0
    twilio.messages.create(to=RECIPIENT, from_=SENDER, body="fast")

    slow, fast = api.sent
    assert slow.created_at - slow.received_at >= timedelta(seconds=0.4)
    assert fast.created_at - fast.received_at < timedelta(seconds=0.4)


def test_every_request_is_in_the_call_log(api, twilio):
    created = twilio.messages.create(to=RECIPIENT, from_=SENDER, body="Hi")
    twilio.messages(created.sid).fetch()
    twilio.messages.list(to=RECIPIENT, limit=20)

    assert [(call.method, call.path.rsplit("/", 1)[-1]) for call in api.calls] == [
        ("POST", "Messages.json"),
        ("GET", f"{created.sid}.json"),
        ("GET", "Messages.json"),
    ]


def test_reset_forgets_the_call_log_and_the_pending_timeouts(api, twilio):
    api.time_out_after_accepting(count=1, seconds=3)
    api.drop_after_accepting(count=1)
    twilio.messages.list(to=RECIPIENT, limit=20)

    api.reset()
    message = twilio.messages.create(to=RECIPIENT, from_=SENDER, body="Hi")

    assert message.status == "queued"
    assert [call.method for call in api.calls] == ["POST"]
