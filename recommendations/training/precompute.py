"""Precompute every member's learned candidates into one compact row each.

A run's precompute is split into member-id ranges; each range is one django-q2 task, so more
workers finish sooner. Each range is written in one transaction (COPY into a staging table and
one upsert on PostgreSQL), and every row is replaced whole: a reader sees the previous list or
the new one.
"""

import datetime as dt
import functools
import logging
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from core.memory import memory_release, peak_memory_mb, peak_memory_reset
from core.prepared_statements import prepared_cursor
from core.tasks import task_queue
from members.models import Member
from recommendations import engine
from recommendations.engine.positions import positions_of
from recommendations.models import MemberRecommendations, TrainingRun
from recommendations.training.learned import (
    Interactions,
    LearnedModels,
    interactions_extract,
    learned_models_loads,
)

logger = logging.getLogger(__name__)

# A refresh whose run was replaced while it computed starts over from the new run; twice in a row
# means retrains are racing, and the next precompute writes the member anyway.
REFRESH_ATTEMPTS = 2

_cache_lock = threading.Lock()
_cache: dict = {"run_id": None, "models": None}


def learned_models_for_run(run_id: int) -> LearnedModels | None:
    """The run's learned models, loaded once per process (workers keep the latest one)."""
    with _cache_lock:
        if _cache["run_id"] == run_id:
            return _cache["models"]
        payload = TrainingRun.objects.values_list("model_artifact", flat=True).get(pk=run_id)
        models = learned_models_loads(bytes(payload)) if payload else None
        _cache.update(run_id=run_id, models=models)
        return models


def learned_models_forget() -> None:
    """Let go of the models this process holds (a retrain starting: it builds new ones, and at
    a million members the old ones are hundreds of MB it would otherwise carry through)."""
    with _cache_lock:
        _cache.update(run_id=None, models=None)


def learned_models_remember(*, run_id: int, models: LearnedModels) -> None:
    """Keep models this process just built as the run's, instead of loading them back."""
    with _cache_lock:
        _cache.update(run_id=run_id, models=models)


@dataclass(frozen=True)
class InMemoryActivity:
    """Every member's interactions as a retrain read them; rows follow `member_ids` (sorted)."""

    member_ids: np.ndarray
    interactions: Interactions

    def rows_of(self, member_ids: np.ndarray) -> Interactions | None:
        """The rows of these members, or None if one of them was not read (joined since)."""
        positions = positions_of(self.member_ids, member_ids)
        if np.any(positions < 0):
            return None
        return Interactions(
            matrix=self.interactions.matrix[positions], times=self.interactions.times[positions]
        )


def precompute_plan(*, shard_members: int | None = None) -> list[tuple[int, int]]:
    """Inclusive member-id ranges of about `shard_members` members each, covering every id."""
    size = shard_members or settings.RECOMMENDATIONS["PRECOMPUTE_SHARD_MEMBERS"]
    ids = np.fromiter(Member.objects.order_by("pk").values_list("pk", flat=True), dtype=np.int64)
    if ids.size == 0:
        return []
    starts = ids[::size]
    ends = np.append(starts[1:] - 1, np.iinfo(np.int64).max)
    ranges = list(zip(starts.tolist(), ends.tolist(), strict=True))
    ranges[0] = (0, ranges[0][1])
    return ranges


def _user_vectors(
    models: LearnedModels, member_ids: np.ndarray, interactions, *, fold_in_all: bool
) -> np.ndarray | None:
    """ALS: fitted factors for members the model knows, a fold-in for the others (or for all).
    The item-item families score a member's interactions directly and need none (None)."""
    if models.model.als is None:
        return None
    known = models.member_positions(member_ids)
    fitted = np.where(fold_in_all, -1, known)
    return engine.model_user_vectors(models.model, interactions.matrix, fitted_rows=fitted)


def _candidate_rows(
    models: LearnedModels,
    member_ids: np.ndarray,
    *,
    fold_in_all: bool = False,
    interactions: Interactions | None = None,
) -> list[tuple[int, bytes]]:
    """Packed rows of `member_ids` (sorted), from `interactions` if given, else read."""
    config = settings.RECOMMENDATIONS
    if interactions is None:
        interactions = interactions_extract(
            member_ids=member_ids,
            course_ids=models.course_ids,
            member_id_range=(int(member_ids.min()), int(member_ids.max())),
        )
    anchors, _ = engine.row_argmax(interactions.times)
    rows: list[tuple[int, bytes]] = []
    batch = config["PRECOMPUTE_BATCH_MEMBERS"]
    for start in range(0, member_ids.size, batch):
        stop = min(start + batch, member_ids.size)
        chunk = slice(start, stop)
        sub = type(interactions)(matrix=interactions.matrix[chunk], times=interactions.times[chunk])
        records, bounds = engine.learned_candidates(
            model=models.model,
            user_vectors=_user_vectors(models, member_ids[chunk], sub, fold_in_all=fold_in_all),
            interactions=sub.matrix,
            anchors=anchors[chunk],
            item_similarity=models.item_similarity,
            text_similarity=models.text_similarity,
            cold_courses=models.cold_courses,
            n_personal=config["LEARNED_PERSONAL"],
            n_similar=config["LEARNED_SIMILAR"],
            n_text=config["LEARNED_TEXT"],
        )
        # Positions to database ids once for the whole batch, then one slice per member.
        has_anchor = records["anchor"] >= 0
        records["anchor"][has_anchor] = models.course_ids[records["anchor"][has_anchor]]
        records["course"] = models.course_ids[records["course"]]
        payload = engine.candidates_encode(records)
        width = engine.CANDIDATE.itemsize
        for offset, member_id in enumerate(member_ids[chunk].tolist()):
            rows.append((member_id, payload[bounds[offset] * width : bounds[offset + 1] * width]))
    return rows


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, no extension
_COPY_TRAILER = b"\xff\xff"
_POSTGRES_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _binary_copy(*, run_id: int, rows: list[tuple[int, bytes]], now: dt.datetime) -> bytes:
    """The rows in COPY's binary format: (member_id, run_id, computed_at, payload) each.

    Encoded here in one pass: psycopg's per-row `write_row` costs more than the COPY itself at
    100,000 rows.
    """
    micros = (now - _POSTGRES_EPOCH) // dt.timedelta(microseconds=1)
    shared = struct.pack(">iqiq", 8, run_id, 8, micros)
    parts = [_COPY_HEADER]
    for member_id, payload in rows:
        parts.append(struct.pack(">hiq", 4, 8, member_id))
        parts.append(shared)
        parts.append(struct.pack(">i", len(payload)))
        parts.append(payload)
    parts.append(_COPY_TRAILER)
    return b"".join(parts)


# Up to this many rows are written by one INSERT of arrays; more go through COPY, whose binary
# rows psycopg need not adapt one by one (a precompute shard writes thousands).
_ROWS_WRITTEN_DIRECTLY = 100
_ROW_UPSERT = (
    "ON CONFLICT (member_id) DO UPDATE SET run_id = EXCLUDED.run_id, "
    "computed_at = EXCLUDED.computed_at, payload = EXCLUDED.payload"
)


