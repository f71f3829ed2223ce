"""The end of a transactional test (tests/support/quick_flush.py) leaves what Django's flush
leaves: post_migrate's rows as they were, every other table empty, the ledger included."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from outreach.models import ConsentEvent, CountryPreset, Subscriber
from tests.support import quick_flush
from tests.support.people import make_subscriber, opted_in

pytestmark = pytest.mark.django_db(transaction=True)


def _rows_by_table() -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.django_table_names(only_existing=True):
            table_sql = connection.ops.quote_name(table)
            cursor.execute(f"SELECT count(*) FROM {table_sql}")  # noqa: S608 - a model table
            counts[table] = cursor.fetchone()[0]
    return counts


def test_a_tests_rows_are_gone_and_post_migrates_rows_stay_as_they_were(console_channel):
    opted_in(make_subscriber(organization=console_channel.organization, channel=console_channel))
    presets = list(CountryPreset.objects.values_list("pk", "country", "content_hash"))
    kinds = ContentType.objects.count()
    assert ConsentEvent.objects.exists()
    assert Subscriber.objects.exists()

    assert quick_flush.empty_filled_tables("default") is True

    left = {table: count for table, count in _rows_by_table().items() if count}
    assert set(left) == {
        CountryPreset._meta.db_table,
        ContentType._meta.db_table,
        Permission._meta.db_table,
    }
    assert list(CountryPreset.objects.values_list("pk", "country", "content_hash")) == presets
    assert ContentType.objects.count() == kinds > 0


def test_a_changed_preset_is_left_to_djangos_flush_which_brings_the_shipped_one_back(
    organization,
):
    CountryPreset.objects.filter(country="KE").update(name="Kenya, edited")

    assert quick_flush.empty_filled_tables("default") is False
    assert CountryPreset.objects.get(country="KE").name == "Kenya, edited"
    assert organization.__class__.objects.filter(pk=organization.pk).exists()

    quick_flush._flush_one("default")  # what the test's end does when the above is False

    assert CountryPreset.objects.get(country="KE").name != "Kenya, edited"
    left = {table: count for table, count in _rows_by_table().items() if count}
    assert set(left) == {
        CountryPreset._meta.db_table,
        ContentType._meta.db_table,
        Permission._meta.db_table,
    }
