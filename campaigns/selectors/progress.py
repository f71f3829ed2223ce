"""A wave's live progress: its messages counted per channel, in one grouped query.

What a manager watches while a wave goes out: per channel, how many messages are queued,
with a provider, sent, delivered, failed, and held — by the sending window (quiet hours or
a blackout: they go at the next opening) or because the wave is paused. Counts of messages,
never who they went to. Below them, what the home page lists as going on now: campaigns in
progress and waves under way.
"""

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, QuerySet

from campaigns.models import Campaign, Wave, WaveStatus
from campaigns.selectors.recipients import wave_channels
from campaigns.selectors.send_gate import wave_window_hold
from outreach.models import Organization, OutboundMessage, OutboundStatus
from outreach.selectors.engine import wave_sends_last_minute
from outreach.send_gates import Hold


@dataclass(frozen=True)
class Counts:
    """One channel's (or the wave's) messages by where they are."""

    queued: int = 0  # waiting for a dispatcher
    sending: int = 0  # claimed, on their way to the provider
    held_by_window: int = 0  # outside quiet hours or in a blackout: until the next opening
    held_paused: int = 0  # the wave is paused: until resumed
    sent: int = 0  # the provider took them; no receipt yet
    delivered: int = 0  # delivered (or read)
    failed: int = 0  # failed or undelivered
    cancelled: int = 0

    @property
    def held(self) -> int:
        return self.held_by_window + self.held_paused

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))

    @property
    def bar(self) -> list[tuple[str, float]]:
        """(part, percent of all) for a progress bar: delivered, sent, queued, failed, held."""
        if not self.total:
            return []
        parts = {
            "delivered": self.delivered,
            "sent": self.sent,
            "queued": self.queued + self.sending,
            "failed": self.failed,
            "held": self.held,
        }
        return [(name, round(100 * n / self.total, 2)) for name, n in parts.items() if n]


@dataclass(frozen=True)
class ChannelProgress:
    channel_id: int
    name: str
    kind: str
    counts: Counts


@dataclass(frozen=True)
class WindowHold:
    """Why the wave's remaining messages wait, and until when (both clocks)."""

    reason: str
    until_utc: datetime | None
    until_local: datetime | None
    timezone: str


@dataclass(frozen=True)
class WaveProgress:
    channels: list[ChannelProgress]
    totals: Counts
    hold: WindowHold | None


def wave_progress(wave: Wave, *, now: datetime) -> WaveProgress:
    """The wave's messages per channel (each of its channels, in its order, zeros included),
    their totals, and the hold its sending window puts on it at `now`, if any.

    While the window holds the wave, its queued messages are counted as held by it: a
    dispatcher that claims one puts it back until the next opening.
    """
    window = wave_window_hold(wave, now)
    rows = _counted(wave, now)
    channels = [
        ChannelProgress(
            channel_id=channel.pk,
            name=channel.name,
            kind=channel.get_kind_display(),
            counts=rows.pop(channel.pk, ("", "", Counts()))[2],
        )
        for channel in wave_channels(wave)
    ]
    # A channel taken off the wave after its messages were made still shows them.
    channels += [
        ChannelProgress(channel_id=pk, name=name, kind=kind, counts=counts)
        for pk, (name, kind, counts) in rows.items()
    ]
    if window is not None:
        channels = [replace(line, counts=_held_by_window(line.counts)) for line in channels]
    totals = Counts(
        **{f.name: sum(getattr(line.counts, f.name) for line in channels) for f in fields(Counts)}
    )
    return WaveProgress(channels=channels, totals=totals, hold=_hold(wave, window))


@dataclass(frozen=True)
class WavePace:
    """How fast the wave goes now, and how long the rest would take at that pace."""

    last_minute: int | None  # messages providers took in the last minute; None: not counted
    to_send: int  # not yet handed to a provider: queued, on their way, held
    seconds_left: float | None  # at this pace; None when nothing goes now or nothing is left


