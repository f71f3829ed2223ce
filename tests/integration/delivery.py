"""Waves built and started through the real services, and what the tests watch while they send."""

import datetime as dt
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import redis
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Wave
from campaigns.services import waves as services
from campaigns.services.campaigns import campaign_create
from campaigns.services.segments import segment_create
from config.celery import app as celery_app
from outreach.models import (
    Channel,
    ConsentEvent,
    ConsentKind,
    ConsentStatus,
    Organization,
    OutboundMessage,
    OutboundStatus,
    Role,
    Subscriber,
)
from outreach.services.channels import channel_create
from outreach.services.organizations import member_add
from tests.support.people import with_contacts
from tests.support.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilioApi, twilio_signature
from tests.support.webhooks import twilio_form

DISPATCH_TASK = "outreach.tasks.dispatch"
# The broker's lists a dispatch task can wait in (the default queue, and the bulk queue).
DISPATCH_QUEUES = ("priority", "bulk")


def sms_channel(organization: Organization, *, messages_per_second: int) -> Channel:
    return channel_create(
        organization=organization,
        name="Bulk",
        kind="twilio_sms",
        country="KE",
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number="+254700000100",
        messages_per_second=messages_per_second,
    )


def subscribers(organization: Organization, channel: Channel, count: int) -> list[str]:
    """`count` opted-in subscribers on `channel`; their addresses."""
    addresses = [f"+2547{10_000_000 + i:08d}" for i in range(count)]
    Subscriber.objects.bulk_create(
        with_contacts(
            Subscriber(
                organization=organization,
                channel=channel,
                address=address,
                language="en",
                consent_status=ConsentStatus.OPTED_IN,
            )
            for address in addresses
        )
    )
    return addresses


def due_waves(organization: Organization, channel: Channel, bodies: Iterable[str]) -> list[Wave]:
    """One approved, scheduled wave per body, all to everyone on `channel`, due together."""
    campaign = campaign_create(
        organization=organization, created_by=None, name="Amani", fatigue_cap_per_week=None
    )
    campaign.quiet_start = campaign.quiet_end  # no quiet hours: the test runs at any hour
    campaign.save()
    author = member_add(organization=organization, username="author", role=Role.MANAGER)
    reviewer = member_add(organization=organization, username="reviewer", role=Role.REVIEWER)
    segment = segment_create(organization=organization, created_by=None, name="All")
    due = timezone.now() + dt.timedelta(minutes=5)
    waves = []
    for number, body in enumerate(bodies, start=1):
        wave = services.wave_create(
            campaign=campaign,
            created_by=author.membership.user,
            name=f"Wave {number}",
            send_at=due,
            segment=segment,
            channels=[channel],
            variants=[{"language": "en", "body": body}],
        )
        services.wave_submit(wave=wave, by=author.membership.user)
        services.wave_approve(wave=wave, by=reviewer.membership.user)
        services.wave_schedule(wave=wave, by=None)
        wave.refresh_from_db()
        waves.append(wave)
    return waves


def start_sending(waves: list[Wave]) -> None:
    """What the beat's tick does when the time comes; fan-out then runs on a worker."""
    started = services.waves_tick(now=max(wave.scheduled_for for wave in waves))
    assert sorted(started) == sorted(wave.pk for wave in waves)


def text_stop(client: Client, channel: Channel, address: str) -> None:
    """`address` texts STOP: Twilio's signed POST to the channel's inbound webhook."""
    path = reverse("twilio-inbound", args=[channel.uuid])
    form = twilio_form("STOP", sender=address)
    signature = twilio_signature(AUTH_TOKEN, settings.PUBLIC_BASE_URL + path, form)
    response = client.post(path, form, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 200


def opt_outs(addresses: Iterable[str]) -> dict[str, dt.datetime]:
    """When each of `addresses` that has opted out reached the consent ledger."""
    return dict(
        ConsentEvent.objects.filter(
            kind=ConsentKind.OPT_OUT, subscriber__address__in=list(addresses)
        ).values_list("subscriber__address", "recorded_at")
    )


def wave_calls(api: FakeTwilioApi, prefix: str) -> Counter[str]:
    """How many times the provider was asked to send a message starting with `prefix`, by To."""
    return Counter(message.to for message in list(api.sent) if message.body.startswith(prefix))


def fanned_out(channel: Channel, expected: int, *, timeout: float = 60) -> bool:
    """Wait until fan-out has made `expected` messages on `channel`."""
    return wait_until(
        database_says(lambda: OutboundMessage.objects.filter(channel=channel).count() >= expected),
        timeout=timeout,
    )


def unfinished(channel: Channel) -> int:
    """Messages of the channel neither handed to the provider nor ended (failed, cancelled)."""
    return (
        OutboundMessage.objects.filter(channel=channel)
        .filter(
            status__in=[OutboundStatus.QUEUED, OutboundStatus.SENDING, OutboundStatus.HELD],
            provider_message_id="",
        )
        .count()
    )


def database_says(question: Callable[[], bool]) -> Callable[[], bool]:
    """`question`, answered False while the database is away (it is being restarted)."""

    def ask() -> bool:
        try:
            close_old_connections()
            return question()
        except (OperationalError, InterfaceError):
            connection.close()
            return False

    return ask


@dataclass
class DispatcherWatch:
    """Samples, on a thread, the dispatch tasks of a channel: running on workers, and waiting.

    Running ones come from the workers themselves (`inspect().active()`), waiting ones from
    the broker's lists.
    """

    channel_id: int
    hostname_prefix: str
    broker_url: str
    every: float = 0.3
    running: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> "DispatcherWatch":
        self._thread = threading.Thread(target=self._watch, name="dispatcher-watch", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def waiting_now(self) -> int:
        broker = redis.Redis.from_url(self.broker_url)
        try:
            return sum(
                1
                for queue in DISPATCH_QUEUES
                for name in _priority_lists(queue)
                for raw in broker.lrange(name, 0, -1)
                if _is_dispatch_of(json.loads(raw), self.channel_id)
            )
        finally:
            broker.close()

    def running_now(self) -> int:
        active = celery_app.control.inspect(timeout=0.5).active() or {}
        return sum(
            1
            for hostname, tasks in active.items()
            if hostname.startswith(self.hostname_prefix)
            for task in tasks
            if task.get("name") == DISPATCH_TASK and _first_arg(task.get("args")) == self.channel_id
        )

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                self.running.append(self.running_now())
                self.waiting.append(self.waiting_now())
            except Exception:  # noqa: S112 - a broker restart: sample again next time
                continue
            finally:
                self._stop.wait(self.every)


def _priority_lists(queue: str) -> list[str]:
    # Kombu keeps a Redis queue as one list per priority step; step 0 has the queue's name.
    return [queue, *(f"{queue}\x06\x16{step}" for step in (3, 6, 9))]


def _is_dispatch_of(message: dict, channel_id: int) -> bool:
    headers = message.get("headers") or {}
    if headers.get("task") != DISPATCH_TASK:
        return False
    return headers.get("argsrepr", "").strip("()[], ") == str(channel_id)


def _first_arg(args: object) -> object:
    if isinstance(args, list | tuple):
        return args[0] if args else None
    if isinstance(args, str):
        text = args.strip("()[], ")
        return int(text) if text.isdigit() else text
    return None


def wait_until(condition: Callable[[], bool], *, timeout: float, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False
