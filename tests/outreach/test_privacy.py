"""Phone numbers never reach a log line."""

import logging

import pytest

from outreach.privacy import MaskPhoneNumbers, mask_phone_number, mask_phone_numbers_in


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("+254712345678", "+**********78"),
        ("from 0712 345 678 today", "from ********78 today"),
        ("sent to +1 (415) 555-0100", "sent to +*********00"),
        ("wave 12 of 3", "wave 12 of 3"),
        ("2026-11-24", "2026-11-24"),
        ("from 127.0.0.1", "from 127.0.0.1"),
        ("id 3f2b1c9e-4b1c-a2f1-123456789012", "id 3f2b1c9e-4b1c-a2f1-123456789012"),
        ("SM1234567890abcdef", "SM1234567890abcdef"),
    ],
)
def test_it_masks_numbers_in_free_text(text, masked):
    assert mask_phone_numbers_in(text) == masked


def test_it_keeps_the_last_two_digits_only():
    assert mask_phone_number("+254712345678") == "+**********78"


def test_the_log_filter_masks_arguments_and_tracebacks(caplog):
    logger = logging.getLogger("tests.privacy")
    logger.addFilter(MaskPhoneNumbers())
    try:
        with caplog.at_level(logging.INFO, logger="tests.privacy"):
            logger.info("inbound from %s", "+254712345678")
            try:
                raise ValueError("bad number +254700000001")
            except ValueError:
                logger.exception("failed")
    finally:
        logger.filters.clear()

    assert "+254712345678" not in caplog.text
    assert "254700000001" not in caplog.text
    assert "+**********78" in caplog.text
