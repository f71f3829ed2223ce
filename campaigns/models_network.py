"""The network's shared library: networks of organizations, vetted templates, lexicons.

A **network** groups organizations on one server; each member names a focal point. A
**library template** has immutable **versions** (a content hash, a changelog), each with one
**translation** per language. A version is proposed by one member and approved per country by
the focal points of at least two *other* members (`campaigns.services.library`); every
decision is a **review**. A member **adopts** a version into a wave as its variants; editing
them makes the adoption a fork that records what changed. Withdrawing a version sends a
**notice** to every adopter. **Lexicon terms** (words that inflame, with alternatives) are
reviewed the same way and warn the composer. What came from another server keeps its
provenance in `origin` (see `campaigns.bundles`).
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from outreach.models import Organization
from outreach.validators import validate_country_code, validate_language_code


class Network(models.Model):
    """Organizations that share vetted material; k applies to every outcome it shows."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    min_cell_size = models.PositiveSmallIntegerField(
        default=10, help_text="k: outcome figures describing fewer people are withheld."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_cell_size__gte=5), name="network_k_at_least_5"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MemberStatus(models.TextChoices):
    INVITED = "invited", pgettext_lazy("network membership", "Invited")
    ACTIVE = "active", pgettext_lazy("network membership", "Member")
    LEFT = "left", pgettext_lazy("network membership", "Left")


class NetworkMember(models.Model):
    """An organization's place in a network: invited, a member, or gone (keeping its adoptions)."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="members")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, choices=MemberStatus.choices)
    focal_point = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The member of the organization who reviews for it in the network.",
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    invited_at = models.DateTimeField(auto_now_add=True)
    joined_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["network", "organization__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["network", "organization"], name="one_place_per_network"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} in {self.network} ({self.status})"


class Purpose(models.TextChoices):
    PEACEFUL_VOTING = "peaceful_voting", _("Vote in peace")
    TOLERANCE = "tolerance", _("Tolerance between communities")
    RUMOUR_REBUTTAL = "rumour_rebuttal", _("Rumour rebuttal")
    CIVIC_INFORMATION = "civic_information", _("Civic information")
    POST_ELECTION_CALM = "post_election_calm", _("Calm after the results")
    REPORTING_VIOLENCE = "reporting_violence", _("Where to report violence")


class Licence(models.TextChoices):
    CC_BY = "CC-BY-4.0", _("Creative Commons Attribution 4.0")
    CC_BY_SA = "CC-BY-SA-4.0", _("Creative Commons Attribution-ShareAlike 4.0")
    CC0 = "CC0-1.0", _("Public domain (CC0 1.0)")
    NETWORK_ONLY = "network-only", _("Members of the network only")


class LibraryTemplate(models.Model):
    """A message the network shares: what it is for, for whom, under what licence."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="templates")
    owner = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The member that wrote it; empty when it came in a bundle.",
    )
    owner_name = models.CharField(max_length=200, help_text="Kept when imported or left.")
    name = models.CharField(max_length=120)
    purpose = models.CharField(max_length=24, choices=Purpose.choices)
    age_band = models.CharField(max_length=8, blank=True, help_text="Target age band; empty: any.")
    tags = models.JSONField(default=list, blank=True)
    licence = models.CharField(max_length=16, choices=Licence.choices, default=Licence.CC_BY)
    forked_from = models.ForeignKey(
        "TemplateVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="forks",
        help_text="The version this template was made from, if any.",
    )
    origin = models.JSONField(default=dict, blank=True, help_text="Provenance when imported.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["network", "name"], name="library_name_per_network"),
        ]

    def __str__(self) -> str:
        return self.name


class VersionState(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("library version", "Draft")
    IN_REVIEW = "in_review", pgettext_lazy("library version", "In review")
    APPROVED = "approved", pgettext_lazy("library version", "Approved")
    DEPRECATED = "deprecated", pgettext_lazy("library version", "Deprecated")
    WITHDRAWN = "withdrawn", pgettext_lazy("library version", "Withdrawn")


class TemplateVersion(models.Model):
    """One immutable text of a template, in several languages; approved country by country."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    template = models.ForeignKey(LibraryTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    changelog = models.TextField(blank=True)
    content_hash = models.CharField(max_length=64, help_text="sha256 of its canonical content.")
    state = models.CharField(
        max_length=10, choices=VersionState.choices, default=VersionState.DRAFT
    )
    countries = models.JSONField(
        default=list, blank=True, help_text="Where it was proposed for: ISO alpha-2 codes."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    proposed_at = models.DateTimeField(null=True, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.CharField(
        max_length=500, blank=True, help_text="Why it was withdrawn or deprecated."
    )
    deprecated_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_by_name = models.CharField(
        max_length=200,
        blank=True,
        help_text="Who withdrew or deprecated it, and for which organization (as text: it "
        "travels with bundles).",
    )
    origin = models.JSONField(default=dict, blank=True, help_text="Provenance when imported.")

    class Meta:
        ordering = ["template", "number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="one_version_number"),
        ]

    def __str__(self) -> str:
        return f"{self.template} v{self.number}"


class TemplateTranslation(models.Model):
    """A version's text in one language."""

    version = models.ForeignKey(
        TemplateVersion, on_delete=models.CASCADE, related_name="translations"
    )
    language = models.CharField(max_length=3, validators=[validate_language_code])
    body = models.TextField()

    class Meta:
        ordering = ["version", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "language"], name="one_translation_per_language"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} ({self.language})"


