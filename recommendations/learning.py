"""Learned models from activity: interaction extraction, ALS search/fit, offline evaluation.

The Django side of the engine's ALS, metrics and text modules: it reads enrolments, bookmarks
and dismissals into a weighted (members × courses) matrix, fits and evaluates, and packs what
workers need into a training run's `model_artifact`.
"""

import datetime as dt
import logging
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from django.conf import settings
from django.db.models import Q

from catalog.models import Course, CourseSkill
from members.models import Bookmark, Enrolment
from recommendations import engine
from recommendations.artifacts import artifact_dumps, artifact_loads
from recommendations.indexing import positions_of
from recommendations.models import Dismissal

logger = logging.getLogger(__name__)

SIMILAR_PER_COURSE = 20


@dataclass(frozen=True)
class Interactions:
    """Weighted interactions and the time of each pair's latest event (same sparsity)."""

    matrix: sp.csr_array
    times: sp.csr_array

    @property
    def nnz(self) -> int:
        return int(self.matrix.nnz)


@dataclass(frozen=True)
class LearnedModels:
    member_ids: np.ndarray
    course_ids: np.ndarray
    als: engine.AlsModel
    params: dict
    train: sp.csr_array
    test: sp.csr_array
    item_similarity: sp.csr_array
    text_similarity: sp.csr_array
    cold_courses: np.ndarray

    def member_positions(self, member_ids: np.ndarray) -> np.ndarray:
        return positions_of(self.member_ids, member_ids)


def _seconds(moment: dt.datetime | None) -> float:
    return moment.timestamp() if moment else np.nan


def interactions_extract(
    *,
    member_ids: np.ndarray,
    course_ids: np.ndarray,
    member_id_range: tuple[int, int] | None = None,
) -> Interactions:
    """Enrolments (enrol < watch progress < finish), bookmarks and dismissals as a matrix.

    Rows and columns follow the sorted `member_ids` / `course_ids`; rows outside
    `member_id_range` (inclusive ids) stay empty, so a precompute shard reads only its members.
    """
    scope = Q()
    if member_id_range is not None:
        scope = Q(member_id__gte=member_id_range[0], member_id__lte=member_id_range[1])
    events: list[tuple[int, int, float, float]] = []
    for member, course, progress, enrolled, watched, completed in Enrolment.objects.filter(
        scope
    ).values_list(
        "member_id",
        "course_id",
        "progress_percent",
        "enrolled_at",
        "last_watched_at",
        "completed_at",
    ):
        weight = engine.ENROL_WEIGHT + float(engine.watch_weight(progress / 100.0))
        if completed is not None:
            weight += engine.FINISH_WEIGHT
        latest = max(_seconds(enrolled), _seconds(watched) or 0, _seconds(completed) or 0)
        events.append((member, course, weight, latest))
    for member, course, created in Bookmark.objects.filter(scope).values_list(
        "member_id", "course_id", "created_at"
    ):
        events.append((member, course, engine.BOOKMARK_WEIGHT, _seconds(created)))
    for member, course, created in Dismissal.objects.filter(scope).values_list(
        "member_id", "course_id", "created_at"
    ):
        events.append((member, course, engine.DISMISS_WEIGHT, _seconds(created)))

    shape = (member_ids.size, course_ids.size)
    if not events:
        empty = sp.csr_array(shape)
        return Interactions(matrix=empty, times=empty)
    table = np.array(events, dtype=np.float64)
    rows = positions_of(member_ids, table[:, 0].astype(np.int64))
    cols = positions_of(course_ids, table[:, 1].astype(np.int64))
    known = (rows >= 0) & (cols >= 0)
    rows, cols, weights, times = rows[known], cols[known], table[known, 2], table[known, 3]
    matrix = engine.interaction_matrix(rows, cols, weights, n_members=shape[0], n_courses=shape[1])
    latest = sp.csr_array((times, (rows, cols)), shape=shape)
    latest.sum_duplicates()  # sums times of a pair's events; only their order matters below
    latest = engine.as_csr(latest.multiply(engine.presence(matrix)))
    return Interactions(matrix=matrix, times=latest)


def _course_texts(course_ids: np.ndarray) -> list[str]:
    names: dict[int, list[str]] = {}
    for course_id, skill_name in CourseSkill.objects.filter(
        status=CourseSkill.Status.APPROVED
    ).values_list("course_id", "skill__name"):
        names.setdefault(course_id, []).append(skill_name)
    texts = dict.fromkeys(course_ids.tolist(), "")
    for pk, title, description in Course.objects.values_list("pk", "title", "description"):
        if pk in texts:
            texts[pk] = engine.course_text(title, description, names.get(pk, []))
    return [texts[pk] for pk in course_ids.tolist()]


def _sample_rows(matrix: sp.csr_array, *, limit: int, seed: int) -> sp.csr_array:
    """Rows of at most `limit` random members (others emptied) to keep the search cheap."""
    active = np.flatnonzero(np.diff(matrix.indptr) > 0)
    if active.size <= limit:
        return matrix
    keep = np.random.default_rng(seed).choice(active, size=limit, replace=False)
    mask = np.zeros(matrix.shape[0])
    mask[keep] = 1.0
    return engine.as_csr(sp.diags_array(mask) @ matrix)


