"""One adapter per channel kind."""

from outreach.channels.base import ChannelAdapter
from outreach.channels.console import ConsoleAdapter
from outreach.channels.twilio_sms import TwilioSmsAdapter
from outreach.models import Channel, ChannelKind

ADAPTERS: dict[str, ChannelAdapter] = {
    ChannelKind.CONSOLE: ConsoleAdapter(),
    ChannelKind.TWILIO_SMS: TwilioSmsAdapter(),
}


def adapter_for(channel: Channel) -> ChannelAdapter:
    return ADAPTERS[channel.kind]
