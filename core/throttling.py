"""A rate on the rows a request writes, for endpoints whose requests carry many rows each.

DRF's throttles count requests. A batch endpoint that takes up to 500 events a request allowed
120 requests, so 60,000 rows, a minute per account. `RowRateThrottle` counts rows instead:
the view calls `take(request, rows)` once it knows how many the request carries (after the
envelope is parsed and validated, which the body limit keeps small), and a request whose rows
do not fit the rate is refused whole with `429` and `Retry-After`. Its rows are not counted, so a
client can retry the batch once the window has room.

Like DRF's throttles it keeps a history per user (per address for anonymous requests) in
Django's cache, shared by every process when the cache is (Redis), and like them it reads and
writes that history without a lock, so two requests at the same instant may both fit.
"""

import time

from django.core.cache import cache as default_cache
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class RowRateThrottle(SimpleRateThrottle):
    """Rows per period for `scope` (a rate in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])."""

    cache = default_cache
    cache_format = "throttle_rows_%(scope)s_%(ident)s"

    def get_rate(self) -> str | None:
        # Read at each request, not at import: the setting may change (tests, reloads).
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def now(self) -> float:
        return time.time()

    def get_cache_key(self, request: Request, view=None) -> str:
        user = request.user
        ident = user.pk if user and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request: Request, view) -> bool:
        # Not a request throttle: rows are only known inside the view (`take`).
        return True

    def take(self, request: Request, rows: int) -> None:
        """Count `rows` against the rate, or raise Throttled when they do not fit in it."""
        if self.rate is None:
            return
        key = self.get_cache_key(request)
        now = self.now()
        history = [(at, count) for at, count in self.cache.get(key, []) if at > now - self.duration]
        used = sum(count for _, count in history)
        if used + rows > self.num_requests:
            raise Throttled(wait=self._wait(history, used, rows, now))
        history.append((now, rows))
        self.cache.set(key, history, self.duration)

    def _wait(self, history: list[tuple[float, int]], used: int, rows: int, now: float) -> float:
        """Seconds until enough of the oldest rows leave the window for `rows` to fit."""
        if rows > self.num_requests:
            return float(self.duration)  # never fits: the client must send smaller requests
        for at, count in history:  # oldest first
            used -= count
            if used + rows <= self.num_requests:
                return max(0.0, at + self.duration - now)
        return float(self.duration)
