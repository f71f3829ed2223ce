"""The end of a transactional test, quicker: empty only the tables it filled.

Django ends every `transactional_db` (and `live_server`) test with `flush`: one TRUNCATE of
every table, then post_migrate, which writes the content types, permissions and shipped
presets back. That takes most of a second each time (TRUNCATE recreates each table's files),
and the suite has some two hundred such tests.

Here the end leaves the same database: the rows post_migrate wrote, as migrate left them,
and nothing else. The tables post_migrate fills are fingerprinted once the test database is
set up (`record_baseline`); after each test, the other tables holding any row are emptied in
one transaction, DELETE for most (their foreign keys are deferred, checked at commit) and
TRUNCATE for a table whose triggers refuse DELETE (the append-only consent ledger). When a
test changed one of post_migrate's tables (a migration test, a preset edited), or anything
goes wrong, the test ends with Django's own flush, as before.
"""

from typing import Any

from django.core.management import call_command
from django.db import DatabaseError, connections, transaction
from django.test import TransactionTestCase

_baseline: dict[str, dict[str, str]] = {}  # database alias → {table: fingerprint}
_django_flush = TransactionTestCase._fixture_teardown


def install() -> None:
    """End every plain transactional test with `empty_filled_tables` instead of `flush`."""
    TransactionTestCase._fixture_teardown = _fixture_teardown  # type: ignore[method-assign]


def record_baseline(alias: str = "default") -> None:
    """Fingerprint the tables holding rows right now (post_migrate's): what a test's end
    must leave as it is."""
    connection = connections[alias]
    _baseline[alias] = {table: _fingerprint(connection, table) for table in _filled(connection)}


def empty_filled_tables(alias: str) -> bool:
    """Empty every table but post_migrate's; False (nothing changed) when it cannot."""
    baseline = _baseline.get(alias)
    connection = connections[alias]
    if baseline is None or connection.vendor != "postgresql":
        return False
    try:
        filled = _filled(connection)
        if any(_fingerprint(connection, table) != print_ for table, print_ in baseline.items()):
            return False
        extra = [table for table in filled if table not in baseline]
        if not extra:
            return True
        refusing = _refusing_delete(connection, extra)
        quote = connection.ops.quote_name
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            if refusing:
                cursor.execute(f"TRUNCATE {', '.join(quote(t) for t in refusing)}")
            for table in extra:
                if table not in refusing:
                    cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608 - model tables
    except DatabaseError:
        return False
    return True


def _fixture_teardown(self: TransactionTestCase) -> None:
    if self.available_apps is not None or self.serialized_rollback or self.reset_sequences:
        _django_flush(self)
        return
    for alias in self._databases_names(include_mirrors=False):
        if not empty_filled_tables(alias):
            _flush_one(alias)
            record_baseline(alias)  # post_migrate wrote its rows again, under new ids


def _flush_one(alias: str) -> None:
    # What TransactionTestCase._fixture_teardown runs for a test of all apps, one database.
    call_command(
        "flush",
        verbosity=0,
        interactive=False,
        database=alias,
        reset_sequences=False,
        allow_cascade=False,
        inhibit_post_migrate=False,
    )


def _tables(connection: Any) -> list[str]:
    return sorted(connection.introspection.django_table_names(only_existing=True))


def _filled(connection: Any) -> list[str]:
    tables = _tables(connection)
    quote = connection.ops.quote_name
    query = " UNION ALL ".join(
        f"SELECT %s WHERE EXISTS (SELECT 1 FROM {quote(table)})"  # noqa: S608 - model tables
        for table in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(query, tables)
        return [row[0] for row in cursor.fetchall()]


def _fingerprint(connection: Any, table: str) -> str:
    rows = "md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), {rows} FROM {connection.ops.quote_name(table)} t")  # noqa: S608
        count, digest = cursor.fetchone()
    return f"{count}:{digest}"


def _refusing_delete(connection: Any, tables: list[str]) -> list[str]:
    """The tables among `tables` with a trigger of their own on DELETE."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid"
            " WHERE NOT g.tgisinternal AND g.tgtype & 8 = 8 AND c.relname = ANY(%s)",
            [tables],
        )
        return sorted(row[0] for row in cursor.fetchall())
