"""What a web process serves, loaded once per process and refreshed when something changes:
the active run's rules snapshot and ranker, and the experiments not yet ended."""

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings

from recommendations.data import RulesSnapshot
from recommendations.experiments.assignment import ExperimentDefinition, experiments_load
from recommendations.models import TrainingRun
from recommendations.ranker.serving import ActiveRanker, ranker_loads
from recommendations.training.rules import rules_snapshot_build, rules_snapshot_loads

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServingState:
    snapshot: RulesSnapshot
    ranker: ActiveRanker | None
    experiments: list[ExperimentDefinition]
    # The active run the snapshot and ranker come from; None for a snapshot built in-process.
    run_id: int | None = None
    # Whether that run serves learned models. A rules-only run (too little data, nothing beat
    # popularity, or an admin rolled back to one) serves none, whatever rows earlier runs left.
    learned: bool = False


_lock = threading.Lock()
_state: dict = {"run_id": None, "serving": None, "checked_at": float("-inf")}


def serving_state() -> ServingState:
    """Snapshot, ranker and experiments, consistent with each other. Costs two queries at most
    every SNAPSHOT_CHECK_SECONDS (plus the artifacts' when a new run is active).

    With no active run yet (a fresh install before the first retrain), a snapshot is built in
    this process from the live data so pages still work; it is not stored.
    """
    interval = settings.RECOMMENDATIONS["SNAPSHOT_CHECK_SECONDS"]
    with _lock:
        now = time.monotonic()
        current: ServingState | None = _state["serving"]
        if current is not None and now - _state["checked_at"] < interval:
            return current
        run_id = TrainingRun.objects.filter(is_active=True).values_list("pk", flat=True).first()
        if current is None or run_id != _state["run_id"] or run_id is None:
            ranker, learned = None, False
            if run_id is None:
                logger.warning("no active training run; building a snapshot in-process")
                snapshot = rules_snapshot_build()
            else:
                payload, ranker_payload, kind = TrainingRun.objects.values_list(
                    "artifact", "ranker_artifact", "kind"
                ).get(pk=run_id)
                snapshot = rules_snapshot_loads(bytes(payload))
                ranker = ranker_loads(bytes(ranker_payload)) if ranker_payload else None
                learned = kind == TrainingRun.Kind.LEARNED
        else:
            snapshot, ranker, learned = current.snapshot, current.ranker, current.learned
        current = ServingState(
            snapshot=snapshot,
            ranker=ranker,
            experiments=experiments_load(),
            run_id=run_id,
            learned=learned,
        )
        _state.update(serving=current, run_id=run_id, checked_at=now)
        return current


def snapshot_active() -> RulesSnapshot:
    """The active run's snapshot (see `serving_state`)."""
    return serving_state().snapshot


def snapshot_forget() -> None:
    """Drop the cached state (tests, and after data changes that must show at once)."""
    with _lock:
        _state.update(run_id=None, serving=None, checked_at=float("-inf"))


def experiments_forget() -> None:
    """Re-read experiments (and the active run id) on the next page view of this process."""
    with _lock:
        _state["checked_at"] = float("-inf")
