from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns: what to say, to whom, when"

    def ready(self) -> None:
        from campaigns import signals  # noqa: F401 - connects the receivers
        from campaigns.selectors.send_gate import campaign_send_gate
        from campaigns.services.polls import poll_reply_handler
        from outreach.send_gates import register_gate
        from outreach.services.inbound import register_reply_handler

        register_reply_handler(poll_reply_handler)  # answers to a wave's poll
        # Dispatch asks it before every provider call: cancel, pause, sending windows.
        register_gate(campaign_send_gate)
