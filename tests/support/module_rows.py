"""Rows a test module builds once and every one of its tests reads, as Django's setUpTestData.

Seeding a reported campaign through the real services takes seconds; doing it once per
module instead of once per test keeps the suite inside its time budget. The rows are built
in a transaction opened before the module's first test; each test's own transaction (the
`db` fixture) is a savepoint inside it, rolled back after the test as usual, so a test still
sees exactly the seed and never another test's changes. The transaction is rolled back after
the module's last test.

Only for modules whose tests use `db`: `transactional_db` and `live_server` commit, and
their tests could not see rows that were never committed.

    @pytest.fixture(scope="module")
    def seeded(django_db_setup, django_db_blocker):
        yield from rows_for_module(django_db_blocker, build)

Hand tests the seed's primary keys (or fresh copies read in a function-scoped fixture),
not shared model instances, so that one test's in-memory changes never reach the next.
"""

import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from django.db import transaction
from django.test import TestCase

T = TypeVar("T")


def rows_for_module(
    django_db_blocker: Any, build: Callable[[], T], *, run_on_commit: bool = False
) -> Iterator[T]:
    """Build the rows in a transaction that outlives the module's tests, then roll it back.

    `run_on_commit` runs what `build` queued for after commit (tasks, as in production)
    before its end, as `django_capture_on_commit_callbacks(execute=True)` does in a test.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            if run_on_commit:
                with TestCase.captureOnCommitCallbacks(execute=True):
                    built = build()
            else:
                built = build()
        except BaseException:
            outer.__exit__(*sys.exc_info())
            raise
    try:
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
