"""`make bench`: a search retrain, then a retrain + precompute at benchmark scale next to its
measured floor.

The first retrain searches every family's parameters (`retrain --search`) and reports its own
time (target: under 90 s). The second one refits the stored winner, as every retrain between
searches does; its floor is what it cannot avoid, measured in the same run on the same data for
the chosen family: a raw fit of that family on every interaction (implicit's ALS, implicit's
cosine or BM25 kNN, or textbook dense EASE), a raw batch recommend (top 50, seen excluded) for
every member, and a raw COPY of as many rows as the precompute writes. The engine's batch
recommend is timed beside it for reference.
"""

import statistics
import time
from dataclasses import dataclass, field

import numpy as np
from django.db import connection, transaction

from core.memory import memory_release, process_peak_memory_mb
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


# Members per block of the floor's textbook recommend.
FLOOR_BLOCK_MEMBERS = 100_000


def _raw_fit_and_recommend(family: str, params: dict, matrix) -> tuple[float, float]:
    """Seconds of the textbook fit of `family` on `matrix` and of its batch recommend (top 50,
    seen excluded, every member): implicit's own models, or numpy EASE."""
    import scipy.sparse as sp
    from threadpoolctl import threadpool_limits

    members = np.arange(matrix.shape[0])
    binary = bool(params.get("binary"))
    user_items = sp.csr_matrix(matrix, dtype=np.float32)
    if binary:
        user_items.data[:] = 1.0
    with threadpool_limits(1, "blas"):
        if family == "ease":
            started = time.perf_counter()
            gram = (user_items.T @ user_items).toarray().astype(np.float64)
            gram[np.diag_indices_from(gram)] += params["lambda"]
            inverse = np.linalg.inv(gram)
            weights = (-inverse / np.diag(inverse)).astype(np.float32)
            np.fill_diagonal(weights, 0.0)
            fit = time.perf_counter() - started
            started = time.perf_counter()
            for start in range(0, members.size, 2048):
                block = user_items[start : start + 2048]
                scores = block @ weights
                scores[
                    np.repeat(np.arange(block.shape[0]), np.diff(block.indptr)), block.indices
                ] = -np.inf
                np.argpartition(-scores, 50, axis=1)[:, :50]
            return fit, time.perf_counter() - started
        if family == "als":
            from implicit.cpu.als import AlternatingLeastSquares

            started = time.perf_counter()
            als = engine.als_fit(matrix, seed=7, **params)
            fit = time.perf_counter() - started
            model = AlternatingLeastSquares(factors=als.factors, dtype=np.float32)
            model.user_factors, model.item_factors = als.user_factors, als.item_factors
        else:
            from implicit.nearest_neighbours import BM25Recommender, CosineRecommender

            k = int(params["neighbours"]) + 1
            model = (
                CosineRecommender(K=k)
                if family == "cosine"
                else BM25Recommender(K=k, K1=params["k1"], B=params["b"])
            )
            started = time.perf_counter()
            model.fit(user_items, show_progress=False)
            fit = time.perf_counter() - started
        started = time.perf_counter()
        # In blocks of members, as a serving batch job would: all million at once would hold
        # their score rows together (gigabytes at ten times the scale) for the same work.
        for block in range(0, members.size, FLOOR_BLOCK_MEMBERS):
            rows = members[block : block + FLOOR_BLOCK_MEMBERS]
            model.recommend(rows, user_items[rows], N=50, filter_already_liked_items=True)
        return fit, time.perf_counter() - started


