import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import FollowedSkillFactory, MemberFactory
from tests.helpers import STAFF_API_PERMISSIONS, staff_with, token_client


@pytest.fixture(autouse=True)
def empty_throttle_cache():
    # Throttle counters live in the cache; one test's requests must not throttle the next's.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def api(member):
    """The `member` fixture's API client, authenticated with a token."""
    return token_client(member.user)


@pytest.fixture
def other_member(db):
    return MemberFactory()


@pytest.fixture
def staff_api(db):
    """A staff client holding the permissions every admin endpoint asks for."""
    return token_client(staff_with(*STAFF_API_PERMISSIONS))


@pytest.fixture
def analyst(world):
    """A Data Analyst in Finance following SQL and Python: a member with full carousels."""
    member = MemberFactory(title=world["analyst"], industry=world["finance"])
    FollowedSkillFactory(member=member, skill=world["skills"]["SQL"])
    FollowedSkillFactory(member=member, skill=world["skills"]["Python"])
    return member


@pytest.fixture
def analyst_api(analyst):
    return token_client(analyst.user)
