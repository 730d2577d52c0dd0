"""The lifecycle of a training run: start (one at a time; a stale one is abandoned), execute
(snapshot, learned models, ranker, checks), store its artifacts, activate it in one
transaction."""

import dataclasses
import datetime as dt
import functools
import logging
import time

import numpy as np
import psycopg
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.concurrent import calls_run_concurrently
from core.memory import memory_release, peak_memory_mb, peak_memory_reset
from members.models import Member
from recommendations.data import RulesSnapshot
from recommendations.models import TrainingRun
from recommendations.people.training import people_suggestions_build
from recommendations.ranker.serving import ranker_dumps
from recommendations.ranker.training import ranker_train
from recommendations.training.activity import ActivityArrays, activity_read
from recommendations.training.learned import (
    Interactions,
    SearchResult,
    interactions_extract,
    learned_models_dumps,
    learned_models_fit,
)
from recommendations.training.precompute import (
    InMemoryActivity,
    learned_models_forget,
    learned_models_remember,
    precompute_enqueue,
    precompute_plan,
)
from recommendations.training.retention import training_runs_deleted_members_prune
from recommendations.training.rules import (
    _ids,
    catalog_courses_read,
    rules_snapshot_build,
    rules_snapshot_dumps,
    rules_snapshot_loads,
    rules_snapshot_problems,
    similar_courses_blend,
)
from recommendations.training.similar_rows import similar_rows_build, similar_rows_write

logger = logging.getLogger(__name__)


class TrainingRunBusy(Exception):
    """Another retrain is running; two never run at once."""


def training_run_start(*, trigger: str, now: dt.datetime | None = None) -> TrainingRun:
    """Create the running run, or raise TrainingRunBusy if another one holds the slot.

    A run still "running" after RUN_STALE_SECONDS lost its worker (killed, machine gone); it is
    marked failed so retraining is never blocked for good.
    """
    now = now or timezone.now()
    stale_before = now - dt.timedelta(seconds=settings.RECOMMENDATIONS["RUN_STALE_SECONDS"])
    TrainingRun.objects.filter(
        status=TrainingRun.Status.RUNNING, started_at__lt=stale_before
    ).update(
        status=TrainingRun.Status.FAILED,
        finished_at=now,
        message="Abandoned: its worker stopped before finishing (killed or lost).",
    )
    try:
        with transaction.atomic():
            return TrainingRun.objects.create(
                kind=TrainingRun.Kind.RULES, started_at=now, trigger=trigger
            )
    except IntegrityError as busy:
        raise TrainingRunBusy("A retrain is already running.") from busy


def _retrain_running() -> bool:
    """Whether a retrain is running now (one older than RUN_STALE_SECONDS lost its worker)."""
    stale_before = timezone.now() - dt.timedelta(
        seconds=settings.RECOMMENDATIONS["RUN_STALE_SECONDS"]
    )
    return TrainingRun.objects.filter(
        status=TrainingRun.Status.RUNNING, started_at__gte=stale_before
    ).exists()


def search_result_stored() -> SearchResult | None:
    """The last parameter search's winner: kept in `params["search"]` of each succeeded run
    (a run that did not search carries the one it refitted forward)."""
    for params in (
        TrainingRun.objects.filter(status=TrainingRun.Status.SUCCEEDED, params__has_key="search")
        .order_by("-pk")
        .values_list("params", flat=True)[:1]
    ):
        return SearchResult.from_json(params.get("search"))
    return None


# Up to this many enrolments the rules snapshot and the learned model are built side by side
# (at 2 M, 4.7 s instead of about 7 s); at 20 M their working memory together passed 6 GB.
OVERLAP_MAX_ENROLMENTS = 5_000_000


def _stage_peak_mb() -> float:
    """The peak memory of the stage that just ended; the next stage starts a new peak."""
    peak = peak_memory_mb()
    memory_release()
    peak_memory_reset()
    return peak


@dataclasses.dataclass(frozen=True)
class _TimedRules:
    snapshot: RulesSnapshot
    seconds: float


@dataclasses.dataclass(frozen=True)
class _TimedLearn:
    interactions: Interactions
    fitted: tuple
    extract_seconds: float
    learn_seconds: float


