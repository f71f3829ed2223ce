"""Handing work to Celery after commit, without ever losing it."""

import logging

from celery import Task
from django.conf import settings

logger = logging.getLogger(__name__)

# A broker that is down is left at once (the sweeper re-enqueues from the database): a
# webhook must not wait out Celery's default publish retries.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1}


# Within a queue, what a STOP sets off (its routing, the goodbye) goes ahead of the joins and
# welcomes waiting there: Celery's priorities, 0 first (CELERY_TASK_DEFAULT_PRIORITY is 5).
URGENT = 0


def enqueue_or_leave_to_sweeper(
    task: Task, object_id: int, *, queue: str = "priority", urgent: bool = False
) -> None:
    """Enqueue `task(object_id)`; if the broker is down, the row stays for the sweeper to find."""
    options = {"priority": URGENT} if urgent else {}
    try:
        task.apply_async(
            args=[object_id], queue=queue, retry_policy=PUBLISH_RETRY_POLICY, **options
        )
    except Exception as error:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise  # in-process: the error is the task's own, not the broker's
        # One line, no traceback: a broker outage would print one per request.
        logger.warning(
            "could not enqueue %s(%s), the sweeper will: %s",
            task.name,
            object_id,
            type(error).__name__,
        )
