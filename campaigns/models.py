"""What to say, to whom, when: campaigns, their waves and language variants, and segments."""

import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from campaigns import cell_key
from outreach.models import (
    Channel,
    InboundMessage,
    MessageTemplate,
    OrganizationOwned,
    Region,
    Subscriber,
)
from outreach.validators import (
    validate_country_code,
    validate_language_code,
    validate_language_codes,
    validate_timezone,
)


class Segment(OrganizationOwned):
    """A saved audience: filters on subscribers' profiles, each empty one meaning "any".

    Filters of different kinds combine with AND, the values of one kind with OR. Only
    subscribers who opted in are ever members (see `campaigns.selectors.segments`).
    """

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    languages = models.JSONField(default=list, blank=True, help_text="ISO 639 codes; empty: any.")
    regions = models.ManyToManyField(
        Region, blank=True, related_name="+", help_text="With their sub-regions; none: any."
    )
    age_bands = models.JSONField(default=list, blank=True, help_text="Empty: any.")
    genders = models.JSONField(default=list, blank=True, help_text="Empty: any.")
    channels = models.ManyToManyField(Channel, blank=True, related_name="+", help_text="None: any.")
    tags = models.JSONField(
        default=list, blank=True, help_text="A member has at least one of them; empty: any."
    )
    joined_since = models.DateField(
        null=True, blank=True, help_text="In the organization's time zone; empty: any."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                models.F("organization"),
                Lower("name"),
                name="segment_name_per_org",
                violation_error_message="A segment of that name exists already.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Campaign(OrganizationOwned):
    """A sequence of waves around one election, in one country and time zone.

    Quiet hours, blackout windows and election day are local times in `timezone`.
    """

    name = models.CharField(max_length=120)
    country = models.CharField(max_length=2, validators=[validate_country_code])
    election_date = models.DateField(null=True, blank=True, help_text="Local date of polling day.")
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    default_language = models.CharField(max_length=3, validators=[validate_language_code])
    languages = models.JSONField(default=list, validators=[validate_language_codes])
    target_regions = models.ManyToManyField(
        Region, blank=True, related_name="+", help_text="None: the whole country."
    )
    quiet_start = models.TimeField(default=datetime.time(21, 0), help_text="Local; sending stops.")
    quiet_end = models.TimeField(default=datetime.time(8, 0), help_text="Local; sending resumes.")
    sensitive_terms = models.JSONField(
        default=list,
        blank=True,
        help_text="Party and candidate names: inside a blackout window a "
        "wave mentioning one needs an admin's extra approval.",
    )
    fatigue_cap_per_week = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        default=3,
        help_text="At most this many waves a subscriber per 7 days.",
    )
    opt_out_footer_every = models.PositiveSmallIntegerField(
        default=5,
        help_text='"Reply STOP to opt out" on the first message and every Nth; 0: first only.',
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    funders = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="shared_campaigns",
        help_text="Members with the funder role who may read this campaign's reports.",
    )
    report_key_seed = models.BigIntegerField(
        default=cell_key.new_seed,
        editable=False,
        help_text="Secret: seeds the record keys that perturb this campaign's report figures.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="campaign_name_per_org"),
        ]

    def __str__(self) -> str:
        return self.name


