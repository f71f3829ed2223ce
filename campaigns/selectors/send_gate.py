"""The send gate: whether a wave's messages may go out now, asked right before each provider call.

Registered with `outreach.send_gates` in `CampaignsConfig.ready()`. A cancelled wave's
messages never go (final), a paused wave's wait for resume (until None), and outside the
campaign's sending window — quiet hours in its time zone, or a blackout the wave has no
admin approval for — they wait for the next opening (`campaigns.timing.closed_at`, the same
answer the scheduler gets when a wave is due). Dispatch asks once per group of messages, so
the gate reads the waves, their campaigns and the blackouts not yet over in one query.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.db.models import FilteredRelation, Q

from campaigns import timing
from campaigns.models import Wave, WavePriority, WaveStatus
from outreach.send_gates import Hold

CANCELLED = "The wave was cancelled."
PAUSED = "The wave is paused: it waits to be resumed."


@dataclass
class WaveWindow:
    """What the gate needs of one wave: its state, its campaign's hours, its blackouts."""

    status: str
    may_pass_blackouts: bool
    timezone: str
    quiet: timing.QuietHours
    blackouts: list[timing.BlackoutWindow] = field(default_factory=list)


def campaign_send_gate(wave_ids: set[int], now: datetime) -> dict[int, Hold]:
    """The gate outreach calls: the holds on those of `wave_ids` that may not send at `now`."""
    holds = {}
    for wave_id, window in wave_windows(wave_ids, now).items():
        hold = hold_of(window, now)
        if hold is not None:
            holds[wave_id] = hold
    return holds


def wave_window_hold(wave: Wave, now: datetime) -> Hold | None:
    """The hold a sending wave is under because of its sending window or a blackout, if any.

    What the wave's API representation and the admin show; None for a wave not sending.
    """
    if wave.status != WaveStatus.SENDING:
        return None
    window = wave_windows([wave.pk], now).get(wave.pk)
    return hold_of(window, now) if window is not None else None


def wave_windows(wave_ids: Iterable[int], now: datetime) -> dict[int, WaveWindow]:
    """Each wave's state and sending window, with the blackouts not over by `now`: one query."""
    rows = (
        Wave.objects.filter(pk__in=list(wave_ids))
        .annotate(
            upcoming=FilteredRelation(
                "campaign__blackouts", condition=Q(campaign__blackouts__ends_at__gt=now)
            )
        )
        .order_by("pk", "upcoming__starts_at")
        .values_list(
            "pk",
            "status",
            "priority",
            "blackout_approved_by_id",
            "campaign__timezone",
            "campaign__quiet_start",
            "campaign__quiet_end",
            "upcoming__starts_at",
            "upcoming__ends_at",
        )
    )
    windows: dict[int, WaveWindow] = {}
    for pk, status, priority, approved_by, zone, quiet_start, quiet_end, starts, ends in rows:
        window = windows.get(pk)
        if window is None:
            window = windows[pk] = WaveWindow(
                status=status,
                may_pass_blackouts=priority == WavePriority.URGENT and approved_by is not None,
                timezone=zone,
                quiet=timing.QuietHours(start=quiet_start, end=quiet_end),
            )
        if starts is not None and not window.may_pass_blackouts:
            window.blackouts.append(timing.BlackoutWindow(start=starts, end=ends))
    return windows


def hold_of(window: WaveWindow, now: datetime) -> Hold | None:
    """The hold one wave is under at `now`, or None if its messages may go."""
    if window.status == WaveStatus.CANCELLED:
        return Hold(reason=CANCELLED, final=True)
    if window.status == WaveStatus.PAUSED:
        return Hold(reason=PAUSED)
    zone = ZoneInfo(window.timezone)
    closed = timing.closed_at(now, quiet=window.quiet, blackouts=window.blackouts, tz=zone)
    if closed is None:
        return None
    return Hold(reason=_why(closed, window, zone), until=closed.opens_at)


def _why(closed: timing.Closed, window: WaveWindow, zone: ZoneInfo) -> str:
    """What staff read on a held message and on the wave: the cause and the opening, both clocks."""
    opens = closed.opens_at
    local = opens.astimezone(zone)
    if closed.reason == "quiet hours":
        cause = (
            f"Outside the sending window: quiet hours {_clock(window.quiet.start)} to "
            f"{_clock(window.quiet.end)} {window.timezone}"
        )
    else:
        cause = "Inside a blackout window (no admin approval for this wave)"
    return f"{cause}; held until {local:%Y-%m-%d %H:%M} local ({opens:%Y-%m-%d %H:%M} UTC)."


def _clock(moment: time) -> str:
    return f"{moment:%H:%M}"
