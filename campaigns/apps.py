from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns: what to say, to whom, when"

    def ready(self) -> None:
        from campaigns import signals  # noqa: F401 - connects the receivers
        from campaigns.services.polls import poll_reply_handler
        from outreach.services.inbound import register_reply_handler

        register_reply_handler(poll_reply_handler)  # answers to a wave's poll
