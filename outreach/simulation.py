"""Texting as a pretend subscriber through a console channel (the API's and the console's rule)."""

from outreach.addresses import normalize_phone_number
from outreach.channel_kinds import Scheme
from outreach.errors import InvalidInput
from outreach.models import Channel


def simulated_sender(channel: Channel, sender: str) -> str:
    """The address a console channel's simulated person writes from: a phone number on the
    phone schemes (SMS, WhatsApp), a chat or page-scoped id (digits) on the others."""
    if channel.scheme in Scheme.PHONE:
        return normalize_phone_number(sender, region=channel.country, field="sender")
    if not sender.strip().isdigit():
        raise InvalidInput("A chat id: digits only.", field="sender")
    return sender.strip()
