"""Celery tasks of the outreach app: thin, they take ids or names and call a service."""

from celery import shared_task

from outreach.services.health import heartbeat_record
from outreach.services.inbound import inbound_handle
from outreach.services.outbound import message_send
from outreach.services.sweeper import sweep_unrouted_inbound, sweep_unsent_replies


@shared_task(name="outreach.tasks.record_heartbeat")
def record_heartbeat(name: str) -> None:
    """Idempotent: writes the same row however often it runs."""
    heartbeat_record(name=name)


@shared_task(name="outreach.tasks.handle_inbound", acks_late=True)
def handle_inbound(inbound_id: int) -> None:
    """Idempotent: a message already handled is left alone."""
    inbound_handle(inbound_id=inbound_id)


@shared_task(bind=True, name="outreach.tasks.send_message", max_retries=None)
def send_message(self, message_id: int) -> str:
    """Idempotent: only one call claims the message. The service decides waits and retries."""
    outcome = message_send(message_id=message_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="outreach.tasks.sweep")
def sweep() -> dict[str, int]:
    """Re-enqueue inbound messages and replies a lost broker message left behind."""
    inbound, replies = sweep_unrouted_inbound(), sweep_unsent_replies()
    for inbound_id in inbound:
        handle_inbound.apply_async(args=[inbound_id], queue="priority")
    for message_id in replies:
        send_message.apply_async(args=[message_id], queue="priority")
    return {"inbound": len(inbound), "replies": len(replies)}
