"""Learned models from activity: interaction extraction, ALS search/fit, offline evaluation.

The Django side of the engine's ALS, metrics and text modules: it reads enrolments, bookmarks
and dismissals into a weighted (members × courses) matrix, fits and evaluates, and packs what
workers need into a training run's `model_artifact`.
"""

import logging
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from django.conf import settings

from catalog.models import Course, CourseSkill
from recommendations import engine
from recommendations.engine.positions import positions_of
from recommendations.training.activity import ActivityArrays, activity_read
from recommendations.training.artifacts import artifact_dumps, artifact_loads

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


def interactions_extract(
    *,
    member_ids: np.ndarray,
    course_ids: np.ndarray,
    member_id_range: tuple[int, int] | None = None,
    activity: ActivityArrays | None = None,
) -> Interactions:
    """Enrolments (enrol < watch progress < finish), bookmarks and dismissals as a matrix.

    Rows and columns follow the sorted `member_ids` / `course_ids`; pass `member_id_range`
    (inclusive ids) to read only a precompute shard's members, or `activity` already read.
    """
    if activity is None:
        activity = activity_read(member_id_range=member_id_range)
    enrol_weight = (
        engine.ENROL_WEIGHT
        + engine.watch_weight(activity.enrol_progress / 100.0)
        + engine.FINISH_WEIGHT * activity.enrol_completed
    )
    members = np.concatenate(
        [activity.enrol_member, activity.bookmark_member, activity.dismiss_member]
    )
    courses = np.concatenate(
        [activity.enrol_course, activity.bookmark_course, activity.dismiss_course]
    )
    weights = np.concatenate(
        [
            enrol_weight,
            np.full(activity.bookmark_member.size, float(engine.BOOKMARK_WEIGHT)),
            np.full(activity.dismiss_member.size, float(engine.DISMISS_WEIGHT)),
        ]
    )
    shape = (member_ids.size, course_ids.size)
    all_rows = positions_of(member_ids, members)
    all_cols = positions_of(course_ids, courses)
    known = (all_rows >= 0) & (all_cols >= 0)
    matrix = engine.interaction_matrix(
        all_rows[known], all_cols[known], weights[known], n_members=shape[0], n_courses=shape[1]
    )
    # Latest event time per pair: each table holds one row per (member, course) (unique
    # constraints), so the element-wise maximum of the three tables' time matrices is it.
    sizes = np.cumsum([activity.enrol_member.size, activity.bookmark_member.size])
    latest = None
    for table_known, table_rows, table_cols, table_times in zip(
        np.split(known, sizes),
        np.split(all_rows, sizes),
        np.split(all_cols, sizes),
        np.split(
            np.concatenate([activity.enrol_latest, activity.bookmark_time, activity.dismiss_time]),
            sizes,
        ),
        strict=True,
    ):
        table = sp.csr_array(
            (table_times[table_known], (table_rows[table_known], table_cols[table_known])),
            shape=shape,
        )
        latest = table if latest is None else latest.maximum(table)
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
    *,
    member_ids: np.ndarray,
    course_ids: np.ndarray,
    interactions: Interactions,
    incumbent: dict | None = None,
    search_round: int = 0,
) -> tuple[LearnedModels | None, dict, str]:
    """Search, fit and evaluate ALS against popularity on a time-ordered held-out split.

    The search re-tries `incumbent` (the serving run's parameters) beside new random
    combinations; `search_round` (the number of earlier learned runs) varies which ones.

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
            seed=seed + search_round,
            incumbent=incumbent,
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
    # Evaluate on a fixed random sample of the held-out members: the metrics settle long before
    # 100,000 members, and both models see the same ones.
    test_members = np.flatnonzero(np.diff(test.indptr) > 0)
    if test_members.size > config["EVALUATION_MAX_MEMBERS"]:
        rng = np.random.default_rng(seed)
        test_members = np.sort(
            rng.choice(test_members, size=config["EVALUATION_MAX_MEMBERS"], replace=False)
        )
    evaluated = {
        "als": engine.evaluate_scorer(
            engine.als_scorer(als), train, test, k=k, members=test_members
        ),
        "popularity": engine.evaluate_scorer(
            engine.popularity_scorer(train), train, test, k=k, members=test_members
        ),
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
    cold = popularity <= config["COLD_COURSE_MAX_MEMBERS"]
    models = LearnedModels(
        member_ids=member_ids,
        course_ids=course_ids,
        als=als,
        params=params,
        train=train,
        test=test,
        item_similarity=engine.als_similar_courses(als, top_k=SIMILAR_PER_COURSE),
        # Only cold courses are ever text candidates, so only they need to be neighbours.
        text_similarity=engine.text_similarity(
            _course_texts(course_ids), top_k=SIMILAR_PER_COURSE, columns=cold
        ),
        cold_courses=cold,
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
