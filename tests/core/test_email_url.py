"""EMAIL_URL parsing (core/email_url.py), and the settings each environment ends up with."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from core.email_url import SMTP, EmailUrlError, email_settings_from_url


def test_smtp_on_the_submission_port_uses_starttls_and_decodes_the_credentials():
    assert email_settings_from_url("smtp://mailer%40site:p%3Ass%2Fw@mail.internal:587") == {
        "EMAIL_BACKEND": SMTP,
        "EMAIL_HOST": "mail.internal",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "mailer@site",
        "EMAIL_HOST_PASSWORD": "p:ss/w",
        "EMAIL_USE_SSL": False,
        "EMAIL_USE_TLS": True,
        "EMAIL_TIMEOUT": 10.0,
    }


def test_plain_smtp_without_credentials_and_explicit_flags():
    plain = email_settings_from_url("smtp://localhost")
    assert (plain["EMAIL_PORT"], plain["EMAIL_USE_TLS"], plain["EMAIL_USE_SSL"]) == (
        25,
        False,
        False,
    )
    assert plain["EMAIL_HOST_USER"] == plain["EMAIL_HOST_PASSWORD"] == ""
    assert email_settings_from_url("smtp://relay:2525?tls=1")["EMAIL_USE_TLS"] is True
    assert email_settings_from_url("smtp://relay:587?tls=0")["EMAIL_USE_TLS"] is False
    assert email_settings_from_url("smtp://relay:587?timeout=2.5")["EMAIL_TIMEOUT"] == 2.5


def test_smtps_is_tls_from_the_first_byte_on_465():
    smtps = email_settings_from_url("SMTPS://user:secret@mail.internal")
    assert (smtps["EMAIL_PORT"], smtps["EMAIL_USE_SSL"], smtps["EMAIL_USE_TLS"]) == (
        465,
        True,
        False,
    )


@pytest.mark.parametrize(
    ("url", "backend"),
    [
        ("console:", "django.core.mail.backends.console.EmailBackend"),
        ("console://", "django.core.mail.backends.console.EmailBackend"),
        ("locmem:", "django.core.mail.backends.locmem.EmailBackend"),
        ("dummy:", "django.core.mail.backends.dummy.EmailBackend"),
    ],
)
def test_the_development_backends(url, backend):
    assert email_settings_from_url(url) == {"EMAIL_BACKEND": backend}


def test_file_backend_takes_an_absolute_folder():
    assert email_settings_from_url("file:///var/mail%20out") == {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": "/var/mail out",
    }


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail.internal", "unknown scheme 'http'"),
        ("", "unknown scheme ''"),
        ("smtp://", "smtp:// needs a host"),
        ("smtp://mail.internal:notaport", "the port must be a number"),
        ("smtp://mail.internal:70000", "the port must be a number"),
        ("smtp://mail.internal?tls=maybe", "?tls= takes 1 or 0, not 'maybe'"),
        ("smtps://mail.internal?tls=1", "exclude each other"),
        ("smtp://mail.internal?timeout=soon", "?timeout= takes seconds, not 'soon'"),
        ("smtp://mail.internal?timeout=0", "?timeout= must be above 0"),
        ("file://relative/folder", "needs an absolute folder"),
    ],
)
def test_a_url_that_cannot_work_is_refused_with_its_reason(url, message):
    with pytest.raises(EmailUrlError, match="EMAIL_URL: ") as refused:
        email_settings_from_url(url)
    assert message in str(refused.value)


def test_a_refusal_never_shows_the_password():
    with pytest.raises(EmailUrlError) as refused:
        email_settings_from_url("smtp://user:hunter2-secret@mail.internal:bad")
    assert "hunter2" not in str(refused.value)


def _email_settings(**environment: str) -> dict[str, str]:
    """The email settings config.settings makes of `environment` (a fresh interpreter)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMAIL_", "DJANGO_"))}
    env.pop("DEBUG", None)
    env.pop("SECRET_KEY", None)
    env.update(DJANGO_SETTINGS_MODULE="config.settings", **environment)
    script = (
        "from django.conf import settings as s\n"
        "for name in ('EMAIL_BACKEND', 'EMAIL_HOST', 'EMAIL_PORT', 'EMAIL_USE_TLS',"
        " 'DEFAULT_FROM_EMAIL', 'SERVER_EMAIL'):\n"
        "    print(f'{name}={getattr(s, name)}')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return dict(line.split("=", 1) for line in result.stdout.splitlines())


def test_each_environment_gets_its_email_backend():
    development = _email_settings(DEBUG="1")
    assert development["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert development["DEFAULT_FROM_EMAIL"] == "SkillPath <noreply@localhost>"
    assert development["SERVER_EMAIL"] == development["DEFAULT_FROM_EMAIL"]

    production = _email_settings(SECRET_KEY="x" * 50)
    assert production["EMAIL_BACKEND"] == SMTP
    assert (production["EMAIL_HOST"], production["EMAIL_PORT"]) == ("localhost", "25")

    configured = _email_settings(
        SECRET_KEY="x" * 50,
        EMAIL_URL="smtp://mailer:pw@mail.internal:587",
        DEFAULT_FROM_EMAIL="Learning <learning@localhost>",
    )
    assert configured["EMAIL_HOST"] == "mail.internal"
    assert configured["EMAIL_USE_TLS"] == "True"
    assert configured["SERVER_EMAIL"] == "Learning <learning@localhost>"


def test_a_broken_email_url_stops_the_start():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DEBUG="1", EMAIL_URL="smtp://")
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; settings.EMAIL_BACKEND"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "ImproperlyConfigured: EMAIL_URL: smtp:// needs a host." in result.stderr


def test_the_tests_keep_messages_in_memory():
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
