"""Subscribers' addresses: phone numbers normalised to E.164 with phonenumbers."""

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from outreach.errors import InvalidInput

_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


def normalize_phone_number(
    raw: str, *, region: str, field: str = "phone", mobile_only: bool = False
) -> str:
    """E.164 for `raw`, read as a number from `region` when it has no country code."""
    text = (raw or "").strip()
    if not text:
        raise InvalidInput("A phone number is needed.", field=field)
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as error:
        raise InvalidInput(f"'{text}' is not a phone number.", field=field) from error
    if mobile_only:
        # A mobile type implies a valid number: one type lookup instead of two (imports are big).
        kind = phonenumbers.number_type(number)
        if kind in _MOBILE_TYPES and phonenumbers.region_code_for_number(number):
            return phonenumbers.format_number(number, PhoneNumberFormat.E164)
        if kind == PhoneNumberType.UNKNOWN:
            raise InvalidInput(f"'{text}' is not a valid phone number.", field=field)
        raise InvalidInput(f"'{text}' is not a mobile number.", field=field)
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(f"'{text}' is not a valid phone number.", field=field)
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def provider_address(raw: str, *, region: str) -> str:
    """An address as a provider reported it: E.164 when it parses, else as given (short codes)."""
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        return raw.strip()
    if not phonenumbers.is_possible_number(number):
        return raw.strip()
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)
