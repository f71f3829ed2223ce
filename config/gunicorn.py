"""gunicorn's settings for the web service: `gunicorn --config python:config.gunicorn config.wsgi`.

The access log names the path, never the query string or the referer (where a number would
travel), and every line gunicorn writes, access or error, has its numbers masked, URL-encoded
ones too: no process we ship writes a full phone number anywhere.
"""

import logging
import os
from urllib.parse import unquote_plus

from gunicorn.glogging import Logger

from outreach.privacy import mask_phone_numbers_in

bind = "0.0.0.0:8000"
# Sync workers, each one request at a time, many of them waiting on PostgreSQL or Redis:
# gunicorn's (2 x cores) + 1, for 2 cores unless WEB_CONCURRENCY says otherwise (gunicorn's
# own variable). On election eve's benchmark (2 cores) 6 took 3.3x the receipts 2 did.
workers = int(os.environ.get("WEB_CONCURRENCY") or 5)
accesslog = "-"
# %(U)s is the path alone; %(r)s (the request line) and %(f)s (the referer) carry queries.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s "%(a)s"'


class MaskPhoneNumbersInURLs(logging.Filter):
    """Renders a line, decodes it as a URL would be (%2B254… is +254…), and masks its numbers."""

    def filter(self, record: logging.LogRecord) -> bool:
        rendered = record.getMessage()
        masked = mask_phone_numbers_in(unquote_plus(rendered))
        record.msg = rendered if masked == unquote_plus(rendered) else masked
        record.args = None
        return True


class NumberMaskingLogger(Logger):
    """gunicorn's logger with every line of its access and error logs masked."""

    def setup(self, cfg: object) -> None:
        super().setup(cfg)
        for log in (self.access_log, self.error_log):
            log.addFilter(MaskPhoneNumbersInURLs())


logger_class = NumberMaskingLogger
