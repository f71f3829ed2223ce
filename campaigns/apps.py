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
        from outreach.wave_activity import register_failure_handler

        register_reply_handler(poll_reply_handler)  # answers to a wave's poll
        # A wave message that failed for good: the person's next channel, in a task.
        register_failure_handler(_fallback_later)
        # Dispatch asks it before every provider call: cancel, pause, sending windows.
        register_gate(campaign_send_gate)


def _fallback_later(message_ids: list[int]) -> None:
    import logging

    from django.conf import settings

    from campaigns.tasks import fallback
    from outreach.queueing import PUBLISH_RETRY_POLICY

    try:
        fallback.apply_async(args=[message_ids], retry_policy=PUBLISH_RETRY_POLICY)
    except Exception as error:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise
        # The wave tick looks for failures still without their fallback (waves_tick).
        logging.getLogger(__name__).warning(
            "fallback of %s messages not enqueued: %s", len(message_ids), type(error).__name__
        )
