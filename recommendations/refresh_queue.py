"""At most one pending refresh of a member's precomputed row, queued without ever failing the
write that asked for it.

Every enrolment, watch, bookmark, dismissal or questionnaire answer asks for a refresh
(`member_refresh_request`, from `member_activity_changed`). A counter per member in Django's
cache (Redis when `REDIS_URL` is set, so shared by every process; per process otherwise) counts
the requests not yet folded in: the request that takes it from 0 to 1 queues the task, the
others only count. The task (`member_refresh_run`) notes the count, refreshes, and takes the
noted count off: requests that came in while it ran leave the counter above 0, and the same
task refreshes again, so the newest activity is always folded in and one member's refreshes
never run side by side. Ten clicks in a row cost one task, and at most two refreshes.

The counter expires `PENDING_SECONDS` after its task was queued, so a task the broker lost (a
killed worker, a Redis restart) holds back that member's refreshes for at most that long. A
broker that refuses the task is logged with the member id and the counter dropped; the member's
next activity, or the next retrain's precompute, rewrites the row. A cache that fails is logged
and the task queued without de-duplication.
"""

import functools
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from django.core.cache import cache

from core.tasks import task_queue

if TYPE_CHECKING:
    from django_q.brokers import Broker

logger = logging.getLogger(__name__)

PENDING_SECONDS = 300
# Passes of one task before it hands the rest to a new task (a member clicking without pause
# must not hold a worker forever).
MAX_PASSES = 10
TASK = "recommendations.tasks.member_refresh"


def _key(member_id: int) -> str:
    return f"recommendations:member-refresh:{member_id}"


def member_refresh_request(*, member_id: int) -> bool:
    """Ask for a refresh of the member's row; True when this call queued the task (False: one
    is already pending, or the broker refused it, which is logged). Never raises."""
    key = _key(member_id)
    try:
        cache.add(key, 0, timeout=PENDING_SECONDS)
        try:
            requested = cache.incr(key)
        except ValueError:
            # Expired between add() and incr(): this request is the first again.
            requested = 1 if cache.add(key, 1, timeout=PENDING_SECONDS) else 0
    except Exception:
        logger.exception("refresh of member %s: the cache failed; queued unchecked", member_id)
        requested = 1
    if requested != 1:
        return False
    _cache_call(cache.touch, key, PENDING_SECONDS)
    task_id = task_queue(
        func=TASK,
        args=(member_id,),
        group="member-refresh",
        # A refresh that succeeds is not kept as a task result: one runs for nearly every
        # enrolment, and storing each (with django-q2 pruning to its save limit every time)
        # cost the worker a third of its time. A failed one is still stored, for the admin.
        save=False,
        broker=_task_broker(),
        repair=(
            f"member {member_id}'s recommendations row is refreshed by their next activity "
            "or the next retrain"
        ),
    )
    if task_id is None:
        _cache_call(cache.delete, key)
        return False
    return True


def member_refresh_pending(*, member_id: int) -> bool:
    """Whether a refresh of the member's row is asked for and not yet folded in (its task is
    queued or running); False when the cache cannot say."""
    return (_cache_call(cache.get, _key(member_id)) or 0) > 0


def member_refresh_forget(*, member_ids: Iterable[int]) -> None:
    """Drop the pending counters of `member_ids`, for a caller that knows their tasks are gone
    (the load test, whose worker was stopped with tasks still queued): each member's next
    activity then queues a refresh at once, not up to `PENDING_SECONDS` later. A cache that
    fails is logged."""
    _cache_call(cache.delete_many, [_key(member_id) for member_id in member_ids])


def member_refresh_run(*, member_id: int, refresh: Callable[[], bool]) -> bool:
    """Run `refresh` for the member's pending requests, again while new ones arrive during a
    pass; returns the last pass's result. If `refresh` raises, the pending requests are dropped
    (the member's next activity queues a new task) and the error propagates."""
    key = _key(member_id)
    refreshed = False
    for _ in range(MAX_PASSES):
        seen = _cache_call(cache.get, key) or 0
        try:
            refreshed = refresh()
        except Exception:
            _cache_call(cache.delete, key)
            raise
        if seen <= 0:
            return refreshed  # run without a request (directly, or after the counter expired)
        try:
            left = cache.decr(key, seen)
        except ValueError:
            return refreshed  # expired while running
        except Exception:
            logger.exception("refresh of member %s: the cache failed", member_id)
            return refreshed
        if left <= 0:
            return refreshed
        _cache_call(cache.touch, key, PENDING_SECONDS)
    # Still asked for after MAX_PASSES: a new task takes over.
    _cache_call(cache.delete, key)
    member_refresh_request(member_id=member_id)
    return refreshed


def _cache_call(method: Callable, *args: object) -> object:
    try:
        return method(*args)
    except Exception:
        logger.exception("member refresh: cache %s failed", method.__name__)
        return None


@functools.cache
def _task_broker() -> "Broker":
    """One broker per process for the tasks web requests queue. `async_task` otherwise builds a
    new one per call, and with Redis that is a new connection each time (3 ms, against 0.3 ms
    for the push itself). redis-py's pool opens new connections in a forked child."""
    from django_q.brokers import get_broker

    return get_broker()
