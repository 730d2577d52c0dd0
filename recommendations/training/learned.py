"""Learned models from activity: interactions, family choice and search, the refit, artifacts.

The Django side of the engine's families, search, metrics and text modules: it reads
enrolments, bookmarks and dismissals into a weighted (members × courses) matrix, chooses a model
family on a time-ordered held-out split (searching parameters when due), refits the winner on
every interaction, and packs what workers need into a training run's `model_artifact`.
"""

import json
import logging
import time
from dataclasses import dataclass, field, replace

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
    """What a learned run serves: the chosen family fitted on every interaction (`model`), the
    matrix it was fitted on (`matrix`, rows `member_ids`, columns `course_ids`), the family's
    item-item similar courses, text similarity and the cold courses it covers."""

    member_ids: np.ndarray
    course_ids: np.ndarray
    model: engine.LearnedModel
    matrix: sp.csr_array
    item_similarity: sp.csr_array
    text_similarity: sp.csr_array
    cold_courses: np.ndarray

    @property
    def family(self) -> str:
        return self.model.family

    @property
    def params(self) -> dict:
        return self.model.params

    def member_positions(self, member_ids: np.ndarray) -> np.ndarray:
        return positions_of(self.member_ids, member_ids)


@dataclass(frozen=True)
class SearchResult:
    """The winner of the last parameter search, refitted by every retrain until the next one:
    its family and parameters, the interaction count when it was searched, each searched
    family's best parameters, and `measured`: the held-out metrics of the final choice (each
    finalist and popularity, as `metrics["families"]` of the run that searched)."""

    family: str
    params: dict
    interactions: int
    families: dict
    measured: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "family": self.family,
            "params": self.params,
            "interactions": self.interactions,
            "families": self.families,
            "measured": self.measured,
        }

    @classmethod
    def from_json(cls, value: dict | None) -> "SearchResult | None":
        if not value or "family" not in value:
            return None
        return cls(
            family=value["family"],
            params=dict(value.get("params") or {}),
            interactions=int(value.get("interactions") or 0),
            families=dict(value.get("families") or {}),
            measured=dict(value.get("measured") or {}),
        )

    @property
    def refit_only(self) -> bool:
        """Whether a retrain between searches can refit the winner without measuring again:
        a learned winner whose measurement (and popularity's) was stored with it."""
        return self.family != "popularity" and {self.family, "popularity"} <= set(self.measured)


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
    shape = (member_ids.size, course_ids.size)
    # One table at a time, each as positions of known pairs only: at 20 M enrolments every
    # full-length temporary is 80-160 MB, so none is concatenated before it is filtered.
    tables = (
        (activity.enrol_member, activity.enrol_course, activity.enrol_latest),
        (activity.bookmark_member, activity.bookmark_course, activity.bookmark_time),
        (activity.dismiss_member, activity.dismiss_course, activity.dismiss_time),
    )
    rows, cols, kept = [], [], []
    for table_members, table_courses, _ in tables:
        table_rows = positions_of(member_ids, table_members)
        table_cols = positions_of(course_ids, table_courses)
        known = (table_rows >= 0) & (table_cols >= 0)
        index_type = np.int32 if max(shape) < 2**31 else np.int64
        rows.append(table_rows[known].astype(index_type))
        del table_rows
        cols.append(table_cols[known].astype(index_type))
        del table_cols
        kept.append(known)
    enrol_known = kept[0]
    enrol_weight = engine.watch_weight(activity.enrol_progress[enrol_known] / 100.0)
    enrol_weight += engine.ENROL_WEIGHT
    enrol_weight += engine.FINISH_WEIGHT * activity.enrol_completed[enrol_known]
    weights = np.concatenate(
        [
            enrol_weight,
            np.full(rows[1].size, float(engine.BOOKMARK_WEIGHT)),
            np.full(rows[2].size, float(engine.DISMISS_WEIGHT)),
        ]
    )
    del enrol_weight
    matrix = engine.interaction_matrix(
        np.concatenate(rows), np.concatenate(cols), weights, n_members=shape[0], n_courses=shape[1]
    )
    del weights
    # Latest event time per pair: each table holds one row per (member, course) (unique
    # constraints), so the element-wise maximum of the three tables' time matrices is it.
    latest = None
    for (_, _, table_times), table_rows, table_cols, known in zip(
        tables, rows, cols, kept, strict=True
    ):
        table = sp.csr_array((table_times[known], (table_rows, table_cols)), shape=shape)
        latest = table if latest is None else latest.maximum(table)
    del rows, cols, kept
    latest = engine.as_csr(latest, copy=False)
    if not (
        np.array_equal(latest.indptr, matrix.indptr)
        and np.array_equal(latest.indices, matrix.indices)
    ):
        # Dismissed pairs are in the time tables but not in the matrix.
        latest = engine.as_csr(latest.multiply(engine.presence(matrix)), copy=False)
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


