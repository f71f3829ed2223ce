"""Celery tasks of the outreach app: thin, they take ids or names and call a service."""

from celery import shared_task
from django.conf import settings

from outreach.dispatchers import dispatcher_slot, dispatchers_active
from outreach.services.dispatch import (
    channel_has_ready_messages,
    channels_with_queued_messages,
    dispatch_channel,
)
from outreach.services.health import heartbeat_record
from outreach.services.inbound import WAITING, inbound_handle
from outreach.services.outbound import message_send
from outreach.services.status import status_reports_apply_all
from outreach.services.sweeper import (
    release_expired_leases,
    sweep_unrouted_inbound,
    sweep_unsent_replies,
)
from outreach.services.templates import templates_sync_all


@shared_task(name="outreach.tasks.record_heartbeat")
def record_heartbeat(name: str) -> None:
    """Idempotent: writes the same row however often it runs."""
    heartbeat_record(name=name)


@shared_task(bind=True, name="outreach.tasks.handle_inbound", acks_late=True, max_retries=None)
def handle_inbound(self, inbound_id: int) -> str:
    """Idempotent: a message already handled is left alone. Workers route in parallel, so a
    message waits (a short retry) while its sender's earlier one is still to route."""
    in_order = not settings.CELERY_TASK_ALWAYS_EAGER  # in-process tasks already run in order
    intent = inbound_handle(inbound_id=inbound_id, in_order=in_order)
    if intent == WAITING:
        raise self.retry(countdown=0.5)
    return intent


@shared_task(bind=True, name="outreach.tasks.send_message", max_retries=None)
def send_message(self, message_id: int) -> str:
    """Idempotent: only one call claims the message. The service decides waits and retries."""
    outcome = message_send(message_id=message_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="outreach.tasks.apply_status_reports")
def apply_status_reports() -> int:
    """Idempotent: each waiting report is taken once (SKIP LOCKED) and deleted as applied."""
    return status_reports_apply_all()


@shared_task(name="outreach.tasks.sweep")
def sweep() -> dict[str, int]:
    """Re-enqueue inbound messages and replies a lost broker message left behind."""
    released = release_expired_leases()
    status_reports_apply_all()  # what arrived after the last apply task
    inbound, replies = sweep_unrouted_inbound(), sweep_unsent_replies()
    for inbound_id in inbound:
        handle_inbound.apply_async(args=[inbound_id], queue="priority")
    for message_id in replies:
        send_message.apply_async(args=[message_id], queue="priority")
    return {"inbound": len(inbound), "replies": len(replies), "released": released}


@shared_task(name="outreach.tasks.dispatch")
def dispatch(channel_id: int) -> dict[str, int]:
    """Idempotent: claims are atomic and fenced. Ends at once when the channel already has
    its DISPATCHERS_PER_CHANNEL dispatchers; a dispatcher hands on to one successor."""
    with dispatcher_slot(channel_id) as slot:
        if slot is None:
            return {"busy": 1}
        report = dispatch_channel(channel_id=channel_id, keepalive=slot.heartbeat)
    if channel_has_ready_messages(channel_id):
        dispatch.apply_async(args=[channel_id], queue="bulk")  # more is waiting
    return report.outcomes


@shared_task(name="outreach.tasks.dispatch_tick")
def dispatch_tick() -> list[int]:
    """Give every channel with queued messages its dispatchers (after a crash, say): a task
    that finds the channel's slots all held ends at once, so this never adds more."""
    slots = max(1, settings.DISPATCHERS_PER_CHANNEL)
    idle = [c for c in channels_with_queued_messages() if dispatchers_active(c) < slots]
    for channel_id in idle:
        dispatch.apply_async(args=[channel_id], queue="bulk")
    return idle


@shared_task(name="outreach.tasks.sync_templates")
def sync_templates() -> dict[int, dict[str, int] | None]:
    """Idempotent: each channel's templates are copied whole from its provider again."""
    return templates_sync_all()
