"""Django's email settings from one URL (`EMAIL_URL`), as `DATABASE_URL` gives the database's.

Parsed here with the standard library: the one small library that does this (dj-email-url) has
not been released since 2022, and the whole job is a dozen lines of `urllib.parse`.

    smtp://USER:PASSWORD@HOST:PORT    SMTP; STARTTLS when the port is 587 (the submission port,
                                      where servers expect it), else plain; `?tls=1`/`?tls=0`
                                      decides explicitly
    smtps://USER:PASSWORD@HOST:PORT   SMTP over TLS from the first byte (port 465 by default)
    console:                          printed on standard output (development)
    locmem:                           kept in `django.core.mail.outbox` (tests)
    file:///ABSOLUTE/FOLDER           one file per message in that folder
    dummy:                            dropped

User and password are percent-decoded (`%40` for `@`, `%3A` for `:`); `?timeout=SECONDS`
bounds every SMTP connection (10 by default: the site sends during a request, which must not
hang on a dead server; Django's own default waits forever).
"""

from urllib.parse import parse_qs, unquote, urlsplit

SMTP = "django.core.mail.backends.smtp.EmailBackend"
BACKENDS = {
    "smtp": SMTP,
    "smtps": SMTP,
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}
DEFAULT_TIMEOUT_SECONDS = 10
TRUE, FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


class EmailUrlError(ValueError):
    """The URL cannot configure email; the message says why (never with the password)."""


def _flag(query: dict[str, list[str]], name: str) -> bool | None:
    if name not in query:
        return None
    value = query[name][-1].strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise EmailUrlError(f"EMAIL_URL: ?{name}= takes 1 or 0, not {value!r}.")


def email_settings_from_url(url: str) -> dict[str, object]:
    """The Django settings (`EMAIL_BACKEND`, `EMAIL_HOST`, ...) that `url` describes."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in BACKENDS:
        known = ", ".join(sorted(BACKENDS))
        raise EmailUrlError(f"EMAIL_URL: unknown scheme {scheme!r}; use one of {known}.")
    settings: dict[str, object] = {"EMAIL_BACKEND": BACKENDS[scheme]}
    if scheme == "file":
        if parts.netloc or not parts.path.startswith("/"):
            raise EmailUrlError("EMAIL_URL: file:///FOLDER needs an absolute folder.")
        settings["EMAIL_FILE_PATH"] = unquote(parts.path)
        return settings
    if BACKENDS[scheme] != SMTP:
        return settings
    if not parts.hostname:
        raise EmailUrlError(f"EMAIL_URL: {scheme}:// needs a host.")
    try:
        port = parts.port
    except ValueError as error:  # a port that is not a number, or out of range
        raise EmailUrlError("EMAIL_URL: the port must be a number up to 65535.") from error
    query = parse_qs(parts.query)
    ssl = _flag(query, "ssl")
    tls = _flag(query, "tls")
    if ssl is None:
        ssl = scheme == "smtps"
    port = port or (465 if ssl else 25)
    if tls is None:
        tls = not ssl and port == 587
    if ssl and tls:
        raise EmailUrlError(
            "EMAIL_URL: TLS from the first byte (ssl) and STARTTLS (tls) exclude each other."
        )
    timeout = query.get("timeout", [str(DEFAULT_TIMEOUT_SECONDS)])[-1]
    try:
        timeout_seconds = float(timeout)
    except ValueError as error:
        raise EmailUrlError(f"EMAIL_URL: ?timeout= takes seconds, not {timeout!r}.") from error
    if timeout_seconds <= 0:
        raise EmailUrlError("EMAIL_URL: ?timeout= must be above 0.")
    settings.update(
        EMAIL_HOST=parts.hostname,
        EMAIL_PORT=port,
        EMAIL_HOST_USER=unquote(parts.username or ""),
        EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
        EMAIL_USE_SSL=ssl,
        EMAIL_USE_TLS=tls,
        EMAIL_TIMEOUT=timeout_seconds,
    )
    return settings
