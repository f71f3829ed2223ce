"""The Messenger adapter and the Page's posts against a local Graph API: what Meta is sent,
and how each of its answers is read."""

from datetime import timedelta

import pytest
from django.utils import timezone

from outreach.channels.base import NO_LOOKUP, TransportError
from outreach.channels.messenger import MessengerAdapter, post_engagement, publish_post
from outreach.channels.meta_graph import stored_id
from outreach.errors import InvalidInput
from outreach.models import OutboundStatus
from tests.support.meta_api import PAGE_ID, PAGE_TOKEN, messenger_channel_for, running_meta_api

pytestmark = pytest.mark.django_db

PSID = "6543210987654321"
adapter = MessengerAdapter()


@pytest.fixture
def meta_api(settings):
    with running_meta_api() as api:
        settings.META_GRAPH_BASE_URL = api.base_url
        yield api


@pytest.fixture
def channel(organization):
    return messenger_channel_for(organization)


def send(channel):
    return adapter.send(channel, to=PSID, body="Amani kwa wote", status_callback="")


def test_a_text_goes_to_the_page_as_a_response_with_the_page_token(meta_api, channel):
    result = send(channel)

    (call,) = meta_api.calls_to("POST", f"/v21.0/{PAGE_ID}/messages")
    assert call.authorization == f"Bearer {PAGE_TOKEN}"
    assert call.body == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Amani kwa wote"},
    }
    assert result.provider_message_id == stored_id(meta_api.messenger_mids[0])
    assert result.status == OutboundStatus.SENDING


def test_a_mid_longer_than_our_columns_is_kept_by_its_digest(meta_api, channel):
    result = send(channel)

    (mid,) = meta_api.messenger_mids
    assert len(mid) > 64
    assert len(result.provider_message_id) <= 64
    assert result.provider_message_id == stored_id(mid) != stored_id(mid + "x")


def test_a_channel_without_a_page_id_sends_as_me(meta_api, channel):
    channel.external_id = ""

    send(channel)

    assert len(meta_api.calls_to("POST", "/v21.0/me/messages")) == 1


@pytest.mark.parametrize(
    ("code", "subcode", "http_status", "permanent"),
    [
        pytest.param(551, 1545041, 400, True, id="person unavailable"),
        pytest.param(200, 1545041, 403, True, id="person unavailable, as a permission"),
        pytest.param(10, 2018278, 400, True, id="outside the 24-hour window"),
        pytest.param(190, None, 401, True, id="page token expired"),
        pytest.param(613, None, 400, False, id="rate limit"),
        pytest.param(4, None, 400, False, id="app call limit"),
        pytest.param(32, None, 400, False, id="page call limit"),
        pytest.param(2, None, 503, False, id="service unavailable"),
    ],
)
def test_each_error_code_is_classified_as_data(
    meta_api, channel, code, subcode, http_status, permanent
):
    meta_api.fail_next(code, subcode=subcode, http_status=http_status)

    with pytest.raises(TransportError) as refused:
        send(channel)

    assert refused.value.permanent is permanent
    assert refused.value.provider_code == (f"{code}/{subcode}" if subcode else str(code))
    assert not refused.value.unsubscribed
    assert (refused.value.retry_after is not None) is (code in (613, 4, 32))


def test_a_send_in_doubt_cannot_be_looked_up(channel):
    with pytest.raises(TransportError) as cannot:
        adapter.find_sent(channel, to=PSID, body="Amani", since=channel.created_at)

    assert cannot.value.provider_code == NO_LOOKUP
    assert cannot.value.permanent


def test_a_post_without_a_time_is_published_at_once(meta_api, channel):
    post_id = publish_post(channel, message="Kura yako, amani yetu.", scheduled_publish_time=None)

    (post,) = meta_api.posts
    assert post.id == post_id
    assert post.message == "Kura yako, amani yetu."
    assert post.published
    assert post.scheduled_publish_time is None
    (call,) = meta_api.calls_to("POST", f"/v21.0/{PAGE_ID}/feed")
    assert call.authorization == f"Bearer {PAGE_TOKEN}"


def test_a_post_a_day_ahead_is_scheduled_unpublished_at_its_unix_time(meta_api, channel):
    when = (timezone.now() + timedelta(days=1)).replace(microsecond=0)

    publish_post(channel, message="Kesho ni siku ya kura.", scheduled_publish_time=when)

    (post,) = meta_api.posts
    assert not post.published
    assert post.scheduled_publish_time == int(when.timestamp())
    (call,) = meta_api.calls
    assert call.body["published"] is False


def test_a_post_due_in_less_than_ten_minutes_is_published_at_once(meta_api, channel):
    soon = timezone.now() + timedelta(minutes=4)

    publish_post(channel, message="Amani sasa.", scheduled_publish_time=soon)

    (post,) = meta_api.posts
    assert post.published
    assert "scheduled_publish_time" not in meta_api.calls[0].body


def test_a_post_more_than_thirty_days_ahead_is_refused_before_meta_is_asked(meta_api, channel):
    later = timezone.now() + timedelta(days=31)

    with pytest.raises(InvalidInput) as refused:
        publish_post(channel, message="Mbali sana.", scheduled_publish_time=later)

    assert refused.value.field == "scheduled_publish_time"
    assert meta_api.calls == []


def test_a_post_s_engagement_is_its_reactions_comments_and_shares(meta_api, channel):
    post_id = publish_post(channel, message="Amani.", scheduled_publish_time=None)
    meta_api.engagement[post_id] = {"reactions": 42, "comments": 7, "shares": 3}

    counts = post_engagement(channel, post_id)

    assert counts == {"reactions": 42, "comments": 7, "shares": 3}
    (call,) = meta_api.calls_to("GET", f"/v21.0/{post_id}")
    assert call.query["fields"] == (
        "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),shares"
    )


def test_a_post_nobody_shared_counts_no_shares(meta_api, channel):
    post_id = publish_post(channel, message="Amani.", scheduled_publish_time=None)
    meta_api.engagement[post_id] = {"reactions": 1, "comments": 0, "shares": 0}

    assert post_engagement(channel, post_id) == {"reactions": 1, "comments": 0, "shares": 0}


def test_a_token_that_may_not_read_engagement_gives_none(meta_api, channel):
    post_id = publish_post(channel, message="Amani.", scheduled_publish_time=None)
    meta_api.deny_engagement()

    assert post_engagement(channel, post_id) is None


def test_other_engagement_errors_are_raised(meta_api, channel):
    post_id = publish_post(channel, message="Amani.", scheduled_publish_time=None)
    meta_api.fail_next(2, http_status=503)

    with pytest.raises(TransportError) as failed:
        post_engagement(channel, post_id)

    assert not failed.value.permanent
