"""The profile's account settings: change the password, change the email address (confirmed by
a link to the new address, the old one told), and create named API tokens shown once."""

import re
import types

import pytest
from django.core import mail, signing
from django.test import Client
from rest_framework.test import APIClient

from members.models import ApiToken
from members.services import api_token_create, api_token_digest
from tests.factories import PASSWORD, MemberFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet-Lantern-42-river"
CONFIRM_LINK = re.compile(r"http://testserver(/profile/email/confirm/[^/\s]+/)")


def _change(client, **data):
    return client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
        | data,
    )


def test_the_profile_links_to_the_account_settings(member_client, member):
    html = member_client.get("/profile/").content.decode()
    assert member.user.email in html
    assert 'href="/accounts/password/change/"' in html
    assert 'href="/profile/email/"' in html


def test_the_settings_pages_need_a_login(client):
    for url in ("/accounts/password/change/", "/profile/email/", "/profile/email/confirm/x/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/?next=")


# Password


def test_a_password_change_keeps_this_session_and_ends_the_others(member_client, member):
    elsewhere = Client()
    elsewhere.login(username=member.user.username, password=PASSWORD)
    _, key = api_token_create(user=member.user)

    response = _change(member_client)

    assert (response.status_code, response.url) == (302, "/profile/")
    member.user.refresh_from_db()
    assert member.user.check_password(NEW_PASSWORD)
    page = member_client.get("/profile/")
    assert page.status_code == 200
    assert "Your password was changed." in page.content.decode()
    assert elsewhere.get("/profile/").status_code == 302
    assert not ApiToken.objects.exists()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").status_code == 401


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"old_password": "wrong"}, "That is not your current password."),
        ({"new_password2": NEW_PASSWORD + "!"}, "The two password fields didn’t match."),
        (
            {"new_password1": "12345678", "new_password2": "12345678"},
            "This password is entirely numeric.",
        ),
        ({"new_password1": "short", "new_password2": "short"}, "This password is too short."),
        (
            {"new_password1": "password", "new_password2": "password"},
            "This password is too common.",
        ),
    ],
)
def test_a_refused_password_change_changes_nothing(member_client, member, data, error):
    _, key = api_token_create(user=member.user)
    response = _change(member_client, **data)
    assert response.status_code == 200
    assert error in response.content.decode()
    member.user.refresh_from_db()
    assert member.user.check_password(PASSWORD)
    assert ApiToken.objects.get().digest == api_token_digest(key=key)


# Email


def _ask_email_change(client, email="new@example.com", password=PASSWORD):
    return client.post("/profile/email/", {"email": email, "password": password})


def _confirm_path() -> str:
    found = CONFIRM_LINK.search(mail.outbox[-1].body)
    assert found, mail.outbox[-1].body
    return found.group(1)


def test_an_email_change_waits_for_the_link_then_tells_the_old_address(member_client, member):
    old = member.user.email
    response = _ask_email_change(member_client)
    assert (response.status_code, response.url) == (302, "/profile/")
    member.user.refresh_from_db()
    assert member.user.email == old
    [sent] = mail.outbox
    assert sent.to == ["new@example.com"]
    assert sent.subject == "Confirm your new SkillPath email address"
    assert old not in sent.body
    path = _confirm_path()

    # Opening the link (a mail scanner does) changes nothing; the button does.
    page = member_client.get(path)
    assert page.status_code == 200
    assert "Use new@example.com" in page.content.decode()
    member.user.refresh_from_db()
    assert member.user.email == old

    confirmed = member_client.post(path)
    assert (confirmed.status_code, confirmed.url) == (302, "/profile/")
    member.user.refresh_from_db()
    assert member.user.email == "new@example.com"
    notice = mail.outbox[-1]
    assert notice.to == [old]
    assert notice.subject == "Your SkillPath email address was changed"
    assert "now uses new@example.com" in notice.body

    # Once: the account no longer has the address the link was made for.
    again = member_client.post(path)
    assert again.status_code == 400
    assert "already used" in again.content.decode()
    assert len(mail.outbox) == 2


