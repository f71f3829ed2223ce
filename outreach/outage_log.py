"""One warning a minute per process for an outage every request or task would report.

While Redis is away each API request, dispatch task and token take would otherwise log
the same line; the first says what happened, the next a minute later that it goes on.
"""

import logging
import threading
import time

EVERY_SECONDS = 60.0

_last_logged: dict[str, float] = {}
_lock = threading.Lock()


def warn_outage(logger: logging.Logger, message: str, *args: object) -> None:
    """`logger.warning(message, *args)`, unless this process logged `message` within a minute."""
    now = time.monotonic()
    with _lock:
        if now - _last_logged.get(message, float("-inf")) < EVERY_SECONDS:
            return
        _last_logged[message] = now
    logger.warning(message, *args)
