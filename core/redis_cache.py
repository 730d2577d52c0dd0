"""Django's Redis cache backend, with one Redis client per connection pool instead of one per
operation.

Django 5.2's `RedisCacheClient.get_client` builds a new `redis.Redis` for every cache call, and
building one fills its table of response callbacks: 0.1 ms a call, several calls a request
(throttles, the refresh queue, login lockouts). A client holds no connection of its own (it
takes one from its pool per command) and is safe to share between threads, so one per pool
does the same work.
"""

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(
                connection_pool=self._get_connection_pool(write)
            )
        return client


class RedisCache(django_redis.RedisCache):
    """`django.core.cache.backends.redis.RedisCache` with `RedisCacheClient` above."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
