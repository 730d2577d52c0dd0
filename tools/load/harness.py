"""Process plumbing shared by the load test (`make loadtest`) and the fault drills (`make faults`):
the production-like environment, gunicorn and qcluster as child process groups that stop by
themselves, and small HTTP helpers over the standard library (so the checks do not depend on the
load generator).

Every child runs under coreutils `timeout`, so it ends even if the script driving it is killed.
"""

import http.cookiejar
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tools.load.ramp import ProcessCpu

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MEMBER_PASSWORD = "member-demo-password"


# API rates raised for a load or a drill: its few members would otherwise hit the per-member
# throttles, and the answers measured would be 429s.
THROTTLES_RAISED = {
    "API_THROTTLE_EVENTS": "100000/min",
    "API_THROTTLE_EVENT_ROWS": "10000000/min",
    "API_THROTTLE_RECOMMENDATIONS": "100000/min",
    "API_THROTTLE_ANON": "100000/min",
}


def site_env(*, database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """Production settings (DEBUG off) on loopback, with a throwaway secret key."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        # Plain HTTP on loopback: no TLS in front of gunicorn here.
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        ALLOWED_HOSTS="127.0.0.1",
        OPENBLAS_NUM_THREADS="1",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    env.update(extra)
    return env


def django_setup(env: dict[str, str]) -> None:
    """Configure Django in this process with the same settings (and key) as the site."""
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def spawn(command: list[str], *, env: dict[str, str], lifetime: int, log: Path) -> subprocess.Popen:
    """Start `command` in its own process group, ended by `timeout` after `lifetime` seconds."""
    log.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        ["timeout", "--signal=TERM", "--kill-after=15", str(lifetime), *command],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


# Method, path, status and milliseconds from the parsed request to the last byte sent; gunicorn
# logs it before calling the response's close(), so work after the response is not in it.
ACCESS_LOG_FORMAT = "%(m)s %(U)s %(s)s %(M)s"


def gunicorn_command(
    *,
    port: int,
    workers: int,
    threads: int,
    worker_class: str = "gthread",
    access_log: Path | None = None,
) -> list[str]:
    logging = []
    if access_log is not None:
        logging = ["--access-logfile", str(access_log), "--access-logformat", ACCESS_LOG_FORMAT]
    # The deployment's settings (config/gunicorn.py: each worker's pool sized to its threads),
    # with this run's workers, threads and port over them.
    return [
        str(BIN / "gunicorn"),
        "-c",
        "python:config.gunicorn",
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        "--timeout",
        "30",
        "--graceful-timeout",
        "5",
        *logging,
    ]


def static_files_collect(env: dict[str, str]) -> str:
    """`collectstatic` when a static file is newer than the manifest (or there is none): with
    DEBUG off every page names its files through the manifest. Compressing every file takes a
    minute or two, so an unchanged tree is not collected again. Needs `django_setup` first."""
    from django.conf import settings
    from django.contrib.staticfiles import finders

    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    collected_at = manifest.stat().st_mtime if manifest.exists() else 0.0
    newest = max(
        (
            Path(storage.path(path)).stat().st_mtime
            for finder in finders.get_finders()
            for path, storage in finder.list([])
        ),
        default=0.0,
    )
    if newest <= collected_at:
        return "static files: collected already (no file newer than the manifest)"
    started = time.monotonic()
    subprocess.run(
        [str(BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=900,
    )
    return f"static files: collected, compressed, in {time.monotonic() - started:.0f}s"


def server_connections(database_url: str) -> str:
    """The database sessions open on the benchmark database besides this process's, by state:
    with the pool, each gunicorn worker keeps as many as it has threads."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT state, count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend' GROUP BY state "
            "ORDER BY state"
        )
        states = ", ".join(f"{count} {state}" for state, count in cursor.fetchall())
    return f"database sessions open on {database_url.rsplit('/', 1)[1]}: {states or 'none'}"


def qcluster_command() -> list[str]:
    return [str(BIN / "python"), "manage.py", "qcluster"]


def qcluster_env(env: dict[str, str], *, workers: int = 1) -> dict[str, str]:
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "tools.load.qcluster_settings",
        "Q_WORKERS": str(workers),
    }


def stop_group(process: subprocess.Popen, *, grace: float = 10.0) -> None:
    """SIGTERM the child's whole process group, SIGKILL what is left after `grace` seconds."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=grace)
    except ProcessLookupError:
        pass


def _processes() -> Iterator[tuple[int, str, list[str]]]:
    """Every process of the machine: its id, its command name, and the fields of
    `/proc/<pid>/stat` after that name (state, ppid, pgrp, ..., utime 12th, stime 13th)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        yield int(entry.name), name, stat.rsplit(")", 1)[1].split()


def group_pids(process: subprocess.Popen) -> list[int]:
    """Every live process of the child's group (the `timeout` wrapper included)."""
    return sorted(
        pid for pid, _, fields in _processes() if int(fields[2]) == process.pid and fields[0] != "Z"
    )


def cpu_snapshot(groups: dict[str, int]) -> dict[int, ProcessCpu]:
    """Every process's CPU so far (`ramp.ProcessCpu`), by process id. `groups` names process
    groups by their id (a spawned child's pid, see `spawn`); PostgreSQL's and Redis's server
    processes are told by their names; everything else is "other"."""
    by_group_id = {group_id: name for name, group_id in groups.items()}
    ticks = os.sysconf("SC_CLK_TCK")
    snapshot = {}
    for pid, name, fields in _processes():
        group = by_group_id.get(int(fields[2]))
        if group is None:
            group = (
                "PostgreSQL"
                if name.startswith("postgres")
                else "Redis"
                if name.startswith("redis-server")
                else "other"
            )
        # /proc/<pid>/stat: utime, stime, cutime, cstime, then (22nd) starttime.
        snapshot[pid] = ProcessCpu(
            group=group,
            own=(int(fields[11]) + int(fields[12])) / ticks,
            reaped=(int(fields[13]) + int(fields[14])) / ticks,
            started=int(fields[19]),
        )
    return snapshot


def children_of(pid: int) -> list[int]:
    return sorted(
        child for child, _, fields in _processes() if int(fields[1]) == pid and fields[0] != "Z"
    )


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def http_request(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10.0,
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body); HTTP errors are answers here, not exceptions."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wait_until_serving(base: str, *, seconds: float = 60.0) -> float:
    """Seconds until the login page answers 200."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            if http_request(f"{base}/accounts/login/", timeout=2)[0] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{base} did not start serving within {seconds:.0f}s")


def login_through_form(base: str, username: str, password: str = MEMBER_PASSWORD) -> str:
    """Sign in with the site's login form (CSRF token and all); returns the session key."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    with opener.open(f"{base}/accounts/login/", timeout=10) as response:
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if token is None:
        raise RuntimeError("the login page has no CSRF token")
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password}
    ).encode()
    try:
        opener.open(f"{base}/accounts/login/", data=form, timeout=30)
        raise RuntimeError(f"login of {username} did not redirect (wrong password?)")
    except urllib.error.HTTPError as answer:
        if answer.code != 302:
            raise RuntimeError(f"login of {username} answered {answer.code}") from answer
    session = next((cookie.value for cookie in jar if cookie.name == "sessionid"), None)
    if session is None:
        raise RuntimeError(f"login of {username} set no session cookie")
    return session
