"""Country presets are data: the shipped documents load once, a bad one is refused by its
field, and a campaign or a region list takes from them what the country requires."""

import copy
import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal

from campaigns.services.campaigns import campaign_create
from outreach.errors import InvalidInput
from outreach.models import CountryPreset, Region
from outreach.presets import shipped_presets
from outreach.selectors.presets import preset_as_data, preset_for, presets
from outreach.services.channels import regions_load_preset
from outreach.services.presets import preset_upsert

pytestmark = pytest.mark.django_db

NAIROBI = ZoneInfo("Africa/Nairobi")
MEXICO_CITY = ZoneInfo("America/Mexico_City")


def shipped(country: str) -> dict:
    return copy.deepcopy(next(d for d in shipped_presets() if d["country"] == country))


def load() -> list[str]:
    out = StringIO()
    call_command("presets_load", stdout=out)
    return out.getvalue().splitlines()


# --- the shipped presets -----------------------------------------------------------------


def test_a_fresh_database_holds_kenya_and_mexico_as_shipped():
    assert [p.country for p in presets()] == ["KE", "MX"]
    assert preset_as_data(preset_for("KE")) == shipped("KE")
    assert preset_as_data(preset_for("mx")) == shipped("MX")


def test_loading_twice_changes_nothing():
    held = {p.country: (p.content_hash, p.updated_at) for p in presets()}

    first = load()
    second = load()

    assert all(line.endswith(")") and ": unchanged (" in line for line in first + second)
    assert [line.split()[0] for line in second] == ["KE", "MX"]
    assert {p.country: (p.content_hash, p.updated_at) for p in presets()} == held


def test_loading_puts_back_a_shipped_preset_that_was_changed_here():
    kenya = preset_for("KE")
    kenya.data = {**kenya.data, "name": "Kenya (edited)"}
    kenya.content_hash = "0" * 64
    kenya.save()

    lines = load()

    assert lines[0].startswith("KE Kenya: loaded (")
    assert lines[1].startswith("MX México: unchanged (")
    assert preset_as_data(preset_for("KE")) == shipped("KE")


def test_a_flush_is_followed_by_the_shipped_presets_again():
    CountryPreset.objects.all().delete()

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")  # as flush does

    assert [p.country for p in presets()] == ["KE", "MX"]


def test_mexico_has_its_32_federal_entities_and_spanish_only():
    mexico = preset_as_data(preset_for("MX"))
    names = [item["name"] for item in mexico["regions"]["items"]]

    assert len(names) == 32
    assert {"Ciudad de México", "Estado de México", "Veracruz de Ignacio de la Llave"} <= set(names)
    assert (mexico["languages"], mexico["timezone"]) == (["es"], "America/Mexico_City")
    assert {d["language"] for d in mexico["disclaimers"]} == {"es"}


# --- refusing a bad document ---------------------------------------------------------------


def _set(path: str, value):
    def change(document: dict) -> None:
        *parents, last = path.split(".")
        target = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is _DROP:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return change


_DROP = object()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (_set("format", "amani.bundle"), "format"),
        (_set("version", 2), "version"),
        (_set("country", "XX"), "country"),
        (_set("timezone", "Africa/Atlantis"), "timezone"),
        (_set("timezone", ["Africa/Nairobi"]), "timezone"),
        (_set("languages", ["en", "English"]), "languages"),
        (_set("default_language", "fr"), "default_language"),
        (_set("sending_window.start", "8am"), "sending_window.start"),
        (_set("sending_window.end", "07:00"), "sending_window.end"),
        (_set("sending_window.start", _DROP), "sending_window.start"),
        (_set("elections.0.polling_day", "2027-02-30"), "elections.0.polling_day"),
        (
            _set("elections.0.silence.hours_before_polling_day", "48"),
            "elections.0.silence.hours_before_polling_day",
        ),
        (_set("elections.0.silence.ends", "whenever"), "elections.0.silence.ends"),
        (_set("regions.items.3.name", ""), "regions.items.3.name"),
        (_set("regions.items.4.name", "Baringo"), "regions.items.4.name"),
        (_set("regions.items.5.aliases", "Embu town"), "regions.items.5.aliases"),
        (_set("regions.preset", "MX-states"), "regions.preset"),
        (_set("keywords.stop", ["STOP", "BAJA"]), "keywords.stop.1"),
        (_set("keywords.stop", _DROP), "keywords.stop"),
        (_set("disclaimers.1.language", "fr"), "disclaimers.1.language"),
        (_set("opt_out_footer_every", True), "opt_out_footer_every"),
        (_set("colour", "green"), "colour"),
        (_set("sending_window.days", "Mon-Fri"), "sending_window.days"),
    ],
)
def test_a_bad_document_is_refused_by_its_field_and_nothing_is_stored(change, field):
    held = preset_as_data(preset_for("KE"))
    document = shipped("KE")
    document["name"] = "Kenya, changed"  # otherwise the same: only the mistake is refused
    change(document)

    with pytest.raises(InvalidInput) as refused:
        preset_upsert(document)

    assert refused.value.field == field
    assert preset_as_data(preset_for("KE")) == held


def test_a_new_country_with_a_mistake_is_not_held_at_all():
    document = shipped("MX")
    document.update(country="CO", name="Colombia", timezone="America/Bogota")
    document["regions"]["preset"] = "CO-departments"
    document["regions"]["items"][0]["aliases"] = [""]

    with pytest.raises(InvalidInput) as refused:
        preset_upsert(document)

    assert refused.value.field == "regions.items.0.aliases.0"
    assert preset_for("CO") is None


