"""`manage.py bundle_trust --name N --public-key K`: accept bundles signed with that key."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.services.bundles import trusted_server_add
from outreach.errors import InvalidInput


class Command(BaseCommand):
    help = "Trust another Amani server's bundles: its name and public key (from its bundle_key)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="The server, as its people know it.")
        parser.add_argument("--public-key", required=True, help="Its Ed25519 public key, base64.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            server = trusted_server_add(name=options["name"], public_key=options["public_key"])
        except InvalidInput as error:
            raise CommandError(f"--{(error.field or 'name').replace('_', '-')}: {error}") from error
        self.stdout.write(f"Trusted {server.name} (key {server.key_id}).")
