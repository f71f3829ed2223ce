"""Send times around an election: what managers type, what it resolves to, and what defers it."""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.timing import (
    DEFAULT_LOCAL_TIME,
    DEFAULT_QUIET_HOURS,
    KENYA_QUIET_HOURS,
    BlackoutWindow,
    QuietHours,
    RelativeTime,
    Schedule,
    blackout_at,
    next_opening,
    parse_relative_time,
    plan,
    resolve_send_time,
)

NAIROBI = ZoneInfo("Africa/Nairobi")  # UTC+3 all year
BERLIN = ZoneInfo("Europe/Berlin")  # CET -> CEST on Sunday 2027-03-28 at 02:00
NEW_YORK = ZoneInfo("America/New_York")  # EST -> EDT 2027-03-14, EDT -> EST 2027-11-07
KENYAN_ELECTION = date(2027, 8, 10)
NO_QUIET_HOURS = QuietHours(start=time(0, 0), end=time(0, 0))
# The 48 hours before polls open at 06:00 on election day.
BEFORE_POLLS = BlackoutWindow(
    start=datetime(2027, 8, 8, 6, 0, tzinfo=NAIROBI),
    end=datetime(2027, 8, 10, 6, 0, tzinfo=NAIROBI),
)
clock_times = st.builds(time, st.integers(0, 23), st.integers(0, 59))


def nairobi(*args: int) -> datetime:
    return datetime(*args, tzinfo=NAIROBI)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# Parsing what managers type


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("E-7d 18:00", RelativeTime(days=-7, at=time(18, 0))),
        ("e-7d 18:00", RelativeTime(days=-7, at=time(18, 0))),
        ("E - 7 days 18:00", RelativeTime(days=-7, at=time(18, 0))),
        ("  E-1 day 23:59 ", RelativeTime(days=-1, at=time(23, 59))),
        ("E+1d 9:00", RelativeTime(days=1, at=time(9, 0))),
        ("E+1d 09:00", RelativeTime(days=1, at=time(9, 0))),
        ("E-14d", RelativeTime(days=-14)),
        ("E 07:30", RelativeTime(at=time(7, 30))),
        ("E+0d 18:00", RelativeTime(at=time(18, 0))),
        ("E-36h", RelativeTime(hours=-36)),
        ("E + 12 hours", RelativeTime(hours=12)),
        ("E+365d", RelativeTime(days=365)),
        ("E-8760h", RelativeTime(hours=-8760)),
        ("E", RelativeTime()),
    ],
)
def test_it_reads_every_accepted_form(text: str, expected: RelativeTime) -> None:
    assert parse_relative_time(text) == expected


def test_it_reads_zero_hours_as_election_days_midnight_not_the_default_time() -> None:
    assert parse_relative_time("E+0h") == RelativeTime(at=time(0, 0))


@pytest.mark.parametrize(
    ("relative", "canonical"),
    [
        (RelativeTime(days=-7, at=time(18, 0)), "E-7d 18:00"),
        (RelativeTime(days=1, at=time(9, 0)), "E+1d 09:00"),
        (RelativeTime(at=time(7, 30)), "E 07:30"),
        (RelativeTime(days=-14), "E-14d"),
        (RelativeTime(hours=-36), "E-36h"),
        (RelativeTime(hours=12), "E+12h"),
        (RelativeTime(), "E"),
    ],
)
def test_it_writes_a_canonical_form_that_reads_back_the_same(
    relative: RelativeTime, canonical: str
) -> None:
    assert str(relative) == canonical
    assert parse_relative_time(canonical) == relative


@given(days=st.integers(-365, 365), at=clock_times)
def test_any_day_and_clock_time_round_trips_through_its_canonical_form(days: int, at: time) -> None:
    relative = RelativeTime(days=days, at=at)
    assert parse_relative_time(str(relative)) == relative


@given(hours=st.integers(-8760, 8760))
def test_any_hour_offset_round_trips_through_its_canonical_form(hours: int) -> None:
    relative = RelativeTime(hours=hours)
    assert parse_relative_time(str(relative)) == relative


