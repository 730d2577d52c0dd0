"""gunicorn's settings for the site: `gunicorn -c python:config.gunicorn config.wsgi:application`.

Workers and threads come from the cores this process may run on (docs/operations.md, "Workers
and threads", gives the reasoning); WEB_CONCURRENCY and WEB_THREADS override them, PORT the
port. Each worker's database pool is sized to its threads. Command-line options win over these
(the load test passes its own `--workers` and `--threads` that way).
"""

import os


def cores_available() -> int:
    """The cores this process may run on (its CPU affinity, which containers' cpusets set)."""
    return len(os.sched_getaffinity(0)) or 1


def web_concurrency(cores: int) -> tuple[int, int]:
    """(workers, threads per worker) for `cores` cores.

    Two workers per core: while one worker waits for PostgreSQL, or writes its last page's
    impressions after the response, the other keeps the core busy with Python, which runs one
    thread at a time per process. gunicorn's own starting point, (2 × cores) + 1, measured
    worse on the 2-core reference machine, where PostgreSQL, the task worker and the load
    shared the cores: the fifth process only added switching between processes (160 users:
    client p95 210 ms against 120, docs/operations.md). Two threads each: a worker keeps
    working on a request after its response (the impressions, the member's next page), and its
    keep-alive connections queue behind that work unless a second thread serves them.
    """
    return 2 * cores, 2


def _positive(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


_workers, _threads = web_concurrency(cores_available())
workers = _positive("WEB_CONCURRENCY", _workers)
threads = _positive("WEB_THREADS", _threads)
worker_class = "gthread"
bind = f"0.0.0.0:{os.environ.get('PORT') or '8000'}"
# A request that holds a worker this long is killed with it; the pool's wait for a connection
# (DATABASE_POOL_TIMEOUT) is far below it.
timeout = 30
graceful_timeout = 20
# Behind a proxy, idle keep-alive connections from it are kept this many seconds.
keepalive = 5
accesslog = "-"
# Each worker loads the site after the fork: a database pool opened before it would hand the
# same connections to every worker.
preload_app = False


def post_fork(server, worker) -> None:
    """In each new worker, before it loads the site: its database pool as large as its threads
    (with command-line options applied), unless the environment sizes it."""
    database_pool_sized(threads=server.cfg.threads, environ=os.environ)


def database_pool_sized(*, threads: int, environ) -> None:
    """One pool per worker process, opened by its first request (after the fork: the app is not
    preloaded), as large as the worker's threads: each thread holds at most one connection, and
    keeping all of them open spares a request the connection's set-up and statement preparing.
    """
    environ.setdefault("DATABASE_POOL_MIN_SIZE", str(threads))
    environ.setdefault("DATABASE_POOL_MAX_SIZE", str(threads))
