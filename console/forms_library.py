"""The library's and the network's forms: each field named as the console shows it.

The services name a refused item by its place in a list (`translations.1.body`,
`countries.0`, `checklist.facts_checked`); `service_names` maps those names onto these
forms' fields, so the refusal shows next to the field that holds the item.
"""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.models import CHECKLIST, Decision, Licence, Purpose, VersionState
from console.forms_waves import language_name
from outreach.models import AgeBand

# The do-no-harm checklist's labels, marked for translation (the same words as CHECKLIST).
CHECKLIST_LABELS: dict[str, Any] = {
    "conflict_sensitive": _("Conflict-sensitive: it cannot be read as taking a side"),
    "no_group_as_threat": _("No group, community or candidate is named as a threat"),
    "facts_checked": _("Every fact in it is checked and sourced"),
    "no_silence_breach": _("Sending it breaks no legal election-silence period"),
    "safe_for_minors": _("Safe for minors to receive"),
}
if set(CHECKLIST_LABELS) != set(CHECKLIST):  # a new item needs its label here
    raise ImportError("console.forms_library: CHECKLIST_LABELS must name every CHECKLIST item")
MAX_TEXT = 1600


class LibraryFilterForm(forms.Form):
    """The library list's filters (a GET form); a value that cannot be one is ignored."""

    country = forms.RegexField(r"^[A-Za-z]{2}$", required=False, label=_("Country"))
    language = forms.RegexField(r"^[a-z]{2,3}$", required=False, label=_("Language"))
    purpose = forms.ChoiceField(required=False, label=_("Purpose"))
    state = forms.ChoiceField(required=False, label=_("State"))
    q = forms.CharField(required=False, max_length=100, label=_("Search"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["purpose"].choices = [("", _("any")), *Purpose.choices]
        self.fields["state"].choices = [("", _("any")), *VersionState.choices]

    def filters(self) -> dict[str, str]:
        """What to hand `library_versions`: the valid filters, the others left out."""
        self.is_valid()
        data = {name: self.cleaned_data.get(name) or "" for name in self.fields}
        return {
            "country": data["country"].upper(),
            "language": data["language"],
            "purpose": data["purpose"],
            "state": data["state"],
            "query": data["q"].replace("\x00", "").strip(),
        }


class TextsForm(forms.Form):
    """One text per language (`body_<code>`), and a changelog; blank languages are left out."""

    changelog = forms.CharField(
        label=_("What changed (the changelog)"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, languages: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.languages = languages
        for code in languages:
            self.fields[f"body_{code}"] = forms.CharField(
                label=_("Text in %(language)s") % {"language": language_name(code)},
                max_length=MAX_TEXT,
                required=False,
                strip=False,
                widget=forms.Textarea(attrs={"rows": 4, "lang": code}),
            )

    def translations(self) -> list[dict[str, str]]:
        return [
            {"language": code, "body": self.cleaned_data[f"body_{code}"]}
            for code in self.languages
            if self.cleaned_data.get(f"body_{code}", "").strip()
        ]

    def service_names(self) -> dict[str, str]:
        """The service's names for this form's fields (`translations.<i>.body` → `body_xx`)."""
        given = [t["language"] for t in self.translations()]
        names = {"translations": f"body_{self.languages[0]}"} if self.languages else {}
        for index, code in enumerate(given):
            names[f"translations.{index}.body"] = f"body_{code}"
            names[f"translations.{index}.language"] = f"body_{code}"
            names[f"translations.{index}"] = f"body_{code}"
        return names


class TemplateForm(TextsForm):
    """A new library template: what it is for, for whom, under what licence, and its texts."""

    network = forms.TypedChoiceField(label=_("Network"), coerce=int)
    name = forms.CharField(label=_("Name"), max_length=120)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    age_band = forms.ChoiceField(label=_("Age band"), required=False)
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=400,
        help_text=_("Separated by commas, e.g. election day, youth."),
    )
    licence = forms.ChoiceField(label=_("Licence"), choices=Licence.choices, initial=Licence.CC_BY)

    def __init__(self, *args: Any, networks: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["network"].choices = networks
        self.fields["age_band"].choices = [("", _("any")), *AgeBand.choices]
        self.fields["changelog"].help_text = _("Blank: “First version.”")
        texts = [f"body_{code}" for code in self.languages]
        order = ["network", "name", "purpose", "age_band", "tags", "licence", *texts]
        self.order_fields([*order, "changelog"])

    def service_names(self) -> dict[str, str]:
        tags = {f"tags.{i}": "tags" for i in range(20)}
        return super().service_names() | tags


class ProposeForm(forms.Form):
    countries = forms.CharField(
        label=_("Countries to review it for"),
        max_length=200,
        help_text=_("ISO codes separated by commas, e.g. KE, TZ."),
    )

    def codes(self) -> list[str]:
        return [code.strip() for code in self.cleaned_data["countries"].split(",") if code.strip()]

    def service_names(self) -> dict[str, str]:
        return {f"countries.{i}": "countries" for i in range(len(self.codes()))}


class ReviewForm(forms.Form):
    """A focal point's decision in one country, against the do-no-harm checklist."""

    country = forms.ChoiceField(label=_("Country"))
    decision = forms.ChoiceField(
        label=_("Decision"), choices=Decision.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Reason (logged with your decision)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, countries: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [(code, code) for code in countries]
        for key, label in CHECKLIST_LABELS.items():
            self.fields[f"checklist_{key}"] = forms.BooleanField(label=label, required=False)
        self.order_fields(["country", "decision", *self.checklist_fields(), "reason"])

    def checklist_fields(self) -> list[str]:
        return [f"checklist_{key}" for key in CHECKLIST_LABELS]

    def checklist(self) -> dict[str, bool]:
        return {key: bool(self.cleaned_data.get(f"checklist_{key}")) for key in CHECKLIST_LABELS}

    def service_names(self) -> dict[str, str]:
        names = {f"checklist.{key}": f"checklist_{key}" for key in CHECKLIST_LABELS}
        return names | {"checklist": "checklist_conflict_sensitive"}


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is withdrawn (every adopter is told)"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DeprecateForm(forms.Form):
    reason = forms.CharField(
        label=_("Why (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ForkForm(forms.Form):
    name = forms.CharField(label=_("Name of your template"), max_length=120)


class AdoptForm(forms.Form):
    wave = forms.TypedChoiceField(label=_("Wave"), coerce=int)

    def __init__(self, *args: Any, waves: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["wave"].choices = waves


# --- the network -------------------------------------------------------------------------


class NetworkForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    min_cell_size = forms.IntegerField(
        label=_("k: the fewest people an outcome figure may describe"),
        min_value=5,
        max_value=100,
        initial=10,
    )


class InviteForm(forms.Form):
    organization = forms.SlugField(
        label=_("Organization to invite (its slug)"), max_length=80, allow_unicode=False
    )


class FocalPointForm(forms.Form):
    focal_point = forms.TypedChoiceField(label=_("Focal point"), coerce=int)

    def __init__(self, *args: Any, people: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["focal_point"].choices = people