def member_rows_write(*, run_id: int, rows: list[tuple[int, bytes]], now: dt.datetime) -> None:
    """Replace the rows of these members in one transaction (on PostgreSQL one upsert, from
    arrays for a few rows and from a COPY for many)."""
    if not rows:
        return
    table = MemberRecommendations._meta.db_table
    with transaction.atomic():
        if connection.vendor == "postgresql" and len(rows) <= _ROWS_WRITTEN_DIRECTLY:
            # A member's refresh (one row, after each enrolment or follow): one statement. The
            # temporary table below costs three more round trips, and creating and dropping it
            # writes the system catalogs, which grow by a few rows on every refresh where
            # autovacuum is off.
            member_ids, payloads = zip(*rows, strict=True)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} (member_id, run_id, computed_at, payload) "
                    "SELECT row.member_id, %s, %s, row.payload "
                    "FROM unnest(%s::bigint[], %s::bytea[]) AS row (member_id, payload) "
                    f"{_ROW_UPSERT}",
                    [run_id, now, list(member_ids), list(payloads)],
                )
        elif connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Inside an outer transaction (a test, a caller's atomic block) ON COMMIT DROP
                # has not fired yet for an earlier batch: start from a fresh table either way.
                cursor.execute("DROP TABLE IF EXISTS recommendation_stage")
                cursor.execute(
                    "CREATE TEMP TABLE recommendation_stage "
                    "(member_id bigint, run_id bigint, computed_at timestamptz, payload bytea) "
                    "ON COMMIT DROP"
                )
                with cursor.cursor.copy(
                    "COPY recommendation_stage (member_id, run_id, computed_at, payload) "
                    "FROM STDIN (FORMAT binary)"
                ) as copy:
                    copy.write(_binary_copy(run_id=run_id, rows=rows, now=now))
                cursor.execute(
                    f"INSERT INTO {table} (member_id, run_id, computed_at, payload) "
                    "SELECT member_id, run_id, computed_at, payload FROM recommendation_stage "
                    f"{_ROW_UPSERT}"
                )
        else:
            MemberRecommendations.objects.bulk_create(
                [
                    MemberRecommendations(
                        member_id=member_id, run_id=run_id, computed_at=now, payload=payload
                    )
                    for member_id, payload in rows
                ],
                update_conflicts=True,
                unique_fields=["member"],
                update_fields=["run", "computed_at", "payload"],
                batch_size=500,
            )


def precompute_shard(
    *,
    run_id: int,
    first_member_id: int,
    last_member_id: int,
    in_memory: InMemoryActivity | None = None,
) -> int:
    """Compute and store the rows of members with ids in [first, last]; returns the count.

    Activity comes from `in_memory` when it covers every member of the range (the retrain's
    own process), else it is read for the range. Safe to run twice: rows are upserted, and the
    shard counter only completes the run once.
    """
    rows, now = _shard_rows(
        run_id=run_id,
        first_member_id=first_member_id,
        last_member_id=last_member_id,
        in_memory=in_memory,
    )
    shard_rows_store(run_id=run_id, rows=rows, now=now)
    return len(rows)


def precompute_shards_inline(
    *, run_id: int, plan: list[tuple[int, int]], in_memory: InMemoryActivity | None = None
) -> None:
    """Run every shard in this process, one after another.

    Outside a transaction each shard's rows are stored by a second thread, with its own
    database connection, while the next shard is computed: PostgreSQL's upsert work overlaps
    the numpy work instead of following it.
    """
    if connection.in_atomic_block:
        for first, last in plan:
            precompute_shard(
                run_id=run_id, first_member_id=first, last_member_id=last, in_memory=in_memory
            )
        return
    with ThreadPoolExecutor(max_workers=1) as writer:
        pending = None
        for first, last in plan:
            rows, now = _shard_rows(
                run_id=run_id, first_member_id=first, last_member_id=last, in_memory=in_memory
            )
            if pending is not None:
                pending.result()  # re-raises a failed write
            pending = writer.submit(_shard_store_in_thread, run_id=run_id, rows=rows, now=now)
        if pending is not None:
            pending.result()


def _shard_rows(
    *,
    run_id: int,
    first_member_id: int,
    last_member_id: int,
    in_memory: InMemoryActivity | None,
) -> tuple[list[tuple[int, bytes]], dt.datetime]:
    now = timezone.now()
    models = learned_models_for_run(run_id)
    if models is None:
        return [], now
    member_ids = np.fromiter(
        Member.objects.filter(pk__gte=first_member_id, pk__lte=last_member_id)
        .order_by("pk")
        .values_list("pk", flat=True),
        dtype=np.int64,
    )
    if member_ids.size == 0:
        return [], now
    known = in_memory.rows_of(member_ids) if in_memory is not None else None
    return _candidate_rows(models, member_ids, interactions=known), now


def shard_rows_store(*, run_id: int, rows: list[tuple[int, bytes]], now: dt.datetime) -> None:
    """Write the shard's rows and count the shard done (completing the run after the last).

    Only while the run is the active one: a shard delayed past a newer retrain or a rollback
    would otherwise overwrite the rows of the run that serves now (see `run_active_locked`).
    """
    with transaction.atomic():
        if not run_active_locked(run_id):
            logger.info(
                "precompute shard of run %s not stored: the run is no longer active", run_id
            )
            return
        member_rows_write(run_id=run_id, rows=rows, now=now)
        TrainingRun.objects.filter(pk=run_id).update(
            precompute_shards_done=F("precompute_shards_done") + 1
        )
        TrainingRun.objects.filter(
            pk=run_id, precompute_shards_done__gte=F("precompute_shards"), precomputed_at=None
        ).update(precomputed_at=now)


def run_active_locked(run_id: int) -> bool:
    """Whether the run is the active one, locking its row until the transaction ends: activating
    another run waits for the rows being written, and rows computed from a run that lost the
    active flag meanwhile are not written at all."""
    with prepared_cursor() as cursor:
        cursor.execute(_run_sql(locked=True, vendor=connection.vendor), [run_id])
        return cursor.fetchone() is not None


def _learned_run_active_id() -> int | None:
    """The active run's id when it has a model to refresh members with."""
    with prepared_cursor() as cursor:
        cursor.execute(_run_sql(locked=False, vendor=connection.vendor))
        row = cursor.fetchone()
    return None if row is None else row[0]


# The two reads of the active run that every per-member refresh makes (one for nearly every
# event batch): prepared statements, where the ORM built and planned each anew at about three
# times the cost of running it. `vendor` keys the cache: the quoting is the database's.
@functools.cache
def _run_sql(*, locked: bool, vendor: str) -> str:
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        return quote(TrainingRun._meta.get_field(name).column)

    select = f"SELECT {column('id')} FROM {quote(TrainingRun._meta.db_table)} WHERE "
    if locked:
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        return f"{select}{column('id')} = %s AND {column('is_active')}{lock}"
    return (
        f"{select}{column('is_active')} AND {column('model_artifact')} IS NOT NULL "
        f"ORDER BY {column('started_at')} DESC LIMIT 1"
    )


def _shard_store_in_thread(*, run_id: int, rows: list[tuple[int, bytes]], now: dt.datetime) -> None:
    try:
        shard_rows_store(run_id=run_id, rows=rows, now=now)
    finally:
        connection.close()  # this thread's own connection


def member_recommendations_refresh(*, member_id: int) -> bool:
    """Recompute one member's row from the active run's model and their current activity (no
    retraining): ALS folds it into a user vector, the item-item families score it directly.
    Returns False when no learned run is active.

    A retrain or rollback that activates another run while the row is computed makes the row
    stale: it is not written, and the member is computed again from the run active now.
    """
    for _ in range(REFRESH_ATTEMPTS):
        run_id = _learned_run_active_id()
        if run_id is None:
            return False
        models = learned_models_for_run(run_id)
        if models is None:
            return False
        rows = _candidate_rows(models, np.array([member_id], dtype=np.int64), fold_in_all=True)
        with transaction.atomic():
            if run_active_locked(run_id):
                member_rows_write(run_id=run_id, rows=rows, now=timezone.now())
                return True
        logger.info("member %s: run %s was replaced while refreshing; again", member_id, run_id)
    return False


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
    memory_release()
    peak_memory_reset()
    TrainingRun.objects.filter(pk=run.pk).update(precompute_started_at=timezone.now())
    if inline:
        precompute_shards_inline(run_id=run.pk, plan=plan, in_memory=in_memory)
        TrainingRun.objects.filter(pk=run.pk).update(
            metrics={
                **run.metrics,
                "precompute_seconds": time.perf_counter() - stage,
                "precompute_peak_mb": peak_memory_mb(),
            }
        )
        return
    for first, last in plan:
        transaction.on_commit(
            functools.partial(
                task_queue,
                func="recommendations.tasks.precompute_shard",
                args=(run.pk, first, last),
                repair="the scheduled precompute_resume_missing queues the range again",
                group=f"precompute-{run.pk}",
            ),
            robust=True,
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