class CountryState(models.TextChoices):
    IN_REVIEW = "in_review", pgettext_lazy("library version", "In review")
    APPROVED = "approved", pgettext_lazy("library version", "Approved")
    CHANGES_REQUESTED = "changes_requested", pgettext_lazy("library version", "Changes requested")
    DEPRECATED = "deprecated", pgettext_lazy("library version", "Deprecated")
    WITHDRAWN = "withdrawn", pgettext_lazy("library version", "Withdrawn")


class CountryApproval(models.Model):
    """Where a version (or a lexicon term) stands in one country."""

    version = models.ForeignKey(
        TemplateVersion, on_delete=models.CASCADE, related_name="country_states"
    )
    country = models.CharField(max_length=2, validators=[validate_country_code])
    state = models.CharField(max_length=20, choices=CountryState.choices)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["version", "country"]
        constraints = [
            models.UniqueConstraint(fields=["version", "country"], name="one_state_per_country"),
        ]

    def __str__(self) -> str:
        return f"{self.version} in {self.country}: {self.state}"


class Decision(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REQUEST_CHANGES = "request_changes", _("Request changes")


# The do-no-harm checklist: every item is affirmed before an approval counts.
CHECKLIST: dict[str, str] = {
    "conflict_sensitive": "Conflict-sensitive: it cannot be read as taking a side",
    "no_group_as_threat": "No group, community or candidate is named as a threat",
    "facts_checked": "Every fact in it is checked and sourced",
    "no_silence_breach": "Sending it breaks no legal election-silence period",
    "safe_for_minors": "Safe for minors to receive",
}


class LibraryReview(models.Model):
    """One decision on a version or a lexicon term, in one country: who, when, why.

    The organization and the reviewer's name are kept as text too, so an imported review (whose
    people live on another server) and a review by someone since gone still say who decided.
    """

    version = models.ForeignKey(
        TemplateVersion, null=True, blank=True, on_delete=models.CASCADE, related_name="reviews"
    )
    term = models.ForeignKey(
        "LexiconTerm", null=True, blank=True, on_delete=models.CASCADE, related_name="reviews"
    )
    country = models.CharField(max_length=2, validators=[validate_country_code])
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    organization_name = models.CharField(max_length=200)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer_name = models.CharField(max_length=150)
    decision = models.CharField(max_length=16, choices=Decision.choices)
    checklist = models.JSONField(default=dict, blank=True)
    reason = models.TextField()
    at = models.DateTimeField()
    origin = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(version__isnull=False, term__isnull=True)
                | models.Q(version__isnull=True, term__isnull=False),
                name="review_of_one_thing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization_name}: {self.decision} in {self.country}"


class Adoption(models.Model):
    """A version taken into a wave as its variants; a fork once those were edited."""

    version = models.ForeignKey(TemplateVersion, on_delete=models.PROTECT, related_name="adoptions")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    wave = models.OneToOneField(
        "campaigns.Wave", on_delete=models.CASCADE, related_name="library_adoption"
    )
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    adopted_at = models.DateTimeField(auto_now_add=True)
    forked_at = models.DateTimeField(null=True, blank=True)
    changes = models.JSONField(
        default=list,
        blank=True,
        help_text="Per language edited: the original, the text now, and a unified diff.",
    )
    flagged_at = models.DateTimeField(null=True, blank=True, help_text="Its version withdrawn.")
    flag_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-adopted_at"]

    def __str__(self) -> str:
        return f"{self.version} in wave {self.wave_id}"


class NoticeKind(models.TextChoices):
    WITHDRAWN = "withdrawn", _("A version you use was withdrawn")
    INVITED = "invited", _("Your organization is invited to a network")
    REVIEW_WANTED = "review_wanted", _("A version waits for your review")
    APPROVED = "approved", _("Your version was approved")
    CHANGES_REQUESTED = "changes_requested", _("Changes were requested on your version")


class NetworkNotice(models.Model):
    """Something a member organization should know about the network's library."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="notices")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    version = models.ForeignKey(
        TemplateVersion, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    wave = models.ForeignKey(
        "campaigns.Wave", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.CharField(max_length=600)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "read_at"], name="notices_unread")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.organization}"


class TermState(models.TextChoices):
    IN_REVIEW = "in_review", pgettext_lazy("lexicon term", "In review")
    APPROVED = "approved", pgettext_lazy("lexicon term", "Approved")
    CHANGES_REQUESTED = "changes_requested", pgettext_lazy("lexicon term", "Changes requested")
    WITHDRAWN = "withdrawn", pgettext_lazy("lexicon term", "Withdrawn")


class LexiconTerm(models.Model):
    """A word or phrase that inflames in one country and language, and what to say instead."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="lexicon")
    country = models.CharField(max_length=2, validators=[validate_country_code])
    language = models.CharField(max_length=3, validators=[validate_language_code])
    term = models.CharField(max_length=120)
    note = models.TextField(help_text="Why it inflames: its history, who it targets.")
    alternatives = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=20, choices=TermState.choices, default=TermState.IN_REVIEW)
    content_hash = models.CharField(max_length=64)
    proposed_by_organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_by_name = models.CharField(max_length=200)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_at = models.DateTimeField()
    origin = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["country", "language", "term"]
        constraints = [
            models.UniqueConstraint(
                fields=["network", "country", "language", "term"], name="one_term_per_lexicon"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term} ({self.country}, {self.language})"
