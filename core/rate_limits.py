"""Rate limits for the site's forms, kept in Django's cache as DRF's throttles keep theirs.

DRF's throttles guard API views; a form that sends email (a password reset, an email change)
needs the same limit on the site and the API, and per things a throttle does not key on (the
address typed into the form). `rate_limit_take` counts one attempt for a key and says whether it
fits the rate. Like DRF it keeps a history per key in the cache, shared by every process when
the cache is (Redis), without a lock: two attempts at the same instant may both fit.
"""

import hashlib
import time
from dataclasses import dataclass

from django.core.cache import cache

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def rate_parse(*, rate: str) -> Rate:
    """ "N/period": N at least 1, period second, minute, hour or day (or its first letter)."""
    count, _, period = rate.partition("/")
    period = period.strip().lower()
    by_letter = {name[0]: seconds for name, seconds in PERIODS.items()}
    seconds = PERIODS.get(period, by_letter.get(period))
    if not count.strip().isdigit() or int(count) < 1 or seconds is None:
        raise ValueError(f"A rate is N/second, N/minute, N/hour or N/day, not {rate!r}.")
    return Rate(count=int(count), seconds=seconds)


def rate_limit_take(*, scope: str, key: str, rate: str) -> float | None:
    """Count one attempt of `scope` for `key` against `rate`: None when it fits, else the
    seconds until one would (the attempt is then not counted). The key is hashed, so an email
    address typed into a form is not kept in the cache as it was typed."""
    limit = rate_parse(rate=rate)
    digest = hashlib.sha256(key.encode()).hexdigest()
    cache_key = f"rate_limit:{scope}:{digest}"
    now = time.time()
    history = [at for at in cache.get(cache_key, []) if at > now - limit.seconds]
    if len(history) >= limit.count:
        return max(0.0, history[0] + limit.seconds - now)
    history.append(now)
    cache.set(cache_key, history, limit.seconds)
    return None
