"""API token authentication reads the member (with title and industry) with the user."""

import pytest
from rest_framework.test import APIClient

from members.models import ApiToken
from members.services import api_token_create, api_token_digest, member_get_or_create_for_user
from tests.factories import IndustryFactory, JobTitleFactory, MemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def _client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user)[1]}")
    return client


def test_the_member_comes_with_the_token_and_costs_no_query(django_assert_num_queries):
    from members.authentication import MemberTokenAuthentication

    member = MemberFactory(title=JobTitleFactory(name="Data Analyst"), industry=IndustryFactory())
    stored, key = api_token_create(user=member.user)

    with django_assert_num_queries(1):
        user, token = MemberTokenAuthentication().authenticate_credentials(key)
        found = member_get_or_create_for_user(user=user)
        assert (found.pk, found.title.name, found.industry.pk) == (
            member.pk,
            "Data Analyst",
            member.industry.pk,
        )
    assert token.pk == stored.pk


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


def test_the_member_comes_with_the_session_user_and_costs_no_query(django_assert_num_queries):
    from members.authentication import MemberModelBackend

    member = MemberFactory(title=JobTitleFactory(name="Data Analyst"), industry=IndustryFactory())

    with django_assert_num_queries(1):
        user = MemberModelBackend().get_user(member.user.pk)
        found = member_get_or_create_for_user(user=user)
        assert (found.pk, found.title.name, found.industry.pk) == (
            member.pk,
            "Data Analyst",
            member.industry.pk,
        )


def test_a_signed_in_page_reads_the_member_with_the_user(client):
    from django.contrib.auth import BACKEND_SESSION_KEY
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    member = MemberFactory()
    client.force_login(member.user)
    assert client.session[BACKEND_SESSION_KEY] == "members.authentication.MemberModelBackend"
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    # The user's query reads the member; no query reads the member row on its own.
    reads = [query["sql"] for query in queries if query["sql"].startswith("SELECT")]
    assert sum('FROM "auth_user"' in sql and '"members_member"' in sql for sql in reads) == 1
    assert not any('FROM "members_member"' in sql for sql in reads)


def test_the_session_backend_refuses_inactive_and_unknown_users():
    from members.authentication import MemberModelBackend

    member = MemberFactory()
    member.user.is_active = False
    member.user.save()
    backend = MemberModelBackend()
    assert backend.get_user(member.user.pk) is None
    assert backend.get_user(member.user.pk + 1000) is None


def test_a_session_user_without_a_member_row_gets_one(client):
    user = UserFactory()
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.member.pk is not None


def test_the_signed_in_read_matches_the_orm(django_assert_num_queries):
    """Every field of the token, user, member, title and industry, converted as the ORM
    converts it (aware datetimes, booleans), in one query."""
    from django.contrib.auth import get_user_model

    from members.models import Member
    from members.selectors import member_with_user, token_with_member, user_with_member

    member = MemberFactory(title=JobTitleFactory(), industry=IndustryFactory())
    token, key = api_token_create(user=member.user)
    user_model = get_user_model()
    expected = {
        "token": ApiToken.objects.values().get(pk=token.pk),
        "user": user_model.objects.values().get(pk=member.user.pk),
        "member": Member.objects.values().get(pk=member.pk),
        "title": type(member.title).objects.values().get(pk=member.title.pk),
        "industry": type(member.industry).objects.values().get(pk=member.industry.pk),
    }

    def fields(instance) -> dict:
        return {
            field.attname: getattr(instance, field.attname)
            for field in instance._meta.concrete_fields
        }

    with django_assert_num_queries(1):
        found = token_with_member(digest=api_token_digest(key=key))
        got = {
            "token": fields(found),
            "user": fields(found.user),
            "member": fields(found.user.member),
            "title": fields(found.user.member.title),
            "industry": fields(found.user.member.industry),
        }
        assert found.user.member.user is found.user
    assert got == expected
    assert got["user"]["date_joined"].tzinfo is not None
    assert got["user"]["is_active"] is True
    with django_assert_num_queries(1):
        user = user_with_member(user_id=member.user.pk)
        assert fields(user) == expected["user"]
        assert fields(user.member) == expected["member"]
    with django_assert_num_queries(1):
        by_id = member_with_user(member_id=member.pk)
        assert fields(by_id) == expected["member"]
        assert fields(by_id.user) == expected["user"]
        assert fields(by_id.title) == expected["title"]
        assert fields(by_id.industry) == expected["industry"]
        assert by_id.user.member is by_id


def test_the_signed_in_read_of_a_user_without_member_title_or_industry():
    from members.models import Member
    from members.selectors import member_with_user, token_with_member, user_with_member

    bare = MemberFactory(title=None, industry=None)
    found = user_with_member(user_id=bare.user.pk)
    assert (found.member.pk, found.member.title, found.member.industry) == (bare.pk, None, None)
    by_id = member_with_user(member_id=bare.pk)
    assert (by_id.user.pk, by_id.title, by_id.industry) == (bare.user.pk, None, None)

    user = UserFactory()
    key = api_token_create(user=user)[1]
    for found in (
        token_with_member(digest=api_token_digest(key=key)).user,
        user_with_member(user_id=user.pk),
    ):
        assert found.pk == user.pk
        # As after select_related: known to have no member, without asking again.
        with pytest.raises(Member.DoesNotExist):
            _ = found.member


def test_the_signed_in_read_refuses_unknown_keys_and_ids():
    from members.selectors import member_with_user, token_with_member, user_with_member

    member = MemberFactory()
    _, key = api_token_create(user=member.user)
    assert token_with_member(digest=key) is None  # the key itself is not what is stored
    assert token_with_member(digest="0" * 64) is None
    assert token_with_member(digest="") is None
    assert user_with_member(user_id=member.user.pk + 1000) is None
    assert member_with_user(member_id=member.pk + 1000) is None
    # A member's id is not their user's id: each read finds by its own key.
    other = MemberFactory()
    while other.pk == other.user.pk:
        UserFactory()  # a user without a member: the two sequences part
        other = MemberFactory()
    by_id = member_with_user(member_id=other.pk)
    assert (by_id.pk, by_id.user.pk) == (other.pk, other.user.pk)
