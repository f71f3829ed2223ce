"""Country presets: what a country requires of a campaign, held as one shared document each."""

from django.db import models

from outreach.validators import validate_country_code


class CountryPreset(models.Model):
    """One country's preset (languages, time zone, sending window, elections and their silence,
    regions, keywords, disclaimers), stored as the document itself and named by its hash."""

    country = models.CharField(
        max_length=2, unique=True, validators=[validate_country_code], help_text="ISO 3166-1."
    )
    name = models.CharField(max_length=100)
    data = models.JSONField(help_text='The whole preset, as a document ("format": "amani.preset").')
    content_hash = models.CharField(max_length=64, help_text="sha256 of the data's canonical JSON.")
    origin = models.JSONField(default=dict, blank=True, help_text="Provenance when imported.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["country"]

    def __str__(self) -> str:
        return f"{self.country} ({self.name})"
