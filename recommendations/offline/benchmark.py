"""`make bench`: the full retrain + precompute at benchmark scale, next to its measured floor.

The floor is what the pipeline cannot avoid, measured in the same run on the same data: a raw
implicit ALS fit, implicit's own batch recommend for every member, and a raw COPY of as many
rows as the precompute writes. The engine's faster batch recommend is timed beside it for
reference.
"""

import resource
import statistics
import time
from dataclasses import dataclass, field

import numpy as np
from django.db import connection, transaction

from members.models import Member
from recommendations import engine
from recommendations.models import MemberRecommendations, TrainingRun
from recommendations.training.learned import interactions_extract
from recommendations.training.precompute import (
    learned_models_for_run,
    member_recommendations_refresh,
)
from recommendations.training.runs import training_run_execute


@dataclass
class BenchReport:
    stages: dict[str, float] = field(default_factory=dict)
    floor: dict[str, float] = field(default_factory=dict)
    facts: dict[str, object] = field(default_factory=dict)

    @property
    def pipeline_seconds(self) -> float:
        return self.stages["pipeline total"]

    @property
    def floor_seconds(self) -> float:
        return sum(self.floor.values())


def _peak_memory_mb() -> float:
    # ru_maxrss is in KiB on Linux; children cover nothing here (all work is in-process).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _copy_floor(rows: list[tuple[int, bytes]]) -> float:
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        cursor.execute(
            "CREATE TEMP TABLE bench_copy (member_id bigint, payload bytea) ON COMMIT DROP"
        )
        with cursor.cursor.copy("COPY bench_copy (member_id, payload) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return time.perf_counter() - started


def _implicit_recommend_seconds(als: engine.AlsModel, matrix) -> float:
    """implicit's own batch recommend (top 50, already-seen courses filtered) for every member."""
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    model = AlternatingLeastSquares(factors=als.factors, dtype=np.float32)
    model.user_factors, model.item_factors = als.user_factors, als.item_factors
    user_items = engine.als_confidence(matrix, alpha=1.0)
    members = np.arange(user_items.shape[0])
    with threadpool_limits(1, "blas"):
        started = time.perf_counter()
        model.recommend(members, user_items, N=50, filter_already_liked_items=True)
        return time.perf_counter() - started


def bench_run(*, refresh_samples: int = 50) -> BenchReport:
    if connection.vendor != "postgresql":
        raise RuntimeError("The benchmark measures PostgreSQL (COPY); set DATABASE_URL.")
    report = BenchReport()
    started = time.perf_counter()
    run = training_run_execute(trigger="bench", precompute_inline=True)
    report.stages["pipeline total"] = time.perf_counter() - started
    if run.status != TrainingRun.Status.SUCCEEDED or run.kind != TrainingRun.Kind.LEARNED:
        raise RuntimeError(f"the run did not produce learned models: {run.message}")
    metrics = run.metrics
    for key, label in [
        ("read_activity_seconds", "read activity (one query per table)"),
        ("rules_seconds", "rules snapshot"),
        ("extract_seconds", "extract interactions"),
        ("search_seconds", "ALS search (sample)"),
        ("fit_seconds", "ALS fit"),
        ("learn_seconds", "learn (split, search, fit, evaluate, similarities)"),
        ("ranker_seconds", "ranker (features, global + mixed fit, AUC)"),
        ("precompute_seconds", "precompute all members (candidates + COPY upsert)"),
    ]:
        if key in metrics:
            report.stages[label] = float(metrics[key])
    report.facts.update(
        members=metrics["members"],
        courses=metrics["courses"],
        interactions=metrics["interactions"],
        params=metrics["params"],
        als_ndcg=metrics["als"]["ndcg"],
        popularity_ndcg=metrics["popularity"]["ndcg"],
        rows_written=MemberRecommendations.objects.filter(run=run).count(),
    )

    # The floor, on the same data: fit on all interactions, recommend for all, COPY the rows.
    models = learned_models_for_run(run.pk)
    interactions = interactions_extract(member_ids=models.member_ids, course_ids=models.course_ids)
    stage = time.perf_counter()
    als = engine.als_fit(interactions.matrix, seed=7, **metrics["params"])
    report.floor["raw implicit fit"] = time.perf_counter() - stage
    report.floor["raw implicit recommend top-50, all members"] = _implicit_recommend_seconds(
        als, interactions.matrix
    )
    # For reference, not part of the floor: the engine's own batch recommend, which the
    # precompute uses (smaller blocks, threads; see engine/README.md).
    stage = time.perf_counter()
    members = np.arange(interactions.matrix.shape[0])
    engine.als_recommend(als, interactions.matrix, members=members, n=50)
    report.facts["engine_recommend_all_seconds"] = time.perf_counter() - stage
    rows = [
        (member_id, bytes(payload))
        for member_id, payload in MemberRecommendations.objects.filter(run=run).values_list(
            "member_id", "payload"
        )
    ]
    report.floor[f"raw COPY of {len(rows)} rows"] = _copy_floor(rows)

    sample = list(
        Member.objects.filter(enrolments__isnull=False)
        .distinct()
        .order_by("?")
        .values_list("pk", flat=True)[:refresh_samples]
    )
    timings = []
    for member_id in sample:
        stage = time.perf_counter()
        member_recommendations_refresh(member_id=member_id)
        timings.append((time.perf_counter() - stage) * 1000)
    report.facts["refresh_ms_mean"] = statistics.mean(timings) if timings else None
    report.facts["refresh_ms_p95"] = float(np.percentile(timings, 95)) if timings else None
    report.facts["peak_memory_mb"] = _peak_memory_mb()
    return report
