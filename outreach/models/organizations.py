from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from outreach.validators import (
    validate_country_code,
    validate_language_code,
    validate_language_codes,
    validate_timezone,
)


class Role(models.TextChoices):
    """What a member may do inside one organization."""

    ADMIN = "admin", _("Admin")  # everything, including members and roles
    MANAGER = "manager", _("Manager")  # audiences, campaigns, waves
    REVIEWER = "reviewer", _("Reviewer")  # reads everything, approves waves
    FUNDER = "funder", _("Funder")  # aggregate reports only


STAFF_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.REVIEWER})


def default_languages() -> list[str]:
    return ["en", "sw"]


class Organization(models.Model):
    """An NGO running campaigns. Every other object belongs to exactly one."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    country = models.CharField(
        max_length=2,
        default="KE",
        validators=[validate_country_code],
        help_text="ISO 3166-1 alpha-2; the default region for phone numbers.",
    )
    timezone = models.CharField(
        max_length=64,
        default="Africa/Nairobi",
        validators=[validate_timezone],
        help_text="IANA time zone.",
    )
    default_language = models.CharField(
        max_length=3, default="en", validators=[validate_language_code], help_text="ISO 639 code."
    )
    languages = models.JSONField(
        default=default_languages,
        validators=[validate_language_codes],
        help_text="ISO 639 codes the organization writes in; includes the default language.",
    )
    minimum_age = models.PositiveSmallIntegerField(
        default=18,
        validators=[MinValueValidator(13)],
        help_text="Younger sign-ups are refused kindly and deleted (Kenya: guardian consent <18).",
    )
    report_min_cell_size = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(5)],
        help_text="k: report cells describing fewer people are hidden (never below 5).",
    )
    reply_attribution_hours = models.PositiveSmallIntegerField(
        default=72,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 14)],
        help_text="Replies and opt-outs this soon after a wave message count for that wave.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(report_min_cell_size__gte=5), name="report_k_at_least_5"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.languages and self.default_language not in self.languages:
            raise ValidationError(
                {"default_language": "The default language must be one of the languages."}
            )


class Membership(models.Model):
    """A user's role inside one organization; a user may belong to several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_is_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.organization}"


class OrganizationOwned(models.Model):
    """Base for every object that belongs to one organization."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True