def _rules_build(
    *, now: dt.datetime | None, activity: ActivityArrays, courses: tuple[np.ndarray, np.ndarray]
) -> _TimedRules:
    started = time.perf_counter()
    snapshot = rules_snapshot_build(now=now, activity=activity, courses=courses)
    problems = rules_snapshot_problems(snapshot)
    if problems:
        raise ValueError("; ".join(problems))
    return _TimedRules(snapshot=snapshot, seconds=time.perf_counter() - started)


def _learn(
    *, member_ids: np.ndarray, course_ids: np.ndarray, activity: ActivityArrays, search: bool
) -> _TimedLearn:
    started = time.perf_counter()
    interactions = interactions_extract(
        member_ids=member_ids, course_ids=course_ids, activity=activity
    )
    extracted = time.perf_counter()
    fitted = learned_models_fit(
        member_ids=member_ids,
        course_ids=course_ids,
        interactions=interactions,
        stored=search_result_stored(),
        search_requested=search,
    )
    return _TimedLearn(
        interactions=interactions,
        fitted=fitted,
        extract_seconds=extracted - started,
        learn_seconds=time.perf_counter() - extracted,
    )


def training_run_execute(
    *,
    trigger: str = "manual",
    now: dt.datetime | None = None,
    precompute_inline: bool = True,
    search: bool = False,
) -> TrainingRun:
    """Build the snapshot and the learned models, evaluate, and activate if the checks pass.

    `search` asks for a parameter search whatever the data did since the last one (otherwise
    one runs only when due: see `learned.search_due`).

    The previous active run keeps serving until the new one is activated in one transaction; a
    failure marks the new run failed with its reason and leaves the old one active. After
    activation every member's learned row is precomputed, inline or as one task per shard.
    """
    started = time.perf_counter()
    run = training_run_start(trigger=trigger)
    active_before = TrainingRun.objects.filter(is_active=True).values_list("pk", flat=True).first()
    timings: dict[str, float] = {}
    learned_models_forget()
    try:
        peak_memory_reset()
        stage = time.perf_counter()
        activity = activity_read()
        timings["read_activity_seconds"] = time.perf_counter() - stage
        timings["read_activity_peak_mb"] = _stage_peak_mb()
        stage = time.perf_counter()
        courses = catalog_courses_read()
        member_ids = _ids(Member.objects.all())
        # The rules' statistics and the learned models need only the catalog's courses from
        # each other: they are computed side by side (see core.concurrent), up to
        # OVERLAP_MAX_ENROLMENTS; beyond it one after the other, since side by side their
        # working memory adds up.
        parts = (
            functools.partial(_rules_build, now=now, activity=activity, courses=courses),
            functools.partial(
                _learn,
                member_ids=member_ids,
                course_ids=courses[0],
                activity=activity,
                search=search,
            ),
        )
        if activity.enrol_member.size <= OVERLAP_MAX_ENROLMENTS:
            rules_part, learn_part = calls_run_concurrently(*parts)
        else:
            rules_part, learn_part = (part() for part in parts)
        timings["rules_and_learn_seconds"] = time.perf_counter() - stage
        timings["rules_and_learn_peak_mb"] = _stage_peak_mb()
        timings["rules_seconds"] = rules_part.seconds
        timings["extract_seconds"] = learn_part.extract_seconds
        timings["learn_seconds"] = learn_part.learn_seconds
        snapshot, interactions = rules_part.snapshot, learn_part.interactions
        models, learned_metrics, message, search_result = learn_part.fitted
        if models is not None:
            snapshot = dataclasses.replace(
                snapshot,
                similar_courses=similar_courses_blend(
                    learned=models.item_similarity, by_skills=snapshot.course_similarity
                ),
            )
        stage = time.perf_counter()
        similar_rows = similar_rows_build(snapshot)
        timings["similar_seconds"] = time.perf_counter() - stage
        payload = rules_snapshot_dumps(snapshot)
        model_payload = learned_models_dumps(models) if models is not None else None
        stage = time.perf_counter()
        ranker_payload, ranker_metrics = _ranker_build(
            snapshot=snapshot, activity=activity, now=now or timezone.now()
        )
        timings["ranker_seconds"] = time.perf_counter() - stage
        timings["ranker_peak_mb"] = _stage_peak_mb()
        stage = time.perf_counter()
        people_metrics = _people_build(
            member_ids=member_ids,
            course_ids=courses[0],
            snapshot=snapshot,
            interactions=interactions,
            now=now,
            measure_requested=search or bool(learned_metrics.get("search", {}).get("ran")),
        )
        timings["people_seconds"] = time.perf_counter() - stage
        timings["people_peak_mb"] = _stage_peak_mb()
    except Exception as error:
        logger.exception("training run %s failed", run.pk)
        run.status = TrainingRun.Status.FAILED
        run.message = f"{type(error).__name__}: {error}"
        run.finished_at = timezone.now()
        run.duration_seconds = time.perf_counter() - started
        run.save()
        return run

    run.kind = TrainingRun.Kind.LEARNED if models is not None else TrainingRun.Kind.RULES
    run.message = f"{message} Ranker {ranker_metrics['why']}."
    run.metrics = {
        "courses": int(snapshot.course_ids.size),
        "members": int(member_ids.size),
        "skills": int(snapshot.skill_ids.size),
        "skills_with_idf": int(np.count_nonzero(snapshot.idf)),
        "title_cohorts": int(np.count_nonzero(np.diff(snapshot.title_profiles.indptr))),
        "industry_cohorts": int(np.count_nonzero(np.diff(snapshot.industry_profiles.indptr))),
        "artifact_bytes": len(payload),
        "model_artifact_bytes": len(model_payload or b""),
        "ranker": ranker_metrics,
        "people": people_metrics,
        **learned_metrics,
        **timings,
    }
    run.params = {
        key: settings.RECOMMENDATIONS[key]
        for key in (
            "IDF_MIN_MEMBERS",
            "IDF_MIN_MEMBERS_SHARE",
            "COHORT_MIN_SIZE",
            "TAG_MIN_CONFIDENCE",
            "BLEND_WEIGHTS",
        )
    }
    if models is not None:
        run.params["learned"] = {"family": models.family, "params": models.params}
    if search_result is not None:
        run.params["search"] = search_result.as_json()
    stage = time.perf_counter()
    # Stored while the run is still "running": nothing reads it until activation below.
    _artifacts_store(
        run_id=run.pk,
        payloads={
            "artifact": payload,
            "model_artifact": model_payload,
            "ranker_artifact": ranker_payload,
        },
    )
    run.metrics["store_seconds"] = time.perf_counter() - stage
    # Precompute needs the interactions and the models, not the raw activity (a gigabyte at
    # 20 M enrolments) nor the serialised artifacts.
    del activity, parts, payload, model_payload, ranker_payload
    memory_release()
    plan = precompute_plan() if models is not None else []
    run.precompute_shards = len(plan)
    run.status = TrainingRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.duration_seconds = time.perf_counter() - started
    with transaction.atomic():
        # The active run is locked, so a rollback cannot slip in between the check and the swap.
        active = (
            TrainingRun.objects.select_for_update()
            .filter(is_active=True)
            .values_list("pk", flat=True)
            .first()
        )
        if active != active_before:
            # An admin activated another run (a rollback) while this one trained: theirs stays.
            run.message += (
                f" Not activated: run {active} was activated while this run trained; activate"
                " this one from the admin to serve it."
            )
            run.save(update_fields=_RUN_FIELDS_BUT_ARTIFACTS)
            return run
        TrainingRun.objects.filter(is_active=True).update(is_active=False)
        run.is_active = True
        stage = time.perf_counter()
        # In the activation's transaction: pages read this run's similar courses from the
        # moment it serves, and the previous run's until then.
        similar_rows_write(run_id=run.pk, rows=similar_rows, now=run.finished_at)
        run.metrics["similar_store_seconds"] = time.perf_counter() - stage
        run.save(update_fields=_RUN_FIELDS_BUT_ARTIFACTS)
        # The run served until now may hold members deleted since: out with it.
        training_runs_deleted_members_prune()
    if plan:
        # This process already holds the models and every member's activity: shards computed
        # here use them instead of reading them back (queued shards read their own range).
        learned_models_remember(run_id=run.pk, models=models)
        precompute_enqueue(
            run=run,
            plan=plan,
            inline=precompute_inline,
            in_memory=InMemoryActivity(member_ids=member_ids, interactions=interactions),
        )
        if precompute_inline:
            run.refresh_from_db(fields=_RUN_FIELDS_BUT_ARTIFACTS)
    return run


