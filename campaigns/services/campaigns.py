"""Writes on campaigns: creating one (optionally from a country preset), changing it, blackouts.

Moving the election date or the time zone moves every wave whose send time is relative.
"""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from campaigns.models import BlackoutWindow, Campaign
from outreach.errors import InvalidInput
from outreach.models import Membership, Organization, Region, Role, User
from outreach.selectors.presets import campaign_defaults, preset_for, presets

CAMPAIGN_FIELDS = (
    "name",
    "country",
    "election_date",
    "timezone",
    "default_language",
    "languages",
    "target_regions",
    "quiet_start",
    "quiet_end",
    "sensitive_terms",
    "fatigue_cap_per_week",
    "opt_out_footer_every",
)


@transaction.atomic
def campaign_create(
    *,
    organization: Organization,
    created_by: User | None,
    preset: str | None = None,
    blackouts: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> Campaign:
    """Create a campaign; a country preset (e.g. "KE", "MX") fills in what the country requires.

    From the preset: country, time zone, languages, quiet hours (outside its sending window),
    the opt-out footer and, when the caller gives no election_date, its next election's
    polling day with that election's silence as a blackout (unless the caller gives
    blackouts). What the caller gives wins.
    """
    defaults = _preset_defaults(preset) if preset is not None else {}
    preset_blackouts = defaults.pop("blackouts", None)
    if "election_date" in fields:  # the caller's election: its silence is the caller's to give
        defaults.pop("election_date", None)
        preset_blackouts = None
    values = {
        "country": organization.country,
        "timezone": organization.timezone,
        "default_language": organization.default_language,
        "languages": list(organization.languages),
        **defaults,
        **fields,
    }
    campaign = Campaign(organization=organization, created_by=created_by)
    campaign = _apply(campaign, values)
    if blackouts is None:
        blackouts = preset_blackouts
    if blackouts is not None:
        blackouts_replace(campaign=campaign, windows=blackouts)
    return campaign


@transaction.atomic
def campaign_update(
    *,
    campaign: Campaign,
    by: User | None,
    blackouts: list[dict[str, Any]] | None = None,
    **changes: Any,
) -> Campaign:
    """Change a campaign; waves with relative send times follow a new election date."""
    timing_fields = {"election_date", "timezone", "quiet_start", "quiet_end"}
    campaign = _apply(campaign, changes)
    if blackouts is not None:
        blackouts_replace(campaign=campaign, windows=blackouts)
    if timing_fields & set(changes) or blackouts is not None:
        from campaigns.services.waves import waves_replan

        waves_replan(campaign=campaign, by=by, reason=_reason(changes, blackouts))
    return campaign


def blackouts_replace(*, campaign: Campaign, windows: list[dict[str, Any]]) -> list[BlackoutWindow]:
    """Set the campaign's blackout windows; local naive times are read in the campaign's zone."""
    zone = ZoneInfo(campaign.timezone)
    rows = []
    for index, window in enumerate(windows):
        starts_at = _aware(window.get("starts_at"), zone, f"blackouts.{index}.starts_at")
        ends_at = _aware(window.get("ends_at"), zone, f"blackouts.{index}.ends_at")
        # Compared in UTC: two local times in one zone compare as wall times, even in a DST gap.
        if ends_at.astimezone(dt.UTC) <= starts_at.astimezone(dt.UTC):
            raise InvalidInput(
                _blackout_backwards(starts_at, ends_at), field=f"blackouts.{index}.ends_at"
            )
        rows.append(
            BlackoutWindow(
                campaign=campaign,
                starts_at=starts_at,
                ends_at=ends_at,
                reason=str(window.get("reason", ""))[:200],
            )
        )
    campaign.blackouts.all().delete()
    return BlackoutWindow.objects.bulk_create(rows)


def _preset_defaults(preset: str) -> dict[str, Any]:
    held = preset_for(preset) if isinstance(preset, str) else None
    if held is None:
        known = ", ".join(p.country for p in presets()) or "none held: run manage.py presets_load"
        raise InvalidInput(f"Unknown preset; choose one of {known}.", field="preset")
    return campaign_defaults(held)


def _apply(campaign: Campaign, fields: dict[str, Any]) -> Campaign:
    unknown = set(fields) - set(CAMPAIGN_FIELDS)
    if unknown:
        field = sorted(unknown)[0]
        raise InvalidInput(f"'{field}' is not a campaign setting.", field=field)
    regions = fields.pop("target_regions", None)
    for name, value in fields.items():
        setattr(campaign, name, value)
    campaign.sensitive_terms = sorted(
        {str(t).strip() for t in campaign.sensitive_terms if str(t).strip()}
    )
    _check(campaign)
    try:
        with transaction.atomic():
            campaign.save()
    except IntegrityError as error:
        raise InvalidInput("A campaign of that name exists already.", field="name") from error
    if regions is not None:
        own = list(
            Region.objects.filter(
                organization=campaign.organization,
                pk__in=[r.pk if isinstance(r, Region) else r for r in regions],
            )
        )
        if len(own) != len(set(regions)):
            raise InvalidInput("No such region in this organization.", field="target_regions")
        campaign.target_regions.set(own)
    return campaign


def _check(campaign: Campaign) -> None:
    try:
        campaign.full_clean(exclude=["organization", "created_by"], validate_unique=False)
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise InvalidInput(" ".join(messages), field=field) from error
    organization_languages = set(campaign.organization.languages)
    if not set(campaign.languages) <= organization_languages:
        raise InvalidInput(
            f"Use the organization's languages: {', '.join(sorted(organization_languages))}.",
            field="languages",
        )
    if campaign.default_language not in campaign.languages:
        raise InvalidInput(
            "The default language must be one of the languages.", field="default_language"
        )


def _aware(value: Any, zone: ZoneInfo, field: str) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError as error:
            raise InvalidInput(
                "An ISO date and time, e.g. 2027-08-08T06:00.", field=field
            ) from error
    if not isinstance(value, dt.datetime):
        raise InvalidInput("An ISO date and time, e.g. 2027-08-08T06:00.", field=field)
    return value if value.tzinfo else value.replace(tzinfo=zone)


def _blackout_backwards(starts_at: dt.datetime, ends_at: dt.datetime) -> str:
    message = "A blackout must end after it starts"
    start_utc, end_utc = (moment.astimezone(dt.UTC) for moment in (starts_at, ends_at))
    message += f" (in UTC: {start_utc:%Y-%m-%d %H:%M} to {end_utc:%Y-%m-%d %H:%M})."
    for moment in (starts_at, ends_at):
        if (read_as := _read_as(moment)) is not None:
            message += (
                f" {moment:%Y-%m-%d %H:%M} does not exist in {moment.tzinfo} (the clocks "
                f"jump forward over it) and is read as {read_as:%H:%M}."
            )
    return message


def _read_as(moment: dt.datetime) -> dt.datetime | None:
    """The local time a nonexistent local `moment` (in a DST gap) stands for; None if it exists."""
    round_trip = moment.astimezone(dt.UTC).astimezone(moment.tzinfo)
    return round_trip if round_trip.replace(tzinfo=None) != moment.replace(tzinfo=None) else None


def _reason(changes: dict[str, Any], blackouts: list | None) -> str:
    changed = sorted(set(changes) & {"election_date", "timezone", "quiet_start", "quiet_end"})
    if blackouts is not None:
        changed.append("blackouts")
    return "campaign changed: " + ", ".join(changed)


@transaction.atomic
def campaign_share(*, campaign: Campaign, funder_ids: list[int]) -> list[int]:
    """Share the campaign's reports with exactly these funders of its organization."""
    funders = set(
        Membership.objects.filter(
            organization_id=campaign.organization_id, role=Role.FUNDER, user_id__in=funder_ids
        ).values_list("user_id", flat=True)
    )
    for index, user_id in enumerate(funder_ids):
        if user_id not in funders:
            raise InvalidInput(
                "Not a member of this organization with the funder role.", field=f"funders.{index}"
            )
    campaign.funders.set(sorted(funders))
    return sorted(funders)