def test_a_second_link_stops_working_once_the_first_is_used(member_client, member):
    _ask_email_change(member_client, "first@example.com")
    first = _confirm_path()
    _ask_email_change(member_client, "second@example.com")
    second = _confirm_path()
    member_client.post(first)
    assert member_client.post(second).status_code == 400
    member.user.refresh_from_db()
    assert member.user.email == "first@example.com"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"password": "wrong"}, "That is not your current password."),
        ({"email": "not-an-address"}, "Enter a valid email address."),
        ({"email": "USER{n}@EXAMPLE.COM"}, "That is already your address."),
        ({"email": ""}, "This field is required."),
    ],
)
def test_a_refused_email_change_sends_nothing(member_client, member, data, error):
    if "email" in data:
        data["email"] = data["email"].replace("{n}", member.user.username.removeprefix("user"))
    response = member_client.post(
        "/profile/email/", {"email": "new@example.com", "password": PASSWORD} | data
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert mail.outbox == []


def test_a_link_for_another_account_altered_or_expired_is_refused(
    member_client, member, monkeypatch
):
    other = MemberFactory()
    other_client = Client()
    other_client.force_login(other.user)
    _ask_email_change(other_client, password=PASSWORD)
    theirs = _confirm_path()
    refused = member_client.post(theirs)
    assert refused.status_code == 400
    assert "for another account" in refused.content.decode()

    _ask_email_change(member_client)
    mine = _confirm_path()
    altered = member_client.get(mine[:-4] + "AAA/")
    assert altered.status_code == 400
    assert "not valid" in altered.content.decode()

    later = signing.time.time() + 24 * 3600 + 1
    monkeypatch.setattr(signing, "time", types.SimpleNamespace(time=lambda: later))
    expired = member_client.post(mine)
    assert expired.status_code == 400
    assert "has expired" in expired.content.decode()
    member.user.refresh_from_db()
    other.user.refresh_from_db()
    assert "new@example.com" not in {member.user.email, other.user.email}


def test_email_changes_are_rate_limited_per_account(member_client, settings):
    settings.EMAIL_CHANGE_RATE_PER_USER = "1/hour"
    assert _ask_email_change(member_client).status_code == 302
    refused = _ask_email_change(member_client, "other@example.com")
    assert refused.status_code == 429
    assert "Too many email changes" in refused.content.decode()
    assert int(refused.headers["Retry-After"]) > 0
    assert len(mail.outbox) == 1


# API tokens


@pytest.mark.parametrize("htmx", [False, True])
def test_a_named_token_is_created_and_its_key_shown_once(member_client, member, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    response = member_client.post(
        "/profile/tokens/create/", {"name": "reports script"}, headers=headers
    )

    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    html = response.content.decode()
    if htmx:
        assert html.lstrip().startswith('<section aria-labelledby="api-tokens-heading"')
    token = ApiToken.objects.get(user=member.user)
    assert token.name == "reports script"
    key = re.search(r'<code class="token-key">([^<]+)</code>', html).group(1)
    assert token.digest == api_token_digest(key=key)
    assert "<td>reports script</td>" in html
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").status_code == 200
    # Never again: the profile lists the token by name and prefix only.
    later = member_client.get("/profile/").content.decode()
    assert key not in later
    assert f"<code>{token.prefix}…</code>" in later


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "This field is required."),
        ("x" * 61, "at most 60 characters"),
        ("a\x00b", "Null characters are not allowed."),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_a_token_needs_a_name(member_client, member, htmx, name, error):
    headers = {"HX-Request": "true"} if htmx else {}
    response = member_client.post("/profile/tokens/create/", {"name": name}, headers=headers)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not ApiToken.objects.exists()


def test_creating_a_token_is_post_only_and_needs_a_login(client, member):
    assert client.post("/profile/tokens/create/", {"name": "x"}).status_code == 302
    client.force_login(member.user)
    assert client.get("/profile/tokens/create/").status_code == 405
    assert not ApiToken.objects.exists()


# Guessing the current password through an open session


@pytest.fixture
def three_checks(settings):
    settings.CURRENT_PASSWORD_RATE_PER_USER = "3/hour"


def _email_change(client, password):
    return client.post("/profile/email/", {"email": "new@example.com", "password": password})


@pytest.mark.parametrize("form", ["password change", "email change"])
def test_current_password_checks_are_rate_limited_per_account(
    member_client, member, three_checks, form
):
    def attempt(password):
        if form == "password change":
            return _change(member_client, old_password=password)
        return _email_change(member_client, password)

    for _ in range(3):
        assert "That is not your current password." in attempt("wrong").content.decode()
    refused = attempt(PASSWORD).content.decode()
    assert "Too many password checks for this account: try again in 60 minutes." in refused
    member.user.refresh_from_db()
    assert member.user.check_password(PASSWORD)
    assert member.user.email != "new@example.com"
    assert not mail.outbox


def test_the_api_password_change_counts_toward_the_same_limit(member_client, member, three_checks):
    for _ in range(3):
        assert _change(member_client, old_password="wrong").status_code == 200
    api = APIClient()
    api.force_authenticate(member.user)
    response = api.post(
        "/api/v1/me/password/",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["current_password"] == [
        "Too many password checks for this account: try again in 60 minutes."
    ]
    member.user.refresh_from_db()
    assert member.user.check_password(PASSWORD)