ARTIFACT_FIELDS = ("artifact", "model_artifact", "ranker_artifact")
# What activation saves and an inline run reloads: everything but the tens of MB of artifacts,
# and the deleted-members mark, which an account deletion may set while the run trains.
_RUN_FIELDS_BUT_ARTIFACTS = [
    field.name
    for field in TrainingRun._meta.concrete_fields
    if not field.primary_key and field.name not in (*ARTIFACT_FIELDS, "holds_deleted_members")
]


def _artifacts_store(*, run_id: int, payloads: dict[str, bytes | None]) -> None:
    """Write a run's artifacts (tens of MB at benchmark scale).

    On PostgreSQL they go as binary parameters: Django binds parameters client-side, which
    escapes every byte into SQL text and takes seconds for what binary takes milliseconds.
    """
    if connection.vendor != "postgresql":
        TrainingRun.objects.filter(pk=run_id).update(**payloads)
        return
    assignments = ", ".join(f"{name} = %b" for name in payloads)
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            f"UPDATE {TrainingRun._meta.db_table} SET {assignments} WHERE id = %s",
            [*payloads.values(), run_id],
        )


def _ranker_build(
    *, snapshot: RulesSnapshot, activity: ActivityArrays, now: dt.datetime
) -> tuple[bytes | None, dict]:
    """The ranker's artifact and metrics. A ranker that fails to train costs the run nothing
    but the ranker: the run still serves its snapshot and learned candidates."""
    try:
        ranker, metrics = ranker_train(snapshot=snapshot, activity=activity, now=now)
    except Exception as error:
        logger.exception("ranker training failed")
        return None, {"used": False, "why": f"failed: {type(error).__name__}: {error}"}
    return (ranker_dumps(ranker) if ranker is not None else None), metrics


