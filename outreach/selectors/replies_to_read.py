"""Replies needing a look: what subscribers wrote that no keyword, poll or question took.

A free reply is a young person talking to the organization (a question, a worry, a
rumour): staff read them in the inbox. The home page shows how many came lately and the
newest few, without any number: the text, its language, the channel and the wave it answers.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from outreach.models import InboundIntent, InboundMessage, Organization

LATELY = dt.timedelta(days=7)


@dataclass(frozen=True)
class RepliesToRead:
    count: int  # free replies received in the period
    latest: list[InboundMessage]  # the newest of them, newest first
    since: dt.datetime


def replies_to_read(
    organization: Organization, *, now: dt.datetime | None = None, latest: int = 5
) -> RepliesToRead:
    """The organization's free replies of the last 7 days: how many, and the newest few."""
    since = (now or timezone.now()) - LATELY
    replies = InboundMessage.objects.filter(
        organization=organization, intent=InboundIntent.FREE_REPLY, received_at__gte=since
    )
    newest = replies.select_related("channel").order_by("-received_at", "-pk")[:latest]
    return RepliesToRead(count=replies.count(), latest=list(newest), since=since)
