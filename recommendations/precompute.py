"""Precompute every member's learned candidates into one compact row each.

A run's precompute is split into member-id ranges; each range is one django-q2 task, so more
workers finish sooner. Each range is written in one transaction (COPY into a staging table and
one upsert on PostgreSQL), and every row is replaced whole: a reader sees the previous list or
the new one.
"""

import datetime as dt
import logging
import threading

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from members.models import Member
from recommendations import engine
from recommendations.learning import (
    LearnedModels,
    interactions_extract,
    learned_models_loads,
)
from recommendations.models import MemberRecommendations, TrainingRun

logger = logging.getLogger(__name__)

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
) -> np.ndarray:
    """Fitted factors for members the model knows; a fold-in for the others (or for all)."""
    vectors = np.zeros((member_ids.size, models.als.factors), dtype=np.float32)
    known = models.member_positions(member_ids)
    matrix = interactions.matrix
    use_fitted = (known >= 0) & (not fold_in_all)
    vectors[use_fitted] = models.als.user_factors[known[use_fitted]]
    active = np.diff(matrix.indptr) > 0
    for row in np.flatnonzero(~use_fitted & active).tolist():
        vectors[row] = engine.als_fold_in(
            models.als,
            matrix[[row]],
            regularization=models.params["regularization"],
            alpha=models.params["alpha"],
        )
    return vectors


def _candidate_rows(
    models: LearnedModels, member_ids: np.ndarray, *, fold_in_all: bool = False
) -> list[tuple[int, bytes]]:
    config = settings.RECOMMENDATIONS
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
            user_vectors=_user_vectors(models, member_ids[chunk], sub, fold_in_all=fold_in_all),
            item_factors=models.als.item_factors,
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


def member_rows_write(*, run_id: int, rows: list[tuple[int, bytes]], now: dt.datetime) -> None:
    """Replace the rows of these members in one transaction (COPY + upsert on PostgreSQL)."""
    if not rows:
        return
    table = MemberRecommendations._meta.db_table
    with transaction.atomic():
        if connection.vendor == "postgresql":
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
                    "COPY recommendation_stage (member_id, run_id, computed_at, payload) FROM STDIN"
                ) as copy:
                    for member_id, payload in rows:
                        copy.write_row((member_id, run_id, now, payload))
                cursor.execute(
                    f"INSERT INTO {table} (member_id, run_id, computed_at, payload) "
                    "SELECT member_id, run_id, computed_at, payload FROM recommendation_stage "
                    "ON CONFLICT (member_id) DO UPDATE SET run_id = EXCLUDED.run_id, "
                    "computed_at = EXCLUDED.computed_at, payload = EXCLUDED.payload"
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


def precompute_shard(*, run_id: int, first_member_id: int, last_member_id: int) -> int:
    """Compute and store the rows of members with ids in [first, last]; returns the count.

    Safe to run twice: rows are upserted, and the shard counter only completes the run once.
    """
    models = learned_models_for_run(run_id)
    if models is None:
        return 0
    member_ids = np.fromiter(
        Member.objects.filter(pk__gte=first_member_id, pk__lte=last_member_id)
        .order_by("pk")
        .values_list("pk", flat=True),
        dtype=np.int64,
    )
    now = timezone.now()
    rows = _candidate_rows(models, member_ids) if member_ids.size else []
    member_rows_write(run_id=run_id, rows=rows, now=now)
    with transaction.atomic():
        TrainingRun.objects.filter(pk=run_id).update(
            precompute_shards_done=F("precompute_shards_done") + 1
        )
        TrainingRun.objects.filter(
            pk=run_id, precompute_shards_done__gte=F("precompute_shards"), precomputed_at=None
        ).update(precomputed_at=now)
    return len(rows)


def member_recommendations_refresh(*, member_id: int) -> bool:
    """Recompute one member's row from the active run's models with a fold-in of their
    current activity (no retraining). Returns False when no learned run is active."""
    run_id = (
        TrainingRun.objects.filter(is_active=True, model_artifact__isnull=False)
        .values_list("pk", flat=True)
        .first()
    )
    if run_id is None:
        return False
    models = learned_models_for_run(run_id)
    if models is None:
        return False
    rows = _candidate_rows(models, np.array([member_id], dtype=np.int64), fold_in_all=True)
    member_rows_write(run_id=run_id, rows=rows, now=timezone.now())
    return True