def learned_models_fit(
    *, member_ids: np.ndarray, course_ids: np.ndarray, interactions: Interactions
) -> tuple[LearnedModels | None, dict, str]:
    """Search, fit and evaluate ALS against popularity on a time-ordered held-out split.

    Returns (models or None, metrics, message). None with a message when there is too little
    data or ALS does not beat popularity, so the run serves rule-based reasons only.
    """
    config = settings.RECOMMENDATIONS
    seed, k = config["SEED"], config["EVALUATION_K"]
    metrics: dict = {"interactions": interactions.nnz}
    if interactions.nnz < config["ALS_MIN_INTERACTIONS"]:
        message = (
            f"Rule-based only: {interactions.nnz} interactions, fewer than the "
            f"{config['ALS_MIN_INTERACTIONS']} needed to learn from activity."
        )
        return None, metrics, message

    started = time.perf_counter()
    train, test = engine.holdout_split(
        interactions.matrix,
        test_fraction=config["HOLDOUT_FRACTION"],
        seed=seed,
        by_time=interactions.times,
    )
    params = dict(config["ALS_DEFAULTS"])
    if config["ALS_SEARCH_TRIALS"] > 0:
        sample = _sample_rows(train, limit=config["ALS_SEARCH_MAX_MEMBERS"], seed=seed)
        search_train, validation = engine.holdout_split(
            sample, test_fraction=config["HOLDOUT_FRACTION"], seed=seed + 1
        )
        params, trials = engine.als_search(
            search_train,
            validation,
            grid=config["ALS_GRID"],
            n_trials=config["ALS_SEARCH_TRIALS"],
            seed=seed,
            k=k,
            time_budget_s=config["ALS_SEARCH_BUDGET_SECONDS"],
        )
        metrics["search"] = [
            {"params": t["params"], "ndcg": t["metrics"]["ndcg"], "seconds": t["seconds"]}
            for t in trials
        ]
    metrics["search_seconds"] = time.perf_counter() - started

    fit_started = time.perf_counter()
    als = engine.als_fit(train, seed=seed, **params)
    metrics["fit_seconds"] = time.perf_counter() - fit_started
    evaluated = {
        "als": engine.evaluate_scorer(engine.als_scorer(als), train, test, k=k),
        "popularity": engine.evaluate_scorer(engine.popularity_scorer(train), train, test, k=k),
    }
    metrics.update(evaluated)
    metrics["params"] = params
    if not np.all(np.isfinite(als.user_factors)) or not np.all(np.isfinite(als.item_factors)):
        return None, metrics, "Rule-based only: ALS produced non-finite factors."
    if evaluated["als"]["ndcg"] <= evaluated["popularity"]["ndcg"]:
        message = (
            f"Rule-based only: ALS NDCG@{k} {evaluated['als']['ndcg']:.4f} did not beat "
            f"popularity {evaluated['popularity']['ndcg']:.4f} on the held-out split."
        )
        return None, metrics, message

    popularity = engine.popularity_scores(interactions.matrix)
    models = LearnedModels(
        member_ids=member_ids,
        course_ids=course_ids,
        als=als,
        params=params,
        train=train,
        test=test,
        item_similarity=engine.als_similar_courses(als, top_k=SIMILAR_PER_COURSE),
        text_similarity=engine.text_similarity(_course_texts(course_ids), top_k=SIMILAR_PER_COURSE),
        cold_courses=popularity <= config["COLD_COURSE_MAX_MEMBERS"],
    )
    message = (
        f"ALS NDCG@{k} {evaluated['als']['ndcg']:.4f} vs popularity "
        f"{evaluated['popularity']['ndcg']:.4f} on {evaluated['als']['members_evaluated']} "
        "held-out members."
    )
    return models, metrics, message


def learned_models_dumps(models: LearnedModels) -> bytes:
    return artifact_dumps(
        {
            "member_ids": models.member_ids,
            "course_ids": models.course_ids,
            "user_factors": models.als.user_factors,
            "item_factors": models.als.item_factors,
            "regularization": np.array([models.params["regularization"]]),
            "alpha": np.array([models.params["alpha"]]),
            "train": models.train,
            "test": models.test,
            "item_similarity": models.item_similarity,
            "text_similarity": models.text_similarity,
            "cold_courses": models.cold_courses,
        }
    )


def learned_models_loads(payload: bytes) -> LearnedModels:
    values = artifact_loads(payload)
    return LearnedModels(
        member_ids=values["member_ids"],
        course_ids=values["course_ids"],
        als=engine.AlsModel(
            user_factors=values["user_factors"], item_factors=values["item_factors"]
        ),
        params={
            "regularization": float(values["regularization"][0]),
            "alpha": float(values["alpha"][0]),
        },
        train=values["train"],
        test=values["test"],
        item_similarity=values["item_similarity"],
        text_similarity=values["text_similarity"],
        cold_courses=values["cold_courses"].astype(bool),
    )
