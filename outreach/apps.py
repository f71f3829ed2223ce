from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = "Outreach: organizations, people and channels"

    def ready(self) -> None:
        from outreach.services.presets import presets_fill_missing

        # A flush (a test's, an operator's) empties the presets table: the shipped ones return.
        post_migrate.connect(presets_fill_missing, sender=self)
