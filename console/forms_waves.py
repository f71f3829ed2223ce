"""The composer's and the campaign page's forms: what a manager types, shaped for the services.

Field names are the services' own where they can be ("name", "send_at", "segment"), so a
service's `InvalidInput(field=…)` lands next to its field; indexed ones ("variants.1.body",
"blackouts.0.ends_at", "poll.options.2.names") are renamed to the form's field by `renamed`.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.composition import LANGUAGE_NAMES_EN
from campaigns.models import Campaign, Poll, TemplateVersion, Wave, WavePriority
from outreach.errors import AmaniError
from outreach.models import Channel, Organization

T = TypeVar("T")
BLANK_BLACKOUT_ROWS = 1
FIRST_POLL_ROWS = 2
MAX_POLL_ROWS = 9
LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what a datetime-local input shows and sends


def renamed(call: Callable[[], T], names: dict[str, str]) -> Callable[[], T]:
    """`call`, whose refusals name the form's field instead of the service's (see `names`)."""

    def run() -> T:
        try:
            return call()
        except AmaniError as error:
            if error.field in names:
                error.field = names[error.field]
            raise

    return run


def language_name(code: str) -> str:
    return LANGUAGE_NAMES_EN.get(code, code)


# --- campaigns ---------------------------------------------------------------------------


class CampaignForm(forms.Form):
    """A campaign's settings; blackout rows are `blackouts.<i>.starts_at|ends_at|reason`."""

    name = forms.CharField(label=_("Name"), max_length=120)
    country = forms.CharField(label=_("Country (ISO code)"), max_length=2)
    election_date = forms.DateField(
        label=_("Election day (local date)"),
        required=False,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    timezone = forms.CharField(label=_("Time zone (IANA, e.g. Africa/Nairobi)"), max_length=64)
    quiet_end = forms.TimeField(
        label=_("Sending starts (local)"),
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
    )
    quiet_start = forms.TimeField(
        label=_("Sending stops (local)"),
        widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}),
    )
    default_language = forms.ChoiceField(label=_("Default language"))
    languages = forms.MultipleChoiceField(label=_("Languages"), widget=forms.CheckboxSelectMultiple)
    sensitive_terms = forms.CharField(
        label=_("Sensitive terms (one a line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self,
        *args: Any,
        organization: Organization,
        blackout_rows: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [(code, language_name(code)) for code in organization.languages]
        self.fields["default_language"].choices = choices
        self.fields["languages"].choices = choices
        self.blackout_rows = blackout_rows
        for index in range(blackout_rows):
            prefix = f"blackouts.{index}"
            self.fields[f"{prefix}.starts_at"] = forms.DateTimeField(
                label=_("Starts (local)"),
                required=False,
                widget=forms.DateTimeInput(format=LOCAL_INPUT, attrs={"type": "datetime-local"}),
            )
            self.fields[f"{prefix}.ends_at"] = forms.DateTimeField(
                label=_("Ends (local)"),
                required=False,
                widget=forms.DateTimeInput(format=LOCAL_INPUT, attrs={"type": "datetime-local"}),
            )
            self.fields[f"{prefix}.reason"] = forms.CharField(
                label=_("Reason"), required=False, max_length=200
            )

    def blackout_fields(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (
                self[f"blackouts.{i}.starts_at"],
                self[f"blackouts.{i}.ends_at"],
                self[f"blackouts.{i}.reason"],
            )
            for i in range(self.blackout_rows)
        ]

    def values(self) -> dict[str, Any]:
        """The campaign's settings for campaign_create/campaign_update."""
        data = self.cleaned_data
        fields = ["name", "country", "election_date", "timezone", "quiet_start", "quiet_end"]
        values: dict[str, Any] = {field: data[field] for field in fields}
        values["country"] = values["country"].upper()
        values["default_language"] = data["default_language"]
        values["languages"] = list(data["languages"])
        values["sensitive_terms"] = [
            line.strip() for line in data["sensitive_terms"].splitlines() if line.strip()
        ]
        return values

    def blackouts(self) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """The filled blackout rows (naive: campaign-local) and the service's names for them."""
        windows, names = [], {}
        for index in range(self.blackout_rows):
            row = {
                key: self.cleaned_data.get(f"blackouts.{index}.{key}")
                for key in ("starts_at", "ends_at", "reason")
            }
            if not (row["starts_at"] or row["ends_at"]):
                continue
            for key in ("starts_at", "ends_at"):
                names[f"blackouts.{len(windows)}.{key}"] = f"blackouts.{index}.{key}"
                if row[key] is not None:
                    row[key] = row[key].replace(tzinfo=None)
            windows.append({**row, "reason": row["reason"] or ""})
        return windows, names


def campaign_initial(campaign: Campaign | None, organization: Organization) -> dict[str, Any]:
    """What the form shows first: the campaign's settings, or the organization's defaults."""
    if campaign is None:
        return {
            "country": organization.country,
            "timezone": organization.timezone,
            "default_language": organization.default_language,
            "languages": list(organization.languages),
            "quiet_start": dt.time(18, 0),
            "quiet_end": dt.time(8, 0),
        }
    initial: dict[str, Any] = {
        field: getattr(campaign, field)
        for field in (
            "name",
            "country",
            "election_date",
            "timezone",
            "quiet_start",
            "quiet_end",
            "default_language",
            "languages",
        )
    }
    initial["sensitive_terms"] = "\n".join(campaign.sensitive_terms)
    local = ZoneInfo(campaign.timezone)
    for index, window in enumerate(campaign.blackouts.order_by("starts_at")):
        initial[f"blackouts.{index}.starts_at"] = window.starts_at.astimezone(local).replace(
            tzinfo=None
        )
        initial[f"blackouts.{index}.ends_at"] = window.ends_at.astimezone(local).replace(
            tzinfo=None
        )
        initial[f"blackouts.{index}.reason"] = window.reason
    return initial


# --- waves -------------------------------------------------------------------------------


class WaveForm(forms.Form):
    """A wave: its time, audience, channels, one text per campaign language, and its poll.

    Variant texts are `body_<language>`; poll rows are `option_<i>_name_<language>` and
    `option_<i>_labels`; a channel's place in the order is `rank_<channel id>`.
    """

    name = forms.CharField(label=_("Name"), max_length=120)
    send_at = forms.DateTimeField(
        label=_("Send at (campaign-local date and time)"),
        required=False,
        widget=forms.DateTimeInput(format=LOCAL_INPUT, attrs={"type": "datetime-local"}),
    )
    send_at_relative = forms.CharField(
        label=_("Or relative to election day (e.g. E-7d 18:00)"), required=False, max_length=20
    )
    segment = forms.TypedChoiceField(
        label=_("Segment"), required=False, coerce=int, empty_value=None
    )
    channels = forms.TypedMultipleChoiceField(
        label=_("Channels"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    page_channel = forms.TypedChoiceField(
        label=_("Post on a Facebook Page"), required=False, coerce=int, empty_value=None
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=WavePriority.choices, initial=WavePriority.NORMAL
    )
    option_rows = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(
        self,
        *args: Any,
        campaign: Campaign,
        segments: list[tuple[int, str]],
        channels: list[Channel],
        poll_rows: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.channel_list = channels
        self.languages = list(campaign.languages)
        self.fields["segment"].choices = [("", _("— choose —")), *segments]
        self.fields["channels"].choices = [(c.pk, c.name) for c in channels]
        pages = [(c.pk, c.name) for c in channels if c.spec.page_posts]
        self.fields["page_channel"].choices = [("", _("no post")), *pages]
        for channel in channels:
            self.fields[f"rank_{channel.pk}"] = forms.IntegerField(
                label=_("Order of %(channel)s") % {"channel": channel.name},
                required=False,
                min_value=1,
                max_value=99,
                widget=forms.NumberInput(attrs={"class": "rank"}),
            )
        for language in self.languages:
            self.fields[f"body_{language}"] = forms.CharField(
                label=_("Text in %(language)s") % {"language": language_name(language)},
                required=False,
                max_length=2000,
                strip=False,
                widget=forms.Textarea(attrs={"rows": 6}),
            )
        self.poll_rows = min(poll_rows, MAX_POLL_ROWS)
        for index in range(self.poll_rows):
            for language in self.languages:
                self.fields[f"option_{index}_name_{language}"] = forms.CharField(
                    label=_("Option %(number)s in %(language)s")
                    % {"number": index + 1, "language": language_name(language)},
                    required=False,
                    max_length=80,
                )
            self.fields[f"option_{index}_labels"] = forms.CharField(
                label=_("Option %(number)s: more words that choose it (comma-separated)")
                % {"number": index + 1},
                required=False,
                max_length=400,
            )

    # What the template walks.
    def variant_fields(self) -> list[tuple[str, forms.BoundField]]:
        return [(language, self[f"body_{language}"]) for language in self.languages]

    def channel_fields(self) -> list[tuple[Channel, forms.BoundField]]:
        return [(channel, self[f"rank_{channel.pk}"]) for channel in self.channel_list]

    def poll_fields(self) -> list[tuple[int, list[forms.BoundField], forms.BoundField]]:
        return [
            (
                index + 1,
                [self[f"option_{index}_name_{language}"] for language in self.languages],
                self[f"option_{index}_labels"],
            )
            for index in range(self.poll_rows)
        ]

    def values(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The wave's fields for wave_create/wave_update, and the service's names for ours."""
        data = self.cleaned_data
        names: dict[str, str] = {"variants": f"body_{self.campaign.default_language}"}
        values: dict[str, Any] = {
            "name": data["name"],
            # The form reads the input in the server's zone; the typed wall clock is
            # campaign-local, which the service assumes of a naive time.
            "send_at": data["send_at"].replace(tzinfo=None) if data["send_at"] else None,
            "send_at_relative": data["send_at_relative"].strip(),
            "segment": data["segment"],
            "channels": self._ordered_channels(),
            "page_channel": data["page_channel"],
            "priority": data["priority"],
        }
        variants = []
        for language in self.languages:
            body = data.get(f"body_{language}") or ""
            if not body.strip():
                continue
            index = len(variants)
            for key in ("body", "language", "template"):
                names[f"variants.{index}.{key}"] = f"body_{language}"
            variants.append({"language": language, "body": body})
        values["variants"] = variants
        options = []
        for row in range(self.poll_rows):
            option_names = {
                language: data[f"option_{row}_name_{language}"].strip()
                for language in self.languages
                if data.get(f"option_{row}_name_{language}", "").strip()
            }
            labels = [
                w.strip() for w in data.get(f"option_{row}_labels", "").split(",") if w.strip()
            ]
            if not option_names and not labels:
                continue
            first = f"option_{row}_name_{self.languages[0]}"
            names[f"poll.options.{len(options)}.names"] = first
            options.append({"names": option_names, "labels": labels})
        values["poll"] = {"options": options} if options else None
        names["poll.options"] = f"option_0_name_{self.languages[0]}"
        return values, names

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        options = sum(
            1
            for row in range(self.poll_rows)
            if any((data.get(f"option_{row}_name_{lang}") or "").strip() for lang in self.languages)
        )
        if options == 1:
            self.add_error(
                f"option_0_name_{self.languages[0]}", _("A poll needs at least two options.")
            )
        return data

    def _ordered_channels(self) -> list[int]:
        chosen = list(self.cleaned_data.get("channels") or [])
        position = {c.pk: i for i, c in enumerate(self.channel_list)}
        return sorted(
            chosen,
            key=lambda pk: (self.cleaned_data.get(f"rank_{pk}") or 99, position.get(pk, 0)),
        )


def wave_initial(wave: Wave) -> tuple[dict[str, Any], int]:
    """What the composer shows for a saved wave, and how many poll rows it needs."""

    order = wave.channel_order or [c.pk for c in wave.channels.all()]
    initial: dict[str, Any] = {
        "name": wave.name,
        "send_at_relative": wave.send_at_relative,
        "send_at": (
            wave.send_at_absolute.astimezone(ZoneInfo(wave.campaign.timezone)).replace(tzinfo=None)
            if wave.send_at_absolute
            else None
        ),
        "segment": wave.segment_id,
        "channels": order,
        "page_channel": wave.page_channel_id,
        "priority": wave.priority,
    }
    for rank, pk in enumerate(order, start=1):
        initial[f"rank_{pk}"] = rank
    for variant in wave.variants.all():
        initial[f"body_{variant.language}"] = variant.body
    poll = Poll.objects.filter(wave=wave).first()
    options = sorted(poll.options.all(), key=lambda o: o.number) if poll else []
    for index, option in enumerate(options):
        for language, text in option.names.items():
            initial[f"option_{index}_name_{language}"] = text
        initial[f"option_{index}_labels"] = ", ".join(option.labels)
    rows = max(len(options), FIRST_POLL_ROWS)
    initial["option_rows"] = rows
    return initial, rows


class TestSendForm(forms.Form):
    """Staff numbers to send the wave's text to, marked [TEST]."""

    numbers = forms.CharField(
        label=_("Staff numbers (one a line)"), widget=forms.Textarea(attrs={"rows": 2})
    )
    language = forms.ChoiceField(label=_("Language"))
    channel = forms.TypedChoiceField(label=_("Channel"), coerce=int)

    def __init__(self, *args: Any, wave: Wave, channels: list[Channel], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        languages = list(wave.variants.values_list("language", flat=True))
        self.fields["language"].choices = [(code, language_name(code)) for code in languages]
        self.fields["channel"].choices = [(c.pk, c.name) for c in channels]

    def values(self) -> dict[str, Any]:
        numbers = [n.strip() for n in self.cleaned_data["numbers"].splitlines() if n.strip()]
        return {
            "numbers": numbers[:10],
            "language": self.cleaned_data["language"],
            "channel": self.cleaned_data["channel"],
        }


class AdoptForm(forms.Form):
    """Start from a library template: one of the versions the campaign may adopt."""

    version = forms.TypedChoiceField(
        label=_("Library template"), coerce=int, widget=forms.RadioSelect
    )
    name = forms.CharField(label=_("The new wave's name"), required=False, max_length=120)

    def __init__(self, *args: Any, versions: list[TemplateVersion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.versions = {version.pk: version for version in versions}
        self.fields["version"].choices = [(v.pk, str(v)) for v in versions]

    def chosen(self) -> TemplateVersion:
        return self.versions[self.cleaned_data["version"]]


def library_choices(versions: list[TemplateVersion], campaign: Campaign) -> list[dict[str, Any]]:
    """What the composer lists of each adoptable version: name, number, languages, purpose."""
    return [
        {
            "pk": version.pk,
            "template": version.template.name,
            "number": version.number,
            "purpose": version.template.get_purpose_display(),
            "languages": [
                language_name(t.language)
                for t in version.translations.all()
                if t.language in campaign.languages
            ],
            "network": version.template.network.name,
            "owner": version.template.owner_name,
        }
        for version in versions
    ]
