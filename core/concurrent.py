"""Calls that may run at once, each on its own database connection.

A retrain spends seconds waiting for PostgreSQL (large aggregated reads) and seconds in numpy,
scipy and implicit, which release the GIL: run side by side, the two overlap on a machine of a
few cores. Inside a transaction (a test, a caller's atomic block) another connection could not
see the transaction's writes, so the calls run one after another on this connection instead.
"""

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import connection, connections


def _on_own_connection(call: Callable[[], Any]) -> Any:
    try:
        return call()
    finally:
        connections.close_all()  # the connections this thread opened


def calls_run_concurrently(*calls: Callable[[], Any], threads: int | None = None) -> list[Any]:
    """Each call's result, in order, from at most `threads` (default: the core count) threads
    at a time. An exception in a call is raised once every call has ended."""
    if len(calls) <= 1 or connection.in_atomic_block:
        return [call() for call in calls]
    workers = max(1, min(len(calls), threads or os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_on_own_connection, call) for call in calls]
    return [future.result() for future in futures]
