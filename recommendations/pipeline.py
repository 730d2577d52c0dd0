"""The Django side of the engine: load the ORM into arrays, call the engine, store the result.

A rules snapshot holds everything the homepage needs that depends on *all* members or courses
(IDF, cohort skill profiles, popularity, trends, skill similarity). Building it is the heavy
part; it runs in a background task and is stored on a TrainingRun, so a page view only does
per-member work.
"""

import dataclasses
import datetime as dt
import functools
import logging
import time
from dataclasses import dataclass

import numpy as np
import psycopg
import scipy.sparse as sp
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.tasks import async_task

from catalog.models import Course, CourseSkill, Skill
from members.models import FollowedSkill, Member, MemberSkill
from recommendations import engine
from recommendations.activity import ActivityArrays, activity_read
from recommendations.artifacts import artifact_dumps, artifact_loads
from recommendations.indexing import positions_of
from recommendations.learning import (
    interactions_extract,
    learned_models_dumps,
    learned_models_fit,
)
from recommendations.models import TrainingRun
from recommendations.precompute import (
    InMemoryActivity,
    learned_models_remember,
    precompute_plan,
    precompute_shards_inline,
)
from recommendations.ranking import ranker_dumps, ranker_train
from recommendations.table_arrays import query_arrays

logger = logging.getLogger(__name__)

SIMILAR_COURSES_PER_COURSE = 50


@dataclass(frozen=True)
class RulesSnapshot:
    """Arrays indexed by position; `*_ids` map positions back to database ids (sorted)."""

    built_at: float
    course_ids: np.ndarray
    course_published: np.ndarray
    skill_ids: np.ndarray
    course_skill: sp.csr_array
    idf: np.ndarray
    title_ids: np.ndarray
    industry_ids: np.ndarray
    pair_title: np.ndarray
    pair_industry: np.ndarray
    pair_profiles: sp.csr_array
    title_profiles: sp.csr_array
    industry_profiles: sp.csr_array
    popularity: np.ndarray
    title_trending: sp.csr_array
    industry_trending: sp.csr_array
    course_similarity: sp.csr_array
    # "Similar courses" on the course page: ALS item-item where the course has activity, else
    # shared skills.
    similar_courses: sp.csr_array
    course_bucket: np.ndarray

    @functools.cached_property
    def course_skill_by_column(self) -> sp.csc_array:
        """The course skill matrix in column form, for cheap per-skill course lists."""
        return sp.csc_array(self.course_skill)

    @functools.cached_property
    def course_skill_presence(self) -> sp.csr_array:
        """`course_skill` as 0/1 (the ranker's skill-overlap features): built once per snapshot,
        not on every page view a ranker re-orders."""
        return engine.presence(self.course_skill)

    @functools.cached_property
    def _cohort_vectors(self) -> dict[tuple[int | None, int | None], np.ndarray]:
        return {}

    def cohort_vector(self, title_id: int | None, industry_id: int | None) -> np.ndarray:
        """The inferred skill vector (skills,) of members with this title and industry: the
        title+industry profile, else the title's, else the industry's (read-only).

        Kept per (title, industry) for the snapshot's lifetime: every page view needs it, and
        there are at most a few thousand such pairs.
        """
        key = (title_id, industry_id)
        vector = self._cohort_vectors.get(key)
        if vector is None:
            vector = engine.member_cohort_vectors(
                [
                    ([self.pair_position(title_id, industry_id)], self.pair_profiles),
                    ([self.title_position(title_id)], self.title_profiles),
                    ([self.industry_position(industry_id)], self.industry_profiles),
                ]
            ).toarray()[0]
            vector.flags.writeable = False
            self._cohort_vectors[key] = vector
        return vector

    def skill_positions(self, skill_ids: np.ndarray) -> np.ndarray:
        return positions_of(self.skill_ids, skill_ids)

    def course_positions(self, course_ids: np.ndarray) -> np.ndarray:
        return positions_of(self.course_ids, course_ids)

    def title_position(self, title_id: int | None) -> int:
        return int(positions_of(self.title_ids, np.array([title_id or -1]))[0])

    def industry_position(self, industry_id: int | None) -> int:
        return int(positions_of(self.industry_ids, np.array([industry_id or -1]))[0])

    def pair_position(self, title_id: int | None, industry_id: int | None) -> int:
        if title_id is None or industry_id is None:
            return -1
        hits = np.flatnonzero((self.pair_title == title_id) & (self.pair_industry == industry_id))
        return int(hits[0]) if hits.size else -1


