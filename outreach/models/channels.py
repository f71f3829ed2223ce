import uuid

from django.db import models

from outreach.encryption import EncryptedTextField
from outreach.models.organizations import OrganizationOwned
from outreach.validators import validate_country_code


class ChannelKind(models.TextChoices):
    TWILIO_SMS = "twilio_sms", "Twilio SMS"
    CONSOLE = "console", "Console (records, never sends)"


class Channel(OrganizationOwned):
    """A way to reach subscribers: one Twilio number or messaging service, or the demo console."""

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


class ChannelPrice(models.Model):
    """What one SMS segment costs on a channel to a number of one country."""

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
