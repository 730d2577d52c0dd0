"""Login is rate limited by django-axes: 5 failures per username and IP address lock that pair out
for 15 minutes (config/settings.py). The test settings turn axes off for the rest of the suite
(the test client's login() calls authenticate() without a request); these tests turn it on."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, MemberFactory

LOGIN = reverse("members:login")
LIMIT = 5


@pytest.fixture(autouse=True)
def axes_on(settings):
    settings.AXES_ENABLED = True
    assert settings.AXES_FAILURE_LIMIT == LIMIT
    assert dt.timedelta(minutes=15) == settings.AXES_COOLOFF_TIME


@pytest.fixture
def learner(db):
    return MemberFactory(user__username="learner").user


def _login(client: Client, username: str, password: str, ip: str = "203.0.113.7", **headers):
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, headers=headers
    )


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _fail(client: Client, times: int, username: str = "learner", **kwargs) -> list[int]:
    return [_login(client, username, "wrong password", **kwargs).status_code for _ in range(times)]


def test_four_failures_then_the_right_password_logs_in(learner):
    client = Client()
    assert _fail(client, LIMIT - 1) == [200] * (LIMIT - 1)
    response = _login(client, "learner", PASSWORD)
    assert response.status_code == 302
    assert _logged_in(client)
    # A success resets the count for that username and address.
    assert not AccessAttempt.objects.filter(username="learner", failures_since_start__gt=0).exists()


def test_the_fifth_failure_locks_and_the_sixth_attempt_is_refused(learner):
    client = Client()
    assert _fail(client, LIMIT - 1) == [200] * (LIMIT - 1)
    fifth = _login(client, "learner", "wrong password")
    assert fifth.status_code == 429
    sixth = _login(client, "learner", "wrong password")
    assert sixth.status_code == 429
    html = " ".join(sixth.content.decode().split())
    assert "Too many failed login attempts" in html
    assert "locked for this network address after 5 failed attempts" in html
    assert "Try again in 15 minutes" in html
    assert "members/locked_out.html" in [template.name for template in sixth.templates]
    assert 'name="password"' not in html  # the lockout page, not the login form


def test_the_right_password_is_refused_while_locked_out(learner):
    client = Client()
    _fail(client, LIMIT)
    response = _login(client, "learner", PASSWORD)
    assert response.status_code == 429
    assert not _logged_in(client)
    assert b"until then even the right password is refused" in response.content


def test_the_lock_is_per_username_and_address(learner):
    other = MemberFactory(user__username="other").user
    _fail(Client(), LIMIT)
    # Another account from the same address logs in.
    client = Client()
    assert _login(client, other.username, PASSWORD).status_code == 302
    assert _logged_in(client)
    # The same account from another address logs in.
    client = Client()
    assert _login(client, "learner", PASSWORD, ip="198.51.100.20").status_code == 302
    assert _logged_in(client)


def test_a_forged_forwarded_for_header_does_not_escape_the_lock(learner):
    _fail(Client(), LIMIT)
    client = Client()
    response = _login(client, "learner", PASSWORD, **{"X-Forwarded-For": "192.0.2.99"})
    assert response.status_code == 429
    assert not _logged_in(client)


def test_the_lock_lifts_after_the_cool_off(learner):
    _fail(Client(), LIMIT)
    client = Client()
    assert _login(client, "learner", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))
    response = _login(client, "learner", PASSWORD)
    assert response.status_code == 302
    assert _logged_in(client)


def test_the_admin_login_is_rate_limited_too(learner):
    learner.is_staff = True
    learner.save()
    client = Client()
    url = reverse("admin:login")
    for _ in range(LIMIT):
        client.post(url, {"username": "learner", "password": "nope"}, REMOTE_ADDR="203.0.113.7")
    response = client.post(
        url, {"username": "learner", "password": PASSWORD}, REMOTE_ADDR="203.0.113.7"
    )
    assert response.status_code == 429
    assert not _logged_in(client)


def test_failures_on_the_site_form_lock_the_api_token_endpoint(learner):
    _fail(Client(), LIMIT)
    response = Client().post(
        "/api/v1/auth/token/",
        {"username": "learner", "password": PASSWORD},
        content_type="application/json",
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"
    assert response.json()["error"]["message"].startswith("Too many failed login attempts")
    assert b'"token"' not in response.content


def test_behind_one_proxy_the_lock_is_on_the_forwarded_client_address(learner, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.0.0.2"
    # Five failures from one client behind the proxy lock that client ...
    for spoofed in range(LIMIT):
        _login(
            Client(),
            "learner",
            "wrong password",
            ip=proxy,
            **{"X-Forwarded-For": f"192.0.2.{spoofed}, 198.51.100.7"},
        )
    locked = Client()
    blocked = _login(
        locked, "learner", PASSWORD, ip=proxy, **{"X-Forwarded-For": "192.0.2.200, 198.51.100.7"}
    )
    assert blocked.status_code == 429
    assert not _logged_in(locked)
    # ... and not another client behind the same proxy.
    other = Client()
    allowed = _login(other, "learner", PASSWORD, ip=proxy, **{"X-Forwarded-For": "198.51.100.8"})
    assert allowed.status_code == 302
    assert _logged_in(other)
