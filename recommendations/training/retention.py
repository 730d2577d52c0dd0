"""How long training runs keep what they learned from members.

A run's learned artifact (`model_artifact`: the interaction matrix and factors, rows by member
id) and its ranker (`ranker_artifact`: per-member effects by member id) hold per-member data;
the rules snapshot (`artifact`) holds only catalog-wide and cohort statistics. Pruning a run
clears all three and keeps its row (its metrics, message and parameters stay in the admin); a
pruned run can no longer be activated.

- `training_runs_prune`: the scheduled retention. Every run but the newest `TRAINING_RUNS_KEPT`
  succeeded ones, the active one and a running one is pruned, and so is every run that took
  over from a run marked as holding deleted members.
- `training_runs_member_deleted`: a member's account is gone. A run that may hold them and can
  be pruned now is pruned at once; the active run and a running one keep serving (or training)
  and are marked, then pruned when another run takes over (`training_runs_deleted_members_prune`,
  called by activation), so the member is out of every stored artifact after the next retrain
  at the latest.
"""

import datetime as dt

from django.conf import settings
from django.db.models import Q, QuerySet

from recommendations.models import TrainingRun

_PRUNED = {"artifact": None, "model_artifact": None, "ranker_artifact": None}


def _with_artifacts() -> Q:
    return (
        Q(artifact__isnull=False)
        | Q(model_artifact__isnull=False)
        | Q(ranker_artifact__isnull=False)
    )


def _prunable(runs: QuerySet[TrainingRun] | None = None) -> QuerySet[TrainingRun]:
    # A running run writes its artifacts when it ends: clearing them now would be undone.
    runs = TrainingRun.objects.all() if runs is None else runs
    return runs.filter(is_active=False).exclude(status=TrainingRun.Status.RUNNING)


def training_runs_deleted_members_prune() -> int:
    """Prune the runs marked as holding deleted members that no longer serve; how many."""
    return (
        _prunable()
        .filter(holds_deleted_members=True)
        .update(**_PRUNED, holds_deleted_members=False)
    )


def training_runs_prune(*, keep: int | None = None) -> int:
    """Keep the artifacts of the newest `keep` succeeded runs (default `TRAINING_RUNS_KEPT`) and
    of the active one; prune every other finished run's, and every marked run that no longer
    serves. Returns how many runs were pruned."""
    if keep is None:
        keep = settings.RECOMMENDATIONS["TRAINING_RUNS_KEPT"]
    if keep < 1:
        raise ValueError("keep at least one training run")
    kept = list(
        TrainingRun.objects.filter(status=TrainingRun.Status.SUCCEEDED)
        .order_by("-started_at", "-pk")
        .values_list("pk", flat=True)[:keep]
    )
    pruned = training_runs_deleted_members_prune()
    return pruned + _prunable().exclude(pk__in=kept).filter(_with_artifacts()).update(**_PRUNED)


def training_runs_member_deleted(*, member_created_at: dt.datetime) -> int:
    """Prune (or mark, for the active and a running run) every run that may hold a member
    created at `member_created_at`, whose account is being deleted; how many were pruned.

    A run holds every member that existed when it read the members, so a run finished before
    the member was created cannot hold them; the others are treated as holding them (reading
    each artifact's member ids would cost tens of MB per run for the same answer).
    """
    holding = TrainingRun.objects.filter(
        Q(finished_at__isnull=True) | Q(finished_at__gte=member_created_at)
    )
    holding.filter(Q(is_active=True) | Q(status=TrainingRun.Status.RUNNING)).update(
        holds_deleted_members=True
    )
    return (
        _prunable(holding).filter(_with_artifacts()).update(**_PRUNED, holds_deleted_members=False)
    )
