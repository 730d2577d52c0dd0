import pytest

from tests.factories import PASSWORD, MemberFactory


@pytest.fixture
def member(db):
    return MemberFactory()


@pytest.fixture
def member_client(client, member):
    client.login(username=member.user.username, password=PASSWORD)
    return client
