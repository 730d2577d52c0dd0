"""Serving settings: the database pool's options from the environment, which processes get a
pool, gunicorn's workers and threads, and static files through WhiteNoise."""

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from config import gunicorn
from config.settings import database_pool

ROOT = Path(__file__).resolve().parent.parent.parent


def test_no_pool_unless_asked_for():
    assert database_pool({}) is None
    assert database_pool({"DATABASE_POOL": "0"}) is None
    assert database_pool({"DATABASE_POOL": "off", "DATABASE_POOL_MAX_SIZE": "9"}) is None


def test_pool_defaults_and_sizes_from_the_environment():
    assert database_pool({"DATABASE_POOL": "1"}) == {"min_size": 2, "max_size": 4, "timeout": 0.5}
    assert database_pool(
        {
            "DATABASE_POOL": "true",
            "DATABASE_POOL_MIN_SIZE": "0",
            "DATABASE_POOL_MAX_SIZE": "8",
            "DATABASE_POOL_TIMEOUT": "2.5",
        }
    ) == {"min_size": 0, "max_size": 8, "timeout": 2.5}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"DATABASE_POOL": "maybe"}, "DATABASE_POOL must be 1 or 0, not 'maybe'"),
        ({"DATABASE_POOL_MAX_SIZE": "four"}, "DATABASE_POOL_MAX_SIZE must be a number, not 'four'"),
        ({"DATABASE_POOL_MAX_SIZE": "0"}, "DATABASE_POOL_MAX_SIZE must be at least 1, not '0'"),
        ({"DATABASE_POOL_MIN_SIZE": "-1"}, "DATABASE_POOL_MIN_SIZE must be at least 0, not '-1'"),
        ({"DATABASE_POOL_TIMEOUT": "0"}, "DATABASE_POOL_TIMEOUT must be at least 0.01, not '0'"),
        (
            {"DATABASE_POOL_MIN_SIZE": "5", "DATABASE_POOL_MAX_SIZE": "4"},
            r"DATABASE_POOL_MIN_SIZE \(5\) must not exceed DATABASE_POOL_MAX_SIZE \(4\)",
        ),
    ],
)
def test_bad_pool_settings_are_refused_by_name(environ, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        database_pool({"DATABASE_POOL": "1", **environ})


# What each entry point makes of the same PostgreSQL environment (the settings only; nothing
# connects).
PROBE = """
import json, os, sys
if sys.argv[1] == "wsgi":
    import config.wsgi
else:
    import django
    django.setup()
from django.conf import settings
database = settings.DATABASES["default"]
print(json.dumps({"pool": database["OPTIONS"].get("pool"), "max_age": database["CONN_MAX_AGE"]}))
"""


def _entry_point_settings(entry: str, **extra: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DATABASE_POOL")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="1",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/not_connected_to",
        **extra,
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE, entry],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_the_served_site_gets_a_pool_and_other_processes_keep_their_connections():
    served = _entry_point_settings("wsgi", DATABASE_POOL_MAX_SIZE="3")
    assert served == {"pool": {"min_size": 2, "max_size": 3, "timeout": 0.5}, "max_age": 0}
    assert _entry_point_settings("wsgi", DATABASE_POOL="0") == {"pool": None, "max_age": 600}
    # manage.py commands, the task workers, the tests.
    assert _entry_point_settings("command") == {"pool": None, "max_age": 600}


def test_workers_and_threads_from_the_cores():
    assert gunicorn.web_concurrency(1) == (2, 2)
    assert gunicorn.web_concurrency(2) == (4, 2)
    assert gunicorn.web_concurrency(8) == (16, 2)
    assert gunicorn.cores_available() == len(os.sched_getaffinity(0))


GUNICORN_PROBE = """
import json, os
from gunicorn.config import Config
from config import gunicorn as module
# As gunicorn reads a python: config: every module variable it knows, through its validators.
read = Config()
for name, value in vars(module).items():
    if name in read.settings:
        read.set(name, value)
print(json.dumps({
    "workers": read.workers, "threads": read.threads, "bind": read.address[0],
    "worker_class": read.worker_class_str,
    "post_fork": read.post_fork is module.post_fork,
}))
"""


def _gunicorn_settings(**extra: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"WEB_CONCURRENCY", "WEB_THREADS", "PORT"}
    }
    env.update(extra)
    result = subprocess.run(
        [sys.executable, "-c", GUNICORN_PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_gunicorn_settings_follow_the_cores_and_size_each_workers_pool_to_its_threads():
    workers, threads = gunicorn.web_concurrency(gunicorn.cores_available())
    assert _gunicorn_settings() == {
        "workers": workers,
        "threads": threads,
        "bind": ["0.0.0.0", 8000],
        "worker_class": "gthread",
        "post_fork": True,
    }
    overridden = _gunicorn_settings(WEB_CONCURRENCY="3", WEB_THREADS="4", PORT="9000")
    assert overridden["workers"] == 3
    assert overridden["threads"] == 4
    assert overridden["bind"] == ["0.0.0.0", 9000]


def test_each_workers_pool_is_sized_to_its_threads_unless_set():
    environ = {}
    gunicorn.database_pool_sized(threads=4, environ=environ)
    assert environ == {"DATABASE_POOL_MIN_SIZE": "4", "DATABASE_POOL_MAX_SIZE": "4"}
    environ = {"DATABASE_POOL_MAX_SIZE": "6"}
    gunicorn.database_pool_sized(threads=2, environ=environ)
    assert environ == {"DATABASE_POOL_MIN_SIZE": "2", "DATABASE_POOL_MAX_SIZE": "6"}


def test_a_bad_worker_count_is_refused_by_name():
    env = {**os.environ, "WEB_CONCURRENCY": "many"}
    result = subprocess.run(
        [sys.executable, "-c", "import config.gunicorn"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "WEB_CONCURRENCY must be a whole number of at least 1, not 'many'" in result.stderr


def test_task_workers_are_replaced_after_ten_thousand_tasks_not_five_hundred():
    """django-q2 reads the cluster's own setting: a refresh per enrolment would otherwise
    replace a worker, and reload the model, every 500 of them."""
    from django_q.conf import Conf

    assert settings.Q_CLUSTER["recycle"] == 10000
    assert Conf.RECYCLE == 10000


def test_production_settings_serve_static_files_through_whitenoise_compressed():
    from config import settings as production

    middleware = production.MIDDLEWARE
    security = middleware.index("django.middleware.security.SecurityMiddleware")
    assert middleware[security + 1] == "whitenoise.middleware.WhiteNoiseMiddleware"
    assert production.STORAGES["staticfiles"]["BACKEND"] == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )
    # The tests need no collectstatic: plain storage, names as written.
    assert settings.STORAGES["staticfiles"]["BACKEND"] == (
        "django.contrib.staticfiles.storage.StaticFilesStorage"
    )


def test_a_collected_file_is_served_compressed_and_cached_for_a_year(tmp_path):
    # What collectstatic leaves: the hashed name, the gzip copy beside it, and the manifest
    # that maps the name to the hashed one.
    body = b"body { color: #123456; }\n" * 200
    css = tmp_path / "css"
    css.mkdir()
    (css / "site.0123456789ab.css").write_bytes(body)
    (css / "site.0123456789ab.css.gz").write_bytes(gzip.compress(body))
    (css / "plain.css").write_bytes(body)
    manifest = {"version": "1.1", "paths": {"css/site.css": "css/site.0123456789ab.css"}}
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    from config import settings as production

    with override_settings(
        STATIC_ROOT=tmp_path, STORAGES=production.STORAGES, WHITENOISE_AUTOREFRESH=False
    ):
        client = Client()
        hashed = client.get("/static/css/site.0123456789ab.css", HTTP_ACCEPT_ENCODING="gzip")
        plain = client.get("/static/css/plain.css")
        identity = client.get("/static/css/site.0123456789ab.css")

    assert hashed.status_code == 200
    assert hashed["Content-Encoding"] == "gzip"
    assert gzip.decompress(b"".join(hashed.streaming_content)) == body
    assert hashed["Cache-Control"] == "max-age=315360000, public, immutable"
    assert "Accept-Encoding" in hashed["Vary"]
    # A name without a content hash may change content: cached briefly.
    assert plain.status_code == 200
    assert plain["Cache-Control"] == "max-age=60, public"
    assert identity.has_header("Content-Encoding") is False
    assert b"".join(identity.streaming_content) == body
