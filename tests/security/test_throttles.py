"""Throttles key on the real client: anonymous requests on REMOTE_ADDR (or the address NUM_PROXIES
entries from the right of X-Forwarded-For), signed-in ones on the user; and the proxy's HTTPS
header is trusted only when configured."""

import subprocess
import sys
from unittest import mock

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

CATEGORIES = "/api/v1/categories/"


def _anon_get(client: APIClient, forwarded_for: str, remote: str = "203.0.113.9") -> int:
    return client.get(
        CATEGORIES, HTTP_X_FORWARDED_FOR=forwarded_for, REMOTE_ADDR=remote
    ).status_code


def test_a_rotating_x_forwarded_for_is_one_client(db, settings):
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"] == "120/min"
    client = APIClient()
    codes = [_anon_get(client, f"198.51.100.{i % 250}, 10.0.{i}.1") for i in range(200)]
    assert codes == [200] * 120 + [429] * 80
    # Another address has its own count.
    assert _anon_get(client, "198.51.100.1", remote="203.0.113.10") == 200


def test_behind_one_proxy_the_last_forwarded_address_is_the_client(db, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    client = APIClient()
    # Every request comes from the proxy (REMOTE_ADDR); the proxy appends the real address.
    with mock.patch.dict(SimpleRateThrottle.THROTTLE_RATES, {"anon": "3/min"}):
        codes = [_anon_get(client, f"10.9.9.{i}, 198.51.100.7") for i in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        assert _anon_get(client, "10.9.9.1, 198.51.100.8") == 200


def _setting(name: str, **env: str) -> str:
    code = f"from django.conf import settings; print(settings.{name})"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=django_settings.BASE_DIR,
        # DEBUG on: the settings read here do not depend on it, and off they need a SECRET_KEY.
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "1",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    return (result.stdout + result.stderr).strip()


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ({}, "None"),
        (
            {"SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO"},
            "('HTTP_X_FORWARDED_PROTO', 'https')",
        ),
    ],
)
def test_the_proxy_https_header_is_trusted_only_when_configured(configured, expected, tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", **configured}
    assert _setting("SECURE_PROXY_SSL_HEADER", **env) == expected


def test_a_proxy_header_not_named_as_django_names_it_is_refused(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    output = _setting("SECURE_PROXY_SSL_HEADER", SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto", **env)
    assert "SECURE_PROXY_SSL_HEADER names a request header as Django does" in output