class BlackoutWindow(models.Model):
    """A stretch of time no wave may go out in (e.g. the 48 hours before polls open)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="blackouts")
    starts_at = models.DateTimeField(help_text="Stored in UTC; entered in campaign-local time.")
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="blackout_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} to {self.ends_at:%Y-%m-%d %H:%M} UTC"


class WaveStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("wave status", "Draft")
    IN_REVIEW = "in_review", pgettext_lazy("wave status", "In review")
    APPROVED = "approved", pgettext_lazy("wave status", "Approved")
    SCHEDULED = "scheduled", pgettext_lazy("wave status", "Scheduled")
    SENDING = "sending", pgettext_lazy("wave status", "Sending")
    SENT = "sent", pgettext_lazy("wave status", "Sent")
    PAUSED = "paused", pgettext_lazy("wave status", "Paused")
    CANCELLED = "cancelled", pgettext_lazy("wave status", "Cancelled")


class WavePriority(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent (rumour rebuttal)")


class Wave(OrganizationOwned):
    """One message to one segment at one time, written once per language."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="waves")
    name = models.CharField(max_length=120)
    send_at_absolute = models.DateTimeField(null=True, blank=True)
    send_at_relative = models.CharField(
        max_length=20, blank=True, help_text="Relative to election day, e.g. E-7d 18:00."
    )
    requested_at = models.DateTimeField(
        null=True, blank=True, help_text="The send time asked for, resolved to UTC."
    )
    scheduled_for = models.DateTimeField(
        null=True, blank=True, help_text="When it will start: after quiet hours, in UTC."
    )
    segment = models.ForeignKey(
        "campaigns.Segment", on_delete=models.PROTECT, related_name="waves", null=True, blank=True
    )
    channels = models.ManyToManyField(Channel, blank=True, related_name="+")
    # The channels' ids in order of preference: each person gets the wave on the first one
    # where they have consent (and a window or template), the next only as a fallback.
    channel_order = ArrayField(models.BigIntegerField(), default=list, blank=True)
    # A Facebook Page channel (messenger kind) to publish the wave's post to, at its time.
    page_channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    priority = models.CharField(
        max_length=8, choices=WavePriority.choices, default=WavePriority.NORMAL
    )
    status = models.CharField(max_length=10, choices=WaveStatus.choices, default=WaveStatus.DRAFT)
    paused_from = models.CharField(max_length=10, choices=WaveStatus.choices, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    blackout_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    blackout_approved_at = models.DateTimeField(null=True, blank=True)
    blackout_approval_reason = models.CharField(max_length=300, blank=True)
    fanned_out_at = models.DateTimeField(null=True, blank=True)  # its fan-out completed
    # When its fan-out task was last enqueued: a sending wave not fanned out a grace period
    # later lost its task (Redis restarted) and the tick enqueues it again.
    fanout_enqueued_at = models.DateTimeField(null=True, blank=True)
    rolled_up_at = models.DateTimeField(null=True, blank=True)  # its report cells' freshness
    audience = models.JSONField(
        default=dict, blank=True, help_text="At fan-out: targeted, queued, skipped by reason."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "scheduled_for"])]

    def __str__(self) -> str:
        return self.name


class WaveTransition(models.Model):
    """Every change of a wave's status: from what, to what, who, when, why."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=10, choices=WaveStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=WaveStatus.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class Variant(models.Model):
    """A wave's text in one language."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="variants")
    language = models.CharField(max_length=3, validators=[validate_language_code])
    body = models.TextField()
    # The approved WhatsApp template this text goes as outside a person's 24-hour window;
    # its placeholders {{1}}, {{2}}… are filled from `template_variables`.
    template = models.ForeignKey(
        MessageTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    template_variables = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["language"]
        constraints = [
            models.UniqueConstraint(fields=["wave", "language"], name="one_variant_per_language"),
        ]

    def __str__(self) -> str:
        return f"{self.wave} ({self.language})"


class PagePostStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled on the Page"
    PUBLISHED = "published", "Published"
    FAILED = "failed", "Failed"


class PagePost(models.Model):
    """A wave's post on the organization's Facebook Page: its id and public engagement.

    The engagement counts are the Page's public aggregates (reactions, comments, shares),
    read back when the page token allows it; they name nobody.
    """

    wave = models.OneToOneField(Wave, on_delete=models.CASCADE, related_name="page_post")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    provider_post_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=PagePostStatus.choices)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    reactions = models.PositiveIntegerField(null=True, blank=True)
    comments = models.PositiveIntegerField(null=True, blank=True)
    shares = models.PositiveIntegerField(null=True, blank=True)
    engagement_read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Page post of wave {self.wave_id} ({self.status})"


class WaveComment(models.Model):
    """A reviewer's (or author's) remark on a wave."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Comment on {self.wave} by {self.author}"


class TrackedLink(OrganizationOwned):
    """A wave's link in one language variant, sent as a short link on our own domain.

    One per (wave, language, url), however many subscribers get it: a click says which wave
    and which language, never who.
    """

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="links")
    language = models.CharField(max_length=3)
    url = models.URLField(max_length=2000)
    code = models.CharField(max_length=16, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["wave", "language", "url"], name="one_tracked_link_per_variant_url"
            ),
        ]

    def __str__(self) -> str:
        return f"/l/{self.code} → {self.url}"


class LinkClickDay(models.Model):
    """How many times a tracked link was followed on one day, in the campaign's time zone.

    Deliberately only a count: no user, IP address, user agent or subscriber is stored.
    """

    link = models.ForeignKey(TrackedLink, on_delete=models.CASCADE, related_name="click_days")
    day = models.DateField()
    clicks = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["link", "day"], name="one_click_count_per_link_day"),
        ]

    def __str__(self) -> str:
        return f"{self.link.code} on {self.day}: {self.clicks}"


class Poll(models.Model):
    """A question a wave asks; subscribers answer by replying (see campaigns.services.polls)."""

    wave = models.OneToOneField(Wave, on_delete=models.CASCADE, related_name="poll")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Poll of {self.wave}"


class PollOption(models.Model):
    """Option N of a poll: its name per language, and extra words that choose it."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    number = models.PositiveSmallIntegerField()
    names = models.JSONField(default=dict, help_text='{"en": "Pledge a peaceful vote", …}')
    labels = models.JSONField(default=list, blank=True, help_text="Words that choose it.")

    class Meta:
        ordering = ["poll", "number"]
        constraints = [
            models.UniqueConstraint(fields=["poll", "number"], name="one_option_number_per_poll"),
        ]

    def __str__(self) -> str:
        return f"{self.number}: {next(iter(self.names.values()), '')}"


