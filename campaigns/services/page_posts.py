"""Writes on a wave's Facebook Page post: planned when the wave is scheduled, handed to Meta,
and its public engagement read back.

A wave with a `page_channel` gets ONE post on that Page, with its default-language text as
it is sent (links shortened, no opt-out footer, no region: a post is for everyone), to be
published at the wave's time. Meta schedules a post from 10 minutes to 30 days ahead: a
post due sooner goes at once, one due later waits here and the hourly task hands it over
once it is within 30 days.

What Amani does not do: a post Meta took is not followed by later changes. Editing,
pausing or cancelling the wave deletes nothing on the Page and marks nothing here (delete a
scheduled post in Meta Business Suite if the wave no longer goes). A post not yet handed to
Meta waits while its wave is paused, cancelled or back in review.
"""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from campaigns.composition import message_as_sent
from campaigns.links import short_link_for
from campaigns.models import PagePost, PagePostStatus, Wave, WaveStatus
from outreach.channels import console, messenger
from outreach.channels.base import TransportError
from outreach.channels.messenger import SCHEDULE_AT_LEAST, SCHEDULE_AT_MOST
from outreach.errors import InvalidInput
from outreach.models import Channel, ChannelKind
from outreach.privacy import mask_numbers_in_provider_text

logger = logging.getLogger(__name__)

ENGAGEMENT_FOR = timedelta(days=30)  # a post's counts are read for its first 30 days
# A wave in these states still goes out: its post may be handed to Meta.
WAVE_GOES = {WaveStatus.SCHEDULED, WaveStatus.SENDING, WaveStatus.SENT}
OUTCOME_UNKNOWN = (
    "Meta may have published it without saying so: look at the Page before posting again."
)
POST_ID_MAX_LENGTH = 64


@dataclass(frozen=True)
class PageApi:
    """How a kind of Page channel publishes a post and reads its counts."""

    publish: Callable[..., str]
    engagement: Callable[[Channel, str], dict[str, int] | None]


PAGE_APIS: dict[str, PageApi] = {
    ChannelKind.MESSENGER: PageApi(messenger.publish_post, messenger.post_engagement),
    ChannelKind.CONSOLE_MESSENGER: PageApi(console.publish_post, console.post_engagement),
}


def page_post_plan(*, wave: Wave) -> PagePost | None:
    """The wave's post at the wave's time, its text as sent; handed to Meta after commit.

    Called as the wave becomes scheduled, in its transaction. A post Meta already has is
    left as it is (one post per wave); one not handed over yet takes the new text, Page and
    time, or is dropped if the wave no longer has a Page.
    """
    post = PagePost.objects.select_for_update().filter(wave=wave).first()
    if wave.page_channel_id is None:
        if post is not None and not post.provider_post_id and post.error != OUTCOME_UNKNOWN:
            post.delete()  # the Page was taken off the wave before its post left Amani
            return None
        return post
    if post is not None and (post.provider_post_id or post.error == OUTCOME_UNKNOWN):
        return post
    body = page_post_text(wave)
    if not body:
        return None
    post = post or PagePost(wave=wave)
    post.channel_id = wave.page_channel_id
    post.body = body
    post.status = PagePostStatus.SCHEDULED
    post.scheduled_for = wave.scheduled_for
    post.error = ""
    post.save()
    transaction.on_commit(partial(_enqueue_publish, post.pk))
    return post


