"""One adapter per channel kind."""

from outreach.channels.base import ChannelAdapter
from outreach.channels.console import ConsoleAdapter
from outreach.channels.messenger import MessengerAdapter
from outreach.channels.telegram import TelegramAdapter
from outreach.channels.twilio_sms import TwilioSmsAdapter
from outreach.channels.twilio_whatsapp import TwilioWhatsAppAdapter
from outreach.channels.whatsapp_cloud import WhatsAppCloudAdapter
from outreach.models import Channel, ChannelKind

ADAPTERS: dict[str, ChannelAdapter] = {
    ChannelKind.CONSOLE: ConsoleAdapter(),
    ChannelKind.CONSOLE_WHATSAPP: ConsoleAdapter(),
    ChannelKind.CONSOLE_TELEGRAM: ConsoleAdapter(),
    ChannelKind.CONSOLE_MESSENGER: ConsoleAdapter(),
    ChannelKind.TWILIO_SMS: TwilioSmsAdapter(),
    ChannelKind.TWILIO_WHATSAPP: TwilioWhatsAppAdapter(),
    ChannelKind.TELEGRAM: TelegramAdapter(),
    ChannelKind.WHATSAPP_CLOUD: WhatsAppCloudAdapter(),
    ChannelKind.MESSENGER: MessengerAdapter(),
}


def adapter_for(channel: Channel) -> ChannelAdapter:
    return ADAPTERS[channel.kind]
