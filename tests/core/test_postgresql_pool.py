"""The site's backend with Django's psycopg pool (OPTIONS["pool"], config/settings.py): the
cheap health check on each connection handed out, prepared statements kept across requests,
and a request's own connection when the pool has none to hand out."""

import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, connection
from psycopg_pool import ConnectionPool

from core.postgresql.base import DatabaseWrapper

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend"),
]


@pytest.fixture
def pooled():
    """Wrappers of the test database sharing one pool (an alias of their own), as the threads
    of one gunicorn worker do; each built wrapper is closed and the pool with them."""
    built = []

    def build(*, min_size=1, max_size=2, timeout=0.5, **settings):
        settings_dict = {**connection.settings_dict, "CONN_MAX_AGE": 0, **settings}
        settings_dict["OPTIONS"] = {
            **connection.settings_dict["OPTIONS"],
            "pool": {"min_size": min_size, "max_size": max_size, "timeout": timeout},
        }
        wrapper = DatabaseWrapper(settings_dict, alias="pool_test")
        built.append(wrapper)
        return wrapper

    yield build
    for wrapper in built:
        wrapper.close()
    if built:
        built[0].close_pool()


@pytest.fixture
def round_trips(monkeypatch):
    """Counts psycopg's pool check (an empty query on the connection)."""
    calls = []
    original = ConnectionPool.check_connection

    def counted(conn):
        calls.append(conn)
        return original(conn)

    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(counted))
    return calls


def _session_ends(pid: int, seconds: float = 5.0) -> bool:
    # The server process leaves pg_stat_activity a moment after its client has gone. The test
    # runs in a transaction, and PostgreSQL reads the sessions' activity once per transaction:
    # without clearing that snapshot, a first read that still saw the session would be read
    # again until the deadline (a busy machine, where the process exits late, failed this).
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone() == (0,):
                return True
        time.sleep(0.05)
    return False


def _backend_pid(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_request_gives_its_connection_back_and_the_next_gets_it_checked_without_a_round_trip(
    pooled, round_trips
):
    wrapper = pooled(max_size=1)
    first = _backend_pid(wrapper)
    wrapper.close()  # the end of a request: back to the pool, still open
    assert wrapper.connection is None
    assert wrapper.pool.get_stats()["pool_available"] == 1

    assert _backend_pid(wrapper) == first
    assert round_trips == []


def test_prepared_statements_stay_on_the_pooled_connection(pooled):
    wrapper = pooled(max_size=1)
    with wrapper.cursor() as cursor:
        cursor.execute("PREPARE pool_test_statement AS SELECT 1")
    wrapper.close()
    with wrapper.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE name = %s", ["pool_test_statement"]
        )
        assert cursor.fetchone() == (1,)


def test_a_pooled_connection_the_server_closed_is_replaced_when_handed_out(pooled, round_trips):
    wrapper = pooled(max_size=1)
    first = _backend_pid(wrapper)
    wrapper.close()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [first])
        assert cursor.fetchone() == (True,)
    time.sleep(0.2)  # the server's goodbye reaches the idle connection's socket

    second = _backend_pid(wrapper)

    assert second != first
    assert len(round_trips) == 1  # input was waiting: psycopg's query decided, and it failed


def test_a_request_connects_on_its_own_when_the_pool_has_nothing_to_hand_out(pooled):
    holder, other = pooled(max_size=1, timeout=0.2), pooled(max_size=1, timeout=0.2)
    held = _backend_pid(holder)  # the pool's only connection, out

    started = time.monotonic()
    own = _backend_pid(other)
    assert time.monotonic() - started < 2
    assert own != held
    other.close()  # closed, not given to a pool that did not make it

    stats = other.pool.get_stats()
    assert (stats["pool_size"], stats["pool_available"]) == (1, 0)
    assert _session_ends(own)
    holder.close()
    assert other.pool.get_stats()["pool_available"] == 1


def test_the_connection_of_its_own_is_set_up_as_the_pools_are(pooled):
    holder, other = pooled(max_size=1, timeout=0.1), pooled(max_size=1, timeout=0.1)
    _backend_pid(holder)
    with other.cursor() as cursor:
        cursor.execute("SELECT current_setting('TimeZone')")
        assert cursor.fetchone() == ("UTC",)
    assert other.connection.autocommit is True


def test_with_the_server_unreachable_a_request_fails_at_once_instead_of_waiting(pooled):
    wrapper = pooled(PORT=1, min_size=0, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(OperationalError):
        _backend_pid(wrapper)
    assert time.monotonic() - started < 3  # the pool's timeout, then a refused connect


def test_persistent_connections_beside_a_pool_are_refused(pooled):
    wrapper = pooled(CONN_MAX_AGE=600)
    with pytest.raises(ImproperlyConfigured, match="persistent connections"):
        wrapper.ensure_connection()
    wrapper.settings_dict["CONN_MAX_AGE"] = 0  # so the fixture can close it