def _epoch(moment: dt.datetime) -> float:
    return moment.timestamp()


def _ids(queryset) -> np.ndarray:
    return np.fromiter(queryset.order_by("pk").values_list("pk", flat=True), dtype=np.int64)


def _pairs(rows, dtype=np.int64) -> tuple[np.ndarray, np.ndarray]:
    array = np.array(list(rows), dtype=dtype).reshape(-1, 2)
    return array[:, 0], array[:, 1]


def _indicator(
    rows: np.ndarray, cols: np.ndarray, *, shape: tuple[int, int], values: np.ndarray | None = None
) -> sp.csr_array:
    keep = (rows >= 0) & (cols >= 0)
    data = np.ones(int(keep.sum())) if values is None else values[keep]
    matrix = sp.csr_array((data, (rows[keep], cols[keep])), shape=shape)
    matrix.sum_duplicates()
    return matrix


def course_tag_filter() -> Q:
    """Tags that describe a course for recommendations: approved, or pending but confident."""
    min_confidence = settings.RECOMMENDATIONS["TAG_MIN_CONFIDENCE"]
    return Q(status=CourseSkill.Status.APPROVED) | Q(
        status=CourseSkill.Status.PENDING, confidence__gte=min_confidence
    )


def rules_snapshot_build(
    *, now: dt.datetime | None = None, activity: ActivityArrays | None = None
) -> RulesSnapshot:
    """Read the catalog, members and activity, and compute every all-members statistic."""
    config = settings.RECOMMENDATIONS
    now = now or timezone.now()
    now_s = _epoch(now)

    course_rows = np.array(
        [
            (pk, _epoch(published))
            for pk, published in Course.objects.values_list("pk", "published_at")
        ],
        dtype=np.float64,
    ).reshape(-1, 2)
    order = np.argsort(course_rows[:, 0], kind="stable")
    course_ids = course_rows[order, 0].astype(np.int64)
    course_published = course_rows[order, 1]
    skill_ids = _ids(Skill.objects.all())
    n_courses, n_skills = course_ids.size, skill_ids.size

    tag_course, tag_skill = _pairs(
        CourseSkill.objects.filter(course_tag_filter()).values_list("course_id", "skill_id")
    )
    course_skill = _indicator(
        positions_of(course_ids, tag_course),
        positions_of(skill_ids, tag_skill),
        shape=(n_courses, n_skills),
    )

    member_table = query_arrays(
        columns=[
            ("id", "id", "int"),
            ("title", "COALESCE(title_id, -1)", "int"),
            ("industry", "COALESCE(industry_id, -1)", "int"),
        ],
        source=Member._meta.db_table,
    )
    member_rows = np.stack([member_table["id"], member_table["title"], member_table["industry"]], 1)
    member_rows = member_rows[np.argsort(member_rows[:, 0], kind="stable")]
    member_ids, member_title, member_industry = member_rows.T
    n_members = member_ids.size

    held = [("member", "member_id", "int"), ("skill", "skill_id", "int")]
    profile = query_arrays(columns=held, source=MemberSkill._meta.db_table)
    followed = query_arrays(columns=held, source=FollowedSkill._meta.db_table)
    held_member = np.concatenate([profile["member"], followed["member"]])
    held_skill = np.concatenate([profile["skill"], followed["skill"]])
    member_skill = engine.presence(
        _indicator(
            positions_of(member_ids, held_member),
            positions_of(skill_ids, held_skill),
            shape=(n_members, n_skills),
        )
    )
    idf = engine.skill_idf(member_skill, min_members=config["IDF_MIN_MEMBERS"])

    title_ids = np.unique(member_title[member_title >= 0])
    industry_ids = np.unique(member_industry[member_industry >= 0])
    title_of_member = positions_of(title_ids, member_title)
    industry_of_member = positions_of(industry_ids, member_industry)
    has_pair = (title_of_member >= 0) & (industry_of_member >= 0)
    pair_keys = np.unique(
        np.stack([member_title[has_pair], member_industry[has_pair]], axis=1), axis=0
    ).reshape(-1, 2)
    pair_of_member = np.full(n_members, -1, dtype=np.int64)
    if pair_keys.size:
        encoded_keys = pair_keys[:, 0] * (industry_ids.max() + 1) + pair_keys[:, 1]
        encoded_members = member_title * (industry_ids.max() + 1) + member_industry
        pair_of_member[has_pair] = positions_of(encoded_keys, encoded_members[has_pair])

    min_cohort = config["COHORT_MIN_SIZE"]
    pair_profiles = engine.cohort_skill_profiles(
        member_skill, pair_of_member, n_cohorts=len(pair_keys), min_cohort_size=min_cohort
    )
    title_profiles = engine.cohort_skill_profiles(
        member_skill, title_of_member, n_cohorts=title_ids.size, min_cohort_size=min_cohort
    )
    industry_profiles = engine.cohort_skill_profiles(
        member_skill, industry_of_member, n_cohorts=industry_ids.size, min_cohort_size=min_cohort
    )

    if activity is None:
        activity = activity_read()
    window_start = now_s - config["POPULAR_WINDOW_DAYS"] * 86400.0
    recent = activity.enrol_started >= window_start
    event_member = positions_of(member_ids, activity.enrol_member[recent])
    event_course = positions_of(course_ids, activity.enrol_course[recent])
    event_time = activity.enrol_started[recent]
    known = (event_member >= 0) & (event_course >= 0)
    event_member, event_course, event_time = (
        event_member[known],
        event_course[known],
        event_time[known],
    )
    member_course = _indicator(event_member, event_course, shape=(n_members, n_courses))
    popularity = engine.popularity_scores(member_course)
    half_life = config["TRENDING_HALF_LIFE_DAYS"]
    title_trending = engine.cohort_trending_scores(
        event_member,
        event_course,
        event_time,
        cohort_of_member=title_of_member,
        n_cohorts=title_ids.size,
        n_courses=n_courses,
        now=now_s,
        half_life_days=half_life,
        min_cohort_size=min_cohort,
    )
    industry_trending = engine.cohort_trending_scores(
        event_member,
        event_course,
        event_time,
        cohort_of_member=industry_of_member,
        n_cohorts=industry_ids.size,
        n_courses=n_courses,
        now=now_s,
        half_life_days=half_life,
        min_cohort_size=min_cohort,
    )
    course_similarity = engine.course_similarity_by_skills(
        course_skill, idf, top_k=SIMILAR_COURSES_PER_COURSE
    )
    return RulesSnapshot(
        built_at=now_s,
        course_ids=course_ids,
        course_published=course_published,
        skill_ids=skill_ids,
        course_skill=course_skill,
        idf=idf,
        title_ids=title_ids,
        industry_ids=industry_ids,
        pair_title=pair_keys[:, 0].copy(),
        pair_industry=pair_keys[:, 1].copy(),
        pair_profiles=pair_profiles,
        title_profiles=title_profiles,
        industry_profiles=industry_profiles,
        popularity=np.asarray(popularity, dtype=np.float64),
        title_trending=sp.csr_array(title_trending),
        industry_trending=sp.csr_array(industry_trending),
        course_similarity=course_similarity,
        similar_courses=course_similarity,
        course_bucket=engine.skill_set_bucket_ids(course_skill),
    )


