"""Server-side prepared statements for the few statements every page view runs.

Django's psycopg cursors bind parameters on the client and never prepare a statement (Django
turns psycopg's automatic preparation off so transaction-mode connection poolers keep
working). For the statements each homepage and recommendations request runs, PostgreSQL
spends longer planning than executing: measured on the 100k-member benchmark database, the
token lookup (five tables) takes 1.1 ms planned each time and 0.15 ms prepared, the member's
serving inputs (nine subqueries) 2.6 ms and 1.1 ms. Client-side binding also quotes each
array parameter in Python, value by value, which an impression write pays a hundred times.

`prepared_cursor()` gives those statements a Django cursor (execute wrappers and error
wrapping unchanged) over psycopg's server-binding cursor, preparing each statement
the first time a connection runs it. Prepared statements live in the connection's session;
psycopg keeps the last 100 per connection. `DATABASE_PREPARED_STATEMENTS=0` turns this off
(for a pooler that cannot carry them); on SQLite the cursor is the ordinary one.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection
from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, ServerBindingCursor
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.db.backends.utils import CursorWrapper
from psycopg.pq import Format


@contextmanager
def prepared_cursor() -> Iterator[CursorWrapper]:
    """A cursor of the default connection whose statements are prepared on first use.

    Statements run here must be valid with server-side binding: every `%s` is a typed
    parameter of the statement (no parameters inside identifiers or `IN %s` lists; arrays
    with `= ANY(%s)` or `unnest(%s::type[])`).
    """
    # While queries are logged (DEBUG, tests capturing queries) the ordinary cursor runs them:
    # psycopg keeps no SQL text for a prepared execution, and the log would show none.
    if (
        connection.vendor != "postgresql"
        or not settings.DATABASE_PREPARED_STATEMENTS
        or connection.queries_logged
    ):
        with connection.cursor() as cursor:
            yield cursor
        return
    # What `connection.cursor()` does, with a preparing cursor in place of the client-side one.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = _PreparingCursor(connection.connection)
        _register_timezone(raw)
    connection.validate_thread_sharing()
    with connection.make_cursor(raw) as wrapped:
        yield wrapped


class _PreparingCursor(ServerBindingCursor):
    """psycopg's server-binding cursor, preparing every statement it executes."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


def _register_timezone(cursor) -> None:
    """As Django's `create_cursor`: timestamps load in the connection's time zone."""
    loader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    if connection.timezone != loader.timezone:
        register_tzloader(connection.timezone, cursor)
