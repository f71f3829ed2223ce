"""Celery tasks of the campaigns app: thin, they call services."""

from celery import shared_task

from campaigns.services.waves import waves_tick


@shared_task(name="campaigns.tasks.tick")
def tick() -> list[int]:
    """Idempotent: a wave is started once (row lock, status check); returns the started ids."""
    return waves_tick()
