from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from outreach.models.channels import Channel
from outreach.models.organizations import OrganizationOwned
from outreach.models.subscribers import Subscriber


class InboundIntent(models.TextChoices):
    JOIN = "join", _("Join")
    STOP = "stop", _("Stop")
    STOP_ALL = "stop_all", _("Stop on every channel")
    LINK = "link", _("Link code asked for or typed")
    START = "start", _("Start")
    HELP = "help", _("Help")
    LANGUAGE = "language", _("Language change")
    ONBOARDING = "onboarding", _("Onboarding answer")
    FREE_REPLY = "free_reply", _("Free reply")
    POLL_ANSWER = "poll_answer", _("Poll answer")
    IGNORED = "ignored", _("Ignored (unsubscribed)")


# What a subscriber sends in answer to a wave: counted for the wave that last reached them.
ATTRIBUTED_INTENTS = frozenset(
    {
        InboundIntent.FREE_REPLY,
        InboundIntent.POLL_ANSWER,
        InboundIntent.STOP,
        InboundIntent.STOP_ALL,
    }
)


class InboundMessage(OrganizationOwned):
    """A message a subscriber sent us; stored once per provider message id (providers retry)."""

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="inbound_messages")
    subscriber = models.ForeignKey(
        Subscriber, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound"
    )
    provider_message_id = models.CharField(max_length=64)
    from_address = models.CharField(max_length=64, blank=True)  # cleared once handled
    body = models.TextField(blank=True)
    received_at = models.DateTimeField()
    handled_at = models.DateTimeField(null=True, blank=True)
    intent = models.CharField(max_length=12, choices=InboundIntent.choices, blank=True)
    # The provider's payload as received, without the fields that name the person (numbers,
    # names, usernames: outreach.privacy.without_personal), beside what we made of it.
    raw = models.JSONField(null=True, blank=True)
    detected_language = models.CharField(max_length=3, blank=True)
    # The campaigns.Wave this reply or opt-out answers (the last to reach the sender within
    # the organization's attribution window), as a plain id like OutboundMessage.wave_id.
    wave_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(
                fields=["wave_id", "intent"],
                condition=models.Q(wave_id__isnull=False),
                name="inbound_attributed_to_wave",
            ),
            # Only the messages still to route: a sender's earlier ones are routed first.
            models.Index(
                fields=["channel", "from_address", "received_at"],
                condition=models.Q(handled_at__isnull=True),
                name="inbound_unrouted_per_sender",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_message_id"], name="inbound_once_per_provider_id"
            ),
        ]

    def __str__(self) -> str:
        return f"Inbound {self.provider_message_id}"


class OutboundKind(models.TextChoices):
    REPLY = "reply", "System reply"
    WAVE = "wave", "Campaign wave"
    TEST = "test", "Test send to staff"


class OutboundStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("message status", "Queued")
    HELD = "held", pgettext_lazy("message status", "Held (wave paused)")
    SENDING = "sending", pgettext_lazy("message status", "Sending")
    SENT = "sent", pgettext_lazy("message status", "Sent")
    DELIVERED = "delivered", pgettext_lazy("message status", "Delivered")
    READ = "read", pgettext_lazy("message status", "Read")
    UNDELIVERED = "undelivered", pgettext_lazy("message status", "Undelivered")
    FAILED = "failed", pgettext_lazy("message status", "Failed")
    CANCELED = "canceled", pgettext_lazy("message status", "Canceled")


