"""The PostgreSQL backend's health check: no round trip for an idle, quiet connection."""

import select

import pytest
from django.db import connection, connections
from django.db.backends.postgresql import base as django_postgresql

from core.postgresql.base import DatabaseWrapper

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend"),
]


@pytest.fixture
def other():
    """A second connection to the test database, with the site's backend."""
    wrapper = connection.copy()
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


@pytest.fixture
def round_trips(monkeypatch):
    """Counts Django's own check (`SELECT 1` on the connection)."""
    calls = []
    original = django_postgresql.DatabaseWrapper.is_usable

    def counted(self):
        calls.append(self)
        return original(self)

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", counted)
    return calls


def _input_arrives(wrapper, seconds: float = 5.0) -> None:
    poller = select.poll()
    poller.register(wrapper.connection.pgconn.socket, select.POLLIN)
    assert poller.poll(int(seconds * 1000)), "the server sent nothing"


def test_the_site_uses_this_backend():
    assert isinstance(connections["default"], DatabaseWrapper)


def test_an_idle_quiet_connection_is_usable_without_a_round_trip(other, round_trips):
    assert other.is_usable() is True
    assert round_trips == []


def test_a_connection_the_server_closed_is_not_usable_and_is_replaced(other, round_trips):
    pid = other.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone() == (True,)
    _input_arrives(other)

    assert other.is_usable() is False
    assert len(round_trips) == 1  # input was waiting: Django's SELECT 1 decided
    other.health_check_done = False
    other.close_if_health_check_failed()
    assert other.connection is None
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_a_waiting_notification_costs_a_round_trip_and_the_connection_stays(other, round_trips):
    with other.cursor() as cursor:
        cursor.execute("LISTEN health_check_test")
    # Sent from a connection outside the test's transaction, so it is delivered at once.
    sender = connection.copy()
    try:
        with sender.cursor() as cursor:
            cursor.execute("NOTIFY health_check_test")
        _input_arrives(other)
        assert other.is_usable() is True
        assert len(round_trips) == 1
    finally:
        sender.close()


def test_a_connection_inside_a_transaction_gets_the_round_trip(other, round_trips):
    other.set_autocommit(False)
    with other.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert other.is_usable() is True
    assert len(round_trips) == 1
    other.rollback()
    other.set_autocommit(True)


def test_a_closed_connection_is_not_usable(other, round_trips):
    other.connection.close()
    assert other.is_usable() is False
    other.connection = None
    assert other.is_usable() is False
    assert round_trips == []
