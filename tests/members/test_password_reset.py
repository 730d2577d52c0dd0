"""Password reset by email on the site: the same answer for known and unknown addresses, a link
that works once and expires, the new password's rules, and the rate limits."""

import datetime as dt
import re

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from members.services import api_token_create
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet-Lantern-42-river"
RESET = "/accounts/password/reset/"
LINK = re.compile(r"http://testserver(/accounts/password/reset/[^/\s]+/[^/\s]+/)")


def _ask(client: Client, email: str, **extra):
    return client.post(RESET, {"email": email}, **extra)


def _unmasked(response) -> str:
    return re.sub(r"[A-Za-z0-9]{64}", "CSRF", response.content.decode())


def _link_in(message) -> str:
    found = LINK.search(message.body)
    assert found, message.body
    return found.group(1)


def test_the_login_page_links_to_the_reset(client):
    html = client.get(reverse("members:login")).content.decode()
    assert f'href="{RESET}"' in html
    assert "Forgotten your password?" in html


def test_known_and_unknown_addresses_get_the_same_answer_and_only_the_known_one_mail(client):
    user = UserFactory(username="ada", email="ada@example.com")
    known = _ask(client, "ADA@example.com", follow=True)
    unknown = _ask(client, "nobody@example.com", follow=True)

    assert (
        known.redirect_chain == unknown.redirect_chain == [("/accounts/password/reset/sent/", 302)]
    )
    # Byte for byte, but for the CSRF token (masked afresh for every response).
    assert _unmasked(known) == _unmasked(unknown)
    assert "If an account uses that address, we sent it a link" in known.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert message.subject == "Reset your SkillPath password"
    assert message.from_email == "SkillPath <noreply@localhost>"
    assert '"ada"' in message.body
    assert "for 3 hours" in message.body


def test_inactive_accounts_and_accounts_without_a_password_get_nothing(client):
    UserFactory(email="gone@example.com", is_active=False)
    unusable = UserFactory(email="sso@example.com")
    unusable.set_unusable_password()
    unusable.save()
    assert _ask(client, "gone@example.com").url == "/accounts/password/reset/sent/"
    assert _ask(client, "sso@example.com").url == "/accounts/password/reset/sent/"
    assert mail.outbox == []


def test_the_link_sets_a_new_password_once_revokes_tokens_and_lifts_the_lockout(client):
    user = UserFactory(username="ada", email="ada@example.com")
    _, key = api_token_create(user=user)
    AccessAttempt.objects.create(
        username="ada",
        ip_address="127.0.0.1",
        user_agent="probe",
        get_data="",
        post_data="",
        http_accept="*/*",
        path_info="/accounts/login/",
        failures_since_start=5,
    )
    _ask(client, "ada@example.com")
    link = _link_in(mail.outbox[0])

    # Django moves the token from the URL into the session, then shows the form.
    opened = client.get(link, follow=True)
    assert opened.redirect_chain[-1][0].endswith("/set-password/")
    form_url = opened.redirect_chain[-1][0]
    assert "Choose a new password" in opened.content.decode()

    mismatched = client.post(
        form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"}
    )
    assert mismatched.status_code == 200
    assert "The two password fields didn’t match." in mismatched.content.decode()
    weak = client.post(form_url, {"new_password1": "password", "new_password2": "password"})
    assert weak.status_code == 200
    assert "This password is too common." in weak.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)

    done = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.url == "/accounts/password/reset/done/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not user.api_tokens.exists()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").status_code == 401
    assert not AccessAttempt.objects.filter(username="ada").exists()
    assert "Log in with it now" in client.get(done.url).content.decode()

    # Used: the same link no longer works, in this browser or another.
    for browser in (client, Client()):
        again = browser.get(link, follow=True)
        assert not again.context["validlink"]
        assert "This link does not work" in again.content.decode()


def test_an_expired_link_does_not_work(client, settings, monkeypatch):
    user = UserFactory(email="ada@example.com")
    _ask(client, "ada@example.com")
    link = _link_in(mail.outbox[0])
    later = default_token_generator._now() + dt.timedelta(
        seconds=settings.PASSWORD_RESET_TIMEOUT + 1
    )
    monkeypatch.setattr(default_token_generator, "_now", lambda: later)
    response = client.get(link, follow=True)
    assert not response.context["validlink"]
    assert "This link does not work" in response.content.decode()
    posted = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert "This link does not work" in posted.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_an_altered_link_does_not_work(client):
    UserFactory(email="ada@example.com")
    _ask(client, "ada@example.com")
    link = _link_in(mail.outbox[0])
    response = client.get(link[:-3] + "xx/", follow=True)
    assert not response.context["validlink"]


def test_the_per_email_rate_counts_unknown_addresses_too(client, settings):
    settings.PASSWORD_RESET_RATE_PER_EMAIL = "2/hour"
    UserFactory(email="ada@example.com")
    for email in ("ada@example.com", "nobody@example.com"):
        first, second = _ask(client, email), _ask(client, email.upper())
        assert first.status_code == second.status_code == 302
        refused = _ask(client, email)
        assert refused.status_code == 429
        assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
        assert "Too many password resets were asked for" in refused.content.decode()
        assert "Try again in 60 minutes." in refused.content.decode()
    # Two messages to the known address, none past the limit; another address still works.
    assert len(mail.outbox) == 2
    assert _ask(client, "grace@example.com").status_code == 302


def test_the_per_client_address_rate(client, settings):
    settings.PASSWORD_RESET_RATE_PER_ADDRESS = "2/hour"
    assert _ask(client, "a@example.com").status_code == 302
    assert _ask(client, "b@example.com").status_code == 302
    assert _ask(client, "c@example.com").status_code == 429
    assert _ask(client, "c@example.com", REMOTE_ADDR="10.0.0.2").status_code == 302


def test_an_invalid_address_is_a_field_error_and_not_counted(client, settings):
    settings.PASSWORD_RESET_RATE_PER_ADDRESS = "1/hour"
    response = _ask(client, "not an address")
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert _ask(client, "a@example.com").status_code == 302