@pytest.mark.parametrize(
    "text",
    ["E-7x", "", "E-", "D-7d 18:00", "E-7", "E-7d 18", "E-7d 6pm", "E-7d 18:00:00", "E-1.5d"],
)
def test_it_refuses_what_is_not_a_relative_time_with_an_example_to_follow(text: str) -> None:
    message = (
        f"'{text}' is not a time relative to election day; write e.g. E-7d 18:00 or E+1d 09:00"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_relative_time(text)


@pytest.mark.parametrize("text", ["E-36h 10:00", "E+0h 10:00"])
def test_it_refuses_hours_with_a_clock_time(text: str) -> None:
    with pytest.raises(ValueError, match=f"^'{re.escape(text)}' gives both hours and a clock time"):
        parse_relative_time(text)


@pytest.mark.parametrize("text", ["E-7d 24:00", "E-7d 18:60", "E 99:00"])
def test_it_refuses_a_clock_time_that_does_not_exist(text: str) -> None:
    with pytest.raises(
        ValueError, match=f"^'{re.escape(text)}' has no such clock time; write hours 00 to 23"
    ):
        parse_relative_time(text)


@pytest.mark.parametrize("text", ["E-366d", "E+366d 09:00", "E-8761h", "E-100000000000d"])
def test_it_refuses_more_than_a_year_from_election_day(text: str) -> None:
    with pytest.raises(ValueError, match=f"^'{re.escape(text)}' is more than 365 days from"):
        parse_relative_time(text)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"hours": -36, "at": time(10, 0)}, "gives both hours and a clock time"),
        ({"days": -1, "hours": 2}, "gives both days and hours"),
        ({"days": 400}, "is more than 365 days"),
        ({"at": time(18, 0, 30)}, "needs a local clock time in hours and minutes"),
    ],
)
def test_a_relative_time_cannot_be_built_impossible(fields: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RelativeTime(**fields)


# Resolving to an instant


def test_it_resolves_days_and_a_clock_time_in_nairobi() -> None:
    sent = resolve_send_time(
        parse_relative_time("E-7d 18:00"), election_date=KENYAN_ELECTION, tz=NAIROBI
    )
    assert sent == utc(2027, 8, 3, 15, 0)
    assert sent.tzinfo is UTC


def test_it_sends_at_the_default_local_time_when_no_clock_time_is_given() -> None:
    sent = resolve_send_time(RelativeTime(days=-14), election_date=KENYAN_ELECTION, tz=NAIROBI)
    assert sent.astimezone(NAIROBI) == nairobi(2027, 7, 27, 9, 0)
    assert sent.astimezone(NAIROBI).time() == DEFAULT_LOCAL_TIME


def test_moving_the_election_a_week_moves_the_wave_by_exactly_a_week() -> None:
    relative = parse_relative_time("E-7d 18:00")
    before = resolve_send_time(relative, election_date=date(2027, 8, 10), tz=NAIROBI)
    after = resolve_send_time(relative, election_date=date(2027, 8, 17), tz=NAIROBI)
    assert after - before == timedelta(days=7)


def test_it_counts_hours_from_the_local_midnight_that_starts_election_day() -> None:
    sent = resolve_send_time(RelativeTime(hours=-36), election_date=KENYAN_ELECTION, tz=NAIROBI)
    assert sent == nairobi(2027, 8, 10, 0, 0) - timedelta(hours=36)
    assert resolve_send_time(
        parse_relative_time("E+0h"), election_date=KENYAN_ELECTION, tz=NAIROBI
    ) == nairobi(2027, 8, 10, 0, 0)


def test_a_wall_clock_time_keeps_its_local_hour_across_a_dst_change() -> None:
    election = date(2027, 3, 29)
    before_change = resolve_send_time(
        parse_relative_time("E-2d 09:00"), election_date=election, tz=BERLIN
    )
    after_change = resolve_send_time(
        parse_relative_time("E-1d 09:00"), election_date=election, tz=BERLIN
    )
    assert before_change == utc(2027, 3, 27, 8, 0)  # 09:00 CET, UTC+1
    assert after_change == utc(2027, 3, 28, 7, 0)  # 09:00 CEST, UTC+2
    assert after_change - before_change == timedelta(hours=23)


def test_hours_before_election_day_are_real_hours_across_a_dst_change() -> None:
    sent = resolve_send_time(
        parse_relative_time("E-36h"), election_date=date(2027, 3, 29), tz=BERLIN
    )
    polling_day_starts = utc(2027, 3, 28, 22, 0)  # 00:00 CEST
    assert polling_day_starts - sent == timedelta(hours=36)
    assert sent == utc(2027, 3, 27, 10, 0)
    assert sent.astimezone(BERLIN).hour == 11  # not 12:00: one hour of the 36 never showed


def test_a_time_in_the_spring_forward_gap_moves_to_the_end_of_the_gap() -> None:
    sent = resolve_send_time(
        parse_relative_time("E 02:30"), election_date=date(2027, 3, 14), tz=NEW_YORK
    )
    assert sent == utc(2027, 3, 14, 7, 0)
    assert sent.astimezone(NEW_YORK).time() == time(3, 0)


def test_a_time_in_the_fall_back_overlap_takes_its_first_occurrence() -> None:
    sent = resolve_send_time(
        parse_relative_time("E 01:30"), election_date=date(2027, 11, 7), tz=NEW_YORK
    )
    assert sent == utc(2027, 11, 7, 5, 30)  # 01:30 EDT, not 01:30 EST an hour later


# Quiet hours


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        (time(20, 59), False),
        (time(21, 0), True),
        (time(23, 59), True),
        (time(0, 0), True),
        (time(2, 0), True),
        (time(7, 59), True),
        (time(8, 0), False),
        (time(12, 0), False),
    ],
)
def test_quiet_hours_across_midnight_run_from_start_up_to_end(local: time, quiet: bool) -> None:
    assert DEFAULT_QUIET_HOURS.contains(local) is quiet


