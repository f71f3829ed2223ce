"""Inbound webhook payloads as Twilio posts them."""

import uuid

from tests.support.twilio_api import ACCOUNT_SID


def twilio_form(body: str, sender: str = "+254712345678", sid: str | None = None) -> dict:
    """An inbound SMS as Twilio posts it."""
    sid = sid or "SM" + uuid.uuid4().hex
    return {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": sid,
        "SmsSid": sid,
        "From": sender,
        "To": "+254700000100",
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "FromCountry": "KE",
        "ApiVersion": "2010-04-01",
    }
