"""The servers whose signed bundles this server accepts (see `campaigns.bundles`)."""

from django.conf import settings
from django.db import models


class TrustedServer(models.Model):
    """Another Amani server an admin registered: bundles signed with its key may be imported."""

    name = models.CharField(max_length=200)
    key_id = models.CharField(max_length=16, unique=True, help_text="Fingerprint of the key.")
    public_key = models.CharField(max_length=64, help_text="Ed25519 public key, base64.")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty when added from the command line.",
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id})"
