"""Hyper-parameter search for ALS, chosen by NDCG@k on a validation split."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from recommendations.engine.als import als_fit, als_scorer
from recommendations.engine.metrics import evaluate_scorer
from recommendations.engine.sparse_ops import Sparse

__all__ = ["ALS_GRID", "als_search"]

#: The default search space (4 · 3³ = 108 combinations). Small catalogs with few
#: interactions per member do best with few factors, large ones with many.
ALS_GRID: dict[str, tuple[float, ...]] = {
    "factors": (16, 32, 64, 128),
    "regularization": (0.01, 0.05, 0.1),
    "alpha": (5.0, 15.0, 40.0),
    "iterations": (10, 15, 20),
}


def als_search(
    train: Sparse,
    validation: Sparse,
    *,
    grid: Mapping[str, Sequence[float]] | None = None,
    n_trials: int | None = None,
    seed: int = 0,
    k: int = 10,
    time_budget_s: float | None = None,
    batch_size: int = 512,
    clock: Callable[[], float] = time.monotonic,
    incumbent: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Fit ALS on ``train`` for each trial and keep the best NDCG@k on ``validation``.

    ``grid`` maps ``als_fit`` keyword names to candidate values (default :data:`ALS_GRID`).
    With ``n_trials`` a seeded random sample of that many distinct combinations is tried (a
    small random search); without it, the whole grid in order. Every fit uses ``seed``.

    ``incumbent`` (the parameters serving now, from an earlier search) is tried first and
    counts as one of the ``n_trials``, so each search re-checks the current choice on today's
    data and spends the rest of its trials on combinations it has not; varying ``seed`` between
    searches walks the grid over successive retrains.

    ``time_budget_s`` bounds the search: the first trial always runs; a later one runs only if
    the time so far plus its predicted cost (factors × iterations at the rate the trials so far
    took) stays within the budget (``clock`` is injectable for tests). Returns
    ``(best_params, trials)``: each trial is ``{"params", "metrics", "seconds"}``, in the order
    run; ties in NDCG go to the earlier trial.
    """
    space = dict(ALS_GRID if grid is None else grid)
    names = list(space)
    combos = list(itertools.product(*(space[name] for name in names)))
    if not combos:
        raise ValueError("the grid is empty")
    first: list[tuple] = []
    if incumbent is not None and all(name in incumbent for name in names):
        first = [tuple(incumbent[name] for name in names)]
        combos = [combo for combo in combos if combo != first[0]]
    if n_trials is not None:
        rng = np.random.default_rng(seed)
        picked = rng.permutation(len(combos))[: max(n_trials - len(first), 0)]
        combos = [combos[i] for i in picked]
    combos = first + combos

    start = clock()
    trials: list[dict[str, Any]] = []
    best_params: dict[str, Any] = {}
    best_ndcg = -np.inf
    spent_units = 0.0
    for combo in combos:
        params = {name: _plain(value) for name, value in zip(names, combo, strict=True)}
        if time_budget_s is not None and trials:
            # A trial costs about factors × iterations times what one unit cost so far; one
            # that would end past the budget is skipped (a cheaper one later may still fit).
            elapsed = clock() - start
            predicted = _cost_units(params) * sum(t["seconds"] for t in trials) / spent_units
            if elapsed + predicted > time_budget_s:
                continue
        trial_start = clock()
        model = als_fit(train, seed=seed, **params)
        metrics = evaluate_scorer(als_scorer(model), train, validation, k=k, batch_size=batch_size)
        trials.append({"params": params, "metrics": metrics, "seconds": clock() - trial_start})
        spent_units += _cost_units(params)
        if metrics["ndcg"] > best_ndcg:
            best_ndcg, best_params = metrics["ndcg"], params
    return best_params, trials


def _cost_units(params: Mapping[str, Any]) -> float:
    """Relative cost of one fit: factors × iterations (1 for what the grid leaves out)."""
    return float(params.get("factors", 1)) * float(params.get("iterations", 1))


def _plain(value: Any) -> Any:
    """numpy scalars to Python numbers (keeps params JSON-friendly)."""
    return value.item() if isinstance(value, np.generic) else value
