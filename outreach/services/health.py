"""Writes that prove background processes are alive."""

import socket

from django.utils import timezone

from outreach.models import ServiceHeartbeat


def heartbeat_record(*, name: str) -> ServiceHeartbeat:
    """Record that the process called `name` (e.g. "beat", "worker") is alive now."""
    heartbeat, _ = ServiceHeartbeat.objects.update_or_create(
        name=name, defaults={"beat_at": timezone.now(), "hostname": socket.gethostname()}
    )
    return heartbeat
