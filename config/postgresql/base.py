"""Django's PostgreSQL backend, with a health check that costs no round trip.

With CONN_HEALTH_CHECKS, Django checks a kept connection at the start of each request by
sending `SELECT 1`: a round trip to PostgreSQL on every request, a sixth of a status
callback's time. A server that ends a connection (a restart, a failover,
`pg_terminate_backend`, an idle timeout) says so on the socket: a FATAL notice and the
close make it readable. An idle connection whose socket has nothing to read and whose
state is good is taken as it is; one with something to read gets Django's `SELECT 1`, and
is closed (and opened anew) when that fails. A half-open connection (a partition that sent
no reset) would hang `SELECT 1` as it hangs the request's first query, so the round trip
found nothing more than this does.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.pool
            and _server_has_said_nothing(self.connection)
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()


def _server_has_said_nothing(connection: object) -> bool:
    """True when the connection is open, idle and good, and the server sent nothing."""
    if connection.closed or connection.broken:  # type: ignore[attr-defined]
        return False
    pgconn = connection.pgconn  # type: ignore[attr-defined]
    if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False
    try:
        readable, _, _ = select.select([pgconn.socket], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable
