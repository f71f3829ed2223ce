"""Reads of country presets: the documents as held, and what a campaign or a region list
takes from one. A bundle's hash of a preset is over `preset_as_data`, so it is the document
exactly as stored."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone

from outreach.models import CountryPreset
from outreach.presets.document import clock, polling_day


def presets() -> QuerySet[CountryPreset]:
    """Every preset this server holds, by country."""
    return CountryPreset.objects.order_by("country")


def preset_for(country: str) -> CountryPreset | None:
    """The preset for an ISO 3166-1 alpha-2 country code (any case), or None."""
    return CountryPreset.objects.filter(country=str(country or "").upper()).first()


def preset_as_data(preset: CountryPreset) -> dict[str, Any]:
    """The preset's document, exactly as stored."""
    return preset.data


def campaign_defaults(preset: CountryPreset, *, today: dt.date | None = None) -> dict[str, Any]:
    """What a campaign takes from a preset: country, time zone, languages, the sending window
    (as quiet hours: quiet from the window's end to its start), the opt-out footer, and the
    next election on or after `today` (local) with its silence as a blackout window, if any.

    The blackout is {"starts_at", "ends_at", "reason"} in naive local time, as
    campaigns' blackouts_replace reads it.
    """
    data = preset.data
    window = data["sending_window"]
    defaults: dict[str, Any] = {
        "country": data["country"],
        "timezone": data["timezone"],
        "default_language": data["default_language"],
        "languages": list(data["languages"]),
        "quiet_start": clock(window["end"]),
        "quiet_end": clock(window["start"]),
        "opt_out_footer_every": data["opt_out_footer_every"],
    }
    today = today or timezone.now().astimezone(ZoneInfo(data["timezone"])).date()
    election = next_election(preset, today=today)
    if election is not None:
        defaults["election_date"] = polling_day(election)
        silence = election_silence(election)
        defaults["blackouts"] = [silence] if silence else []
    return defaults


def next_election(preset: CountryPreset, *, today: dt.date) -> dict[str, Any] | None:
    """The preset's first election whose polling day is on or after `today`, or None."""
    coming = [e for e in preset.data["elections"] if polling_day(e) >= today]
    return min(coming, key=polling_day, default=None)


def election_silence(election: dict[str, Any]) -> dict[str, Any] | None:
    """The election's silence period as a blackout window in local time, or None."""
    silence = election.get("silence")
    if not silence:
        return None
    day = dt.datetime.combine(polling_day(election), dt.time())
    hours = silence["hours_before_polling_day"]
    if silence["ends"] == "polls_close":
        ends = dt.datetime.combine(day.date(), clock(silence["polls_close"]))
    else:
        ends = day + dt.timedelta(days=1)
    return {
        "starts_at": day - dt.timedelta(hours=hours),
        "ends_at": ends,
        "reason": (
            f"Election silence: campaigning ends {hours} hours before polling day "
            f"({silence['law']})"
        )[:200],
    }


def region_preset_names() -> list[str]:
    """The names of the region lists the presets carry (e.g. KE-counties, MX-states)."""
    return sorted(p.data["regions"]["preset"] for p in presets())


def region_preset(name: str) -> tuple[str, list[dict[str, Any]]] | None:
    """A region list by name: its kind and its items ({name, aliases}); None if unknown."""
    for preset in presets():
        regions = preset.data["regions"]
        if regions["preset"] == name:
            return regions["kind"], regions["items"]
    return None