def families_allowed(n_courses: int) -> tuple[list[str], dict]:
    """The configured families this catalog can afford, and why the others are left out."""
    config = settings.RECOMMENDATIONS
    allowed, skipped = [], {}
    for family in config["FAMILIES"]:
        if family == "ease" and not engine.ease_fits(
            n_courses, max_courses=config["EASE_MAX_COURSES"]
        ):
            skipped[family] = (
                f"{n_courses} courses, above EASE_MAX_COURSES {config['EASE_MAX_COURSES']}"
            )
            continue
        allowed.append(family)
    return allowed, skipped


def search_due(*, stored: SearchResult | None, interactions: int, requested: bool) -> str | None:
    """Why this retrain searches (None: it refits the stored winner). A search runs when asked
    for (admin, `retrain --search`, the schedule), when none was stored, when the stored family
    is no longer allowed, or when interactions grew by SEARCH_GROWTH_SHARE since it."""
    config = settings.RECOMMENDATIONS
    if requested:
        return "requested"
    if stored is None:
        return "no earlier search"
    if stored.family not in (*config["FAMILIES"], "popularity"):
        return f"the stored family {stored.family} is no longer configured"
    growth = config["SEARCH_GROWTH_SHARE"]
    if interactions >= stored.interactions * (1.0 + growth):
        return (
            f"interactions grew from {stored.interactions} to {interactions} "
            f"(at least {growth:.0%})"
        )
    return None


def _search(
    train: sp.csr_array, times: sp.csr_array, *, families: list[str], stored, seed: int
) -> dict:
    """The search on a member sample of the training split: each family's best parameters
    (optuna TPE with pruning), validated on each sampled member's latest interactions.

    `times` are every interaction's times (the split's and the held-out ones): only the
    sample's entries are read from them, so no training-split copy of them is ever made (at a
    million members it was 700 MB at the retrain's peak)."""
    config = settings.RECOMMENDATIONS
    sample = _sample_rows(train, limit=config["SEARCH_MAX_MEMBERS"], seed=seed)
    search_train, validation = engine.holdout_split(
        sample,
        seed=seed + 1,
        by_time=times.multiply(engine.presence(sample)),
        n_last=config["HOLDOUT_LAST"],
        min_interactions=2,
    )
    incumbents = {}
    if stored is not None:
        incumbents = {family: entry.get("params") for family, entry in stored.families.items()}
        incumbents[stored.family] = stored.params
    return engine.family_search(
        search_train,
        validation,
        families=[*families, "popularity"],
        time_budget_s=config["SEARCH_BUDGET_SECONDS"],
        trials_per_family=config["SEARCH_TRIALS_PER_FAMILY"],
        seed=seed,
        k=config["EVALUATION_K"],
        incumbents=incumbents,
        max_validation_members=config["SEARCH_VALIDATION_MEMBERS"],
    )


