import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from outreach.channels.base import TransportError
from outreach.errors import InvalidInput
from outreach.models import Channel
from outreach.services.templates import templates_sync, templates_sync_all


class Command(BaseCommand):
    help = (
        "Copy the WhatsApp message templates and their approval from the provider (Twilio's "
        "Content API, Meta's WhatsApp Business Account): of one channel, or of every active "
        "WhatsApp channel."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "channel", type=uuid.UUID, nargs="?", help="The channel's UUID (default: all)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["channel"] is None:
            results = templates_sync_all()
        else:
            channel = Channel.objects.filter(uuid=options["channel"]).first()
            if channel is None:
                raise CommandError("No channel has that UUID.")
            try:
                results = {channel.pk: templates_sync(channel=channel)}
            except InvalidInput as error:
                raise CommandError(f"{error.field}: {error}") from error
            except TransportError as error:
                raise CommandError(f"The provider refused: {error}") from error
        names = dict(Channel.objects.filter(pk__in=results).values_list("pk", "name"))
        for pk, counts in results.items():
            if counts is None:
                self.stdout.write(f"Channel '{names[pk]}': the provider could not be asked.")
            else:
                shown = ", ".join(f"{n} {status}" for status, n in counts.items())
                self.stdout.write(f"Channel '{names[pk]}': {shown}.")
        if not results:
            self.stdout.write("No active WhatsApp channel lists templates.")