def test_a_sound_new_country_is_held_with_its_hash_and_origin():
    document = shipped("MX")
    document.update(country="CO", name="Colombia", timezone="America/Bogota")
    document["regions"]["preset"] = "CO-departments"
    origin = {"server": "Bogotá"}

    _, changed = preset_upsert(document, origin=origin)
    again, changed_again = preset_upsert(copy.deepcopy(document), origin={"server": "other"})

    assert (changed, changed_again) == (True, False)
    assert again.origin == origin
    assert preset_as_data(preset_for("CO")) == document


# --- what a campaign takes from a preset ---------------------------------------------------


def _blackouts(campaign, zone):
    return [
        (b.starts_at.astimezone(zone).isoformat(), b.ends_at.astimezone(zone).isoformat(), b.reason)
        for b in campaign.blackouts.order_by("starts_at")
    ]


@time_machine.travel(dt.datetime(2027, 3, 1, 9, tzinfo=MEXICO_CITY), tick=False)
def test_a_mexican_campaign_gets_spanish_its_zone_polling_day_and_the_veda(mexican_organization):
    campaign = campaign_create(
        organization=mexican_organization, created_by=None, preset="MX", name="Paz 2027"
    )

    assert (campaign.country, campaign.timezone) == ("MX", "America/Mexico_City")
    assert (campaign.default_language, campaign.languages) == ("es", ["es"])
    assert (campaign.quiet_start, campaign.quiet_end) == (dt.time(21), dt.time(9))
    assert campaign.election_date == dt.date(2027, 6, 6)
    assert _blackouts(campaign, MEXICO_CITY) == [
        (
            "2027-06-03T00:00:00-06:00",
            "2027-06-06T18:00:00-06:00",
            "Election silence: campaigning ends 72 hours before polling day (LGIPE art. 251)",
        )
    ]


@time_machine.travel(dt.datetime(2027, 7, 1, 9, tzinfo=NAIROBI), tick=False)
def test_a_kenyan_campaign_keeps_the_48_hours_of_silence(organization):
    campaign = campaign_create(
        organization=organization, created_by=None, preset="KE", name="Amani 2027"
    )

    assert campaign.election_date == dt.date(2027, 8, 10)
    assert (campaign.quiet_start, campaign.quiet_end) == (dt.time(18), dt.time(8))
    assert (campaign.languages, campaign.opt_out_footer_every) == (["en", "sw"], 1)
    assert _blackouts(campaign, NAIROBI) == [
        (
            "2027-08-08T00:00:00+03:00",
            "2027-08-10T17:00:00+03:00",
            "Election silence: campaigning ends 48 hours before polling day (Elections Act)",
        )
    ]


@time_machine.travel(dt.datetime(2027, 7, 1, 9, tzinfo=NAIROBI), tick=False)
def test_what_the_caller_gives_wins_over_the_preset(organization):
    own_day = campaign_create(
        organization=organization,
        created_by=None,
        preset="KE",
        name="By-election",
        election_date=dt.date(2027, 11, 2),
        languages=["sw"],
        default_language="sw",
        quiet_start=dt.time(17),
    )
    no_blackouts = campaign_create(
        organization=organization, created_by=None, preset="KE", name="Calm", blackouts=[]
    )

    assert own_day.election_date == dt.date(2027, 11, 2)
    assert (own_day.languages, own_day.default_language) == (["sw"], "sw")
    assert (own_day.quiet_start, own_day.quiet_end) == (dt.time(17), dt.time(8))
    assert _blackouts(own_day, NAIROBI) == []  # the caller's election: no preset silence
    assert no_blackouts.election_date == dt.date(2027, 8, 10)
    assert _blackouts(no_blackouts, NAIROBI) == []


@time_machine.travel(dt.datetime(2027, 8, 11, 9, tzinfo=NAIROBI), tick=False)
def test_after_the_last_election_a_preset_gives_no_election_day(organization):
    campaign = campaign_create(
        organization=organization, created_by=None, preset="KE", name="After"
    )

    assert campaign.election_date is None
    assert _blackouts(campaign, NAIROBI) == []


def test_an_unknown_preset_is_refused_naming_the_ones_held(organization):
    with pytest.raises(InvalidInput) as refused:
        campaign_create(organization=organization, created_by=None, preset="TZ", name="Amani")

    assert refused.value.field == "preset"
    assert "KE, MX" in refused.value.message


# --- region lists --------------------------------------------------------------------------


def test_mexicos_states_load_as_regions_once(mexican_organization):
    added = regions_load_preset(organization=mexican_organization, preset="MX-states")
    again = regions_load_preset(organization=mexican_organization, preset="MX-states")

    regions = Region.objects.filter(organization=mexican_organization)
    assert (added, again) == (32, 0)
    assert set(regions.values_list("kind", flat=True)) == {"state"}
    assert regions.get(name="Ciudad de México").aliases[0] == "CDMX"


def test_kenyas_counties_still_load_by_their_old_name(organization):
    assert regions_load_preset(organization=organization, preset="KE-counties") == 47
    assert Region.objects.get(organization=organization, name="Nairobi").aliases == [
        "Nairobi City",
        "Nai",
    ]


def test_an_unknown_region_list_is_refused_naming_the_ones_held(organization):
    with pytest.raises(InvalidInput) as refused:
        regions_load_preset(organization=organization, preset="TZ-regions")

    assert refused.value.field == "preset"
    assert "KE-counties, MX-states" in refused.value.message
