"""Keeping young people's numbers out of logs."""

import logging
import re
from typing import Any

# What a phone number looks like in free text: digits with spaces, hyphens or brackets between,
# not glued to letters or hyphens (ids, UUIDs). Over-masking a long number is an acceptable price.
_PHONE_LIKE = re.compile(r"(?<![\w\-])(\+?)(\(?\d[\d \-()]{5,}\d)(?![\w\-])")
_MIN_DIGITS = {"+": 7, "": 9}  # E.164 numbers are marked; bare ones need more digits to count
# A provider's error names the number it refused, as dialled: national ones of 7 digits too.
# Its text has no dates or counts worth keeping, so a bare 7-digit run counts there.
_MIN_DIGITS_IN_PROVIDER_TEXT = {"+": 7, "": 7}


def mask_phone_number(number: str) -> str:
    """Keep the last two digits of a number so staff can tell numbers apart in a log, no more."""
    digits = re.sub(r"\D", "", number)
    if len(digits) < 7:
        return number
    return ("+" if number.startswith("+") else "") + "*" * (len(digits) - 2) + digits[-2:]


def mask_phone_numbers_in(text: str) -> str:
    """Mask every phone-number-like run of digits in free text."""
    return _mask_numbers(text, _MIN_DIGITS)


def mask_numbers_in_provider_text(text: str) -> str:
    """Mask every number in a provider's error text (Twilio 21211 names the `To` number),
    national ones of 7 digits or more included, before it is stored or shown."""
    return _mask_numbers(text, _MIN_DIGITS_IN_PROVIDER_TEXT)


class MaskPhoneNumbers(logging.Filter):
    """Logging filter: renders the message once and masks numbers in it (and in tracebacks)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_phone_numbers_in(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_phone_numbers_in(
                logging.Formatter().formatException(record.exc_info)
            )
        return True


def _mask_numbers(text: str, min_digits: dict[str, int]) -> str:
    def _mask(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(2))
        if len(digits) < min_digits[match.group(1)]:
            return match.group(0)
        return mask_phone_number(match.group(1) + digits)

    return _PHONE_LIKE.sub(_mask, text)


def without_personal(payload: Any, personal_keys: frozenset[str]) -> Any:
    """A provider's payload with every field that names the person removed, at any depth
    (numbers, names, usernames: each webhook lists its provider's), to be kept as `raw`.

    NUL characters go too: PostgreSQL's jsonb refuses them, and a payload it refuses
    would lose the message with it (a STOP)."""
    if isinstance(payload, dict):
        return {
            key: without_personal(value, personal_keys)
            for key, value in payload.items()
            if key not in personal_keys
        }
    if isinstance(payload, list):
        return [without_personal(item, personal_keys) for item in payload]
    if isinstance(payload, str):
        return payload.replace("\x00", "")
    return payload
