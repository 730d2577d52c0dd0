"""API token authentication reads the member (with title and industry) with the user."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from members.services import member_get_or_create_for_user
from tests.factories import IndustryFactory, JobTitleFactory, MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def _client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_the_member_comes_with_the_token_and_costs_no_query(django_assert_num_queries):
    from members.authentication import MemberTokenAuthentication

    member = MemberFactory(title=JobTitleFactory(name="Data Analyst"), industry=IndustryFactory())
    key = Token.objects.create(user=member.user).key

    with django_assert_num_queries(1):
        user, token = MemberTokenAuthentication().authenticate_credentials(key)
        found = member_get_or_create_for_user(user=user)
        assert (found.pk, found.title.name, found.industry.pk) == (
            member.pk,
            "Data Analyst",
            member.industry.pk,
        )
    assert token.key == key


def test_a_user_without_a_member_row_gets_one():
    user = UserFactory()
    response = _client(user).get("/api/v1/me/")
    assert response.status_code == 200
    assert user.member.pk is not None


@pytest.mark.parametrize(
    ("header", "detail"),
    [("Token not-a-key", "Invalid token."), (None, "User inactive or deleted.")],
)
def test_refused_tokens_keep_drf_messages(header, detail):
    member = MemberFactory()
    client = _client(member.user)
    if header is None:
        member.user.is_active = False
        member.user.save()
    else:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == detail
