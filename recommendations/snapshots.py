"""The active rules snapshot, loaded once per process and refreshed when a new run activates."""

import logging
import threading
import time

from django.conf import settings

from recommendations.models import TrainingRun
from recommendations.pipeline import RulesSnapshot, rules_snapshot_build, rules_snapshot_loads

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_state: dict = {"run_id": None, "snapshot": None, "checked_at": float("-inf")}


def snapshot_active() -> RulesSnapshot:
    """The active run's snapshot. Costs one query at most every SNAPSHOT_CHECK_SECONDS.

    With no active run yet (a fresh install before the first retrain), a snapshot is built in
    this process from the live data so pages still work; it is not stored.
    """
    interval = settings.RECOMMENDATIONS["SNAPSHOT_CHECK_SECONDS"]
    with _lock:
        now = time.monotonic()
        if _state["snapshot"] is not None and now - _state["checked_at"] < interval:
            return _state["snapshot"]
        run_id = TrainingRun.objects.filter(is_active=True).values_list("pk", flat=True).first()
        if _state["snapshot"] is None or run_id != _state["run_id"] or run_id is None:
            if run_id is None:
                logger.warning("no active training run; building a snapshot in-process")
                snapshot = rules_snapshot_build()
            else:
                payload = TrainingRun.objects.values_list("artifact", flat=True).get(pk=run_id)
                snapshot = rules_snapshot_loads(bytes(payload))
            _state["snapshot"] = snapshot
            _state["run_id"] = run_id
        _state["checked_at"] = now
        return _state["snapshot"]


def snapshot_forget() -> None:
    """Drop the cached snapshot (tests, and after data changes that must show at once)."""
    with _lock:
        _state.update(run_id=None, snapshot=None, checked_at=float("-inf"))
