"""The hot statements' cursor: prepared on PostgreSQL, still logged and counted like any query."""

import pytest
from django.db import connection
from django.test import override_settings

from core.prepared_statements import prepared_cursor

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)

# A statement no other code runs, so the session's prepared statements are only its own.
STATEMENT = "SELECT %s + 40 AS answer /* prepared-statements test */"


def _prepared_here() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%prepared-statements test%"],
        )
        return [row[0] for row in cursor.fetchall()]


def test_a_logged_statement_shows_its_sql_and_counts_as_a_query():
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries, prepared_cursor() as cursor:
        cursor.execute(STATEMENT, [2])
        assert cursor.fetchone() == (42,)
    assert [query["sql"] for query in queries] == [STATEMENT.replace("%s", "2")]
    if connection.vendor == "postgresql":
        assert _prepared_here() == []


@on_postgresql
def test_postgresql_prepares_the_statement_once_per_connection():
    for value in (1, 2, 3):
        with prepared_cursor() as cursor:
            cursor.execute(STATEMENT, [value])
            assert cursor.fetchone() == (value + 40,)
    # One prepared statement, in server-side binding form, reused for the three executions.
    assert _prepared_here() == [STATEMENT.replace("%s", "$1")]


@on_postgresql
def test_turned_off_nothing_is_prepared():
    with override_settings(DATABASE_PREPARED_STATEMENTS=False), prepared_cursor() as cursor:
        cursor.execute(STATEMENT, [2])
        assert cursor.fetchone() == (42,)
    assert _prepared_here() == []


@on_postgresql
def test_a_failing_statement_raises_django_errors_and_the_connection_goes_on():
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic(), prepared_cursor() as cursor:
        cursor.execute("SELECT 1 / %s::int /* prepared-statements test */", [0])
    with prepared_cursor() as cursor:
        cursor.execute(STATEMENT, [0])
        assert cursor.fetchone() == (40,)
