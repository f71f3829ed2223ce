"""The shape of a country preset document, checked strictly: the first thing wrong is refused
by its path ("sending_window.start", "regions.items.3.name"), so a preset from a file or from
another server's bundle is either whole and sound or not taken at all.

Pure Python, no database: the migration that seeds presets checks with it too.
"""

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ValidationError

from outreach.errors import InvalidInput
from outreach.keywords import DEFAULT_KEYWORDS, Intent, normalize
from outreach.validators import (
    validate_country_code,
    validate_language_codes,
    validate_timezone,
)

FORMAT = "amani.preset"
VERSION = 1
SILENCE_ENDS = ("polls_close", "end_of_polling_day")
_TOP = {
    "format": True,
    "version": True,
    "country": True,
    "name": True,
    "languages": True,
    "default_language": True,
    "timezone": True,
    "sending_window": True,
    "elections": True,
    "regions": True,
    "keywords": True,
    "disclaimers": True,
    "opt_out_footer_every": True,
    "notes": False,
}
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_REGION_PRESET = re.compile(r"^[A-Z]{2}-[a-z][a-z0-9-]{0,38}$")
# What this server's keyword router understands, by intent: a preset may promise only these.
_UNDERSTOOD = {(normalize(k.word), k.intent) for k in DEFAULT_KEYWORDS}


def checked_preset(data: Any) -> dict[str, Any]:
    """The document itself when it is a sound preset; InvalidInput naming the field otherwise."""
    if not isinstance(data, dict):
        raise InvalidInput("A preset is a JSON object.", field="data")
    _keys(data, _TOP, "")
    if data["format"] != FORMAT:
        raise InvalidInput(f'A preset\'s format is "{FORMAT}".', field="format")
    if data["version"] != VERSION or isinstance(data["version"], bool):
        raise InvalidInput(f"This server reads preset version {VERSION}.", field="version")
    country = data["country"]
    _valid(validate_country_code, country, "country")
    _text(data, "name", "", 100)
    _valid(validate_language_codes, data["languages"], "languages")
    if data["default_language"] not in data["languages"]:
        raise InvalidInput(
            "The default language is one of the languages.", field="default_language"
        )
    _valid(validate_timezone, data["timezone"], "timezone")
    _check_window(data["sending_window"])
    _list(data["elections"], "elections")
    for index, election in enumerate(data["elections"]):
        _check_election(election, f"elections.{index}")
    _check_regions(data["regions"], country)
    _check_keywords(data["keywords"])
    _list(data["disclaimers"], "disclaimers")
    for index, disclaimer in enumerate(data["disclaimers"]):
        at = f"disclaimers.{index}"
        _keys(disclaimer, {"language": True, "text": True}, at)
        if disclaimer["language"] not in data["languages"]:
            raise InvalidInput("A disclaimer is in one of the languages.", field=f"{at}.language")
        _text(disclaimer, "text", at, 320)
    footer = data["opt_out_footer_every"]
    if not isinstance(footer, int) or isinstance(footer, bool) or not 0 <= footer <= 100:
        raise InvalidInput("A whole number from 0 to 100.", field="opt_out_footer_every")
    if "notes" in data:
        _text(data, "notes", "", 4000, blank=True)
    return data


def clock(value: str) -> dt.time:
    """A checked "HH:MM" as a time."""
    return dt.time.fromisoformat(value)


def polling_day(election: dict[str, Any]) -> dt.date:
    """A checked election's polling day as a date."""
    return dt.date.fromisoformat(election["polling_day"])


# --- the parts -------------------------------------------------------------------------------


def _check_window(window: Any) -> None:
    _keys(window, {"start": True, "end": True, "source": False}, "sending_window")
    start = _clock(window, "start", "sending_window")
    end = _clock(window, "end", "sending_window")
    if end <= start:
        raise InvalidInput(
            "The window ends after it starts, on the same day.", field="sending_window.end"
        )
    if "source" in window:
        _text(window, "source", "sending_window", 1000)


