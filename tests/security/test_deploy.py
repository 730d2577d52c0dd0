"""`manage.py check --deploy` passes with production settings, and fails loudly without them.

Runs in a subprocess with a production-like environment (the pytest process itself runs the
test settings): DEBUG=0, a 50-character random SECRET_KEY, ALLOWED_HOSTS=example.com.
"""

import os
import re
import secrets
import string
import subprocess
import sys

import pytest
from django.conf import settings

SUCCESS = "System check identified no issues (0 silenced)."


def _secret_key() -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(50))


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SECURE_", "SESSION_", "CSRF_", "AXES_"))
        and key not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",
        SECRET_KEY=_secret_key(),
        ALLOWED_HOSTS="example.com",
        # The checks need no database; a throwaway file keeps the run independent of CI's.
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    return env


def _check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings(production_env):
    result = _check_deploy(production_env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert SUCCESS in result.stdout
    assert "WARNING" not in output
    assert "security.W" not in output


def test_debug_is_off_when_the_environment_does_not_set_it(production_env):
    # Without DEBUG, and without SECRET_KEY: the production settings, which refuse to start.
    unset = {k: v for k, v in production_env.items() if k not in {"DEBUG", "SECRET_KEY"}}
    refused = _check_deploy(unset)
    assert refused.returncode == 1
    assert "SECRET_KEY must be set when DEBUG is off." in refused.stderr
    # With a SECRET_KEY: clean, DEBUG's own check (security.W018) included.
    result = _check_deploy({**unset, "SECRET_KEY": production_env["SECRET_KEY"]})
    assert result.returncode == 0, result.stdout + result.stderr
    assert SUCCESS in result.stdout
    assert "security.W" not in result.stdout + result.stderr


def test_check_deploy_fails_when_the_protections_are_off(production_env):
    # One run (each costs a Django start-up): every protection off names its own check.
    off = {
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "SECRET_KEY": "short",
    }
    result = _check_deploy({**production_env, **off})
    assert result.returncode == 1
    reported = set(re.findall(r"\(security\.(W\d+)\)", result.stderr))
    # SSL redirect, session cookie, CSRF cookie, HSTS, weak SECRET_KEY.
    assert reported == {"W008", "W012", "W016", "W004", "W009"}
    assert SUCCESS not in result.stdout


def test_production_refuses_to_start_without_a_secret_key(production_env):
    env = {key: value for key, value in production_env.items() if key != "SECRET_KEY"}
    result = _check_deploy(env)
    assert result.returncode == 1
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_hsts_subdomains_and_preload_come_from_the_environment(production_env):
    # On by default with DEBUG=0 (the clean run above); each can be turned off on its own, and
    # check --deploy then names it.
    off = {"SECURE_HSTS_INCLUDE_SUBDOMAINS": "0", "SECURE_HSTS_PRELOAD": "0"}
    result = _check_deploy({**production_env, **off})
    assert result.returncode == 1
    assert set(re.findall(r"\(security\.(W\d+)\)", result.stderr)) == {"W005", "W021"}
