"""Celery tasks of the outreach app: thin, they take ids or names and call a service."""

from celery import shared_task

from outreach.services.health import heartbeat_record


@shared_task(name="outreach.tasks.record_heartbeat")
def record_heartbeat(name: str) -> None:
    """Idempotent: writes the same row however often it runs."""
    heartbeat_record(name=name)