def _check_election(election: Any, at: str) -> None:
    _keys(election, {"name": True, "polling_day": True, "silence": False, "source": False}, at)
    _text(election, "name", at, 200)
    day = election["polling_day"]
    if not isinstance(day, str) or not _DAY.match(day) or not _date(day):
        raise InvalidInput("A date, YYYY-MM-DD.", field=f"{at}.polling_day")
    if "source" in election:
        _text(election, "source", at, 1000)
    if "silence" not in election:
        return
    here = f"{at}.silence"
    silence = election["silence"]
    _keys(
        silence,
        {
            "hours_before_polling_day": True,
            "ends": True,
            "polls_close": False,
            "law": True,
            "source": False,
        },
        here,
    )
    hours = silence["hours_before_polling_day"]
    if not isinstance(hours, int) or isinstance(hours, bool) or not 0 <= hours <= 24 * 30:
        raise InvalidInput(
            "Hours before polling day (00:00), from 0 to 720.",
            field=f"{here}.hours_before_polling_day",
        )
    if silence["ends"] not in SILENCE_ENDS:
        raise InvalidInput(f"One of {', '.join(SILENCE_ENDS)}.", field=f"{here}.ends")
    if silence["ends"] == "polls_close":
        if "polls_close" not in silence:
            raise InvalidInput("When the polls close, HH:MM.", field=f"{here}.polls_close")
        _clock(silence, "polls_close", here)
    _text(silence, "law", here, 120)
    if "source" in silence:
        _text(silence, "source", here, 1000)


def _check_regions(regions: Any, country: str) -> None:
    at = "regions"
    _keys(regions, {"kind": True, "preset": True, "items": True, "source": False}, at)
    _text(regions, "kind", at, 40)
    name = regions["preset"]
    if not isinstance(name, str) or not _REGION_PRESET.match(name) or name[:2] != country:
        raise InvalidInput(
            f'The region list\'s name starts with the country: "{country}-counties".',
            field=f"{at}.preset",
        )
    if "source" in regions:
        _text(regions, "source", at, 1000)
    _list(regions["items"], f"{at}.items", empty=False)
    seen: set[str] = set()
    for index, item in enumerate(regions["items"]):
        here = f"{at}.items.{index}"
        _keys(item, {"name": True, "aliases": True}, here)
        _text(item, "name", here, 100)
        if item["name"].casefold() in seen:
            raise InvalidInput("Each region appears once.", field=f"{here}.name")
        seen.add(item["name"].casefold())
        _list(item["aliases"], f"{here}.aliases")
        for number, alias in enumerate(item["aliases"]):
            if not isinstance(alias, str) or not alias.strip() or len(alias) > 100:
                raise InvalidInput(
                    "A name of 1 to 100 characters.", field=f"{here}.aliases.{number}"
                )


def _check_keywords(keywords: Any) -> None:
    at = "keywords"
    _keys(keywords, {intent.value: False for intent in Intent}, at)
    if not keywords.get("stop"):
        raise InvalidInput("A preset names its stop words.", field=f"{at}.stop")
    for intent, words in keywords.items():
        _list(words, f"{at}.{intent}", empty=False)
        for index, word in enumerate(words):
            if not isinstance(word, str) or (normalize(word), Intent(intent)) not in _UNDERSTOOD:
                raise InvalidInput(
                    f"Not a {intent} word this server understands.", field=f"{at}.{intent}.{index}"
                )


# --- one field -------------------------------------------------------------------------------


def _keys(value: Any, fields: dict[str, bool], at: str) -> None:
    """An object with every required field and no unknown one."""
    if not isinstance(value, dict):
        raise InvalidInput("Expected an object.", field=at or "data")
    prefix = f"{at}." if at else ""
    for name, required in fields.items():
        if required and name not in value:
            raise InvalidInput("This field is required.", field=f"{prefix}{name}")
    for name in value:
        if name not in fields:
            raise InvalidInput("Not a field of a preset.", field=f"{prefix}{name}")


def _text(value: dict[str, Any], name: str, at: str, limit: int, *, blank: bool = False) -> str:
    text = value[name]
    field = f"{at}.{name}" if at else name
    if not isinstance(text, str) or (not blank and not text.strip()) or len(text) > limit:
        raise InvalidInput(f"Text of up to {limit} characters.", field=field)
    return text


def _list(value: Any, at: str, *, empty: bool = True) -> None:
    if not isinstance(value, list) or (not empty and not value):
        raise InvalidInput("Expected a list." if empty else "Expected a non-empty list.", field=at)


def _clock(value: dict[str, Any], name: str, at: str) -> dt.time:
    text = value[name]
    if not isinstance(text, str) or not _CLOCK.match(text):
        raise InvalidInput("A time of day, HH:MM.", field=f"{at}.{name}")
    return clock(text)


def _date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _valid(validator: Any, value: Any, field: str) -> None:
    try:
        validator(value)
    except ValidationError as error:
        raise InvalidInput(error.messages[0], field=field) from error
    except TypeError as error:  # not even text: a list where a name belongs
        raise InvalidInput("Not a valid value here.", field=field) from error
