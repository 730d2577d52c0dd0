import itertools

import numpy as np
import scipy.sparse as sp

from recommendations.engine.interactions import holdout_split
from recommendations.engine.search import families_compare, family_search


def _data(seed=0):
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for member in range(150):
        group = member % 3
        for course in rng.choice(10, size=6, replace=False):
            rows.append(member)
            cols.append(group * 10 + course)
    matrix = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(150, 30))
    matrix.sum_duplicates()
    return holdout_split(matrix, test_fraction=0.2, seed=seed)


def test_each_family_gets_its_incumbent_first_and_a_best_inside_its_space():
    train, validation = _data()
    results = family_search(
        train,
        validation,
        families=["popularity", "cosine", "ease", "als"],
        time_budget_s=60,
        trials_per_family=4,
        seed=0,
        k=5,
        incumbents={"cosine": {"neighbours": 7, "binary": True}},
    )
    assert set(results) == {"popularity", "cosine", "ease", "als"}
    for family in ("cosine", "ease", "als"):
        assert 1 <= results[family]["trials"] <= 4
        assert results[family]["ndcg"] > results["popularity"]["ndcg"]
    assert 5 <= results["cosine"]["params"]["neighbours"] <= 29
    assert 1.0 <= results["ease"]["params"]["lambda"] <= 1e4
    assert 8 <= results["als"]["params"]["factors"] <= 256


def test_the_search_is_deterministic_for_a_seed():
    train, validation = _data()

    def run():
        return family_search(
            train, validation, families=["bm25"], time_budget_s=60, trials_per_family=3, seed=3
        )["bm25"]["params"]

    assert run() == run()


def test_the_budget_stops_a_search_after_its_first_trial():
    train, validation = _data()
    ticks = itertools.count(step=100.0)  # every clock reading is 100 s later
    results = family_search(
        train,
        validation,
        families=["cosine", "bm25"],
        time_budget_s=1.0,
        trials_per_family=20,
        seed=0,
        clock=lambda: next(ticks),
    )
    # The incumbent (here the defaults) is always measured; nothing else fits in the budget.
    assert results["cosine"]["trials"] == 1
    assert results["bm25"]["trials"] == 1


def test_families_compare_measures_every_candidate_on_the_same_members():
    train, test = _data()
    compared = families_compare(
        train,
        test,
        {"popularity": {}, "cosine": {"neighbours": 10}, "ease": {"lambda": 20.0}},
        k=5,
    )
    assert list(compared) == ["popularity", "cosine", "ease"]
    evaluated = {c["metrics"]["members_evaluated"] for c in compared.values()}
    assert len(evaluated) == 1
    assert compared["ease"]["metrics"]["ndcg"] > compared["popularity"]["metrics"]["ndcg"]
