"""Django's PostgreSQL backend with a connection health check that needs no round trip.

With `CONN_HEALTH_CHECKS` Django checks a reused connection at the start of each request by
running `SELECT 1` on it: a round trip to the server before every request's first query
(0.5–0.65 ms measured under the load test, a quarter of a stored recommendations page's
database time, and one more wake-up of a server process on a busy machine). Between requests
a healthy connection is idle and the server has nothing to say on it. When the server closes
it (restart, shutdown, `pg_terminate_backend`, an idle timeout) it sends the error and the end
of the stream, and the socket becomes readable. So an idle connection whose socket has nothing
to read is usable, and only one with input waiting (a closing server, or a LISTEN
notification) or in a transaction gets Django's `SELECT 1`.

What this does not see, a peer that vanished without closing (a cable pulled, a host lost),
`SELECT 1` does not see either: it blocks until TCP gives up, as the request's own query would.

With a connection pool (`OPTIONS["pool"]`, Django's psycopg pool; config/settings.py) Django
skips its own check and has the pool check each connection as it hands it out, with psycopg's
`check_connection`: an empty query, the same round trip. The pool here checks the same cheap
way: only a connection with input waiting or a transaction open gets psycopg's query, and one
that fails it is discarded and replaced by the pool.
"""

import select

import orjson
import psycopg
import psycopg.types.json
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base
from psycopg import pq
from psycopg_pool import ConnectionPool, PoolTimeout

# json and jsonb values come back through orjson instead of the standard library's json: the
# statement that reads a member's serving inputs returns its lists as JSON documents, and the
# standard parser was half a millisecond of every homepage and recommendations call.
psycopg.types.json.set_json_loads(orjson.loads)


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        if _quiet_and_idle(connection):
            return True
        return super().is_usable()

    @property
    def pool(self):
        """Django's pool (`base.DatabaseWrapper.pool`), created with the cheap check.

        The same construction as Django 5.2's, which passes its own `check` (psycopg's round
        trip) and so cannot be given another through `OPTIONS["pool"]`.
        """
        pool_options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == NO_DB_ALIAS or not pool_options:
            return None
        if self.alias not in self._connection_pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True  # Django sets it again on each checkout
            pool = ConnectionPool(
                kwargs=connect_kwargs,
                open=False,  # opened by the first connection, after any fork
                configure=self._configure_connection,
                check=pool_connection_check if self.settings_dict["CONN_HEALTH_CHECKS"] else None,
                **({} if pool_options is True else pool_options),
            )
            # Threads starting at once may each build one; the first stored wins, and the
            # others were never opened.
            self._connection_pools.setdefault(self.alias, pool)
        return self._connection_pools[self.alias]

    def get_new_connection(self, conn_params):
        """A connection from the pool; if it has none to hand out within its `timeout`, one of
        the request's own, as without a pool.

        The pool refills in the background, retrying a failed connect after 1, 2, 4... s. While
        PostgreSQL is down a request would otherwise wait the whole timeout for nothing, and
        after a restart for the pool's next retry; connecting itself, it fails at once with a
        clean 500 during an outage and succeeds as soon as the server is back.
        """
        if self.pool is None:
            return super().get_new_connection(conn_params)
        try:
            return super().get_new_connection(conn_params)
        except PoolTimeout:
            pass
        # Configured as the pool configures its own: autocommit, then the time zone and role.
        connection = self.Database.connect(**conn_params, autocommit=True)
        try:
            self._configure_connection(connection)
            if "isolation_level" in self.settings_dict["OPTIONS"]:
                connection.isolation_level = self.isolation_level
        except Exception:
            connection.close()
            raise
        return connection

    def _close(self):
        # A connection of the request's own (see `get_new_connection`) is closed, not given to
        # the pool, which refuses connections it did not make.
        if self.pool is not None and self.connection is not None and not _pooled(self.connection):
            with self.wrap_database_errors:
                return self.connection.close()
        return super()._close()


def _pooled(connection: psycopg.Connection) -> bool:
    # The pool sets `_pool` on the connections it hands out; psycopg leaves it unset otherwise.
    return getattr(connection, "_pool", None) is not None


def pool_connection_check(connection: psycopg.Connection) -> None:
    """The pool's check of a connection it hands out: raises if it is not usable."""
    if _quiet_and_idle(connection):
        return
    # Input waiting (a closing server, a notification) or not idle: psycopg's round trip
    # decides, and marks a dead connection broken so the pool replaces it.
    ConnectionPool.check_connection(connection)


def _quiet_and_idle(connection: psycopg.Connection) -> bool:
    return (
        not connection.closed
        and not connection.broken
        and connection.info.transaction_status == pq.TransactionStatus.IDLE
        and not _input_waiting(connection.pgconn.socket)
    )


def _input_waiting(socket: int) -> bool:
    # poll, not select: select cannot watch descriptors above 1024.
    poller = select.poll()
    poller.register(socket, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))