class PollAnswer(OrganizationOwned):
    """One answer; a subscriber's last answer to a poll is the current one, the rest history.

    An erased subscriber's answers stay, anonymous, so the poll's counts do not change.
    """

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="answers")
    subscriber = models.ForeignKey(
        Subscriber, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    option_number = models.PositiveSmallIntegerField()
    language = models.CharField(max_length=3, blank=True)
    inbound = models.ForeignKey(
        InboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField()
    is_current = models.BooleanField(default=True)

    class Meta:
        ordering = ["answered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["poll", "subscriber"],
                condition=models.Q(is_current=True, subscriber__isnull=False),
                name="one_current_answer_per_subscriber",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.poll}: {self.option_number}"


class MessageCellFigures(models.Model):
    """A message cell's person and channel dimensions and its message figures: the same in a
    wave's cells (WaveRollup) and in the parts they are summed from (WaveRollupPart)."""

    language = models.CharField(max_length=3, blank=True)
    region_id = models.BigIntegerField(null=True)
    age_band = models.CharField(max_length=8, blank=True)
    gender = models.CharField(max_length=20, blank=True)
    channel_id = models.BigIntegerField(null=True)
    targeted = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    undelivered = models.PositiveIntegerField(default=0)
    canceled = models.PositiveIntegerField(default=0)
    segments = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=14, decimal_places=5, null=True)
    currency = models.CharField(max_length=3, blank=True)

    class Meta:
        abstract = True


class ErrorCellFigures(models.Model):
    """An error cell's code and count, in a wave's error cells and in their parts."""

    status = models.CharField(max_length=12)
    error_code = models.CharField(max_length=16, blank=True)
    messages = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class WaveRollup(MessageCellFigures):
    """Report figures of one cell: (wave, day, language, region, age band, gender, channel).

    Recomputed whole from the message and event tables (campaigns.services.rollups), so
    sums of cells always equal counts of rows. A cell may come in several rows (messages,
    replies, clicks); reports only ever sum them.
    """

    organization_id = models.BigIntegerField()
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField(null=True)
    replies = models.PositiveIntegerField(default=0)
    opt_outs = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    poll_answers = models.PositiveIntegerField(default=0)
    # Per figure: how many distinct people it counts, up to cell_key.SMALL_SET (-1: more),
    # and the sum of its records' keys. Their ids are in WaveRollupPeople.
    named = models.JSONField(default=dict)
    keys = models.JSONField(default=dict)

    class Meta:
        indexes = [
            models.Index(fields=["wave", "day"], name="rollup_by_wave"),
            models.Index(fields=["campaign", "day"], name="rollup_by_campaign"),
        ]

    def __str__(self) -> str:
        return f"Wave {self.wave_id} on {self.day}: {self.targeted} targeted"


class WaveRollupPeople(models.Model):
    """Who one figure of a rollup cell counts, when they are few (cell_key.SMALL_SET or
    fewer): contact (person) ids, 0 for the erased. Read only where a report cell may describe
    fewer than k people, so that k is applied to people exactly however cells are summed."""

    rollup = models.ForeignKey(WaveRollup, on_delete=models.CASCADE, related_name="people")
    figure = models.CharField(max_length=16)
    ids = ArrayField(models.BigIntegerField())

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rollup", "figure"], name="one_list_per_figure"),
        ]

    def __str__(self) -> str:
        return f"{len(self.ids)} people behind {self.figure} of cell {self.rollup_id}"