def bench_run(*, refresh_samples: int = 50) -> BenchReport:
    if connection.vendor != "postgresql":
        raise RuntimeError("The benchmark measures PostgreSQL (COPY); set DATABASE_URL.")
    report = BenchReport()
    started = time.perf_counter()
    searched = training_run_execute(trigger="bench-search", precompute_inline=True, search=True)
    report.facts["search_retrain_seconds"] = time.perf_counter() - started
    if searched.status != TrainingRun.Status.SUCCEEDED:
        raise RuntimeError(f"the search retrain failed: {searched.message}")
    report.facts["search"] = searched.metrics.get("search")
    report.facts["search_seconds"] = searched.metrics.get("search_seconds")
    started = time.perf_counter()
    run = training_run_execute(trigger="bench", precompute_inline=True)
    report.stages["pipeline total"] = time.perf_counter() - started
    # The retrains' peak (both, across their per-stage resets); the floor and the refresh
    # samples below are the benchmark's own measuring and are reported apart.
    report.facts["peak_memory_mb"] = process_peak_memory_mb()
    if run.status != TrainingRun.Status.SUCCEEDED or run.kind != TrainingRun.Kind.LEARNED:
        raise RuntimeError(f"the run did not produce learned models: {run.message}")
    metrics = run.metrics
    for key, label in [
        ("read_activity_seconds", "read activity (one query per table)"),
        ("rules_and_learn_seconds", "rules snapshot beside extract + learn (wall)"),
        ("rules_seconds", "  rules snapshot"),
        ("extract_seconds", "  extract interactions"),
        ("evaluate_seconds", "  fit on the training split, evaluate with popularity"),
        ("refit_seconds", "  fit on all interactions"),
        ("learn_seconds", "  learn (search or stored winner, fit, similarities)"),
        ("ranker_seconds", "ranker (features, global + mixed fit, AUC)"),
        ("people_seconds", "people to learn with (neighbours, store, evaluate)"),
        ("similar_seconds", "similar courses per course (build)"),
        ("similar_store_seconds", "similar courses per course (store)"),
        ("precompute_seconds", "precompute all members (candidates + COPY upsert)"),
    ]:
        if key in metrics:
            report.stages[label] = float(metrics[key])
    # Each stage's own peak (the process's peak memory is reset as each stage starts).
    report.facts["stage_peak_mb"] = {
        key.removesuffix("_peak_mb"): round(float(value))
        for key, value in metrics.items()
        if key.endswith("_peak_mb")
    }
    report.facts.update(
        members=metrics["members"],
        courses=metrics["courses"],
        interactions=metrics["interactions"],
        family=metrics["family"],
        params=metrics["params"],
        learned_ndcg=metrics["learned"]["ndcg"],
        families_ndcg={name: values["ndcg"] for name, values in metrics["families"].items()},
        popularity_ndcg=metrics["popularity"]["ndcg"],
        rows_written=MemberRecommendations.objects.filter(run=run).count(),
    )

    # The floor, on the same data: fit on all interactions, recommend for all, COPY the rows.
    models = learned_models_for_run(run.pk)
    interactions = interactions_extract(member_ids=models.member_ids, course_ids=models.course_ids)
    fit, recommend = _raw_fit_and_recommend(
        metrics["family"], metrics["params"], interactions.matrix
    )
    report.floor[f"raw {metrics['family']} fit"] = fit
    report.floor["raw recommend top-50, all members"] = recommend
    # For reference, not part of the floor: the engine's own batch recommend, which the
    # precompute uses (smaller blocks, threads; see engine/README.md).
    stage = time.perf_counter()
    engine.model_recommend(
        models.model,
        interactions.matrix,
        n=50,
        user_vectors=engine.model_user_vectors(
            models.model,
            interactions.matrix,
            fitted_rows=np.arange(interactions.matrix.shape[0]),
        ),
    )
    report.facts["engine_recommend_all_seconds"] = time.perf_counter() - stage
    del models, interactions
    memory_release()
    # Streamed from a server-side cursor: a million rows fetched at once would hold the
    # driver's buffer and the Python rows side by side (a gigabyte at ten times the scale).
    rows = [
        (member_id, bytes(payload))
        for member_id, payload in MemberRecommendations.objects.filter(run=run)
        .values_list("member_id", "payload")
        .iterator(chunk_size=20_000)
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
    # With the floor's textbook fit and recommend and the refresh samples (all in-process).
    report.facts["bench_process_peak_mb"] = process_peak_memory_mb()
    return report
