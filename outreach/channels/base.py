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
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.outcome_unknown = outcome_unknown
        self.provider_code = provider_code
        # The provider says the recipient opted out with it or blocked us (Twilio 21610,
        # WhatsApp 131050, Telegram's 403 "bot was blocked by the user"): recorded as ours.
        self.unsubscribed = unsubscribed
        # Seconds the provider asked us to wait before trying again (Telegram's retry_after).
        self.retry_after = retry_after


@dataclass(frozen=True)
class TemplateCall:
    """An approved template to send instead of a free text (WhatsApp, outside the window)."""

    provider_template_id: str  # Twilio's ContentSid, or Meta's template id
    name: str  # Meta sends templates by name and language
    language: str
    variables: tuple[str, ...] = ()


@dataclass(frozen=True)
class TemplateInfo:
    """A template as the provider lists it (its approval status in our words)."""

    name: str
    language: str
    provider_template_id: str
    status: str  # outreach.models.TemplateStatus values
    category: str = ""
    body: str = ""


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    status: str  # our vocabulary: OutboundStatus values
    price: Decimal | None = None
    price_unit: str = ""
    # Status reports the provider will make about it, (our status, error code), applied through
    # the status inbox once the send is recorded: the console's stand-in for callbacks.
    reports: tuple[tuple[str, str], ...] = ()


class ChannelAdapter(Protocol):
    def send(
        self,
        channel: Channel,
        *,
        to: str,
        body: str,
        status_callback: str,
        template: TemplateCall | None = None,
    ) -> SendResult:
        """Hand one message to the provider. Raises TransportError.

        `to` is the address's value (E.164, a chat id, a page-scoped id): the adapter writes
        it as its provider wants (Twilio's `whatsapp:+254…`). With `template`, the template
        goes instead of `body` (which is what the person will read, for our records)."""
        ...

    def find_sent(
        self, channel: Channel, *, to: str, body: str, since: datetime
    ) -> SendResult | None:
        """The provider's record of this message if it took it since `since` (reconcile).

        Raises TransportError when the provider cannot be asked: that is not a "no". A
        provider with no way to look a message up raises it permanent, with the code
        NO_LOOKUP: the message is failed as "outcome unknown", never sent twice."""
        ...


# A provider that cannot say whether it took a message (Meta's and Telegram's APIs list
# nothing): an attempt in doubt ends failed with this code, and no fallback follows it.
NO_LOOKUP = "no_lookup"


def no_lookup(provider: str) -> TransportError:
    """The error `find_sent` raises for a provider that keeps no list of what it took."""
    return TransportError(
        f"{provider} cannot say whether it took a message: it keeps no list to look it up in.",
        permanent=True,
        provider_code=NO_LOOKUP,
    )


class TemplateSource(Protocol):
    def list_templates(self, channel: Channel) -> list[TemplateInfo]:
        """Every message template of the channel's account, with its approval status."""
        ...
