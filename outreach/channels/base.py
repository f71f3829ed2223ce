"""What every channel adapter is: send one message, return what the provider said, or raise."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from outreach.errors import AmaniError
from outreach.models import Channel


class TransportError(AmaniError):
    """A send that did not happen, or may not have. `permanent` says whether trying again
    could help; `outcome_unknown` that the request may have reached the provider (a read
    timeout, a connection cut after the request was written), so the message must be
    reconciled with the provider before it is ever sent again."""

    code = "transport_error"

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        provider_code: str = "",
        unsubscribed: bool = False,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.outcome_unknown = outcome_unknown
        self.provider_code = provider_code
        # The provider says the recipient opted out with it (Twilio 21610): record it as ours.
        self.unsubscribed = unsubscribed


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    status: str  # our vocabulary: OutboundStatus values
    price: Decimal | None = None
    price_unit: str = ""
    # Status reports the provider will make about it, (status, error code), applied through
    # the status inbox once the send is recorded: the console's stand-in for callbacks.
    reports: tuple[tuple[str, str], ...] = ()


class ChannelAdapter(Protocol):
    def send(self, channel: Channel, *, to: str, body: str, status_callback: str) -> SendResult:
        """Hand one message to the provider. Raises TransportError."""
        ...

    def find_sent(
        self, channel: Channel, *, to: str, body: str, since: datetime
    ) -> SendResult | None:
        """The provider's record of this message if it took it since `since` (reconcile).

        Raises TransportError when the provider cannot be asked: that is not a "no"."""
        ...
