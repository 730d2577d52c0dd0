"""Test settings: the environment's settings, with tasks run inline and fast hashing.

The suite runs the development settings: DEBUG on while the settings are read (no SSL redirect or
secure-only cookies for the test client, the development SECRET_KEY), unless the environment sets
DEBUG itself. pytest-django still runs each test with settings.DEBUG False, as Django's runner does.
"""

import os

os.environ.setdefault("DEBUG", "1")

from config.settings import *  # noqa: F403
from config.settings import Q_CLUSTER

Q_CLUSTER = {**Q_CLUSTER, "sync": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# django-axes refuses authenticate() without a request, which the test client's login() omits;
# tests of the login rate limit turn it back on (tests/security/test_login_rate_limit.py).
AXES_ENABLED = False
# A card cache outliving one test's rolled-back transaction would serve the next test's courses
# from it; the cache's own tests turn it on in tests that commit (tests/catalog/test_card_cache.py).
CATALOG_CARD_CACHE = False
# The same for the typed titles' fuzzy index (members/selectors.py).
JOB_TITLE_INDEX_CACHE = False
# Messages stay in memory (django.core.mail.outbox), also for the browser tests' live server,
# which runs in the test process; whatever EMAIL_URL the environment names is not contacted.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The tests collect no static files: WhiteNoise finds a file when it is asked for, instead of
# indexing STATIC_ROOT as each handler starts (and warning that it is missing).
WHITENOISE_AUTOREFRESH = True
# The model search stops at its trial count, not at a time budget: with the budget the chosen
# family (and whether a learned model beats popularity at all) would depend on the machine's
# load. Tests that exercise the budget set it themselves.
RECOMMENDATIONS = {**RECOMMENDATIONS, "SEARCH_BUDGET_SECONDS": 3600.0}  # noqa: F405
