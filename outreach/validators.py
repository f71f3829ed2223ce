"""Validators for the fields an organization configures; shared by models, admin and API."""

import re
import zoneinfo
from functools import cache

import phonenumbers
from django.core.exceptions import ValidationError

_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


def validate_country_code(value: str) -> None:
    """An ISO 3166-1 alpha-2 code that phonenumbers knows (it sets the default region)."""
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(f"'{value}' is not an ISO 3166-1 alpha-2 country code (e.g. KE).")


def validate_timezone(value: str) -> None:
    """An IANA time zone name such as Africa/Nairobi."""
    if value not in _timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone (e.g. Africa/Nairobi).")


def validate_language_code(value: str) -> None:
    """An ISO 639-1 or 639-3 code, lower case: en, sw, kik."""
    if not isinstance(value, str) or not _LANGUAGE_CODE.match(value):
        raise ValidationError(f"'{value}' is not an ISO 639 language code (e.g. en, sw).")


def validate_language_codes(value: list[str]) -> None:
    """A non-empty list of distinct language codes."""
    if not isinstance(value, list) or not value:
        raise ValidationError('Give at least one language code, as a list (e.g. ["en", "sw"]).')
    for code in value:
        validate_language_code(code)
    if len(set(value)) != len(value):
        raise ValidationError("Each language may appear only once.")


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())
