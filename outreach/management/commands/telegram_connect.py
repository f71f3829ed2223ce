import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from outreach.channels.base import TransportError
from outreach.errors import InvalidInput
from outreach.models import Channel
from outreach.services.telegram_setup import telegram_connect


class Command(BaseCommand):
    help = (
        "Connect a Telegram channel's bot: give it a webhook secret if it has none, record "
        "the bot's id, and tell Telegram to post the bot's updates to Amani."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("channel", type=uuid.UUID, help="The channel's UUID.")

    def handle(self, *args: Any, **options: Any) -> None:
        channel = Channel.objects.filter(uuid=options["channel"]).first()
        if channel is None:
            raise CommandError("No channel has that UUID.")
        had_secret = bool(channel.webhook_secret)
        try:
            url = telegram_connect(channel)
        except InvalidInput as error:
            raise CommandError(f"{error.field}: {error}") from error
        except TransportError as error:
            raise CommandError(f"Telegram refused: {error}") from error
        # Neither the bot's token nor the secret is printed: this output may be logged.
        self.stdout.write(
            f"Channel '{channel.name}': bot {channel.external_id}, "
            f"{'kept its' if had_secret else 'new'} webhook secret; "
            f"Telegram posts its updates to {url}"
        )