def learned_models_fit(
    *,
    member_ids: np.ndarray,
    course_ids: np.ndarray,
    interactions: Interactions,
    stored: SearchResult | None = None,
    search_requested: bool = False,
) -> tuple[LearnedModels | None, dict, str, SearchResult | None]:
    """Choose a family on a time-ordered held-out split, then refit it on every interaction.

    A search retrain (see `search_due`) holds out each member's latest `HOLDOUT_LAST`
    interactions, searches every allowed family's parameters on a member sample of the training
    part, fits the finalists on the training part and measures them on the held-out part beside
    popularity (`metrics["families"]`); the best NDCG@k wins if it beats popularity, and is
    fitted again on all interactions: that model is served. Every other retrain fits the stored
    winner on all interactions at once and reports the measurement stored with it: the split
    chooses the model, and the choice stands until the next search. Returns (models or None,
    metrics, message, the search result to store). None with a message when there is too little
    data or nothing beats popularity, so the run serves rule-based reasons only.
    """
    config = settings.RECOMMENDATIONS
    metrics: dict = {"interactions": interactions.nnz}
    if interactions.nnz < config["LEARNED_MIN_INTERACTIONS"]:
        message = (
            f"Rule-based only: {interactions.nnz} interactions, fewer than the "
            f"{config['LEARNED_MIN_INTERACTIONS']} needed to learn from activity."
        )
        return None, metrics, message, stored

    families, skipped = families_allowed(course_ids.size)
    why = search_due(stored=stored, interactions=interactions.nnz, requested=search_requested)
    if stored is not None and why is None and stored.family not in (*families, "popularity"):
        why = f"the stored family {stored.family} is not allowed here ({skipped})"
    if why is None and stored.refit_only:
        return _stored_winner_refit(
            member_ids=member_ids,
            course_ids=course_ids,
            interactions=interactions,
            stored=stored,
            metrics=metrics,
        )
    return _held_out_choice(
        member_ids=member_ids,
        course_ids=course_ids,
        interactions=interactions,
        stored=stored,
        why=why,
        families=families,
        skipped=skipped,
        metrics=metrics,
    )


def _stored_winner_refit(
    *,
    member_ids: np.ndarray,
    course_ids: np.ndarray,
    interactions: Interactions,
    stored: SearchResult,
    metrics: dict,
) -> tuple[LearnedModels | None, dict, str, SearchResult]:
    """A retrain between searches: the stored winner fitted on every interaction, with the
    held-out measurement of the search that chose it."""
    k = settings.RECOMMENDATIONS["EVALUATION_K"]
    metrics["search"] = {
        "ran": False,
        "why": f"refit of the stored {stored.family} (searched at {stored.interactions} "
        "interactions; measured on that search's held-out split)",
        "families": {},
    }
    metrics["families"] = {family: dict(entry) for family, entry in stored.measured.items()}
    learned, popularity = stored.measured[stored.family], stored.measured["popularity"]
    metrics["family"] = stored.family
    metrics["params"] = stored.params
    metrics["learned"] = _measurement(learned)
    metrics["popularity"] = _measurement(popularity)
    refit_started = time.perf_counter()
    model = engine.model_fit(
        interactions.matrix, stored.family, stored.params, seed=settings.RECOMMENDATIONS["SEED"]
    )
    metrics["refit_seconds"] = time.perf_counter() - refit_started
    models, problem = _served(
        member_ids=member_ids, course_ids=course_ids, interactions=interactions, model=model
    )
    if models is None:
        return None, metrics, problem, stored
    message = (
        f"{stored.family} with the stored parameters, fitted on all interactions (NDCG@{k} "
        f"{learned['ndcg']:.4f} vs popularity {popularity['ndcg']:.4f} on the held-out split "
        f"of the search at {stored.interactions} interactions)."
    )
    return models, metrics, message, stored


def _measurement(entry: dict) -> dict:
    return {key: value for key, value in entry.items() if key not in ("params", "fit_seconds")}


