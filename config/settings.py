"""Settings for every environment, read from the process environment.

DEBUG is off unless the environment turns it on: a deployment that forgets it gets the production
protections and must give a SECRET_KEY. The development entry points turn it on themselves (the
Makefile's demo, serve, worker and test targets export DEBUG=1; config/settings_test.py for
pytest), so `make demo` works on a bare machine (SQLite file, ORM broker). Production sets
DATABASE_URL, REDIS_URL, SECRET_KEY and ALLOWED_HOSTS.
"""

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from core.email_url import EmailUrlError, email_settings_from_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Development only: a fixed key so sessions survive restarts of the demo server.
    SECRET_KEY = "dev-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "django_htmx",
    "django_q",
    "axes",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "catalog",
    "members",
    "demo",
    "recommendations",
    "web",
]

MIDDLEWARE = [
    # First, so it sees the response the server closes: releases the page-view locks a failed
    # request still holds before its database connection goes back to the pool.
    "recommendations.serving.pending.page_views_pending_middleware",
    # Before the rest on the response's way out, once it is rendered: see core/response_cycles.py.
    "core.response_cycles.api_response_cycles_break",
    "django.middleware.security.SecurityMiddleware",
    # Serves STATIC_ROOT at STATIC_URL, compressed and cached (see STORAGES), before the rest
    # of the stack does any work; a proxy that serves /static/ itself never reaches it.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads a body: an oversized one under /api/ gets 413 (core/body_limit.py).
    "core.body_limit.ApiBodyLimitMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login request into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # core is not an app: its tags are named here (`{% load url_patterns %}`).
            "libraries": {"url_patterns": "core.templatetags.url_patterns"},
        },
    },
    # Only the recommendation cards (~100 a page), where DTL's per-node cost dominated the
    # homepage. Its templates end in `.jinja` under templates/ and are only ever loaded through
    # `engines["jinja2"]` (recommendations.serving.rendering): DTL, first in this list, would
    # parse a `.jinja` file as DTL if asked for it by name, and every name DTL misses is missed
    # here too (same directory, no app directories), so neither engine renders the other's
    # templates.
    {
        "NAME": "jinja2",
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "core.jinja2.environment"},
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"


def database_pool(environ: Mapping[str, str]) -> dict[str, int | float] | None:
    """The psycopg pool's options from DATABASE_POOL and DATABASE_POOL_*, or None for no pool.

    DATABASE_POOL unset means off: the WSGI entry point (config/wsgi.py) turns it on for the
    served site, and management commands, the task workers and the tests keep a connection per
    thread. Sizes are per process: each gunicorn worker has its own pool (config/gunicorn.py
    sizes it to the worker's threads).
    """
    raw = environ.get("DATABASE_POOL", "").strip().lower()
    if raw in {"", "0", "false", "no", "off"}:
        return None
    if raw not in {"1", "true", "yes", "on"}:
        raise ImproperlyConfigured(f"DATABASE_POOL must be 1 or 0, not {raw!r}.")

    def number(name: str, default: str, kind: type, least: float) -> int | float:
        value = environ.get(name, "") or default
        try:
            parsed = kind(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a number, not {value!r}.") from None
        if parsed < least:
            raise ImproperlyConfigured(f"{name} must be at least {least}, not {value!r}.")
        return parsed

    options = {
        "min_size": number("DATABASE_POOL_MIN_SIZE", "2", int, 0),
        "max_size": number("DATABASE_POOL_MAX_SIZE", "4", int, 1),
        # A request waits this long for a pooled connection, then opens one of its own, as
        # without a pool (core/postgresql/base.py): with max_size at the threads it only waits
        # while the pool replaces lost connections, or cannot because PostgreSQL is down.
        "timeout": number("DATABASE_POOL_TIMEOUT", "0.5", float, 0.01),
    }
    if options["min_size"] > options["max_size"]:
        raise ImproperlyConfigured(
            f"DATABASE_POOL_MIN_SIZE ({options['min_size']}) must not exceed "
            f"DATABASE_POOL_MAX_SIZE ({options['max_size']})."
        )
    return options


# Without a pool, each thread keeps its connection for DB_CONN_MAX_AGE seconds. The request that
# opens a new one pays the set-up and the hot statements' preparing (core/prepared_statements.py):
# a stored recommendations page took 21 ms on a new connection against 5.5 ms on a kept one.
# With a minute, each of ten threads under load paid that once a minute. The health check
# (core/postgresql) finds a connection the server closed, however old.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with a health check that costs no round trip (core/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "core.postgresql"
    # With a pool, a request takes a connection when it first queries and gives it back when it
    # ends, so a process's threads share a few connections that stay open (min_size of them
    # kept, each for up to an hour), the hot statements stay prepared on them, and the pool
    # checks each one it hands out the health check's cheap way. Django refuses persistent
    # connections beside a pool: CONN_MAX_AGE is 0, which here means "give it back".
    _pool = database_pool(os.environ)
    if _pool is not None:
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = _pool
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    (BASE_DIR / "var").mkdir(exist_ok=True)
    # The demo server and a worker share one SQLite file: wait for locks instead of failing,
    # and take the write lock when a transaction starts, so two writers queue instead of one
    # failing with "database is locked" when it upgrades a read lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")
# The statements every page view runs are prepared on the server (core/prepared_statements.py);
# off for a connection pooler that cannot carry prepared statements across transactions.
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)
if DATABASES["default"]["ENGINE"] == "core.postgresql" and DATABASE_PREPARED_STATEMENTS:
    # psycopg prepares nothing while the threshold is None, Django's default. Django's own
    # cursors bind client-side and never prepare whatever the threshold: only the cursors of
    # core/prepared_statements.py prepare.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The page views' "what did this member see" index carries the shown course ids (INCLUDE) for
