import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from outreach.channel_kinds import ChannelKindSpec, spec_of
from outreach.encryption import EncryptedTextField
from outreach.models.organizations import OrganizationOwned
from outreach.validators import validate_country_code


class ChannelKind(models.TextChoices):
    TWILIO_SMS = "twilio_sms", _("Twilio SMS")
    TWILIO_WHATSAPP = "twilio_whatsapp", _("WhatsApp through Twilio")
    WHATSAPP_CLOUD = "whatsapp_cloud", _("WhatsApp Cloud API (Meta)")
    TELEGRAM = "telegram", _("Telegram bot")
    MESSENGER = "messenger", _("Facebook Messenger (Page)")
    CONSOLE = "console", _("Console (records, never sends)")
    CONSOLE_WHATSAPP = "console_whatsapp", _("Console WhatsApp (records, never sends)")
    CONSOLE_TELEGRAM = "console_telegram", _("Console Telegram (records, never sends)")
    CONSOLE_MESSENGER = "console_messenger", _("Console Messenger (records, never sends)")


class Channel(OrganizationOwned):
    """A way to reach subscribers: a Twilio number or messaging service (SMS or WhatsApp), a
    WhatsApp Cloud API phone number, a Telegram bot, a Facebook Page, or a demo console.

    What a kind can do (its address scheme, limits, window, pricing) is data in
    outreach.channel_kinds; the credentials a kind needs are the fields below it uses.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=ChannelKind.choices)
    country = models.CharField(
        max_length=2,
        validators=[validate_country_code],
        help_text="ISO 3166-1 alpha-2; numbers without a country code are read as from here.",
    )
    account_sid = models.CharField(max_length=64, blank=True)
    auth_token = EncryptedTextField(blank=True)
    from_number = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +254700000000")
    messaging_service_sid = models.CharField(max_length=64, blank=True)
    # The provider's id of what this channel is: a WhatsApp Cloud phone-number id, a Facebook
    # Page id, a Telegram bot's id. A webhook payload naming another one is refused (404).
    external_id = models.CharField(max_length=64, blank=True)
    # Meta's access token (system user or page token), or a Telegram bot's token.
    access_token = EncryptedTextField(blank=True)
    # What signs the provider's webhooks: Meta's app secret (X-Hub-Signature-256), or the
    # secret_token Amani gives Telegram in setWebhook (X-Telegram-Bot-Api-Secret-Token).
    webhook_secret = EncryptedTextField(blank=True)
    # The token Meta's GET verification handshake must present (hub.verify_token).
    verify_token = EncryptedTextField(blank=True)
    messages_per_second = models.PositiveIntegerField(
        default=10, help_text="SMS segments per second this channel may send."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="channel_name_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def spec(self) -> ChannelKindSpec:
        return spec_of(self.kind)

    @property
    def scheme(self) -> str:
        return spec_of(self.kind).scheme


class ChannelPrice(models.Model):
    """What one pricing unit (an SMS segment, a WhatsApp conversation) costs on a channel to
    an address of one country."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="prices")
    country = models.CharField(max_length=2, validators=[validate_country_code])
    price_per_segment = models.DecimalField(max_digits=8, decimal_places=5)
    currency = models.CharField(max_length=3, default="USD")

    class Meta:
        ordering = ["country"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "country"], name="one_price_per_country"),
        ]

    def __str__(self) -> str:
        return f"{self.price_per_segment} {self.currency} per segment to {self.country}"


class TemplateStatus(models.TextChoices):
    PENDING = "pending", "Pending review by the provider"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    PAUSED = "paused", "Paused by the provider"


class MessageTemplate(OrganizationOwned):
    """A WhatsApp message template in one language, as the provider last reported it.

    Outside a person's 24-hour window only an approved template may be sent; a wave's
    variant names the template it goes out as there. Synced from the provider
    (`templates_sync`), never edited here: approval is the provider's.
    """

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="templates")
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=15, help_text="The provider's code, e.g. en or sw.")
    # Twilio's ContentSid (HX…), or Meta's template id.
    provider_template_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=TemplateStatus.choices)
    category = models.CharField(max_length=20, blank=True)
    body = models.TextField(blank=True, help_text="The text, with {{1}}-style placeholders.")
    synced_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "name", "language"], name="one_template_per_language"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language}, {self.status})"
