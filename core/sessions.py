"""The site's session store (`SESSION_ENGINE = "core.sessions"`): Django's database sessions,
whose read, the first thing every signed-in page does, is one prepared statement.

Django's `db` backend reads the session with `Session.objects.get(...)`: building and compiling
that QuerySet and turning the row into a model instance took 16% of a stored homepage's CPU on
the benchmark database (py-spy), where the member's user, title and industry, read with one
prepared statement of four joined tables (`members.selectors`), take 5%. Here the same row's
data comes from one statement through `core.prepared_statements`. Everything else (creating,
saving, cycling and deleting sessions, the table, the cookie, the signed and encoded data) is
Django's backend unchanged, so existing sessions stay valid.
"""

import functools

from django.contrib.sessions.backends import db
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import connection
from django.utils import timezone

from core.prepared_statements import prepared_cursor


class SessionStore(db.SessionStore):
    """Django's database session store with `load` through a prepared statement. Its async
    `aload` stays Django's ORM read: the site is served through WSGI."""

    def load(self) -> dict:
        """The session's data; {} and no session key for an unknown or expired one, as
        Django's `db.SessionStore.load`."""
        data = self._session_data_read()
        if data is None:
            self._session_key = None
            return {}
        return self.decode(data)

    def _session_data_read(self) -> str | None:
        with prepared_cursor() as cursor:
            cursor.execute(
                _select_sql(self.model, connection.vendor),
                [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())],
            )
            row = cursor.fetchone()
        return None if row is None else row[0]


@functools.cache
def _select_sql(model: type[AbstractBaseSession], vendor: str) -> str:
    """The session's data by key, unexpired: what `db.SessionStore` asks the ORM for (`vendor`
    keys the cache: the quoting is the database's)."""
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        return quote(model._meta.get_field(name).column)

    return (
        f"SELECT {column('session_data')} FROM {quote(model._meta.db_table)} "
        f"WHERE {column('session_key')} = %s AND {column('expire_date')} > %s"
    )