def page_post_publish(*, post_id: int, now: datetime | None = None) -> PagePost | None:
    """Hand a planned post to its Page, if its wave still goes and it is within 30 days.

    Returns the post, or None when it was handed over already (or is being so now). A
    refusal fails it with the provider's reason; a timeout after the request was sent fails
    it as OUTCOME_UNKNOWN (never posted twice); a transient error leaves it for the next try.
    """
    now = now or timezone.now()
    # The row stays locked while Meta is asked: two tasks never hand the same post over.
    with transaction.atomic():
        post = (
            PagePost.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("wave", "channel")
            .filter(pk=post_id, status=PagePostStatus.SCHEDULED, provider_post_id="")
            .first()
        )
        if post is None:
            return None
        due = post.scheduled_for
        if post.wave.status not in WAVE_GOES or (due is not None and due - now > SCHEDULE_AT_MOST):
            return post
        api = PAGE_APIS.get(post.channel.kind)
        if api is None:
            return _failed(post, "The post's channel is not a Facebook Page.")
        try:
            provider_post_id = api.publish(
                post.channel, message=post.body, scheduled_publish_time=due
            )
        except InvalidInput as refused:
            return _failed(post, refused.message)
        except TransportError as error:
            if error.outcome_unknown:
                return _failed(post, OUTCOME_UNKNOWN)
            if error.permanent:
                return _failed(post, mask_numbers_in_provider_text(str(error)))
            logger.warning("Page post %s not handed over yet: %s", post.pk, error)
            return post
        if len(provider_post_id) > POST_ID_MAX_LENGTH:
            return _failed(post, "Meta's post id is longer than Amani keeps.")
        post.provider_post_id = provider_post_id
        at_once = due is None or due - now < SCHEDULE_AT_LEAST
        post.status = PagePostStatus.PUBLISHED if at_once else PagePostStatus.SCHEDULED
        post.save(update_fields=["provider_post_id", "status"])
        logger.info(
            "Page post %s of wave %s handed to channel %s", post.pk, post.wave_id, post.channel_id
        )
        return post


def page_posts_publish_due(*, now: datetime | None = None) -> list[int]:
    """Hand over every planned post now within Meta's 30 days; returns the posts tried."""
    now = now or timezone.now()
    due = PagePost.objects.filter(
        status=PagePostStatus.SCHEDULED,
        provider_post_id="",
        wave__status__in=WAVE_GOES,
        scheduled_for__lte=now + SCHEDULE_AT_MOST,
    )
    tried = list(due.values_list("pk", flat=True))
    for post_id in tried:
        page_post_publish(post_id=post_id, now=now)
    return tried


def page_posts_engagement_refresh(*, now: datetime | None = None) -> int:
    """Read the reactions, comments and shares of the posts published in the last 30 days.

    The counts are the Page's public aggregates and name nobody. Null when the page token
    may not read them; a post whose counts could not be read now keeps its last ones.
    Returns how many posts were read.
    """
    now = now or timezone.now()
    posts = (
        PagePost.objects.select_related("channel")
        .exclude(provider_post_id="")
        .filter(
            status__in=[PagePostStatus.SCHEDULED, PagePostStatus.PUBLISHED],
            scheduled_for__gte=now - ENGAGEMENT_FOR,
            scheduled_for__lte=now,
        )
    )
    read = 0
    for post in posts:
        api = PAGE_APIS.get(post.channel.kind)
        if api is None:
            continue
        try:
            counts = api.engagement(post.channel, post.provider_post_id)
        except TransportError as error:
            logger.warning("Engagement of page post %s not read: %s", post.pk, error)
            continue
        counts = counts or {}
        post.reactions = counts.get("reactions")
        post.comments = counts.get("comments")
        post.shares = counts.get("shares")
        post.status = PagePostStatus.PUBLISHED  # Meta published it at its time
        post.engagement_read_at = now
        post.save(update_fields=["reactions", "comments", "shares", "status", "engagement_read_at"])
        read += 1
    return read


def page_post_text(wave: Wave) -> str:
    """The wave's default-language text as sent, without footer or region; "" if none."""
    campaign = wave.campaign
    language = campaign.default_language
    variant = wave.variants.filter(language=language).first()
    if variant is None:
        return ""
    text = message_as_sent(
        variant.body,
        language=language,
        campaign_name=campaign.name,
        region="",
        link=lambda url: short_link_for(wave=wave, language=language, url=url),
        with_footer=False,
    )
    # An empty region leaves "Peace in , friends": the space before the mark goes too.
    text = re.sub(r"[ \t]+([,.;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", text))
    return text.strip()


def _failed(post: PagePost, reason: str) -> PagePost:
    post.status, post.error = PagePostStatus.FAILED, reason[:300]
    post.save(update_fields=["status", "error"])
    logger.warning("Page post %s of wave %s failed: %s", post.pk, post.wave_id, post.error)
    return post


def _enqueue_publish(post_id: int) -> None:
    """Hand the post to a worker; with the broker down, the hourly task publishes it."""
    from campaigns.tasks import publish_page_post
    from outreach.queueing import enqueue_or_leave_to_sweeper

    enqueue_or_leave_to_sweeper(publish_page_post, post_id, queue="bulk")
