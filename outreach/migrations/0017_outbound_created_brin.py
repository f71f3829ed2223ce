"""A BRIN index on outbound messages' created_at, for /metrics' count of the last day.

Built CONCURRENTLY (outside a transaction): on a live table it blocks no send.
"""

from django.contrib.postgres.indexes import BrinIndex
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("outreach", "0016_shipped_presets"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="outboundmessage",
            index=BrinIndex(
                autosummarize=True, fields=["created_at"], name="outbound_created_brin"
            ),
        ),
    ]