def _held_out_choice(
    *,
    member_ids: np.ndarray,
    course_ids: np.ndarray,
    interactions: Interactions,
    stored: SearchResult | None,
    why: str | None,
    families: list[str],
    skipped: dict,
    metrics: dict,
) -> tuple[LearnedModels | None, dict, str, SearchResult | None]:
    config = settings.RECOMMENDATIONS
    seed, k = config["SEED"], config["EVALUATION_K"]
    train, test = engine.holdout_split(
        interactions.matrix,
        seed=seed,
        by_time=interactions.times,
        n_last=config["HOLDOUT_LAST"],
        min_interactions=2,
    )
    started = time.perf_counter()
    searched: dict = {}
    if why is not None:
        searched = _search(
            train,
            interactions.times,
            families=families,
            stored=stored,
            seed=seed,
        )
        # The finalists (the best SEARCH_FINALISTS families on the search's validation) go on
        # to the full split; fitting every family on all training data costs a search retrain
        # more than it tells at the scale of thousands of members.
        ranked = sorted(
            (family for family in searched if family != "popularity"),
            key=lambda family: -searched[family]["ndcg"],
        )
        finalists = ranked[: config["SEARCH_FINALISTS"]]
        candidates = {family: searched[family]["params"] for family in finalists}
        candidates["popularity"] = {}
        metrics["search_seconds"] = time.perf_counter() - started
    elif stored.family == "popularity":
        # Nothing beat popularity at the last search: measure its families' best again.
        candidates = {
            family: entry["params"]
            for family, entry in stored.families.items()
            if family in families and "params" in entry
        }
        candidates["popularity"] = {}
    else:
        # A winner stored without its measurement: measure it once, and store that with it.
        candidates = {stored.family: stored.params, "popularity": {}}
    metrics["search"] = {
        "ran": why is not None,
        "why": why
        or f"refit of the stored {stored.family} (searched at {stored.interactions} interactions)",
        "families": {
            family: {key: result[key] for key in ("ndcg", "trials", "pruned", "seconds")}
            for family, result in searched.items()
        },
    }
    if skipped:
        metrics["search"]["skipped"] = skipped

    # The final choice: every candidate fitted on the training part, measured on the same
    # held-out members (a fixed sample of at most EVALUATION_MAX_MEMBERS).
    fit_started = time.perf_counter()
    test_members = np.flatnonzero(np.diff(test.indptr) > 0)
    if test_members.size > config["EVALUATION_MAX_MEMBERS"]:
        rng = np.random.default_rng(seed)
        test_members = np.sort(
            rng.choice(test_members, size=config["EVALUATION_MAX_MEMBERS"], replace=False)
        )
    compared = engine.families_compare(
        train, test, candidates, k=k, seed=seed, members=test_members
    )
    metrics["evaluate_seconds"] = time.perf_counter() - fit_started
    metrics["families"] = {
        family: {
            "params": result["params"],
            "fit_seconds": result["fit_seconds"],
            **result["metrics"],
        }
        for family, result in compared.items()
    }
    learned = {f: r for f, r in compared.items() if f != "popularity"}
    popularity = compared["popularity"]["metrics"]
    metrics["popularity"] = popularity
    if not learned:
        result = stored
        if why is not None:
            result = SearchResult(
                family="popularity",
                params={},
                interactions=interactions.nnz,
                families={f: {"params": e["params"]} for f, e in searched.items()},
            )
        return None, metrics, "Rule-based only: no learned family could be fitted.", result
    chosen = max(
        learned, key=lambda f: (learned[f]["metrics"]["ndcg"], -engine.SEARCH_ORDER.index(f))
    )
    best = learned[chosen]
    metrics["family"] = chosen
    metrics["params"] = best["params"]
    metrics["learned"] = best["metrics"]
    result = stored
    if why is not None:
        result = SearchResult(
            family=chosen,
            params=best["params"],
            interactions=interactions.nnz,
            families={
                family: {"params": entry["params"]}
                for family, entry in searched.items()
                if family != "popularity"
            },
        )
    if best["metrics"]["ndcg"] <= popularity["ndcg"]:
        message = (
            f"Rule-based only: the best family ({chosen}) NDCG@{k} "
            f"{best['metrics']['ndcg']:.4f} did not beat popularity {popularity['ndcg']:.4f} "
            "on the held-out split."
        )
        return None, metrics, message, result
    if result.family == chosen:
        # Retrains until the next search refit the winner and report this measurement.
        measured = {family: metrics["families"][family] for family in (chosen, "popularity")}
        result = replace(result, measured=measured)

    # Serve what was learned from all data: the chosen configuration on every interaction.
    refit_started = time.perf_counter()
    model = engine.model_refit(interactions.matrix, best["model"], seed=seed)
    metrics["refit_seconds"] = time.perf_counter() - refit_started
    models, problem = _served(
        member_ids=member_ids, course_ids=course_ids, interactions=interactions, model=model
    )
    if models is None:
        return None, metrics, problem, result
    message = (
        f"{chosen} NDCG@{k} {best['metrics']['ndcg']:.4f} vs popularity "
        f"{popularity['ndcg']:.4f} on {best['metrics']['members_evaluated']} held-out members"
        f" ({'searched' if why is not None else 'stored parameters'}); served model refitted "
        "on all interactions."
    )
    return models, metrics, message, result