# index-only reads on PostgreSQL; SQLite (the demo, the default tests) ignores that part, and
# Django's warning about it would print on every command there.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login rate limiting (django-axes). The axes backend goes first: it refuses a locked-out username
# and IP before any password is checked, so a correct password is refused too during the lockout.
# Then Django's ModelBackend, whose session lookup also reads the member (members.authentication).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "members.authentication.MemberModelBackend",
]
# Axes refuses authenticate() calls without a request (the test client's login() makes those):
# the test settings turn it off and the lockout tests turn it back on.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
# Five failures for one username from one IP address lock that pair out for 15 minutes; another
# account from the same address, or the same account from elsewhere, is not affected.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Login records (attempts, successful logins, failures: usernames, addresses, user agents) older
# than this many days are deleted by the daily `data_retention` task (docs/operations.md).
LOGIN_RECORDS_KEPT_DAYS = int(os.environ.get("LOGIN_RECORDS_KEPT_DAYS", "90"))
if LOGIN_RECORDS_KEPT_DAYS < 1:
    raise ImproperlyConfigured("LOGIN_RECORDS_KEPT_DAYS must be at least 1.")
AXES_LOCKOUT_TEMPLATE = "members/locked_out.html"
# The page above for the site, the API's JSON error shape under /api/.
AXES_LOCKOUT_CALLABLE = "core.api_errors.login_lockout_response"
# The client address is found as the API's throttles find it (NUM_PROXIES below): REMOTE_ADDR,
# or behind N proxies the entry N from the right of X-Forwarded-For; never the whole header, which
# would let anyone pick a fresh "address" per attempt.
AXES_CLIENT_IP_CALLABLE = "core.client_address.client_address"

LOGIN_URL = "members:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# `collectstatic` (run in the image's build) names each file after a hash of its content and
# writes gzip and Brotli copies beside it; WhiteNoise serves those with the encoding the client
# accepts and caches them for a year (a changed file gets a new name). Pages need the manifest
# it writes once DEBUG is off; with DEBUG on the plain names are served from the app folders,
# and the tests (config/settings_test.py) use the plain storage: neither needs collectstatic.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Production hardening; all on when DEBUG is off.
# A request counts as HTTPS when this header (as Django names it: HTTP_X_FORWARDED_PROTO) says
# "https". Set it only behind a proxy that always sets or overwrites that header; unset, a
# client could claim HTTPS by sending it.
SECURE_PROXY_SSL_HEADER = None
if os.environ.get("SECURE_PROXY_SSL_HEADER"):
    _proxy_header = os.environ["SECURE_PROXY_SSL_HEADER"].strip().upper()
    if not _proxy_header.startswith("HTTP_"):
        raise ImproperlyConfigured(
            "SECURE_PROXY_SSL_HEADER names a request header as Django does, e.g. "
            "HTTP_X_FORWARDED_PROTO."
        )
    SECURE_PROXY_SSL_HEADER = (_proxy_header, "https")
