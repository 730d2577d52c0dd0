"""Settings for every environment, read from the process environment.

The defaults make `make demo` work on a bare machine (SQLite file, ORM broker, DEBUG on);
production sets DATABASE_URL, REDIS_URL, SECRET_KEY, DEBUG=0 and ALLOWED_HOSTS.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

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


DEBUG = env_bool("DEBUG", True)

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
    "django_htmx",
    "django_q",
    "rest_framework",
    "drf_spectacular",
    "catalog",
    "members",
    "recommendations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
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
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    (BASE_DIR / "var").mkdir(exist_ok=True)
    # The demo server and a worker share one SQLite file: wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

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

# Production hardening; all on when DEBUG is off.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Background tasks: django-q2 with the ORM broker unless REDIS_URL names a Redis server.
REDIS_URL = os.environ.get("REDIS_URL", "")
Q_CLUSTER: dict = {
    "name": "skillpath",
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": int(os.environ.get("Q_TIMEOUT", "1800")),
    "retry": int(os.environ.get("Q_RETRY", "2400")),
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

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SkillPath API",
    "VERSION": "1.0.0",
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

# Recommendations: every threshold and weight the homepage uses, in one place.
RECOMMENDATIONS = {
    # Member skill vector = weighted blend of these sources (each L2-normalised first).
    "BLEND_WEIGHTS": {
        "follow": float(os.environ.get("REC_WEIGHT_FOLLOW", "1.0")),
        "profile": float(os.environ.get("REC_WEIGHT_PROFILE", "0.6")),
        "cohort": float(os.environ.get("REC_WEIGHT_COHORT", "0.3")),
    },
    # Skills held by fewer members than this get IDF weight 0 (too rare to trust).
    "IDF_MIN_MEMBERS": int(os.environ.get("REC_IDF_MIN_MEMBERS", "3")),
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
    # Carousel order: the member's click-through per reason, smoothed toward these priors.
    "CTR_PRIOR": {
        "follow": 0.08,
        "watched": 0.07,
        "profile": 0.06,
        "title": 0.05,
        "industry": 0.045,
        "popular": 0.03,
        "new": 0.025,
    },
    "CTR_PRIOR_STRENGTH": 40.0,
    "POPULAR_WINDOW_DAYS": 90,
    "TRENDING_HALF_LIFE_DAYS": 14.0,
    "NEW_HALF_LIFE_DAYS": 60.0,
    # How long a web process keeps the active model snapshot before checking for a newer one.
    "SNAPSHOT_CHECK_SECONDS": float(os.environ.get("REC_SNAPSHOT_CHECK_SECONDS", "30")),
}

# The automatic course-to-skill tagger (catalog/tagging/): every threshold in one place.
TAGGER = {
    # Suggestions at least this confident are stored as pending tags for review.
    "SUGGEST_THRESHOLD": float(os.environ.get("TAGGER_SUGGEST_THRESHOLD", "0.4")),
    # With AUTO_APPROVE on, suggestions at least AUTO_APPROVE_THRESHOLD confident skip review.
    "AUTO_APPROVE": env_bool("TAGGER_AUTO_APPROVE", False),
    "AUTO_APPROVE_THRESHOLD": float(os.environ.get("TAGGER_AUTO_APPROVE_THRESHOLD", "0.95")),
    # Stage 2 candidate ("logistic" or "neighbours"), chosen by `tag_courses --evaluate`.
    "MODEL": os.environ.get("TAGGER_MODEL", "logistic"),
    # Skills approved on fewer courses than this are left to stage 1 (text matching).
    "MIN_POSITIVES": int(os.environ.get("TAGGER_MIN_POSITIVES", "5")),
    "EVALUATION_FOLDS": 5,
    "EVALUATION_TOP_K": 5,
    # The taxonomy overview counts a course as covered once it has this many approved skills.
    "COVERAGE_MIN_SKILLS": int(os.environ.get("TAGGER_COVERAGE_MIN_SKILLS", "2")),
    # django-q2 schedule of `catalog.tasks.courses_tag` (minutes between runs).
    "SCHEDULE_MINUTES": int(os.environ.get("TAGGER_SCHEDULE_MINUTES", "1440")),
}