class OutboundMessage(OrganizationOwned):
    """One message to one subscriber: the record of intent, then of what the provider did.

    Fan-out writes a million of these at a time: every index here is paid for on each row,
    so only the ones a query needs are kept.
    """

    # Indexed through (channel, provider_message_id) and the claim index below.
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="outbound_messages", db_index=False
    )
    subscriber = models.ForeignKey(
        Subscriber, null=True, blank=True, on_delete=models.SET_NULL, related_name="outbound"
    )
    # The person (outreach.Contact) as a plain id: reports and fatigue caps count people.
    contact_id = models.BigIntegerField(null=True, blank=True)
    # A wave message's place among the person's tries: 0 on their first channel, 1 for the
    # fallback sent once that one is known to have failed, and so on.
    fallback_step = models.PositiveSmallIntegerField(default=0, db_default=0)
    # The WhatsApp template (outreach.MessageTemplate) it goes as, outside the 24-hour window.
    template_id = models.BigIntegerField(null=True, blank=True)
    # Kept until sent: an under-age sign-up's goodbye still needs a number after erasure.
    to_address = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=8, choices=OutboundKind.choices)
    reply_key = models.CharField(max_length=32, blank=True)
    in_reply_to = models.ForeignKey(
        InboundMessage,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replies",
        db_index=False,  # read from the reply's side only
    )
    body = models.TextField()
    language = models.CharField(max_length=3, blank=True)
    segments = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(
        max_length=12, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED
    )
    provider_message_id = models.CharField(max_length=64, blank=True)
    error_code = models.CharField(max_length=16, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    price = models.DecimalField(max_digits=10, decimal_places=5, null=True, blank=True)
    price_unit = models.CharField(max_length=3, blank=True)
    # The campaigns.Wave this message belongs to, as a plain id: outreach never imports campaigns.
    wave_id = models.BigIntegerField(null=True, blank=True)
    # Lower goes first: replies (0) before urgent waves (1) before the rest (2).
    priority = models.PositiveSmallIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # The claim that holds a "sending" message: every write a worker makes is fenced on it,
    # so a worker whose lease was taken back can neither send nor record the message.
    claim_token = models.UUIDField(null=True, blank=True)
    # When the current attempt was handed to the provider (set, fenced, right before the call).
    # Null while the message waits: a STOP or a cancel can still take it back.
    in_flight_at = models.DateTimeField(null=True, blank=True)
    # An attempt started then may have reached the provider and we never saw its answer:
    # the message is reconciled with the provider (from this time) before any resend.
    outcome_unknown_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["channel", "provider_message_id"]),
            # Small partial indexes, not one on status: a million queued wave messages and
            # every status change would write to it. These hold only what the sweeper seeks.
            models.Index(
                fields=["lease_expires_at"],
                condition=models.Q(status="sending", provider_message_id=""),
                name="outbound_unrecorded_leases",
            ),
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="queued", kind="reply"),
                name="outbound_queued_replies",
            ),
            models.Index(
                fields=["channel", "priority", "id"],
                condition=models.Q(status="queued"),
                name="outbound_queued_claim_order",
            ),
            # /metrics counts the last day's messages by status: a BRIN index (a few pages
            # however long the history, next to nothing per insert) finds that day's pages.
            BrinIndex(fields=["created_at"], name="outbound_created_brin", autosummarize=True),
        ]
        constraints = [
            # At most one message per (wave, subscriber, channel), ever: fan-out can re-run.
            models.UniqueConstraint(
                fields=["wave_id", "subscriber", "channel"],
                condition=models.Q(wave_id__isnull=False),
                name="one_message_per_wave_subscriber_channel",
            ),
            # One message per person and wave, a fallback only as the next step.
            models.UniqueConstraint(
                fields=["wave_id", "contact_id", "fallback_step"],
                condition=models.Q(wave_id__isnull=False, contact_id__isnull=False),
                name="one_message_per_wave_person_step",
            ),
        ]

    def __str__(self) -> str:
        return f"Outbound {self.pk} ({self.status})"


# Messages no provider has yet: waiting (queued, held) or claimed by a dispatcher but not in
# flight. A STOP, an erasure, a cancel or a pause takes them back; the dispatcher's fence
# (claim token and status) then skips them.
NOT_HANDED_OVER = models.Q(
    status__in=[OutboundStatus.QUEUED, OutboundStatus.HELD, OutboundStatus.SENDING],
    in_flight_at__isnull=True,
    provider_message_id="",
)


class MessageStatusEvent(models.Model):
    """A provider's status report, stored once per (provider message id, status)."""

    message = models.ForeignKey(
        OutboundMessage, null=True, on_delete=models.CASCADE, related_name="status_events"
    )
    channel = models.ForeignKey(
        Channel,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the unique (channel, provider id, status) index leads with it
    )
    provider_message_id = models.CharField(max_length=64)
    provider_status = models.CharField(max_length=32)
    status = models.CharField(max_length=12)
    error_code = models.CharField(max_length=16, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    # The provider's report as received, without what names the person (see InboundMessage).
    raw = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_message_id", "provider_status"],
                name="status_event_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider_message_id}: {self.provider_status}"


class StatusReportInbox(models.Model):
    """A verified status report waiting to be applied: the webhook's one cheap write.

    A narrow table with no index but its key and no foreign key, so a callback costs one
    small insert; `status_reports_apply` moves reports to MessageStatusEvent and their
    messages forward in batches, deleting them in the same transaction.
    """

    channel_id = models.BigIntegerField()
    provider_message_id = models.CharField(max_length=64)
    provider_status = models.CharField(max_length=32)
    # Ours (OutboundStatus, or "unknown"): each webhook translates its provider's at the edge.
    status = models.CharField(max_length=12, default="unknown", db_default="unknown")
    error_code = models.CharField(max_length=16, blank=True)
    received_at = models.DateTimeField()
    raw = models.JSONField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.provider_message_id}: {self.provider_status} (waiting)"


class FallbackDue(models.Model):
    """A wave message that failed for good, waiting for its wave's next channel to be tried.

    Written in the transaction that records the failure, so no fallback is lost with a
    broker; campaigns' fallback task takes these rows (and deletes them) once it has added
    the person's next message, and the wave tick takes what a lost task left.
    """

    message_id = models.BigIntegerField(primary_key=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Fallback due for message {self.message_id}"


class Keyword(OrganizationOwned):
    """An organization's own keyword, on top of the built-in ones (outreach.keywords)."""

    word = models.CharField(max_length=40)
    intent = models.CharField(
        max_length=10,
        choices=[(i, i.title()) for i in ("join", "stop", "start", "help", "language")],
    )
    language = models.CharField(max_length=3, blank=True)

    class Meta:
        ordering = ["intent", "word"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "word"], name="keyword_once_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.word} → {self.intent}"


class SystemReply(OrganizationOwned):
    """An organization's own wording of a system reply in one language (overrides the default)."""

    key = models.CharField(max_length=32)
    language = models.CharField(max_length=3)
    text = models.TextField()

    class Meta:
        ordering = ["key", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "key", "language"], name="one_reply_wording"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.language})"