def _people_build(
    *,
    member_ids: np.ndarray,
    course_ids: np.ndarray,
    snapshot: RulesSnapshot,
    interactions: Interactions,
    now: dt.datetime | None,
    measure_requested: bool,
) -> dict:
    """People to learn with, stored, and its metrics (measured again on a search retrain, see
    `people_measurement_due`). Like the ranker, a people stage that fails costs the run nothing
    else: the stored suggestions stay as they were."""
    try:
        return people_suggestions_build(
            member_ids=member_ids,
            course_ids=course_ids,
            skill_ids=snapshot.skill_ids,
            idf=snapshot.idf,
            interactions=interactions,
            now=now,
            measure_requested=measure_requested,
        )
    except Exception as error:
        logger.exception("people suggestions failed")
        return {"mode": "failed", "why": f"{type(error).__name__}: {error}"}


def training_run_activate(*, run: TrainingRun, inline: bool = False) -> TrainingRun:
    """Serve an older succeeded run again (rollback): every course's similar courses from its
    snapshot in the same transaction, and members' learned rows recomputed after it."""
    # Artifacts are checked in the database: the instance may have been loaded without them.
    stored = TrainingRun.objects.filter(pk=run.pk, artifact__isnull=False)
    if run.status != TrainingRun.Status.SUCCEEDED or not stored.exists():
        raise ValueError("Only a succeeded run with its snapshot can be activated.")
    if _retrain_running():
        # It would activate itself over the run chosen here when it finishes.
        raise ValueError(
            "A retrain is running: roll back once it has finished (or failed), so it cannot "
            "replace the run you choose."
        )
    has_models = stored.filter(model_artifact__isnull=False).exists()
    snapshot = rules_snapshot_loads(bytes(stored.values_list("artifact", flat=True).get()))
    similar_rows = similar_rows_build(snapshot)
    with transaction.atomic():
        TrainingRun.objects.filter(is_active=True).update(is_active=False)
        similar_rows_write(run_id=run.pk, rows=similar_rows, now=timezone.now())
        run.is_active = True
        run.precompute_shards_done = 0
        run.precomputed_at = None
        plan = precompute_plan() if has_models else []
        run.precompute_shards = len(plan)
        run.save(
            update_fields=[
                "is_active",
                "precompute_shards_done",
                "precomputed_at",
                "precompute_shards",
            ]
        )
        training_runs_deleted_members_prune()
    if plan:
        precompute_enqueue(run=run, plan=plan, inline=inline)
    return run
