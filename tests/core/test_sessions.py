"""core/sessions.py: Django's database sessions, read with one prepared statement."""

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from core.sessions import SessionStore

pytestmark = pytest.mark.django_db


def _saved(data: dict) -> str:
    store = SessionStore()
    store.update(data)
    store.create()
    return store.session_key


def test_the_site_uses_it():
    assert settings.SESSION_ENGINE == "core.sessions"


def test_a_stored_session_loads_its_data_in_one_query(django_assert_num_queries):
    key = _saved({"answer": 42, "name": "Ada"})

    store = SessionStore(session_key=key)
    with django_assert_num_queries(1):
        assert dict(store.items()) == {"answer": 42, "name": "Ada"}
    assert store.session_key == key


def test_it_reads_what_django_own_store_writes_and_the_other_way_round():
    theirs = DjangoSessionStore()
    theirs["from"] = "django"
    theirs.create()
    assert SessionStore(session_key=theirs.session_key)["from"] == "django"

    ours = _saved({"from": "core"})
    assert DjangoSessionStore(session_key=ours)["from"] == "core"


def test_an_expired_session_loads_empty_and_loses_its_key():
    key = _saved({"answer": 42})
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )

    store = SessionStore(session_key=key)
    assert store.load() == {}
    assert store.session_key is None


def test_an_unknown_key_loads_empty_and_loses_its_key():
    _saved({"answer": 42})

    store = SessionStore(session_key="x" * 32)
    assert store.load() == {}
    assert store.session_key is None


def test_a_session_about_to_expire_still_loads():
    key = _saved({"answer": 42})
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() + dt.timedelta(seconds=30)
    )
    assert SessionStore(session_key=key).load() == {"answer": 42}


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)
def test_postgresql_prepares_the_read():
    key = _saved({"answer": 42})
    for _ in range(2):
        assert SessionStore(session_key=key).load() == {"answer": 42}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%FROM "django_session"%'],
        )
        statements = [row[0] for row in cursor.fetchall()]
    assert statements == [
        'SELECT "session_data" FROM "django_session" '
        'WHERE "session_key" = $1 AND "expire_date" > $2'
    ]


def test_a_signed_in_page_reads_its_session_through_it(client, django_user_model):
    user = django_user_model.objects.create_user(username="ada", password="pw-123456789")
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    assert response.wsgi_request.user == user
    assert isinstance(response.wsgi_request.session, SessionStore)
