"""`manage.py bundle_import FILE --network SLUG --organization SLUG`: take in a signed bundle."""

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.models import Network
from campaigns.services.bundles import bundle_import
from outreach.errors import AmaniError
from outreach.models import Organization


class Command(BaseCommand):
    help = "Import a bundle signed by a trusted server into a network of this one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The bundle (JSON); - reads standard input.")
        parser.add_argument("--network", required=True, help="The network's slug, here.")
        parser.add_argument("--organization", required=True, help="The importing member's slug.")

    def handle(self, *args: Any, **options: Any) -> None:
        network, organization = network_and_organization(options)
        try:
            raw = (
                sys.stdin.buffer.read()
                if options["file"] == "-"
                else Path(options["file"]).read_bytes()
            )
        except OSError as error:
            raise CommandError(f"Cannot read the bundle: {error}") from error
        try:
            summary = bundle_import(raw, network=network, organization=organization, by=None)
        except AmaniError as error:
            where = f"{error.field}: " if getattr(error, "field", None) else ""
            raise CommandError(f"Refused, nothing imported. {where}{error}") from error
        self.stdout.write(json.dumps(summary))


def network_and_organization(options: dict[str, Any]) -> tuple[Network, Organization]:
    """The --network and --organization the bundle commands name, or a CommandError."""
    network = Network.objects.filter(slug=options["network"]).first()
    if network is None:
        raise CommandError(f"--network: no network has the slug {options['network']!r}.")
    organization = Organization.objects.filter(slug=options["organization"]).first()
    if organization is None:
        raise CommandError(
            f"--organization: no organization has the slug {options['organization']!r}."
        )
    return network, organization
