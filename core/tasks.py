"""Queueing django-q2 tasks from code that has already saved something.

A task queued after a write is a follow-up (a refresh, a tagging run), never part of the write:
a broker that is down (Redis unreachable, the ORM broker's table locked) must not turn a saved
enrolment or import into an error page. `task_queue` queues a task and, when the broker
refuses, logs the error with what will repair the lost task and returns None.
"""

import logging
from typing import Any

logger = logging.getLogger(__name__)


def task_queue(*, func: str, args: tuple = (), repair: str, **options: Any) -> str | None:
    """Queue `func(*args)` (django-q2 `async_task` options in `options`); the task id, or None
    when the broker refused it, which is logged with `repair`: what will make up for it."""
    from django_q.tasks import async_task

    try:
        return async_task(func, *args, **options)
    except Exception:
        logger.exception("task %s%r was not queued; %s", func, args, repair)
        return None
