"""Reports read from a replica, when there is one (DATABASE_REPLICA_URL); all else from default.

Reads are not routed by model: a manager who saves a wave and reloads the console must see
it, and a replica lags. Only code that asks, inside `reading_from_replica()` (the funder
report selectors and the report API and console pages), reads from the replica; every write
goes to default, and so does every read in a transaction that has written (read your
writes). Without a replica the router is not installed and `reading_from_replica()` does
nothing.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"

_on_replica: ContextVar[bool] = ContextVar("reading_from_replica", default=False)


@contextmanager
def reading_from_replica() -> Iterator[None]:
    """Reads inside the block go to the replica (a decorator too: `@reading_from_replica()`)."""
    token = _on_replica.set(True)
    try:
        yield
    finally:
        _on_replica.reset(token)


class ReplicaRouter:
    """db_for_read answers "replica" only inside `reading_from_replica()`, and only while the
    default connection's transaction has not written."""

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        if _on_replica.get() and not _wrote_in_this_transaction():
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model: type, **hints: Any) -> str:
        default = connections[DEFAULT_DB_ALIAS]
        if default.in_atomic_block and default.atomic_blocks:
            # Remembered per transaction (its outermost block): the next one starts clean.
            default.amani_wrote_in = default.atomic_blocks[0]
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # one database, two connections to it

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS  # the replica follows the primary's schema


def _wrote_in_this_transaction() -> bool:
    default = connections[DEFAULT_DB_ALIAS]
    if not (default.in_atomic_block and default.atomic_blocks):
        return False
    return getattr(default, "amani_wrote_in", None) is default.atomic_blocks[0]