@pytest.mark.parametrize(
    ("local", "quiet"),
    [(time(11, 59), False), (time(12, 0), True), (time(13, 59), True), (time(14, 0), False)],
)
def test_quiet_hours_within_a_day_run_from_start_up_to_end(local: time, quiet: bool) -> None:
    assert QuietHours(start=time(12, 0), end=time(14, 0)).contains(local) is quiet


@pytest.mark.parametrize("local", [time(0, 0), time(8, 0), time(23, 59)])
def test_quiet_hours_starting_when_they_end_mean_none(local: time) -> None:
    assert not QuietHours(start=time(8, 0), end=time(8, 0)).contains(local)


# The next opening after quiet hours


def test_it_defers_a_wave_due_late_at_night_to_the_next_morning() -> None:
    opening = next_opening(nairobi(2027, 8, 3, 23, 30), quiet=DEFAULT_QUIET_HOURS, tz=NAIROBI)
    assert opening == nairobi(2027, 8, 4, 8, 0)
    assert opening.tzinfo is UTC


def test_it_defers_a_wave_due_after_midnight_to_the_same_morning() -> None:
    opening = next_opening(nairobi(2027, 8, 4, 2, 0), quiet=DEFAULT_QUIET_HOURS, tz=NAIROBI)
    assert opening == nairobi(2027, 8, 4, 8, 0)


def test_it_leaves_a_wave_due_in_the_daytime_alone_but_in_utc() -> None:
    opening = next_opening(nairobi(2027, 8, 4, 10, 0), quiet=DEFAULT_QUIET_HOURS, tz=NAIROBI)
    assert opening == utc(2027, 8, 4, 7, 0)
    assert opening.tzinfo is UTC


def test_the_kenyan_preset_defers_an_evening_wave_to_the_next_morning() -> None:
    opening = next_opening(nairobi(2027, 8, 3, 18, 30), quiet=KENYA_QUIET_HOURS, tz=NAIROBI)
    assert opening == nairobi(2027, 8, 4, 8, 0)
    assert next_opening(nairobi(2027, 8, 3, 17, 59), quiet=KENYA_QUIET_HOURS, tz=NAIROBI) == (
        nairobi(2027, 8, 3, 17, 59)
    )


def test_it_judges_quiet_hours_on_the_campaigns_clock_whatever_zone_the_moment_is_in() -> None:
    # 19:00 UTC is 22:00 in Nairobi, quiet there though daytime elsewhere.
    opening = next_opening(utc(2027, 8, 3, 19, 0), quiet=DEFAULT_QUIET_HOURS, tz=NAIROBI)
    assert opening == nairobi(2027, 8, 4, 8, 0)


def test_it_defers_across_the_night_the_clocks_go_forward_to_the_new_offset() -> None:
    due = datetime(2027, 3, 27, 23, 0, tzinfo=BERLIN)  # CET
    opening = next_opening(due, quiet=DEFAULT_QUIET_HOURS, tz=BERLIN)
    assert opening == utc(2027, 3, 28, 6, 0)  # 08:00 CEST


def test_it_never_opens_before_a_wave_waiting_in_the_repeated_fall_back_hour() -> None:
    quiet = QuietHours(start=time(21, 0), end=time(1, 30))
    due = utc(2027, 11, 7, 6, 15)  # 01:15 EST, the second 01:15 that night
    opening = next_opening(due, quiet=quiet, tz=NEW_YORK)
    assert opening == utc(2027, 11, 7, 6, 30)  # the second 01:30, not the first


def test_it_refuses_a_moment_without_a_time_zone() -> None:
    with pytest.raises(ValueError, match="needs a time zone"):
        next_opening(datetime(2027, 8, 3, 23, 0), quiet=DEFAULT_QUIET_HOURS, tz=NAIROBI)


