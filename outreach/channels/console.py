"""The demo channel: records every message in the log and in the database, sends nothing."""

import logging
import uuid

from outreach.channels.base import SendResult
from outreach.models import Channel, OutboundStatus
from outreach.privacy import mask_phone_number

logger = logging.getLogger("amani.console")


class ConsoleAdapter:
    def send(self, channel: Channel, *, to: str, body: str, status_callback: str) -> SendResult:
        logger.info("console %s → %s: %s", channel.name, mask_phone_number(to), body)
        return SendResult(
            provider_message_id=f"console-{uuid.uuid4().hex}", status=OutboundStatus.SENT
        )

    def find_sent(self, channel: Channel, *, to: str, body: str, since: object) -> None:
        return None  # the console keeps no record beyond our own
