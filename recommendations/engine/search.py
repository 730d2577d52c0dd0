"""Parameter search per model family: optuna's TPE sampler with median pruning, in a budget.

Every family in :data:`SEARCH_SPACES` gets its own study, maximising NDCG@k on ``validation``
(scored from ``train``, ``train``'s courses excluded). The first trial of each study is the
family's incumbent (the parameters serving now) or its defaults, so a search re-checks the
current choice on today's data before exploring.

Pruning: a trial first reports NDCG on a quarter of the validation members (for ALS, after half
its iterations, from inside the fit), and optuna's median pruner stops a trial that is below
the median of earlier trials at that step; a surviving trial is scored on every member.

Budget: the families share ``time_budget_s``; families run cheapest first, each gets the
budget left divided by the families left (a cheap family's unused time goes to the next), and
at most ``trials_per_family`` trials. A trial that started runs to its end, so the search can
overrun the budget by about one trial. ``clock`` is injectable for tests.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from recommendations.engine.als import AlsModel, als_fit
from recommendations.engine.families import (
    FAMILY_DEFAULTS,
    LearnedModel,
    _ease_gram,
    model_fit,
    model_scorer,
)
from recommendations.engine.metrics import evaluate_scorer
from recommendations.engine.sparse_ops import Sparse, as_csr

__all__ = ["SEARCH_ORDER", "SEARCH_SPACES", "families_compare", "family_search"]

logger = logging.getLogger(__name__)

SEARCH_ORDER = ("popularity", "cosine", "bm25", "ease", "als")


def _als_space(trial, n_courses: int) -> dict[str, Any]:
    return {
        "factors": trial.suggest_int("factors", 8, 256, log=True),
        "regularization": trial.suggest_float("regularization", 1e-3, 10.0, log=True),
        "alpha": trial.suggest_float("alpha", 0.5, 100.0, log=True),
        "iterations": trial.suggest_int("iterations", 5, 25),
    }


#: kNN neighbours per course searched up to this many: what precompute and member refreshes
#: cost grows with them, and past a few hundred the held-out gains are small.
MAX_NEIGHBOURS = 500


def _neighbours(trial, n_courses: int) -> int:
    return trial.suggest_int("neighbours", 5, _neighbours_high(n_courses), log=True)


def _neighbours_high(n_courses: int) -> int:
    return max(5, min(MAX_NEIGHBOURS, n_courses - 1))


def _cosine_space(trial, n_courses: int) -> dict[str, Any]:
    return {
        "neighbours": _neighbours(trial, n_courses),
        "binary": trial.suggest_categorical("binary", [True, False]),
    }


def _bm25_space(trial, n_courses: int) -> dict[str, Any]:
    return {
        "neighbours": _neighbours(trial, n_courses),
        "k1": trial.suggest_float("k1", 0.1, 200.0, log=True),
        "b": trial.suggest_float("b", 0.0, 1.0),
        "binary": trial.suggest_categorical("binary", [True, False]),
    }


def _ease_space(trial, n_courses: int) -> dict[str, Any]:
    return {
        "lambda": trial.suggest_float("lambda", 1.0, 1e4, log=True),
        "binary": trial.suggest_categorical("binary", [True, False]),
    }


#: Each family's search space (optuna define-by-run); popularity has nothing to search.
SEARCH_SPACES: dict[str, Callable] = {
    "als": _als_space,
    "cosine": _cosine_space,
    "bm25": _bm25_space,
    "ease": _ease_space,
}


def family_search(
    train: Sparse,
    validation: Sparse,
    *,
    families: Iterable[str],
    time_budget_s: float,
    trials_per_family: int,
    seed: int = 0,
    k: int = 10,
    incumbents: Mapping[str, Mapping[str, Any]] | None = None,
    max_validation_members: int | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, dict[str, Any]]:
    """Search each of ``families``; returns per family ``{"params", "ndcg", "trials",
    "pruned", "seconds"}`` (``params`` the best complete trial's, ``ndcg`` its validation NDCG).

    ``max_validation_members`` scores every trial on a fixed random sample of that many
    validation members (scoring them against the whole catalog is most of a cheap trial).
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    train = as_csr(train)
    validation = as_csr(validation)
    n_courses = train.shape[1]
    members = np.flatnonzero(np.diff(validation.indptr) > 0)
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(members)
    if max_validation_members is not None:
        shuffled = shuffled[:max_validation_members]
    everyone = np.sort(shuffled)
    quarter = np.sort(shuffled[: max(1, shuffled.size // 4)])
    wanted = [family for family in SEARCH_ORDER if family in set(families)]
    incumbents = incumbents or {}
    results: dict[str, dict[str, Any]] = {}
    started = clock()
    grams: dict[bool, np.ndarray] = {}

    for position, family in enumerate(wanted):
        family_started = clock()
        if family == "popularity":
            model = model_fit(train, "popularity")
            ndcg = evaluate_scorer(
                model_scorer(model, train), train, validation, k=k, members=everyone
            )["ndcg"]
            results[family] = {
                "params": {},
                "ndcg": ndcg,
                "trials": 1,
                "pruned": 0,
                "seconds": clock() - family_started,
            }
            continue
        left = time_budget_s - (family_started - started)
        share = max(left, 0.0) / (len(wanted) - position)

        def evaluate(model, subset=everyone):
            return evaluate_scorer(
                model_scorer(model, train), train, validation, k=k, members=subset
            )["ndcg"]

        def objective(trial, family=family):
            params = SEARCH_SPACES[family](trial, n_courses)
            if family == "ease":
                binary = bool(params["binary"])
                if binary not in grams:
                    grams[binary] = _ease_gram(train, binary=binary)
                model = model_fit(train, family, params, seed=seed, gram=grams[binary])
            elif family == "als":
                model = _als_with_pruning(train, params, trial, evaluate, quarter, seed)
            else:
                model = model_fit(train, family, params, seed=seed)
            if family != "als":
                trial.report(evaluate(model, quarter), 0)
                if trial.should_prune():
                    raise optuna.TrialPruned()
            return evaluate(model)

        study = optuna.create_study(
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=5),
            pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0),
        )
        first = {**FAMILY_DEFAULTS[family], **dict(incumbents.get(family) or {})}
        study.enqueue_trial(_space_params(family, first, n_courses), skip_if_exists=True)
        # The first trial always runs (the incumbent must be measured); the rest share the time.
        study.optimize(objective, n_trials=1)
        remaining = share - (clock() - family_started)
        if trials_per_family > 1 and remaining > 0:
            study.optimize(objective, n_trials=trials_per_family - 1, timeout=remaining)
        complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
        if not complete:
            continue
        best = max(complete, key=lambda t: (t.value, -t.number))
        results[family] = {
            "params": {**FAMILY_DEFAULTS[family], **_plain(best.params)},
            "ndcg": float(best.value),
            "trials": len(complete) + len(pruned),
            "pruned": len(pruned),
            "seconds": clock() - family_started,
        }
        logger.info("search %s: %s", family, results[family])
    return results


def _als_with_pruning(train, params, trial, evaluate, quarter, seed):
    """Fit ALS, reporting NDCG on ``quarter`` after half the iterations (pruned: raises)."""
    import optuna

    halfway = max(1, int(params["iterations"]) // 2) - 1

    def callback(iteration, user_factors, item_factors):
        if iteration != halfway:
            return
        partial = AlsModel(user_factors=user_factors.copy(), item_factors=item_factors.copy())
        trial.report(evaluate(LearnedModel(family="als", params=params, als=partial), quarter), 0)
        if trial.should_prune():
            raise optuna.TrialPruned()

    als = als_fit(train, seed=seed, callback=callback, **params)
    return LearnedModel(family="als", params=params, als=als)


def _space_params(family: str, params: Mapping[str, Any], n_courses: int) -> dict[str, Any]:
    """The searchable part of ``params`` (what ``enqueue_trial`` takes), inside the space."""
    names = {
        "als": ("factors", "regularization", "alpha", "iterations"),
        "cosine": ("neighbours", "binary"),
        "bm25": ("neighbours", "k1", "b", "binary"),
        "ease": ("lambda", "binary"),
    }[family]
    chosen = {name: params[name] for name in names if name in params}
    if "neighbours" in chosen:
        chosen["neighbours"] = int(min(max(chosen["neighbours"], 5), _neighbours_high(n_courses)))
    return chosen


def _plain(params: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: value.item() if isinstance(value, np.generic) else value
        for name, value in params.items()
    }


def families_compare(
    train: Sparse,
    test: Sparse,
    candidates: Mapping[str, Mapping[str, Any]],
    *,
    k: int = 10,
    seed: int = 0,
    members: np.ndarray | None = None,
) -> dict[str, dict[str, Any]]:
    """Fit each family's candidate parameters on ``train`` and measure them on ``test`` (the
    same ``members`` for all): per family ``{"params", "metrics", "fit_seconds", "model"}``.
    A family whose fit fails is left out (logged)."""
    out: dict[str, dict[str, Any]] = {}
    for family in [f for f in SEARCH_ORDER if f in candidates]:
        started = time.perf_counter()
        try:
            model = model_fit(train, family, dict(candidates[family]), seed=seed)
        except (MemoryError, np.linalg.LinAlgError, ValueError) as error:
            logger.warning("family %s failed: %s", family, error)
            continue
        fit_seconds = time.perf_counter() - started
        metrics = evaluate_scorer(model_scorer(model, train), train, test, k=k, members=members)
        out[family] = {
            "params": model.params,
            "metrics": metrics,
            "fit_seconds": fit_seconds,
            "model": model,
        }
    return out
