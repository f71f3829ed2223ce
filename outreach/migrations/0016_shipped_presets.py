# The presets this server ships (Kenya, Mexico), read by the same loader as `presets_load`.

from django.db import migrations


def load(apps, schema_editor):
    from outreach.content_hash import content_hash
    from outreach.presets import shipped_presets
    from outreach.presets.document import checked_preset

    CountryPreset = apps.get_model("outreach", "CountryPreset")
    for document in shipped_presets():
        data = checked_preset(document)
        CountryPreset.objects.get_or_create(
            country=data["country"],
            defaults={"name": data["name"], "data": data, "content_hash": content_hash(data)},
        )


def unload(apps, schema_editor):
    from outreach.presets import shipped_presets

    CountryPreset = apps.get_model("outreach", "CountryPreset")
    countries = [document["country"] for document in shipped_presets()]
    CountryPreset.objects.filter(country__in=countries, origin={}).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("outreach", "0015_country_presets"),
    ]

    operations = [migrations.RunPython(load, unload)]
