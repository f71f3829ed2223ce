"""`manage.py bundle_export --network SLUG --organization SLUG [--out FILE]`: a signed bundle."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.management.commands.bundle_import import network_and_organization
from campaigns.selectors.bundles import bundle_export
from outreach.errors import AmaniError


class Command(BaseCommand):
    help = "Export a network's approved templates, lexicon and presets as a signed bundle."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--network", required=True, help="The network's slug.")
        parser.add_argument("--organization", required=True, help="The exporting member's slug.")
        parser.add_argument("--out", help="Write the bundle here (default: standard output).")

    def handle(self, *args: Any, **options: Any) -> None:
        network, organization = network_and_organization(options)
        try:
            bundle = bundle_export(network=network, organization=organization, by=None)
        except AmaniError as error:
            raise CommandError(str(error)) from error
        text = json.dumps(bundle, ensure_ascii=False, indent=1)
        if options["out"]:
            Path(options["out"]).write_text(text + "\n", encoding="utf-8")
            self.stderr.write(
                f"Wrote {options['out']}: {len(bundle['templates'])} templates, "
                f"{len(bundle['lexicon'])} lexicon terms, {len(bundle['presets'])} presets."
            )
        else:
            self.stdout.write(text)
