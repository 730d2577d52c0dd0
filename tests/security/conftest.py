import pytest
from django.contrib.auth import get_user_model

from tests.factories import MemberFactory


@pytest.fixture
def superuser(db):
    user = get_user_model().objects.create_superuser(
        username="root", email="root@example.com", password="root-password-for-tests"
    )
    MemberFactory(user=user)
    return user
