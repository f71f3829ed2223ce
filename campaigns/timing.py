"""When a wave goes out: election-relative send times, quiet hours and blackout windows.

`closed_at` is the one answer to "may this campaign send now, and if not, when next?": the
scheduler asks it when a wave is due, and the send gate before every provider call.

Pure functions on dates and time zones; no models, no database. Every instant returned is an
aware UTC datetime; local times are wall-clock times in the campaign's IANA time zone.

Daylight saving time, wherever a local wall-clock time becomes an instant:
- a time that does not exist (the spring-forward gap) moves forward to the first valid instant
  after the gap: 02:30 on a day New York jumps from 02:00 to 03:00 becomes 03:00 local;
- a time that happens twice (the fall-back overlap) takes its first occurrence (fold=0).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_LOCAL_TIME = time(9, 0)  # a wave given as days only ("E-14d") goes out at 09:00 local
MAX_DAYS = 365
MAX_HOURS = MAX_DAYS * 24

_NOT_RELATIVE = "'{}' is not a time relative to election day; write e.g. E-7d 18:00 or E+1d 09:00"
_NO_SUCH_CLOCK_TIME = (
    "'{}' has no such clock time; write hours 00 to 23 and minutes 00 to 59, e.g. E-7d 18:00"
)
_HOURS_WITH_CLOCK = "'{}' gives both hours and a clock time; write e.g. E-36h, or E-2d 10:00"
_DAYS_WITH_HOURS = "'{}' gives both days and hours; write one of them, e.g. E-2d or E-36h"
_TOO_FAR = f"'{{}}' is more than {MAX_DAYS} days from election day"
_NOT_A_CLOCK_TIME = "'{}' needs a local clock time in hours and minutes, e.g. 18:00"

_RELATIVE = re.compile(
    r"""
    E
    (?:\s*(?P<sign>[+-])\s*(?P<amount>[0-9]+)\s*(?P<unit>d|days?|h|hours?))?
    (?:\s*(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2}))?
    """,
    re.IGNORECASE | re.VERBOSE | re.ASCII,
)


@dataclass(frozen=True)
class RelativeTime:
    """A send time relative to election day: whole days at a local clock time, or hours.

    `hours` count real hours from the local midnight that starts election day; `at` is the
    local clock time for a day offset (None: DEFAULT_LOCAL_TIME).
    """

    days: int = 0
    hours: int = 0
    at: time | None = None

    def __post_init__(self) -> None:
        if problem := _problem(self.days, self.hours, self.at):
            raise ValueError(problem.format(self))

    def __str__(self) -> str:
        """The canonical form: "E-7d 18:00", "E+1d 09:00", "E 07:30", "E-14d", "E-36h", "E"."""
        offset = (f"{self.days:+d}d" if self.days else "") + (
            f"{self.hours:+d}h" if self.hours else ""
        )
        clock = f" {self.at:%H:%M}" if self.at is not None else ""
        return f"E{offset}{clock}"


@dataclass(frozen=True)
class QuietHours:
    """Local hours when nothing is sent, from `start` up to `end`; crosses midnight if start > end.

    start == end means no quiet hours at all.
    """

    start: time
    end: time

    def contains(self, local: time) -> bool:
        """Whether a local clock time falls in [start, end)."""
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@dataclass(frozen=True)
class BlackoutWindow:
    """A span of time, [start, end), when waves need a decision (blocked, or an admin approves)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_aware(self.start, "A blackout's start")
        _require_aware(self.end, "A blackout's end")
        if self.end <= self.start:
            raise ValueError(f"A blackout must end after it starts ({self.start} to {self.end}).")

    def contains(self, moment: datetime) -> bool:
        """Whether an aware moment falls in [start, end)."""
        return self.start <= moment < self.end


@dataclass(frozen=True)
class Schedule:
    """When a wave will start (UTC), what was asked for, and what stood in the way."""

    send_at: datetime
    requested_at: datetime
    deferred_for_quiet_hours: bool
    blackout: BlackoutWindow | None

    def local(self, tz: ZoneInfo) -> datetime:
        """The start time on the campaign's local clock."""
        return self.send_at.astimezone(tz)


KENYA_QUIET_HOURS = QuietHours(start=time(18, 0), end=time(8, 0))  # Kenya: bulk SMS 08:00 to 18:00
DEFAULT_QUIET_HOURS = QuietHours(start=time(21, 0), end=time(8, 0))


def parse_relative_time(text: str) -> RelativeTime:
    """Read what a manager typed, e.g. "E-7d 18:00", "E+1d 9:00", "E-14d", "E 07:30", "E-36h".

    Case and spaces are free ("e - 7 days 18:00"). Raises ValueError with a message for the
    manager on anything else, on hours with a clock time, and beyond 365 days.
    """
    match = _RELATIVE.fullmatch(text.strip())
    if match is None:
        raise ValueError(_NOT_RELATIVE.format(text))
    amount = int(match["amount"] or 0) * (-1 if match["sign"] == "-" else 1)
    in_hours = (match["unit"] or "d")[0].lower() == "h"
    at = None
    if match["hour"] is not None:
        hour, minute = int(match["hour"]), int(match["minute"])
        if hour > 23 or minute > 59:
            raise ValueError(_NO_SUCH_CLOCK_TIME.format(text))
        at = time(hour, minute)
    if in_hours and at is not None:
        raise ValueError(_HOURS_WITH_CLOCK.format(text))
    if in_hours and amount == 0:
        # E+0h is election day's midnight; hours=0 alone would read as the 09:00 default.
        at = time(0, 0)
    days, hours = (0, amount) if in_hours else (amount, 0)
    if problem := _problem(days, hours, at):
        raise ValueError(problem.format(text))
    return RelativeTime(days=days, hours=hours, at=at)