def wave_pace(wave: Wave, progress: WaveProgress) -> WavePace:
    """The wave's send rate over the last minute (counted in Redis as providers take its
    messages: no scan of a million rows) and the time its unsent messages would take at it."""
    last_minute = wave_sends_last_minute(wave.pk)
    totals = progress.totals
    to_send = totals.queued + totals.sending + totals.held
    seconds_left = 60 * to_send / last_minute if last_minute and to_send else None
    return WavePace(last_minute=last_minute, to_send=to_send, seconds_left=seconds_left)


def _counted(wave: Wave, now: datetime) -> dict[int, tuple[str, str, Counts]]:
    """Channel id → (name, kind, counts): one query, grouped by channel."""
    deferred = Q(status=OutboundStatus.QUEUED, lease_expires_at__gt=now)
    statuses = {
        "queued": Q(status=OutboundStatus.QUEUED) & ~deferred,
        "sending": Q(status=OutboundStatus.SENDING),
        "held_by_window": deferred,
        "held_paused": Q(status=OutboundStatus.HELD),
        "sent": Q(status=OutboundStatus.SENT),
        "delivered": Q(status__in=[OutboundStatus.DELIVERED, OutboundStatus.READ]),
        "failed": Q(status__in=[OutboundStatus.FAILED, OutboundStatus.UNDELIVERED]),
        "cancelled": Q(status=OutboundStatus.CANCELED),
    }
    grouped = (
        OutboundMessage.objects.filter(wave_id=wave.pk)
        .values("channel_id", "channel__name", "channel__kind")
        .annotate(**{name: Count("pk", filter=where) for name, where in statuses.items()})
        .order_by()
    )
    return {
        row["channel_id"]: (
            row["channel__name"],
            row["channel__kind"],
            Counts(**{name: row[name] for name in statuses}),
        )
        for row in grouped
    }


def _held_by_window(counts: Counts) -> Counts:
    return replace(counts, queued=0, held_by_window=counts.held_by_window + counts.queued)


def _hold(wave: Wave, window: Hold | None) -> WindowHold | None:
    if window is None:
        return None
    zone = wave.campaign.timezone
    return WindowHold(
        reason=window.reason,
        until_utc=window.until,
        until_local=window.until.astimezone(ZoneInfo(zone)) if window.until else None,
        timezone=zone,
    )


# --- what is going on now (the console's home page) ---------------------------------------

# A wave that has started and not finished: it is sending, or paused on its way.
UNDER_WAY = (WaveStatus.SENDING, WaveStatus.PAUSED)
FINISHED = (WaveStatus.SENT, WaveStatus.CANCELLED)


@dataclass(frozen=True)
class WaveUnderWay:
    wave: Wave
    progress: WaveProgress


def campaigns_in_progress(organization: Organization, *, today: date) -> QuerySet[Campaign]:
    """The organization's campaigns with a wave still to finish, or polling day still ahead;
    each with `waves_open` (its waves neither sent nor cancelled), soonest election first."""
    return (
        Campaign.objects.filter(organization=organization)
        .annotate(waves_open=Count("waves", filter=~Q(waves__status__in=FINISHED)))
        .filter(Q(waves_open__gt=0) | Q(election_date__gte=today))
        .order_by(F("election_date").asc(nulls_last=True), "name")
    )


def waves_under_way(
    organization: Organization, *, now: datetime, limit: int = 10
) -> list[WaveUnderWay]:
    """The organization's waves sending now (or paused on their way), each with its progress."""
    waves = (
        Wave.objects.filter(organization=organization, status__in=UNDER_WAY)
        .select_related("campaign")
        .order_by("scheduled_for", "pk")[:limit]
    )
    return [WaveUnderWay(wave=wave, progress=wave_progress(wave, now=now)) for wave in waves]


def wave_names(organization: Organization, wave_ids: Iterable[int | None]) -> dict[int, str]:
    """The names of the organization's waves among `wave_ids`."""
    ids = {pk for pk in wave_ids if pk}
    return dict(
        Wave.objects.filter(organization=organization, pk__in=ids).values_list("pk", "name")
    )
