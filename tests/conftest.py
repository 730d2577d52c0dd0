import pytest
from django.core.cache import cache

from tests.factories import PASSWORD, MemberFactory


@pytest.fixture
def member(db):
    return MemberFactory()


@pytest.fixture
def member_client(client, member):
    client.login(username=member.user.username, password=PASSWORD)
    return client


@pytest.fixture(autouse=True)
def empty_cache():
    # Throttle counters live in the cache; one test's requests must not throttle the next.
    cache.clear()
    yield
    cache.clear()
