"""A kept database connection is health-checked at each request without a round trip
(config/postgresql): taken as it is while the server has said nothing, opened anew when the
server ended it. Transactional tests: a connection inside a test's transaction is not idle."""

import select
import time

import psycopg
import pytest
from django.core.signals import request_started
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _a_request_starts() -> None:
    request_started.send(sender=None)  # Django's close_old_connections: check it again


@pytest.fixture
def checks_counted(monkeypatch) -> list[bool]:
    """Each of Django's own `SELECT 1` health checks on the default connection, and its answer."""
    done: list[bool] = []
    check = connection.is_usable

    def counted() -> bool:
        done.append(check())
        return done[-1]

    monkeypatch.setattr(connection, "is_usable", counted)
    return done


def test_the_default_connection_uses_the_health_check_without_a_round_trip():
    assert connection.settings_dict["ENGINE"] == "config.postgresql"
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_a_kept_connection_the_server_said_nothing_on_is_taken_as_it_is(checks_counted):
    before = _backend_pid()

    _a_request_starts()
    after = _backend_pid()

    assert after == before
    assert checks_counted == []


def test_a_kept_connection_the_server_ended_is_opened_anew_at_the_next_request(checks_counted):
    ended = _backend_pid()
    socket = connection.connection.pgconn.socket
    with psycopg.connect(**_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [ended])
    deadline = time.monotonic() + 5
    while not select.select([socket], [], [], 0.05)[0] and time.monotonic() < deadline:
        pass  # the server's FATAL notice and its close are on their way

    _a_request_starts()
    replaced = _backend_pid()

    assert replaced != ended
    assert checks_counted == [False]  # it asked the server once, found it gone, reconnected


def _params() -> dict:
    settings = connection.settings_dict
    return {
        "dbname": settings["NAME"],
        "user": settings["USER"],
        "host": settings["HOST"] or None,
        "port": settings["PORT"] or None,
    }
