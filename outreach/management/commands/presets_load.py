"""manage.py presets_load: hold the country presets this server ships (outreach/presets/*.json)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from outreach.errors import InvalidInput
from outreach.services.presets import presets_load


class Command(BaseCommand):
    help = "Load or refresh the shipped country presets (KE, MX); loading twice changes nothing."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            loaded = presets_load()
        except InvalidInput as error:
            raise CommandError(f"{error.field}: {error.message}") from error
        for preset, changed in loaded:
            state = "loaded" if changed else "unchanged"
            self.stdout.write(
                f"{preset.country} {preset.name}: {state} ({preset.content_hash[:12]})"
            )
