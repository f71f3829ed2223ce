"""In PostgreSQL the consent ledger refuses UPDATE and DELETE at the database level.

The one update allowed is erasure's: detaching an event from the erased person
(subscriber_id and provider_message_id cleared, nothing else changed).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION outreach_consentevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'The consent ledger is append-only';
    END IF;
    IF NEW.subscriber_id IS NULL AND NEW.provider_message_id = ''
       AND (to_jsonb(NEW) - 'subscriber_id' - 'provider_message_id')
           = (to_jsonb(OLD) - 'subscriber_id' - 'provider_message_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'The consent ledger is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER outreach_consentevent_append_only
BEFORE UPDATE OR DELETE ON outreach_consentevent
FOR EACH ROW EXECUTE FUNCTION outreach_consentevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS outreach_consentevent_append_only ON outreach_consentevent;
DROP FUNCTION IF EXISTS outreach_consentevent_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("outreach", "0002_channels_subscribers_consent")]

    operations = [migrations.RunPython(create, drop)]
