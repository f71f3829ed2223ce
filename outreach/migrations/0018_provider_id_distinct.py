"""Tell the planner that provider ids are nearly all distinct, whatever its sample saw.

Fan-out refreshes the statistics (ANALYZE) when a wave's messages are written, before any
is sent: every provider id in the sample is then '', and the planner takes the column for
one value, so the status inbox's batch scanned the messages table once per receipt instead
of looking each message up by index (57x slower per receipt on 20,000 messages; worse with
each million). A fixed n_distinct (half the rows distinct) holds at every ANALYZE.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("outreach", "0017_outbound_created_brin")]

    operations = [
        migrations.RunSQL(
            [
                "ALTER TABLE outreach_outboundmessage "
                "ALTER COLUMN provider_message_id SET (n_distinct = -0.5)",
                "ANALYZE outreach_outboundmessage",
            ],
            reverse_sql=[
                "ALTER TABLE outreach_outboundmessage "
                "ALTER COLUMN provider_message_id RESET (n_distinct)",
            ],
        ),
    ]