def _served(
    *,
    member_ids: np.ndarray,
    course_ids: np.ndarray,
    interactions: Interactions,
    model: engine.LearnedModel,
) -> tuple[LearnedModels | None, str]:
    """What a run serves from `model` (fitted on every interaction), or None and why not."""
    if model.als is not None and not (
        np.all(np.isfinite(model.als.user_factors)) and np.all(np.isfinite(model.als.item_factors))
    ):
        return None, "Rule-based only: ALS produced non-finite factors."
    popular = engine.popularity_scores(interactions.matrix)
    cold = popular <= settings.RECOMMENDATIONS["COLD_COURSE_MAX_MEMBERS"]
    models = LearnedModels(
        member_ids=member_ids,
        course_ids=course_ids,
        model=model,
        matrix=interactions.matrix,
        item_similarity=engine.model_similar_courses(model, top_k=SIMILAR_PER_COURSE),
        # Only cold courses are ever text candidates, so only they need to be neighbours.
        text_similarity=engine.text_similarity(
            _course_texts(course_ids), top_k=SIMILAR_PER_COURSE, columns=cold
        ),
        cold_courses=cold,
    )
    return models, ""


def learned_models_dumps(models: LearnedModels) -> bytes:
    model = models.model
    values = {
        "member_ids": models.member_ids,
        "course_ids": models.course_ids,
        "family": np.array(model.family),
        "params": np.array(json.dumps(model.params)),
        "matrix": models.matrix,
        "item_similarity": models.item_similarity,
        "text_similarity": models.text_similarity,
        "cold_courses": models.cold_courses,
    }
    if model.als is not None:
        values["user_factors"] = model.als.user_factors
        values["item_factors"] = model.als.item_factors
    if model.weights is not None:
        values["weights"] = model.weights
    if model.popularity is not None:
        values["popularity"] = model.popularity
    return artifact_dumps(values)


def learned_models_loads(payload: bytes) -> LearnedModels:
    values = artifact_loads(payload)
    als = None
    if "user_factors" in values:
        als = engine.AlsModel(
            user_factors=values["user_factors"], item_factors=values["item_factors"]
        )
    model = engine.LearnedModel(
        family=str(values["family"]),
        params=json.loads(str(values["params"])),
        als=als,
        weights=values.get("weights"),
        popularity=values.get("popularity"),
    )
    return LearnedModels(
        member_ids=values["member_ids"],
        course_ids=values["course_ids"],
        model=model,
        matrix=values["matrix"],
        item_similarity=values["item_similarity"],
        text_similarity=values["text_similarity"],
        cold_courses=values["cold_courses"].astype(bool),
    )
