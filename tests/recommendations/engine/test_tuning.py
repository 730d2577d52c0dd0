import itertools

import numpy as np
import scipy.sparse as sp

from recommendations.engine.interactions import holdout_split
from recommendations.engine.tuning import ALS_GRID, als_search


def planted(seed=0, groups=3, members=40, courses=15):
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for member in range(groups * members):
        group = member // members
        picked = group * courses + rng.choice(courses, 6, replace=False)
        rows += [member] * picked.size
        cols += picked.tolist()
    return sp.csr_array(
        (np.ones(len(rows)), (rows, cols)), shape=(groups * members, groups * courses)
    )


SMALL_GRID = {"factors": [2, 8], "regularization": [0.05], "alpha": [10.0], "iterations": [1, 8]}


def split():
    return holdout_split(planted(), test_fraction=0.3, seed=0)


def test_search_picks_the_trial_with_the_best_ndcg():
    train, validation = split()
    best, trials = als_search(train, validation, grid=SMALL_GRID, seed=1, k=5)
    assert len(trials) == 4
    assert [t["params"] for t in trials] == [
        {"factors": f, "regularization": 0.05, "alpha": 10.0, "iterations": i}
        for f, i in itertools.product([2, 8], [1, 8])
    ]
    best_trial = max(trials, key=lambda t: t["metrics"]["ndcg"])
    assert best == best_trial["params"]
    assert all(t["seconds"] >= 0 and "members_evaluated" in t["metrics"] for t in trials)
    again, _ = als_search(train, validation, grid=SMALL_GRID, seed=1, k=5)
    assert again == best


def test_random_search_samples_distinct_combinations_of_the_default_grid():
    train, validation = split()
    grid = dict(ALS_GRID, factors=(4, 8), iterations=(2, 3))
    _, trials = als_search(train, validation, grid=grid, n_trials=3, seed=5)
    params = [tuple(t["params"].values()) for t in trials]
    assert len(params) == len(set(params)) == 3
    assert all(p["alpha"] in ALS_GRID["alpha"] for p in (t["params"] for t in trials))


def test_time_budget_skips_trials_predicted_to_overrun_and_keeps_the_best_so_far():
    train, validation = split()
    ticks = iter(range(1000))

    def clock():  # every call advances one "second"
        return float(next(ticks))

    # Grid order: (2 factors, 1 it), (2, 8), (8, 1), (8, 8), cost units 2, 16, 8, 64. Trial 1
    # takes 1 s for 2 units; at the next check 3 s have passed, so (2, 8) is predicted to end at
    # 3 + 8 = 11 s > 9: skipped; (8, 1) at 4 + 4 = 8 s: runs (1 s, now 2 s per 10 units);
    # (8, 8) at 7 + 12.8 s: skipped.
    best, trials = als_search(
        train, validation, grid=SMALL_GRID, seed=1, time_budget_s=9, clock=clock
    )
    assert [(t["params"]["factors"], t["params"]["iterations"]) for t in trials] == [
        (2, 1),
        (8, 1),
    ]
    assert best == max(trials, key=lambda t: t["metrics"]["ndcg"])["params"]
    best, trials = als_search(train, validation, grid=SMALL_GRID, seed=1, time_budget_s=0)
    assert len(trials) == 1 and best == trials[0]["params"]


def test_incumbent_is_tried_first_and_counts_as_a_trial():
    train, validation = split()
    incumbent = {"factors": 8, "regularization": 0.05, "alpha": 10.0, "iterations": 8}
    _, trials = als_search(
        train, validation, grid=SMALL_GRID, n_trials=2, seed=4, incumbent=incumbent
    )
    assert len(trials) == 2
    assert trials[0]["params"] == incumbent
    assert trials[1]["params"] != incumbent


def test_an_incumbent_from_another_grid_is_ignored():
    train, validation = split()
    _, trials = als_search(
        train, validation, grid=SMALL_GRID, n_trials=1, seed=4, incumbent={"factors": 8}
    )
    assert len(trials) == 1 and trials[0]["params"]["factors"] in (2, 8)
