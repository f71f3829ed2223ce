from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from outreach.models.channels import Channel
from outreach.models.organizations import Organization, OrganizationOwned


class Region(OrganizationOwned):
    """A county, ward or other area from the organization's own list."""

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=40, default="county")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    aliases = models.JSONField(
        default=list, blank=True, help_text="Other spellings subscribers use."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="region_name_per_org"),
        ]

    def __str__(self) -> str:
        return self.name


class AgeBand(models.TextChoices):
    A13_17 = "13_17", "13-17"  # only where the organization's minimum age allows it
    A18_24 = "18_24", "18-24"
    A25_29 = "25_29", "25-29"
    A30_34 = "30_34", "30-34"
    A35_PLUS = "35_plus", "35+"


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    PREFER_NOT_TO_SAY = "prefer_not_to_say", _("Prefer not to say")


class ConsentStatus(models.TextChoices):
    NONE = "none", _("Never subscribed")  # texted us, never joined
    OPTED_IN = "opted_in", _("Subscribed")
    OPTED_OUT = "opted_out", _("Unsubscribed")


class OnboardingStep(models.TextChoices):
    AGE = "age", "Asked for age"
    REGION = "region", "Asked for region"
    DONE = "done", "Done"


class LanguageSource(models.TextChoices):
    DEFAULT = "default", "Organization default"
    DETECTED = "detected", "Detected from text"
    KEYWORD = "keyword", "From the join keyword"
    CHOSEN = "chosen", "Chosen by the subscriber or staff"


class Contact(OrganizationOwned):
    """One young person, whatever the channels they are reached on (their subscribers).

    Reach, fatigue caps, segments and the report's people are counted in contacts. Two
    addresses belong to one contact only when they are the same phone number (SMS and
    WhatsApp) or the person proved both ends with a link code: never by staff guessing.
    """

    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Contact {self.pk}"


class Subscriber(OrganizationOwned):
    """One address of a young person (`scheme:address`) and its consent. No ethnicity, ever.

    A contact (the person) has one subscriber per address: `tel:+254…` for SMS,
    `whatsapp:+254…`, `telegram:<chat id>`, `messenger:<page-scoped id>`, each reached through
    a channel of the organization whose kind speaks that scheme. Consent is per address:
    joining on WhatsApp is not consent to SMS. `consent_status` is derived from the consent
    ledger: only the consent services write it, in the same transaction as the event they
    append. The person's profile (language, region, age band, gender, tags) is the same on
    all their addresses: `subscriber_update` writes it to each.
    """

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="addresses")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="subscribers")
    scheme = models.CharField(max_length=10, default="tel", db_default="tel")
    address = models.CharField(
        max_length=64, help_text="E.164 for SMS and WhatsApp; the chat or page-scoped id else."
    )
    language = models.CharField(max_length=3)
    language_source = models.CharField(
        max_length=10, choices=LanguageSource.choices, default=LanguageSource.DEFAULT
    )
    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.SET_NULL, related_name="subscribers"
    )
    age_band = models.CharField(max_length=8, choices=AgeBand.choices, blank=True)
    gender = models.CharField(max_length=20, choices=Gender.choices, blank=True)
    tags = models.JSONField(default=list, blank=True)
    joined_keyword = models.CharField(max_length=40, blank=True)
    joined_at = models.DateTimeField(null=True, blank=True)
    consent_status = models.CharField(
        max_length=10, choices=ConsentStatus.choices, default=ConsentStatus.NONE, editable=False
    )
    onboarding_step = models.CharField(max_length=8, choices=OnboardingStep.choices, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_not_understood_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "scheme", "address"], name="one_subscriber_per_address"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "consent_status", "language"]),
            models.Index(fields=["organization", "joined_at"]),
        ]

    def __str__(self) -> str:
        return f"Subscriber {self.pk}"

    @property
    def is_subscribed(self) -> bool:
        return self.consent_status == ConsentStatus.OPTED_IN

    @property
    def urn(self) -> str:
        """`scheme:address`, e.g. `whatsapp:+254712345678` (never logged: it names the person)."""
        return f"{self.scheme}:{self.address}"


class LinkCode(models.Model):
    """A short code sent to one address, to be typed on another: the proof that one person
    holds both, after which the two are one contact. Stored as a hash, used once."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["code_hash"])]

    def __str__(self) -> str:
        return f"Link code for subscriber {self.subscriber_id}"


class ConsentKind(models.TextChoices):
    OPT_IN = "opt_in", _("Opt-in")
    OPT_OUT = "opt_out", _("Opt-out")


class ConsentSource(models.TextChoices):
    KEYWORD = "keyword", _("Keyword texted by the subscriber")
    IMPORT = "import", _("Imported paper sign-up")
    CARRIER = "carrier", _("The provider reported the person unsubscribed or blocked us")
    STAFF = "staff", _("Recorded by staff")


class ConsentEventQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise TypeError("The consent ledger is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The consent ledger is append-only.")

    def detach_from_erased(self, subscriber_id: int) -> int:
        """The one change the ledger allows: forget who an event was about (erasure)."""
        events = self.filter(subscriber_id=subscriber_id)
        return models.QuerySet.update(events, subscriber=None, provider_message_id="")


class ConsentEvent(OrganizationOwned):
    """One opt-in or opt-out: when, how, through which channel, with which consent text.

    Append-only. In PostgreSQL a trigger refuses UPDATE and DELETE, except the one
    update erasure makes: detaching the event from the erased person.
    """

    subscriber = models.ForeignKey(
        Subscriber,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,  # erasure detaches events first; the ledger stays
        related_name="consent_events",
        db_constraint=False,
    )
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    # The address's scheme (tel, whatsapp, telegram, messenger): consent is per address, and
    # the event says which kind of address it was even after the person is erased.
    scheme = models.CharField(max_length=10, default="tel", db_default="tel")
    kind = models.CharField(max_length=8, choices=ConsentKind.choices)
    source = models.CharField(max_length=8, choices=ConsentSource.choices)
    occurred_at = models.DateTimeField(help_text="UTC.")
    keyword_as_texted = models.CharField(max_length=40, blank=True)
    provider_message_id = models.CharField(max_length=64, blank=True)
    consent_text_version = models.CharField(max_length=40, blank=True)
    consent_text_language = models.CharField(max_length=3, blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = ConsentEventQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["subscriber", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.occurred_at:%Y-%m-%d %H:%M} ({self.source})"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise TypeError("The consent ledger is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("The consent ledger is append-only.")


class AnonymousTally(models.Model):
    """Counts that outlive the people counted: under-age sign-ups refused, erasures."""

    class Metric(models.TextChoices):
        UNDERAGE_REFUSED = "underage_refused", "Under-age sign-up refused and deleted"
        ERASED = "erased", "Subscriber erased on request"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    metric = models.CharField(max_length=20, choices=Metric.choices)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "metric"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "metric", "day"], name="one_tally_a_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} on {self.day}: {self.count}"
