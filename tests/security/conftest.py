import pytest
from django.contrib.auth import get_user_model

from recommendations.serving.state import snapshot_forget
from tests.factories import MemberFactory
from tests.recommendations.conftest import world  # noqa: F401  (a shared fixture)


@pytest.fixture(autouse=True)
def fresh_snapshot():
    # The recommendation snapshot is cached per process: each test sees its own catalog.
    snapshot_forget()
    yield
    snapshot_forget()


@pytest.fixture
def superuser(db):
    user = get_user_model().objects.create_superuser(
        username="root", email="root@example.com", password="root-password-for-tests"
    )
    MemberFactory(user=user)
    return user