def resolve_send_time(relative: RelativeTime, *, election_date: date, tz: ZoneInfo) -> datetime:
    """The UTC instant a relative time names, for an election on a local date in `tz`.

    Days keep the local clock time across DST changes; hours are real elapsed hours from the
    local midnight that starts election day. See the module docstring for gaps and overlaps.
    """
    if relative.hours:
        polling_day_starts = _to_utc(datetime.combine(election_date, time(0, 0)), tz)
        return polling_day_starts + timedelta(hours=relative.hours)
    day = election_date + timedelta(days=relative.days)
    at = DEFAULT_LOCAL_TIME if relative.at is None else relative.at
    return _to_utc(datetime.combine(day, at), tz)


def next_opening(moment: datetime, *, quiet: QuietHours, tz: ZoneInfo) -> datetime:
    """The earliest instant at or after an aware `moment` outside quiet hours in `tz`, in UTC."""
    _require_aware(moment, "A send time")
    local = moment.astimezone(tz)
    if not quiet.contains(local.time()):
        return moment.astimezone(UTC)
    # Quiet since the evening: it opens tomorrow; quiet since midnight or midday: today.
    opens_tomorrow = quiet.start > quiet.end and local.time() >= quiet.start
    day = local.date() + timedelta(days=1 if opens_tomorrow else 0)
    wall = datetime.combine(day, quiet.end)
    opening = _to_utc(wall, tz)
    if opening < moment:
        # Waiting in the repeated fall-back hour: the opening is that hour's second occurrence.
        opening = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    return opening


@dataclass(frozen=True)
class Closed:
    """Why sending is closed at a moment ("quiet hours" or "blackout"), and when it next opens."""

    reason: str
    opens_at: datetime  # UTC: outside quiet hours and every blackout given


def closed_at(
    moment: datetime,
    *,
    quiet: QuietHours,
    blackouts: Sequence[BlackoutWindow],
    tz: ZoneInfo,
) -> Closed | None:
    """None if a campaign may send at an aware `moment`; else why not and the next opening.

    The opening skips quiet hours and every blackout in turn, so a blackout that ends in the
    night opens the next morning, and back-to-back blackouts open after the last of them.
    Pass no blackouts for a wave an admin approved to go out inside them.
    """
    _require_aware(moment, "A send time")
    if quiet.contains(moment.astimezone(tz).time()):
        reason = "quiet hours"
    elif blackout_at(moment, blackouts) is not None:
        reason = "blackout"
    else:
        return None
    opening = moment
    # Each turn passes one blackout's end, and none contains a later moment again.
    for _ in range(len(blackouts) + 1):
        opening = next_opening(opening, quiet=quiet, tz=tz)
        window = blackout_at(opening, blackouts)
        if window is None:
            break
        opening = window.end
    return Closed(reason=reason, opens_at=opening.astimezone(UTC))


def blackout_at(moment: datetime, windows: Sequence[BlackoutWindow]) -> BlackoutWindow | None:
    """The first of `windows` containing an aware `moment`, or None."""
    return next((window for window in windows if window.contains(moment)), None)


def plan(
    requested_at: datetime,
    *,
    quiet: QuietHours,
    blackouts: Sequence[BlackoutWindow],
    tz: ZoneInfo,
) -> Schedule:
    """Defer a wave past quiet hours, then report the blackout it would start in, if any.

    A blackout is not skipped: the caller blocks the wave or asks an admin to approve it.
    """
    send_at = next_opening(requested_at, quiet=quiet, tz=tz)
    requested_utc = requested_at.astimezone(UTC)
    return Schedule(
        send_at=send_at,
        requested_at=requested_utc,
        deferred_for_quiet_hours=send_at != requested_utc,
        blackout=blackout_at(send_at, blackouts),
    )


def _problem(days: int, hours: int, at: time | None) -> str | None:
    """The message template for an impossible relative time, or None if it is fine."""
    if days and hours:
        return _DAYS_WITH_HOURS
    if hours and at is not None:
        return _HOURS_WITH_CLOCK
    if abs(days) > MAX_DAYS or abs(hours) > MAX_HOURS:
        return _TOO_FAR
    if at is not None and (at.second or at.microsecond or at.tzinfo is not None):
        return _NOT_A_CLOCK_TIME
    return None


def _to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """A naive local wall-clock time in `tz` as a UTC instant (gap: after it; overlap: first)."""
    first = wall.replace(tzinfo=tz, fold=0)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        return _end_of_gap(wall, tz)
    return first.astimezone(UTC)


def _end_of_gap(wall: datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant the clocks jumped at, for a wall time inside a spring-forward gap."""
    # In a gap, fold=1 reads the wall time with the later offset (an instant before the jump),
    # fold=0 with the earlier one (an instant after it); bisect to the jump, to the second.
    before, after = sorted(wall.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1))
    offset_before = before.astimezone(tz).utcoffset()
    while after - before > timedelta(seconds=1):
        middle = before + timedelta(seconds=(after - before).total_seconds() // 2)
        if middle.astimezone(tz).utcoffset() == offset_before:
            before = middle
        else:
            after = middle
    return after


def _require_aware(moment: datetime, what: str) -> None:
    """Refuse a naive datetime: it names no instant."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} needs a time zone ({moment}).")
