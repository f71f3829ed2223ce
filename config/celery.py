"""The Celery app: JSON only, late acks, time limits, `priority` and `bulk` queues."""

import os

from celery import Celery
from celery.schedules import crontab
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("amani")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Replies and confirmations go through `priority`; campaign fan-out and dispatch through `bulk`,
# so a large wave never delays a STOP confirmation.
app.conf.task_queues = (Queue("priority"), Queue("bulk"))
# The scheduler's tick is small and must never wait behind a wave's fan-out.
app.conf.task_routes = {
    "campaigns.tasks.tick": {"queue": "priority"},
    "outreach.tasks.dispatch": {"queue": "bulk"},
    "campaigns.tasks.*": {"queue": "bulk"},
}
app.conf.beat_schedule = {
    "campaigns-tick": {
        "task": "campaigns.tasks.tick",
        "schedule": 5.0,  # pause, resume and due waves take effect within one tick
        "options": {"expires": 4},
    },
    "dispatch-tick": {
        "task": "outreach.tasks.dispatch_tick",
        "schedule": 15.0,
        "options": {"expires": 14},
    },
    "apply-status-reports": {
        "task": "outreach.tasks.apply_status_reports",
        "schedule": 5.0,  # what web processes did not ask for already
        "options": {"expires": 4, "queue": "priority"},
    },
    "sweep-lost-work": {
        "task": "outreach.tasks.sweep",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "report-rollups": {
        "task": "campaigns.tasks.rollup",
        "schedule": 30.0,  # reports are never more than a minute behind
        "options": {"expires": 25},
    },
    "sync-whatsapp-templates": {
        "task": "outreach.tasks.sync_templates",
        "schedule": crontab(minute="*/15"),  # a template's approval shows within 15 minutes
        "options": {"expires": 14 * 60, "queue": "bulk"},
    },
    "page-posts": {
        "task": "campaigns.tasks.page_posts",
        "schedule": crontab(minute=7),  # hourly: due posts handed over, engagement read
        "options": {"expires": 55 * 60},
    },
    "record-beat-heartbeat": {
        "task": "outreach.tasks.record_heartbeat",
        "schedule": crontab(),  # every minute
        "args": ("beat",),
        "options": {"expires": 55},
    },
}
app.autodiscover_tasks()
