"""Facebook Messenger through a Page, and the Page's own posts.

The channel's `external_id` is the Page id, `access_token` the Page access token. A
person is reached by their page-scoped id (PSID). Messenger has no message templates:
a template call is sent as its text, which Meta refuses outside the 24-hour window
(10/2018278), as it would any text.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from outreach.channels.base import SendResult, TemplateCall, TransportError, no_lookup
from outreach.channels.meta_graph import (
    PERMANENT,
    TRANSIENT,
    ErrorTable,
    answered_id,
    graph_request,
    stored_id,
    throttled,
)
from outreach.errors import InvalidInput
from outreach.models import Channel, OutboundStatus

ERRORS: ErrorTable = {
    (1, None): TRANSIENT,  # API unknown
    (2, None): TRANSIENT,  # API service temporarily unavailable
    (4, None): throttled(60.0),  # the app's call limit
    (32, None): throttled(60.0),  # the Page's call limit
    (613, None): throttled(60.0),  # calls to this API exceeded the rate limit
    (190, None): PERMANENT,  # the Page token expired or was revoked
    (551, None): PERMANENT,  # "This person isn't available right now"
    (200, 1545041): PERMANENT,  # the same, said as a permission error
    (10, 2018278): PERMANENT,  # outside the 24-hour window
    (100, 2018001): PERMANENT,  # no such person for this Page
}
# Reading a post's counts needs pages_read_engagement: without it, counts are unknown.
NO_PERMISSION_CODES = frozenset({10, 200})
ENGAGEMENT_FIELDS = (
    "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),shares"
)
# Meta schedules a Page post from 10 minutes to 30 days ahead.
SCHEDULE_AT_LEAST = timedelta(minutes=10)
SCHEDULE_AT_MOST = timedelta(days=30)


class MessengerAdapter:
    def send(
        self,
        channel: Channel,
        *,
        to: str,
        body: str,
        status_callback: str,
        template: TemplateCall | None = None,
    ) -> SendResult:
        """POST /{page-id}/messages as a response within the person's 24-hour window."""
        payload = {"recipient": {"id": to}, "messaging_type": "RESPONSE", "message": {"text": body}}
        answer = graph_request(
            channel, "POST", f"{_page(channel)}/messages", errors=ERRORS, json=payload
        )
        mid = answered_id(answer.get("message_id"), "message")
        return SendResult(provider_message_id=stored_id(mid), status=OutboundStatus.SENDING)

    def find_sent(
        self, channel: Channel, *, to: str, body: str, since: datetime
    ) -> SendResult | None:
        """The Send API lists no sent messages: a send in doubt cannot be looked up."""
        raise no_lookup("Messenger")


def publish_post(
    channel: Channel, *, message: str, scheduled_publish_time: datetime | None = None
) -> str:
    """Post `message` on the channel's Page (POST /{page-id}/feed); returns the post's id.

    A time at least 10 minutes ahead schedules the post (published=false); a time nearer
    than Meta allows publishes it at once, since the post was due about now anyway. More
    than 30 days ahead is refused before Meta is asked.
    """
    if not message.strip():
        raise InvalidInput("A post needs a text.", field="message")
    data: dict[str, Any] = {"message": message}
    if scheduled_publish_time is not None:
        ahead = scheduled_publish_time - timezone.now()
        if ahead > SCHEDULE_AT_MOST:
            raise InvalidInput(
                "Meta schedules Page posts at most 30 days ahead.",
                field="scheduled_publish_time",
            )
        if ahead >= SCHEDULE_AT_LEAST:
            data["published"] = False
            data["scheduled_publish_time"] = int(scheduled_publish_time.astimezone(UTC).timestamp())
    answer = graph_request(channel, "POST", f"{_page(channel)}/feed", errors=ERRORS, json=data)
    return answered_id(answer.get("id"), "post")


def post_engagement(channel: Channel, post_id: str) -> dict[str, int] | None:
    """A post's reactions, comments and shares; None when the token may not read them."""
    try:
        answer = graph_request(
            channel, "GET", post_id, errors=ERRORS, params={"fields": ENGAGEMENT_FIELDS}
        )
    except TransportError as error:
        if error.provider_code.split("/")[0] in {str(code) for code in NO_PERMISSION_CODES}:
            return None
        raise
    return {
        "reactions": _total(answer.get("reactions")),
        "comments": _total(answer.get("comments")),
        "shares": _count(answer.get("shares")),  # absent while nobody has shared it
    }


def _page(channel: Channel) -> str:
    return channel.external_id or "me"  # a Page token's "me" is its Page


def _total(edge: object) -> int:
    summary = edge.get("summary") if isinstance(edge, dict) else None
    return _count(summary, "total_count")


def _count(value: object, key: str = "count") -> int:
    number = value.get(key) if isinstance(value, dict) else None
    return number if isinstance(number, int) and not isinstance(number, bool) else 0