@given(
    moment=st.datetimes(min_value=datetime(2027, 1, 1), max_value=datetime(2028, 1, 1)),
    start=clock_times,
    end=clock_times,
    tz=st.sampled_from([NAIROBI, BERLIN, NEW_YORK]),
)
def test_the_opening_is_never_earlier_and_never_quiet(
    moment: datetime, start: time, end: time, tz: ZoneInfo
) -> None:
    quiet, due = QuietHours(start=start, end=end), moment.replace(tzinfo=UTC)
    opening = next_opening(due, quiet=quiet, tz=tz)
    assert opening >= due
    assert not quiet.contains(opening.astimezone(tz).time())
    if opening > due:
        assert quiet.contains((opening - timedelta(seconds=1)).astimezone(tz).time())
    else:
        assert not quiet.contains(due.astimezone(tz).time())


# Blackouts and the plan


def test_a_blackout_must_end_after_it_starts() -> None:
    with pytest.raises(ValueError, match="must end after it starts"):
        BlackoutWindow(start=nairobi(2027, 8, 10, 6, 0), end=nairobi(2027, 8, 10, 6, 0))


def test_a_blackout_needs_time_zones() -> None:
    with pytest.raises(ValueError, match="needs a time zone"):
        BlackoutWindow(start=datetime(2027, 8, 8, 6, 0), end=nairobi(2027, 8, 10, 6, 0))


def test_a_blackout_contains_its_start_but_not_its_end() -> None:
    assert BEFORE_POLLS.contains(BEFORE_POLLS.start)
    assert not BEFORE_POLLS.contains(BEFORE_POLLS.end)
    assert BEFORE_POLLS.contains(utc(2027, 8, 10, 2, 59))  # 05:59 in Nairobi
    assert blackout_at(BEFORE_POLLS.end, [BEFORE_POLLS]) is None


def test_it_finds_the_window_a_moment_falls_in() -> None:
    counting = BlackoutWindow(start=nairobi(2027, 8, 10, 17, 0), end=nairobi(2027, 8, 12, 0, 0))
    assert blackout_at(nairobi(2027, 8, 11, 9, 0), [BEFORE_POLLS, counting]) is counting
    assert blackout_at(nairobi(2027, 8, 11, 9, 0), []) is None


def test_it_reports_a_wave_due_inside_a_blackout_with_that_window() -> None:
    schedule = plan(
        nairobi(2027, 8, 9, 10, 0),
        quiet=DEFAULT_QUIET_HOURS,
        blackouts=[BEFORE_POLLS],
        tz=NAIROBI,
    )
    assert schedule == Schedule(
        send_at=utc(2027, 8, 9, 7, 0),
        requested_at=utc(2027, 8, 9, 7, 0),
        deferred_for_quiet_hours=False,
        blackout=BEFORE_POLLS,
    )


def test_it_reports_a_deferral_past_quiet_hours_that_lands_in_a_blackout() -> None:
    due = nairobi(2027, 8, 7, 23, 0)
    schedule = plan(due, quiet=DEFAULT_QUIET_HOURS, blackouts=[BEFORE_POLLS], tz=NAIROBI)
    assert blackout_at(due, [BEFORE_POLLS]) is None
    assert schedule.requested_at == utc(2027, 8, 7, 20, 0)
    assert schedule.requested_at.tzinfo is UTC
    assert schedule.deferred_for_quiet_hours
    assert schedule.local(NAIROBI) == nairobi(2027, 8, 8, 8, 0)
    assert schedule.blackout is BEFORE_POLLS


def test_a_wave_due_right_as_a_blackout_ends_is_not_in_it() -> None:
    schedule = plan(BEFORE_POLLS.end, quiet=NO_QUIET_HOURS, blackouts=[BEFORE_POLLS], tz=NAIROBI)
    assert schedule.send_at == BEFORE_POLLS.end
    assert not schedule.deferred_for_quiet_hours
    assert schedule.blackout is None


def test_a_wave_deferred_out_of_a_blackout_is_not_reported_in_it() -> None:
    night = BlackoutWindow(start=nairobi(2027, 8, 3, 22, 0), end=nairobi(2027, 8, 4, 6, 0))
    schedule = plan(
        nairobi(2027, 8, 3, 23, 0), quiet=DEFAULT_QUIET_HOURS, blackouts=[night], tz=NAIROBI
    )
    assert schedule.local(NAIROBI) == nairobi(2027, 8, 4, 8, 0)
    assert schedule.blackout is None
