"""Keeping young people's numbers out of logs."""

import logging
import re

# What a phone number looks like in free text: digits with spaces, hyphens or brackets between,
# not glued to letters or hyphens (ids, UUIDs). Over-masking a long number is an acceptable price.
_PHONE_LIKE = re.compile(r"(?<![\w\-])(\+?)(\(?\d[\d \-()]{5,}\d)(?![\w\-])")
_MIN_DIGITS = {"+": 7, "": 9}  # E.164 numbers are marked; bare ones need more digits to count


def mask_phone_number(number: str) -> str:
    """Keep the last two digits of a number so staff can tell numbers apart in a log, no more."""
    digits = re.sub(r"\D", "", number)
    if len(digits) < 7:
        return number
    return ("+" if number.startswith("+") else "") + "*" * (len(digits) - 2) + digits[-2:]


def mask_phone_numbers_in(text: str) -> str:
    """Mask every phone-number-like run of digits in free text."""

    def _mask(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(2))
        if len(digits) < _MIN_DIGITS[match.group(1)]:
            return match.group(0)
        return mask_phone_number(match.group(1) + digits)

    return _PHONE_LIKE.sub(_mask, text)


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
