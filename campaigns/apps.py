from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns: what to say, to whom, when"

    def ready(self) -> None:
        from campaigns import signals  # noqa: F401 - connects the receivers
