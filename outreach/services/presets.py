"""Writes on country presets: a checked document stored with its hash.

Presets come from this server's shipped files (`manage.py presets_load`) or from another
server's signed bundle; there is no other door to write one.
"""

from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, transaction

from outreach.content_hash import content_hash
from outreach.errors import InvalidInput
from outreach.models import CountryPreset
from outreach.presets import shipped_presets
from outreach.presets.document import checked_preset


@transaction.atomic
def preset_upsert(
    data: dict[str, Any], *, origin: dict[str, Any] | None = None
) -> tuple[CountryPreset, bool]:
    """Hold this preset document for its country; returns (preset, changed).

    The document is checked whole first (InvalidInput names the field, nothing is stored);
    the same data held already changes nothing, not even its origin.
    """
    document = checked_preset(data)
    digest = content_hash(document)
    held = CountryPreset.objects.select_for_update().filter(country=document["country"]).first()
    if held is not None and held.content_hash == digest:
        return held, False
    preset = held or CountryPreset(country=document["country"])
    preset.name = document["name"]
    preset.data = document
    preset.content_hash = digest
    preset.origin = dict(origin or {})
    try:
        with transaction.atomic():
            preset.save()
    except IntegrityError as error:  # another process stored this country meanwhile
        raise InvalidInput(
            "This country's preset changed meanwhile; retry.", field="country"
        ) from error
    return preset, True


def presets_load() -> list[tuple[CountryPreset, bool]]:
    """Load or refresh the presets this server ships; each with whether it changed."""
    return [preset_upsert(document) for document in shipped_presets()]


def presets_fill_missing(**signal: Any) -> None:
    """Hold every shipped preset this server holds no preset for (after migrate or a flush);
    a country held already is left as it is."""
    if signal.get("using", DEFAULT_DB_ALIAS) != DEFAULT_DB_ALIAS:
        return  # a replica (or another alias) follows the primary
    if CountryPreset._meta.db_table not in connection.introspection.table_names():
        return  # migrated back to before presets existed
    held = set(CountryPreset.objects.values_list("country", flat=True))
    for document in shipped_presets():
        if document.get("country") not in held:
            preset_upsert(document)
