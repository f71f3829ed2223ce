"""The demo channel: records every message in the log and in the database, sends nothing.

Like a real provider it then reports back — sent, then delivered, or undelivered for a
realistic few (UNDELIVERED_PER_MILLE, chosen by the address and text, so a rerun agrees) —
through the same status path as Twilio's callbacks (`status_receive`, the status inbox):
the reports ride on the send's result and go in once the send is recorded, in the
recording process's own transaction, as a callback arrives after the provider's answer.
"""

import hashlib
import logging
import uuid
from datetime import datetime

from outreach.channels.base import SendResult, TemplateCall
from outreach.models import Channel, OutboundStatus
from outreach.privacy import mask_phone_number

logger = logging.getLogger("amani.console")

UNDELIVERED_PER_MILLE = 40  # about one in 25 handsets off or out of reach
UNREACHABLE = "30003"  # Twilio's code for it, so reports group it like the real thing


class ConsoleAdapter:
    """One adapter for the console channel of every kind (SMS, WhatsApp, Telegram,
    Messenger): what differs between them (address scheme, windows, limits) is the kind's
    data (outreach.channel_kinds), which the rest of Amani applies before a send."""

    def send(
        self,
        channel: Channel,
        *,
        to: str,
        body: str,
        status_callback: str,
        template: TemplateCall | None = None,
    ) -> SendResult:
        as_template = f" [template {template.name}]" if template else ""
        logger.info("console %s → %s%s: %s", channel.name, mask_phone_number(to), as_template, body)
        outcome = ("undelivered", UNREACHABLE) if _unreachable(to, body) else ("delivered", "")
        return SendResult(
            provider_message_id=f"console-{uuid.uuid4().hex}",
            status=OutboundStatus.SENT,
            reports=(("sent", ""), outcome),
        )

    def find_sent(self, channel: Channel, *, to: str, body: str, since: object) -> None:
        return None  # the console keeps no record beyond our own


def publish_post(
    channel: Channel, *, message: str, scheduled_publish_time: datetime | None = None
) -> str:
    """A console Page "publishes" by logging the post: its id is made up, like Meta's."""
    logger.info("console %s posts on its Page: %s", channel.name, message)
    return f"console-post-{uuid.uuid4().hex}"


def post_engagement(channel: Channel, post_id: str) -> dict[str, int] | None:
    """Nobody sees a console Page: no reactions, comments or shares, ever."""
    return {"reactions": 0, "comments": 0, "shares": 0}


def _unreachable(to: str, body: str) -> bool:
    digest = hashlib.blake2b(f"{to}\n{body}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % 1000 < UNDELIVERED_PER_MILLE