def similar_courses_blend(*, learned: sp.csr_array, by_skills: sp.csr_array) -> sp.csr_array:
    """Rows of the learned similarity where a course has any, skill-similarity rows elsewhere."""
    has_learned = np.diff(learned.indptr) > 0
    keep = sp.diags_array(has_learned.astype(np.float64))
    fallback = sp.diags_array((~has_learned).astype(np.float64))
    return engine.as_csr(keep @ learned + fallback @ by_skills)


def rules_snapshot_dumps(snapshot: RulesSnapshot) -> bytes:
    values = {
        name: getattr(snapshot, name)
        for name in RulesSnapshot.__dataclass_fields__
        if name != "built_at"
    }
    values["built_at"] = np.array([snapshot.built_at])
    return artifact_dumps(values)


def rules_snapshot_loads(payload: bytes) -> RulesSnapshot:
    values = artifact_loads(payload)
    values["built_at"] = float(values["built_at"][0])
    # Snapshots stored before the learned similarity existed.
    values.setdefault("similar_courses", values["course_similarity"])
    return RulesSnapshot(**values)


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


def training_run_execute(
    *, trigger: str = "manual", now: dt.datetime | None = None, precompute_inline: bool = True
) -> TrainingRun:
    """Build the snapshot and the learned models, evaluate, and activate if the checks pass.

    The previous active run keeps serving until the new one is activated in one transaction; a
    failure marks the new run failed with its reason and leaves the old one active. After
    activation every member's learned row is precomputed, inline or as one task per shard.
    """
    started = time.perf_counter()
    run = training_run_start(trigger=trigger)
    timings: dict[str, float] = {}
    try:
        stage = time.perf_counter()
        activity = activity_read()
        timings["read_activity_seconds"] = time.perf_counter() - stage
        stage = time.perf_counter()
        snapshot = rules_snapshot_build(now=now, activity=activity)
        problems = rules_snapshot_problems(snapshot)
        if problems:
            raise ValueError("; ".join(problems))
        timings["rules_seconds"] = time.perf_counter() - stage
        stage = time.perf_counter()
        member_ids = _ids(Member.objects.all())
        interactions = interactions_extract(
            member_ids=member_ids, course_ids=snapshot.course_ids, activity=activity
        )
        timings["extract_seconds"] = time.perf_counter() - stage
        stage = time.perf_counter()
        earlier = TrainingRun.objects.filter(
            status=TrainingRun.Status.SUCCEEDED, kind=TrainingRun.Kind.LEARNED
        )
        serving = earlier.order_by("-is_active", "-pk").values_list("params", flat=True).first()
        models, learned_metrics, message = learned_models_fit(
            member_ids=member_ids,
            course_ids=snapshot.course_ids,
            interactions=interactions,
            incumbent=(serving or {}).get("als"),
            search_round=earlier.count(),
        )
        timings["learn_seconds"] = time.perf_counter() - stage
        if models is not None:
            snapshot = dataclasses.replace(
                snapshot,
                similar_courses=similar_courses_blend(
                    learned=models.item_similarity, by_skills=snapshot.course_similarity
                ),
            )
        payload = rules_snapshot_dumps(snapshot)
        model_payload = learned_models_dumps(models) if models is not None else None
        stage = time.perf_counter()
        ranker_payload, ranker_metrics = _ranker_build(
            snapshot=snapshot, activity=activity, now=now or timezone.now()
        )
        timings["ranker_seconds"] = time.perf_counter() - stage
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
        **learned_metrics,
        **timings,
    }
    run.params = {
        key: settings.RECOMMENDATIONS[key]
        for key in ("IDF_MIN_MEMBERS", "COHORT_MIN_SIZE", "TAG_MIN_CONFIDENCE", "BLEND_WEIGHTS")
    } | ({"als": models.params} if models is not None else {})
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
    plan = precompute_plan() if models is not None else []
    run.precompute_shards = len(plan)
    run.status = TrainingRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.duration_seconds = time.perf_counter() - started
    with transaction.atomic():
        TrainingRun.objects.filter(is_active=True).update(is_active=False)
        run.is_active = True
        run.save(update_fields=_RUN_FIELDS_BUT_ARTIFACTS)
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
# What activation saves and an inline run reloads: everything but the tens of MB of artifacts.
_RUN_FIELDS_BUT_ARTIFACTS = [
    field.name
    for field in TrainingRun._meta.concrete_fields
    if not field.primary_key and field.name not in ARTIFACT_FIELDS
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


def precompute_enqueue(
    *,
    run: TrainingRun,
    plan: list[tuple[int, int]],
    inline: bool,
    in_memory: InMemoryActivity | None = None,
) -> None:
    """Run every shard now, or queue one django-q2 task per shard after commit.

    Shards run now use `in_memory` (the activity the run was trained on) when given.
    """
    stage = time.perf_counter()
    TrainingRun.objects.filter(pk=run.pk).update(precompute_started_at=timezone.now())
    if inline:
        precompute_shards_inline(run_id=run.pk, plan=plan, in_memory=in_memory)
        TrainingRun.objects.filter(pk=run.pk).update(
            metrics={**run.metrics, "precompute_seconds": time.perf_counter() - stage}
        )
        return
    for first, last in plan:
        transaction.on_commit(
            functools.partial(
                async_task,
                "recommendations.tasks.precompute_shard",
                run.pk,
                first,
                last,
                group=f"precompute-{run.pk}",
            )
        )


def precompute_resume(*, now: dt.datetime | None = None) -> int:
    """Queue again the member ranges of the active run whose rows were never written.

    A worker killed mid-precompute loses the shard tasks it had already taken from the queue
    (the Redis broker has no acknowledgement), and the run would wait for the next retrain. A
    range counts as missing when one of its members has no row from the active run; runs
    queued less than PRECOMPUTE_STALL_SECONDS ago are left alone, since their shards may still
    be on their way. Returns the number of ranges queued.
    """
    now = now or timezone.now()
    run = (
        TrainingRun.objects.filter(is_active=True, precomputed_at=None)
        .exclude(model_artifact=None)
        .defer("artifact", "model_artifact")
        .first()
    )
    stall = dt.timedelta(seconds=settings.RECOMMENDATIONS["PRECOMPUTE_STALL_SECONDS"])
    if run is None or (run.precompute_started_at and now - run.precompute_started_at < stall):
        return 0
    missing = np.fromiter(
        Member.objects.exclude(recommendations__run=run).values_list("pk", flat=True),
        dtype=np.int64,
    )
    ranges = [
        (first, last)
        for first, last in precompute_plan()
        if np.any((missing >= first) & (missing <= last))
    ]
    if not ranges:
        TrainingRun.objects.filter(pk=run.pk).update(precomputed_at=now)
        return 0
    logger.warning("run %s: re-queueing %d precompute ranges", run.pk, len(ranges))
    TrainingRun.objects.filter(pk=run.pk).update(
        precompute_shards=F("precompute_shards_done") + len(ranges)
    )
    precompute_enqueue(run=run, plan=ranges, inline=False)
    return len(ranges)


def training_run_activate(*, run: TrainingRun, inline: bool = False) -> TrainingRun:
    """Serve an older succeeded run again (rollback), recomputing members' learned rows."""
    # Artifacts are checked in the database: the instance may have been loaded without them.
    stored = TrainingRun.objects.filter(pk=run.pk, artifact__isnull=False)
    if run.status != TrainingRun.Status.SUCCEEDED or not stored.exists():
        raise ValueError("Only a succeeded run with its snapshot can be activated.")
    has_models = stored.filter(model_artifact__isnull=False).exists()
    with transaction.atomic():
        TrainingRun.objects.filter(is_active=True).update(is_active=False)
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
    if plan:
        precompute_enqueue(run=run, plan=plan, inline=inline)
    return run


def rules_snapshot_problems(snapshot: RulesSnapshot) -> list[str]:
    """Sanity checks a snapshot must pass before it may serve."""
    problems = []
    if snapshot.course_ids.size == 0:
        problems.append("the catalog has no courses")
    if not np.all(np.isfinite(snapshot.idf)):
        problems.append("IDF has non-finite values")
    if not np.all(np.isfinite(snapshot.popularity)):
        problems.append("popularity has non-finite values")
    return problems
