"""Celery tasks of the campaigns app: thin, they call services."""

from celery import shared_task

from campaigns.services.fanout import fallback_after_failures, fanout_wave
from campaigns.services.page_posts import (
    page_post_publish,
    page_posts_engagement_refresh,
    page_posts_publish_due,
)
from campaigns.services.rollups import waves_rollup_due
from campaigns.services.waves import dispatch_wave_channels, waves_tick


@shared_task(name="campaigns.tasks.tick")
def tick() -> list[int]:
    """Idempotent: a wave is started once (row lock, status check); returns the started ids.

    Also enqueues again the fan-out of a sending wave whose task was lost (a Redis restart).
    """
    return waves_tick()


@shared_task(name="campaigns.tasks.fanout")
def fanout(wave_id: int) -> dict[str, int]:
    """Idempotent: the unique (wave, subscriber, channel) constraint makes a re-run a no-op."""
    audience = fanout_wave(wave_id=wave_id)
    if audience:
        dispatch_wave_channels(wave_id)
    return audience


@shared_task(name="campaigns.tasks.rollup")
def rollup() -> list[int]:
    """Idempotent: each due wave's cells are brought up to date from its marked blocks (the
    marks are taken in the transaction that recounts them)."""
    return waves_rollup_due()


@shared_task(name="campaigns.tasks.fallback")
def fallback(message_ids: list[int]) -> int:
    """Idempotent: the unique (wave, person, step) constraint keeps one fallback per failure."""
    waves = fallback_after_failures(message_ids=message_ids)
    for wave_id in waves:
        dispatch_wave_channels(wave_id)
    return len(waves)


@shared_task(name="campaigns.tasks.publish_page_post")
def publish_page_post(post_id: int) -> bool:
    """Idempotent: a post is handed to its Page once (row lock, no post id yet)."""
    post = page_post_publish(post_id=post_id)
    return post is not None and bool(post.provider_post_id)


@shared_task(name="campaigns.tasks.page_posts")
def page_posts() -> dict[str, int]:
    """Hourly: planned posts now within Meta's 30 days are handed over, and the counts of
    the last 30 days' posts read again (both idempotent)."""
    handed = page_posts_publish_due()
    return {"tried": len(handed), "read": page_posts_engagement_refresh()}
