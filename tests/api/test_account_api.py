"""`POST /api/v1/me/password/` and `POST /api/v1/auth/password-reset/`, and token names."""

import json
import re

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from members.models import ApiToken
from members.services import api_token_digest
from tests.factories import PASSWORD, UserFactory
from tests.helpers import token_client

NEW_PASSWORD = "violet-Lantern-42-river"
ANSWER = {
    "detail": "If an account uses this address, a link to choose a new password was sent to it."
}


def error(response) -> dict:
    return response.json()["error"]


# Password change


def test_a_password_change_keeps_the_presenting_token_and_revokes_the_others(api, member):
    other = token_client(member.user)
    response = api.post(
        "/api/v1/me/password/",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert response.status_code == 204
    member.user.refresh_from_db()
    assert member.user.check_password(NEW_PASSWORD)
    assert api.get("/api/v1/me/").status_code == 200
    assert other.get("/api/v1/me/").status_code == 401
    assert ApiToken.objects.filter(user=member.user).count() == 1
    assert Client().login(username=member.user.username, password=NEW_PASSWORD)


def test_a_password_change_by_session_keeps_that_session(member):
    client = APIClient()
    client.login(username=member.user.username, password=PASSWORD)
    token_client(member.user)
    response = client.post(
        "/api/v1/me/password/",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert response.status_code == 204
    assert client.get("/api/v1/me/").status_code == 200
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {"current_password": "wrong", "new_password": NEW_PASSWORD},
            {"current_password": ["That is not your current password."]},
        ),
        (
            {"current_password": PASSWORD, "new_password": "1234"},
            {
                "new_password": [
                    "This password is too short. It must contain at least 8 characters.",
                    "This password is too common.",
                    "This password is entirely numeric.",
                ]
            },
        ),
        (
            {"current_password": PASSWORD, "new_password": "{username}-ab"},
            {"new_password": ["The password is too similar to the username."]},
        ),
        (
            {},
            {
                "current_password": ["This field is required."],
                "new_password": ["This field is required."],
            },
        ),
    ],
)
def test_a_refused_password_change_names_the_field(api, member, body, fields):
    body = {k: v.replace("{username}", member.user.username) for k, v in body.items()}
    response = api.post("/api/v1/me/password/", body, format="json")
    assert response.status_code == 400
    assert error(response)["fields"] == fields
    member.user.refresh_from_db()
    assert member.user.check_password(PASSWORD)
    assert ApiToken.objects.count() == 1


def test_a_password_change_needs_credentials(anon, db):
    response = anon.post(
        "/api/v1/me/password/",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert response.status_code == 401


# Password reset


def test_known_and_unknown_addresses_get_the_same_answer(anon, db):
    user = UserFactory(email="ada@example.com")
    known = anon.post("/api/v1/auth/password-reset/", {"email": "Ada@Example.com"}, format="json")
    unknown = anon.post("/api/v1/auth/password-reset/", {"email": "no@example.com"}, format="json")
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json() == ANSWER
    [message] = mail.outbox
    assert message.to == [user.email]
    # The link leads to the site's page, on the host the request named.
    link = re.search(r"http://testserver/accounts/password/reset/\S+/\S+/", message.body)
    assert link, message.body
    page = Client().get(link.group(0).removeprefix("http://testserver"), follow=True)
    assert page.context["validlink"]


def test_a_reset_request_works_for_a_client_that_holds_a_session(member):
    client = Client(enforce_csrf_checks=True)
    client.login(username=member.user.username, password=PASSWORD)
    response = client.post(
        "/api/v1/auth/password-reset/",
        json.dumps({"email": member.user.email}),
        content_type="application/json",
    )
    assert response.status_code == 202
    assert len(mail.outbox) == 1


def test_a_reset_request_is_rate_limited_for_unknown_addresses_too(anon, db, settings):
    settings.PASSWORD_RESET_RATE_PER_EMAIL = "1/hour"
    UserFactory(email="ada@example.com")
    for email in ("ada@example.com", "no@example.com"):
        assert (
            anon.post("/api/v1/auth/password-reset/", {"email": email}, format="json").status_code
            == 202
        )
        refused = anon.post("/api/v1/auth/password-reset/", {"email": email}, format="json")
        assert refused.status_code == 429
        assert error(refused)["code"] == "throttled"
        assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
    assert len(mail.outbox) == 1


def test_the_reset_rate_per_client_address(anon, db, settings):
    settings.PASSWORD_RESET_RATE_PER_ADDRESS = "1/hour"
    assert (
        anon.post(
            "/api/v1/auth/password-reset/", {"email": "a@example.com"}, format="json"
        ).status_code
        == 202
    )
    refused = anon.post("/api/v1/auth/password-reset/", {"email": "b@example.com"}, format="json")
    assert refused.status_code == 429


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"email": "not an address"}, {"email": ["Enter a valid email address."]}),
        ({}, {"email": ["This field is required."]}),
        (
            {"email": "a\x00@example.com"},
            {"email": ["Null characters are not allowed.", "Enter a valid email address."]},
        ),
    ],
)
def test_a_reset_request_without_an_address_is_a_field_error(anon, db, body, fields):
    response = anon.post("/api/v1/auth/password-reset/", body, format="json")
    assert response.status_code == 400
    assert error(response)["fields"] == fields
    assert mail.outbox == []


# Token names


def test_a_token_obtained_through_the_api_may_be_named(anon, member):
    body = {"username": member.user.username, "password": PASSWORD}
    named = anon.post("/api/v1/auth/token/", body | {"name": "phone"}, format="json")
    unnamed = anon.post("/api/v1/auth/token/", body, format="json")
    assert ApiToken.objects.get(digest=api_token_digest(key=named.json()["token"])).name == "phone"
    assert ApiToken.objects.get(digest=api_token_digest(key=unnamed.json()["token"])).name == ""
    too_long = anon.post("/api/v1/auth/token/", body | {"name": "x" * 61}, format="json")
    assert too_long.status_code == 400
    assert error(too_long)["fields"] == {
        "name": ["Ensure this field has no more than 60 characters."]
    }