class WaveErrorRollup(ErrorCellFigures):
    """How many of a wave's messages failed or went undelivered, by provider error code."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(null=True)
    people = models.JSONField(
        null=True,
        help_text="The few people behind these messages, as in WaveRollupPeople (null: more).",
    )
    key = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Wave {self.wave_id}: {self.messages} {self.status} ({self.error_code or 'none'})"


class WaveRollupPart(MessageCellFigures):
    """One block of a wave's message cells: the figures of the messages to one block of
    people (contact ids `block << BLOCK_BITS` and up; -1: the erased), by cell.

    A wave's message cells are the sums of its parts, so a rollup recounts only the blocks
    whose messages changed (WaveRollupChange). A person is in one block, so the people of a
    cell's parts never overlap: per figure, each part keeps its people up to
    cell_key.SMALL_SET + 1 (more: "more than SMALL_SET") and the sum of its records' keys.
    """

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="+", db_index=False)
    block = models.IntegerField()
    day = models.DateField()
    targeted_people = ArrayField(models.BigIntegerField(), null=True)
    sent_people = ArrayField(models.BigIntegerField(), null=True)
    delivered_people = ArrayField(models.BigIntegerField(), null=True)
    failed_people = ArrayField(models.BigIntegerField(), null=True)
    undelivered_people = ArrayField(models.BigIntegerField(), null=True)
    canceled_people = ArrayField(models.BigIntegerField(), null=True)
    targeted_key = models.IntegerField(default=0)
    sent_key = models.IntegerField(default=0)
    delivered_key = models.IntegerField(default=0)
    failed_key = models.IntegerField(default=0)
    undelivered_key = models.IntegerField(default=0)
    canceled_key = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["wave", "block"], name="rollup_part_by_block")]

    def __str__(self) -> str:
        return f"Wave {self.wave_id}, block {self.block}, {self.day}: {self.targeted} targeted"


class WaveErrorPart(ErrorCellFigures):
    """One block of a wave's WaveErrorRollup rows (see WaveRollupPart)."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="+", db_index=False)
    block = models.IntegerField()
    day = models.DateField()
    people = ArrayField(models.BigIntegerField())  # up to cell_key.SMALL_SET + 1
    key = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["wave", "block"], name="error_part_by_block")]

    def __str__(self) -> str:
        return f"Wave {self.wave_id}, block {self.block}: {self.messages} {self.status}"


class WaveRollupChange(models.Model):
    """A block of a wave whose messages changed since its parts were counted.

    Written by database triggers (see migration 0012) in the transaction that changes the
    messages (or a subscriber's region, age band or gender), so no change goes unmarked;
    a rollup deletes the rows it takes in the transaction that recounts their blocks.
    Append-only: concurrent writers never wait on each other's marks.
    """

    wave_id = models.BigIntegerField()
    block = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["wave_id"], name="rollup_change_by_wave")]

    def __str__(self) -> str:
        return f"Wave {self.wave_id}, block {self.block} changed"


class WaveRollupBasis(models.Model):
    """What a wave's parts were counted under: if the campaign's time zone (its days) or
    key seed is no longer this, the parts are counted again, whole."""

    wave = models.OneToOneField(Wave, on_delete=models.CASCADE, primary_key=True, related_name="+")
    timezone = models.CharField(max_length=64)
    seed = models.BigIntegerField()
    counted_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Wave {self.wave_id}'s parts in {self.timezone}"


from campaigns.models_bundles import TrustedServer  # noqa: E402 — servers whose bundles we take
from campaigns.models_network import (  # noqa: E402 — the network's library, in its own module
    CHECKLIST,
    Adoption,
    CountryApproval,
    CountryState,
    Decision,
    LexiconTerm,
    LibraryReview,
    LibraryTemplate,
    Licence,
    MemberStatus,
    Network,
    NetworkMember,
    NetworkNotice,
    NoticeKind,
    Purpose,
    TemplateTranslation,
    TemplateVersion,
    TermState,
    VersionState,
)

__all__ = [
    "CHECKLIST",
    "Adoption",
    "BlackoutWindow",
    "Campaign",
    "CountryApproval",
    "CountryState",
    "Decision",
    "LexiconTerm",
    "LibraryReview",
    "LibraryTemplate",
    "Licence",
    "LinkClickDay",
    "MemberStatus",
    "Network",
    "NetworkMember",
    "NetworkNotice",
    "NoticeKind",
    "PagePost",
    "PagePostStatus",
    "Poll",
    "PollAnswer",
    "PollOption",
    "Purpose",
    "Segment",
    "TemplateTranslation",
    "TemplateVersion",
    "TermState",
    "TrackedLink",
    "TrustedServer",
    "Variant",
    "VersionState",
    "Wave",
    "WaveComment",
    "WaveErrorPart",
    "WaveErrorRollup",
    "WavePriority",
    "WaveRollup",
    "WaveRollupBasis",
    "WaveRollupChange",
    "WaveRollupPart",
    "WaveRollupPeople",
    "WaveStatus",
    "WaveTransition",
]