# Django's database sessions, read with one prepared statement (core/sessions.py).
SESSION_ENGINE = "core.sessions"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
# Both only mean something with SECURE_HSTS_SECONDS above 0. Turn them off when another host
# under the same domain still serves plain HTTP (subdomains), or before submitting the domain
# to the browsers' preload list is meant (preload).
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp) on every response: scripts, styles, images, fonts and
# requests from this site only; no inline script or style, no eval, no plugins, no framing.
# The pages keep to it: htmx is vendored under static/ and told not to add styles or evaluate
# (templates/base.html), the admin's additions are a stylesheet (static/css/admin.css), the API
# docs page serves its script and styles as files (config/api_urls.py). Images also from
# data: URLs, which Swagger UI's and the admin's stylesheets use for their icons.
# CSP_REPORT_ONLY=1 sends it as Content-Security-Policy-Report-Only instead (browsers report
# what it would refuse, and refuse nothing): for trying a change of policy in production.
_CSP = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if env_bool("CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP
else:
    CONTENT_SECURITY_POLICY = _CSP

# Background tasks: django-q2 with the ORM broker unless REDIS_URL names a Redis server.
REDIS_URL = os.environ.get("REDIS_URL", "")
# Throttle and lockout counters must be shared by every web process: Redis when there is one.
if REDIS_URL:
    CACHES = {
        # Django's Redis backend, sharing one client per pool (core/redis_cache.py).
        "default": {"BACKEND": "core.redis_cache.RedisCache", "LOCATION": REDIS_URL}
    }
Q_CLUSTER: dict = {
    "name": "skillpath",
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": int(os.environ.get("Q_TIMEOUT", "1800")),
    "retry": int(os.environ.get("Q_RETRY", "2400")),
    # Tasks a worker process runs before the cluster replaces it (django-q2's default is 500).
    # A new process loads the active run's model on its first refresh and the serving state on
    # its first page (0.7–1.4 s of CPU on the benchmark data, more for a larger catalog):
    # at one refresh per enrolment, 500 tasks came round every minute under load.
    "recycle": int(os.environ.get("Q_RECYCLE", "10000")),
    "max_attempts": 2,
    "queue_limit": 50,
    "bulk": 10,
    "catch_up": False,
    "label": "Tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# Email (password resets, email-change links): EMAIL_URL names the server (core/email_url.py:
# smtp://USER:PASSWORD@HOST:587, smtps://..., console:, file:///FOLDER). Without it, development
# prints each message on the console and production hands it to an SMTP server on localhost
# (Django's default). The tests keep messages in memory (config/settings_test.py).
EMAIL_URL = os.environ.get("EMAIL_URL", "")
try:
    _email = email_settings_from_url(EMAIL_URL or ("console:" if DEBUG else "smtp://localhost:25"))
except EmailUrlError as _error:
    raise ImproperlyConfigured(str(_error)) from None
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = _email.get("EMAIL_TIMEOUT")
if "EMAIL_FILE_PATH" in _email:
    EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"]
# The sender of the site's messages, and of the error reports Django mails to ADMINS.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "SkillPath <noreply@localhost>")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
EMAIL_SUBJECT_PREFIX = "[SkillPath] "

# Password resets asked for (site and API), counted per address asked for, whether or not an
# account uses it (so the count tells nothing about accounts), and per client address; each
# "N/period" with period second, minute, hour or day (core/rate_limits.py). A reset link is
# good for PASSWORD_RESET_TIMEOUT seconds and once: setting the password spends it.
PASSWORD_RESET_RATE_PER_EMAIL = os.environ.get("PASSWORD_RESET_RATE_PER_EMAIL", "3/hour")
PASSWORD_RESET_RATE_PER_ADDRESS = os.environ.get("PASSWORD_RESET_RATE_PER_ADDRESS", "20/hour")
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_TIMEOUT_SECONDS", str(3 * 3600)))
# Email changes asked for, per account: each sends a link to an address the member types.
EMAIL_CHANGE_RATE_PER_USER = os.environ.get("EMAIL_CHANGE_RATE_PER_USER", "5/hour")
# Checks of the current password (password change, email change; site and API), per account:
# a session left open must not be a way to guess the password (django-axes watches logins only).
CURRENT_PASSWORD_RATE_PER_USER = os.environ.get("CURRENT_PASSWORD_RATE_PER_USER", "10/hour")
# The site's people pages and actions per member (the API has its throttles): the people page,
# a person's page, hiding and settings changes.
PEOPLE_RATE_PER_USER = os.environ.get("PEOPLE_RATE_PER_USER", "60/minute")
# How long the link that confirms a new email address stays good, in seconds.
EMAIL_CHANGE_TIMEOUT = int(os.environ.get("EMAIL_CHANGE_TIMEOUT_SECONDS", str(24 * 3600)))

# API tokens (members.ApiToken) expire this many hours after they are issued.
API_TOKEN_TTL_HOURS = int(os.environ.get("API_TOKEN_TTL_HOURS", "720"))

# The largest request body the API accepts, in bytes; more gets 413 before any parsing
# (core/body_limit.py). The site's forms keep Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB),
# which also caps the API: a value above it lets bodies through to a 400 instead.
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", str(1024 * 1024)))

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Token first: a request without credentials then gets 401 with `WWW-Authenticate: Token`.
    # Session authentication serves the site's own JavaScript and enforces CSRF.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "members.authentication.MemberTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON, encoded by orjson (core/json_renderer.py).
    "DEFAULT_RENDERER_CLASSES": ["core.json_renderer.OrjsonRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # AnonRateThrottle only counts requests without credentials (the public catalog, tokens).
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "120/min"),
        # Event batches per user, and the events in them (core/throttling.py): a batch holds
        # up to 500, so the rows rate must stay at least 500 or full batches never pass.
        "events": os.environ.get("API_THROTTLE_EVENTS", "120/min"),
        "event_rows": os.environ.get("API_THROTTLE_EVENT_ROWS", "1000/min"),
        # GET /recommendations/ per user: each call logs every course it returns (~100) as an
        # impression.
        "recommendations": os.environ.get("API_THROTTLE_RECOMMENDATIONS", "30/min"),
        # The people endpoints per user: reading suggestions, and hiding or opening a person.
        "people": os.environ.get("API_THROTTLE_PEOPLE", "30/min"),
        "people_actions": os.environ.get("API_THROTTLE_PEOPLE_ACTIONS", "60/min"),
    },
    # How many proxies in front of the app append to X-Forwarded-For. Anonymous throttles key
    # on the address that many entries from the right; with 0 on REMOTE_ADDR, never on a header
    # the client writes (DRF's default, None, keyed on the whole header: a fresh value per
    # request was a fresh client).
    "NUM_PROXIES": int(os.environ.get("NUM_PROXIES", "0")),
    "EXCEPTION_HANDLER": "core.api_errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SkillPath API",
    "DESCRIPTION": (
        "Catalog, the member's profile and learning, recommendations with their reasons, and "
        "idempotent event ingestion. Authenticate with `Authorization: Token <key>` (from "
        "`POST /api/v1/auth/token/`) or the site's session. Every error has the shape "
        '`{"error": {"code", "message", "fields"}}`. See docs/api.md.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page must render without internet access: UI assets come from the sidecar app.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Catalog presentation.
CATALOG_PAGE_SIZE = 24

# Course card data kept per web process while the catalog is unchanged (catalog/card_cache.py).
CATALOG_CARD_CACHE = os.environ.get("CATALOG_CARD_CACHE", "1") == "1"
# Job titles and alternate titles kept per web process for fuzzy matching of typed titles
# (members/selectors.py), while none is added or removed.
JOB_TITLE_INDEX_CACHE = os.environ.get("JOB_TITLE_INDEX_CACHE", "1") == "1"

# Recommendations: every threshold and weight the homepage uses, in one place.
RECOMMENDATIONS = {
    # Member skill vector = weighted blend of these sources (each L2-normalised first).
    "BLEND_WEIGHTS": {
        "follow": float(os.environ.get("REC_WEIGHT_FOLLOW", "1.0")),
        "profile": float(os.environ.get("REC_WEIGHT_PROFILE", "0.6")),
        "cohort": float(os.environ.get("REC_WEIGHT_COHORT", "0.3")),
    },
    # Skills held by fewer members than this get IDF weight 0 (too rare to trust): at most
    # IDF_MIN_MEMBERS, and IDF_MIN_MEMBERS_SHARE of the members on a smaller site (at least 1),
    # so a small site's skills are not all "rare". A followed skill gets its carousel either way.
    "IDF_MIN_MEMBERS": int(os.environ.get("REC_IDF_MIN_MEMBERS", "3")),
    "IDF_MIN_MEMBERS_SHARE": float(os.environ.get("REC_IDF_MIN_MEMBERS_SHARE", "0.002")),
    # Title / industry cohorts smaller than this do not produce inferred skills or trends.
    "COHORT_MIN_SIZE": int(os.environ.get("REC_COHORT_MIN_SIZE", "5")),
    # Only tags at least this confident (or curator-approved) describe a course.
    "TAG_MIN_CONFIDENCE": float(os.environ.get("REC_TAG_MIN_CONFIDENCE", "0.8")),
    "CAROUSEL_SIZE": 12,
    "CAROUSEL_MIN_SIZE": 3,
    "MAX_CAROUSELS": 8,
    "CANDIDATES_PER_REASON": 40,
    "WATCHED_ANCHORS": 2,
    # Impression discounting: after THRESHOLD unclicked impressions in WINDOW_DAYS, each more
    # multiplies the course's score by DECAY, never below FLOOR.
    "DISCOUNT_THRESHOLD": int(os.environ.get("REC_DISCOUNT_THRESHOLD", "3")),
    "DISCOUNT_DECAY": float(os.environ.get("REC_DISCOUNT_DECAY", "0.6")),
    "DISCOUNT_FLOOR": float(os.environ.get("REC_DISCOUNT_FLOOR", "0.05")),
    "DISCOUNT_WINDOW_DAYS": int(os.environ.get("REC_DISCOUNT_WINDOW_DAYS", "30")),
    # A member's next homepage is composed after each page view and served to the next one if
    # nothing it was composed from has changed, within this many seconds (0: always compose on
    # request). See recommendations/serving/stored_pages.py.
    "COMPOSED_PAGE_MAX_AGE_SECONDS": int(
        os.environ.get("REC_COMPOSED_PAGE_MAX_AGE_SECONDS", "600")
    ),
    # Within this many seconds of its composition a member's page is served again whatever the
    # impressions logged since (only what the member does changes it meanwhile: follows,
    # enrolments, clicks, dismissals...), and no next page is composed in the first half of
    # them. 0: every page view's impressions change the next page at once.
    "COMPOSED_PAGE_STEADY_SECONDS": int(os.environ.get("REC_COMPOSED_PAGE_STEADY_SECONDS", "60")),
    # Career goals (recommendations/serving/goal.py): the goal role's skills shown and planned
    # for (in-demand first, then by importance), the weight of an in-demand skill against an
    # ordinary one, the path's target length, and how much the member's learned scores may
    # raise a course's value as a step (1 + weight x preference in [0, 1]).
    "GOAL_ROLE_SKILLS": int(os.environ.get("REC_GOAL_ROLE_SKILLS", "20")),
    "GOAL_HOT_BOOST": float(os.environ.get("REC_GOAL_HOT_BOOST", "1.5")),
    "GOAL_PATH_STEPS": int(os.environ.get("REC_GOAL_PATH_STEPS", "8")),
    "GOAL_PREFERENCE_WEIGHT": float(os.environ.get("REC_GOAL_PREFERENCE_WEIGHT", "0.5")),
    # Carousel order: the member's click-through per reason, smoothed toward these priors.
    "CTR_PRIOR": {
        "goal": 0.09,
        "als": 0.085,
        "follow": 0.08,
        "watched": 0.07,
        "profile": 0.06,
        "text": 0.055,
        "title": 0.05,
        "industry": 0.045,
        "popular": 0.03,
        "new": 0.025,
    },
    "CTR_PRIOR_STRENGTH": 40.0,
    "POPULAR_WINDOW_DAYS": 90,
    "TRENDING_HALF_LIFE_DAYS": 14.0,
    "NEW_HALF_LIFE_DAYS": 60.0,
    # Learned models. Below LEARNED_MIN_INTERACTIONS the run stays rule-based and says so.
    "LEARNED_MIN_INTERACTIONS": int(os.environ.get("REC_LEARNED_MIN_INTERACTIONS", "1000")),
    # The model families a retrain chooses from (by held-out NDCG, against popularity): ALS,
    # item-item kNN with cosine or BM25 weights, EASE (see recommendations/engine/families.py).
    "FAMILIES": tuple(
        os.environ.get("REC_FAMILIES", "als,cosine,bm25,ease").replace(" ", "").split(",")
    ),
    # EASE inverts a dense courses × courses matrix (about 16 bytes · courses² at its peak):
    # catalogs above this many courses leave it out (8,192 courses: about 1 GB).
    "EASE_MAX_COURSES": int(os.environ.get("REC_EASE_MAX_COURSES", "8192")),
    # The parameter search (optuna TPE with pruning, every family, on a member sample). It runs
    # when asked for (admin, `retrain --search`, the schedule below), when nothing was searched
    # yet, or when interactions grew by SEARCH_GROWTH_SHARE since the last search; every other
    # retrain refits the stored winner.
    "SEARCH_GROWTH_SHARE": float(os.environ.get("REC_SEARCH_GROWTH_SHARE", "0.2")),
    "SEARCH_BUDGET_SECONDS": float(os.environ.get("REC_SEARCH_BUDGET_SECONDS", "35")),
    "SEARCH_TRIALS_PER_FAMILY": int(os.environ.get("REC_SEARCH_TRIALS_PER_FAMILY", "30")),
    "SEARCH_MAX_MEMBERS": int(os.environ.get("REC_SEARCH_MAX_MEMBERS", "20000")),
    # Each trial is scored on this many of the sample's members (their latest interaction).
    "SEARCH_VALIDATION_MEMBERS": int(os.environ.get("REC_SEARCH_VALIDATION_MEMBERS", "5000")),
    # The best this many families of the search go on to the full held-out comparison.
    "SEARCH_FINALISTS": int(os.environ.get("REC_SEARCH_FINALISTS", "2")),
    "SEARCH_EVERY_DAYS": int(os.environ.get("REC_SEARCH_EVERY_DAYS", "7")),
    # Held out per member (their most recent interactions; members with fewer than two keep all).
    # People to learn with (recommendations/people/): member-to-member suggestions among
    # discoverable members. Learned (co-enrolment cosine) once the discoverable members have
    # PEOPLE_LEARNED_MIN_INTERACTIONS interactions, rule-based below it (shared followed skills
    # by IDF, same occupation or industry, courses both have in progress: PEOPLE_RULE_WEIGHTS).
    "PEOPLE_LEARNED_MIN_INTERACTIONS": int(
        os.environ.get("REC_PEOPLE_LEARNED_MIN_INTERACTIONS", "1000")
    ),
    "PEOPLE_PER_MEMBER": 20,
    # A feature (course, skill, occupation, industry) held by more candidates keeps this many
    # of them in the similarity products: bounds the stage's time (engine/people.py).
    "PEOPLE_MAX_CANDIDATES_PER_FEATURE": 100,
    "PEOPLE_RULE_WEIGHTS": {"title": 1.0, "industry": 0.3, "course": 1.5},
    # The homepage shows its block only for people at least this good (rule score units: an
    # uncommon shared skill, or the same occupation), at most PEOPLE_HOME_SHOWN of them.
    "PEOPLE_HOME_MIN_SCORE": 1.0,
    "PEOPLE_HOME_SHOWN": 3,
    "PEOPLE_PAGE_SHOWN": 12,
    # Evaluation of people on the held-out split: this many members, among this many candidates.
    "PEOPLE_EVALUATION_MEMBERS": int(os.environ.get("REC_PEOPLE_EVALUATION_MEMBERS", "2000")),
    "PEOPLE_EVALUATION_CANDIDATES": int(
        os.environ.get("REC_PEOPLE_EVALUATION_CANDIDATES", "20000")
    ),
    "HOLDOUT_LAST": 1,
    "EVALUATION_K": 10,
    "EVALUATION_MAX_MEMBERS": int(os.environ.get("REC_EVALUATION_MAX_MEMBERS", "10000")),
    "SEED": 7,
    # Candidates stored per member: ALS picks, "Because you watched" picks, text picks.
    "LEARNED_PERSONAL": 30,
    "LEARNED_SIMILAR": 15,
    "LEARNED_TEXT": 15,
    # Courses taken by at most this many members count as cold: the text model covers them.
    "COLD_COURSE_MAX_MEMBERS": 3,
    "PRECOMPUTE_SHARD_MEMBERS": int(os.environ.get("REC_PRECOMPUTE_SHARD_MEMBERS", "25000")),
    "PRECOMPUTE_BATCH_MEMBERS": 2048,
    # A run still "running" after this long lost its worker; the next retrain takes over.
    "RUN_STALE_SECONDS": int(os.environ.get("REC_RUN_STALE_SECONDS", "3600")),
    "RETRAIN_EVERY_MINUTES": int(os.environ.get("REC_RETRAIN_EVERY_MINUTES", "360")),
    # Member ranges still without rows this long after they were queued were lost (a killed
    # worker); a scheduled task queues them again.
    "PRECOMPUTE_STALL_SECONDS": int(os.environ.get("REC_PRECOMPUTE_STALL_SECONDS", "1800")),
    # How long a click or dismissal waits for its page's impressions, written after the
    # response by another worker (recommendations/serving/pending.py), before it counts as without.
    "IMPRESSIONS_WAIT_SECONDS": float(os.environ.get("REC_IMPRESSIONS_WAIT_SECONDS", "2")),
    # How long a web process keeps the active model snapshot before checking for a newer one.
    "SNAPSHOT_CHECK_SECONDS": float(os.environ.get("REC_SNAPSHOT_CHECK_SECONDS", "30")),
    # The learned ranker (recommendations/ranker/): trained in each retrain once this many
    # impressions are logged; an impression is positive when clicked, or when the member
    # enrolled in the course within RANKER_ENROL_WINDOW_HOURS of seeing it.
    "RANKER_MIN_IMPRESSIONS": int(os.environ.get("REC_RANKER_MIN_IMPRESSIONS", "2000")),
    "RANKER_WINDOW_DAYS": int(os.environ.get("REC_RANKER_WINDOW_DAYS", "60")),
    "RANKER_MAX_EXAMPLES": int(os.environ.get("REC_RANKER_MAX_EXAMPLES", "300000")),
    "RANKER_ENROL_WINDOW_HOURS": 24,
    # Keep at most this many ignored impressions per positive (1.0 keeps all) ...
    "RANKER_NEGATIVE_RATE": float(os.environ.get("REC_RANKER_NEGATIVE_RATE", "1.0")),
    # ... and add this many never-shown random courses per positive as extra negatives.
    "RANKER_RANDOM_NEGATIVES": float(os.environ.get("REC_RANKER_RANDOM_NEGATIVES", "0.0")),
    "RANKER_TEST_FRACTION": 0.2,
    "RANKER_C": 1.0,
    "RANKER_L2_MEMBER": 10.0,
    "RANKER_L2_COURSE": 10.0,
    "RANKER_ROUNDS": 3,
    # The ranker serves only when its within-carousel AUC beats the unranked order's by this.
    "RANKER_MIN_AUC_GAIN": 0.0,
    # Retention (recommendations/training/retention.py, docs/operations.md): the artifacts of
    # this many newest succeeded training runs are kept (and the active run's always); the
    # others are cleared by the daily `data_retention` task.
    "TRAINING_RUNS_KEPT": int(os.environ.get("REC_TRAINING_RUNS_KEPT", "5")),
    # Raw impression events older than this many days are deleted by the same task; the
    # per-member counts (CourseFeedbackDay, ReasonFeedback) already hold them. At least
    # RANKER_WINDOW_DAYS: the ranker trains on the raw impressions of its window.
    "IMPRESSIONS_KEPT_DAYS": int(os.environ.get("REC_IMPRESSIONS_KEPT_DAYS", "180")),
}
if RECOMMENDATIONS["TRAINING_RUNS_KEPT"] < 1:
    raise ImproperlyConfigured("REC_TRAINING_RUNS_KEPT must be at least 1 (the active run).")
if RECOMMENDATIONS["IMPRESSIONS_KEPT_DAYS"] < RECOMMENDATIONS["RANKER_WINDOW_DAYS"]:
    raise ImproperlyConfigured(
        "REC_IMPRESSIONS_KEPT_DAYS must be at least REC_RANKER_WINDOW_DAYS: the ranker trains on"
        " the raw impressions of its window."
    )

# A/B experiments on the homepage (recommendations/experiments/, docs/experiments.md).
EXPERIMENTS = {
    # An impression counts as enrolled when the member enrolled within this window after it.
    "ENROL_WINDOW_HOURS": 24,
    "CONFIDENCE": 0.95,
    # A difference against the control is called significant below this p-value.
    "ALPHA": 0.05,
    # Every variant of a running experiment shows at most this many carousels, so variants
    # compete on the same number of slots (the default homepage is not cut).
    "MAX_CAROUSELS": int(os.environ.get("EXPERIMENT_MAX_CAROUSELS", "3")),
}

# The weekly recommendations email (recommendations/digest/, docs/operations.md section
# "The weekly digest"): what one digest holds, how many members one batch (one SMTP connection)
# serves, how long its links stay good and how long what it showed is kept.
DIGEST = {
    # The member's first carousels with something new, and their first new courses each.
    "CAROUSELS": 3,
    "COURSES_PER_CAROUSEL": 3,
    "BATCH_MEMBERS": int(os.environ.get("DIGEST_BATCH_MEMBERS", "100")),
    # A course link older than this answers 400 ("expired") and records nothing; the
    # unsubscribe link never expires (a member may act on an old email).
    "LINK_MAX_AGE_DAYS": int(os.environ.get("DIGEST_LINK_MAX_AGE_DAYS", "60")),
    # Sent digests (what they showed, their clicks) older than this are pruned by the daily
    # data_retention task.
    "KEPT_WEEKS": int(os.environ.get("DIGEST_KEPT_WEEKS", "26")),
}
# The site's address as members reach it, for links in emails sent outside a request (the
# digest): scheme and host, no trailing slash.
SITE_URL = os.environ.get("SITE_URL", "http://localhost:8000").rstrip("/")

# The automatic course-to-skill tagger (catalog/tagging/): every threshold in one place.
TAGGER = {
    # The learned tagger chooses its own threshold and suggestions per course by
    # cross-validation; this threshold applies only while too few courses are curated to learn
    # from, when name matching alone suggests skills.
    "SUGGEST_THRESHOLD": float(os.environ.get("TAGGER_SUGGEST_THRESHOLD", "0.4")),
    # With AUTO_APPROVE on, suggestions at least AUTO_APPROVE_THRESHOLD confident skip review.
    "AUTO_APPROVE": env_bool("TAGGER_AUTO_APPROVE", False),
    "AUTO_APPROVE_THRESHOLD": float(os.environ.get("TAGGER_AUTO_APPROVE_THRESHOLD", "0.95")),
    # Skills approved on at least this many courses get a linear model of their own; the rest
    # rely on neighbour votes and name matches.
    "MIN_POSITIVES": int(os.environ.get("TAGGER_MIN_POSITIVES", "5")),
    # Folds of the cross-validation that fits the stacker and chooses the operating point, and
    # of `tag_courses --evaluate`.
    "EVALUATION_FOLDS": 5,
    "EVALUATION_TOP_K": 5,
    # The taxonomy overview counts a course as covered once it has this many approved skills.
    "COVERAGE_MIN_SKILLS": int(os.environ.get("TAGGER_COVERAGE_MIN_SKILLS", "2")),
    # django-q2 schedule of `catalog.tasks.courses_tag` (minutes between runs).
    "SCHEDULE_MINUTES": int(os.environ.get("TAGGER_SCHEDULE_MINUTES", "1440")),
}
