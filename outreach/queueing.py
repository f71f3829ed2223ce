"""Handing work to Celery after commit, without ever losing it."""

import logging

from celery import Task
from django.conf import settings

logger = logging.getLogger(__name__)


def enqueue_or_leave_to_sweeper(task: Task, object_id: int, *, queue: str = "priority") -> None:
    """Enqueue `task(object_id)`; if the broker is down, the row stays for the sweeper to find."""
    try:
        task.apply_async(args=[object_id], queue=queue)
    except Exception:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise  # in-process: the error is the task's own, not the broker's
        logger.exception("could not enqueue %s(%s); the sweeper will", task.name, object_id)
