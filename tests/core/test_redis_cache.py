"""core/redis_cache.py against the machine's Redis (database 15, emptied around each test)."""

import threading

import pytest
import redis

from core.redis_cache import RedisCache

URL = "redis://127.0.0.1:6379/15"


def _reachable() -> bool:
    try:
        return redis.Redis.from_url(URL, socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        return False


pytestmark = pytest.mark.skipif(not _reachable(), reason="needs Redis on 127.0.0.1:6379")


@pytest.fixture
def cache():
    backend = RedisCache(URL, {"KEY_PREFIX": "redis-cache-test"})
    backend.clear()
    yield backend
    backend.clear()


def test_the_cache_calls_work_as_djangos(cache):
    assert cache.add("counter", 0, timeout=60) is True
    assert cache.add("counter", 5, timeout=60) is False
    assert cache.incr("counter") == 1
    assert cache.decr("counter", 1) == 0
    cache.set("page", {"ids": [1, 2, 3]}, timeout=60)
    assert cache.get("page") == {"ids": [1, 2, 3]}
    assert cache.touch("page", 120) is True
    cache.delete("page")
    assert cache.get("page") is None
    with pytest.raises(ValueError):
        cache.incr("missing")


def test_one_client_serves_every_call_and_every_thread(cache):
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client("any key", write=True) is client
    # One server: reads and writes share its pool, so its client too.
    assert cache._cache.get_client(write=False) is client

    failures = []

    def count() -> None:
        try:
            for _ in range(200):
                cache.incr("shared")
        except Exception as error:  # pragma: no cover - reported below
            failures.append(error)

    cache.set("shared", 0, timeout=60)
    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert cache.get("shared") == 800
