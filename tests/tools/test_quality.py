"""The pure parts of `make quality` (tools/quality/run_quality.py) on tiny synthetic data."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from recommendations.engine.metrics import hit_rate_at_k, ndcg_at_k
from tools.quality.run_quality import (
    Interaction,
    catalog_split,
    cosine_knn_baseline,
    ease_baseline,
    evaluate_parse,
    hit_rate_and_ndcg,
    knn_vote,
    main,
    matrices_build,
    micro_prf,
    popularity_baseline,
    scorer_evaluate,
    split_last_per_member,
    top5_ceiling,
    top_k_unseen,
    top_suggestions,
    verdicts,
)


def rows_of(*triples):
    return [
        Interaction(member=m, course=c, timestamp=t, line=i + 2)
        for i, (m, c, t) in enumerate(triples)
    ]


def test_split_holds_out_each_members_latest_row_last_in_file_order_on_ties():
    rows = rows_of(
        ("a", "c1", 10),
        ("a", "c2", 30),
        ("b", "c1", 5),  # b's only row: stays in train, no test
        ("a", "c3", 30),  # ties with c2 at the latest time: the later line is the test row
        ("c", "c2", 1),
        ("c", "c1", 2),
    )
    train, test = split_last_per_member(rows)
    assert [rows[i].course for i in test if rows[i].member == "a"] == ["c3"]
    assert test == [3, 5]
    assert sorted(train + test) == list(range(len(rows)))


def test_matrices_drop_unknown_courses_and_pairs_already_trained_on():
    rows = rows_of(
        ("a", "c1", 1),
        ("a", "c2", 2),
        ("b", "c2", 1),
        ("b", "c9", 2),  # a course only the test has: not scored (evaluate: unknown id)
        ("c", "c1", 1),
        ("c", "c1", 2),  # the same pair again: already in train, dropped
    )
    train, test = [0, 2, 4], [1, 3, 5]
    data = matrices_build(rows, train, test)
    assert data.courses == ["c1", "c2"]
    assert data.dropped_unknown == 1
    assert data.dropped_in_train == 1
    assert [data.members[m] for m in data.test_members] == ["a"]
    assert [c.tolist() for c in data.test_courses] == [[1]]


def test_top_k_unseen_masks_seen_breaks_ties_by_index_and_pads():
    scores = np.array([[0.5, 0.9, 0.5, 0.1], [1.0, 1.0, 1.0, 1.0]])
    seen = sp.csr_array(np.array([[0, 1, 0, 0], [1, 1, 1, 0]]))
    assert top_k_unseen(scores, seen, k=2).tolist() == [[0, 2], [3, -1]]
    assert top_k_unseen(scores, seen, k=6).tolist()[1] == [3, -1, -1, -1, -1, -1]


def test_hit_rate_and_ndcg_match_the_engines_metrics():
    rng = np.random.default_rng(3)
    recommended = np.array([rng.permutation(20)[:5] for _ in range(40)])
    recommended[::7, 4] = -1
    relevant_sets = [rng.choice(20, size=1 + i % 3, replace=False) for i in range(40)]
    relevant_sets[5] = np.array([], dtype=np.int64)  # a member without test courses: skipped
    rows = np.repeat(np.arange(40), [s.size for s in relevant_sets])
    relevant = sp.csr_array(
        (np.ones(rows.size), (rows, np.concatenate(relevant_sets))), shape=(40, 20)
    )
    hr, ndcg = hit_rate_and_ndcg(recommended, relevant_sets, k=5)
    assert hr == pytest.approx(hit_rate_at_k(recommended, relevant, k=5))
    assert ndcg == pytest.approx(ndcg_at_k(recommended, relevant, k=5))


def test_one_held_out_item_ndcg_is_one_over_log2_rank_plus_one():
    recommended = np.array([[4, 7, 1], [7, 4, 1], [0, 2, 3]])
    relevant = [np.array([1]), np.array([7]), np.array([9])]
    hr, ndcg = hit_rate_and_ndcg(recommended, relevant, k=3)
    assert hr == pytest.approx(2 / 3)
    assert ndcg == pytest.approx((1 / math.log2(4) + 1) / 3)


def small_matrices():
    # Two groups of learners: courses 0-2 go together, 3-5 go together; each learner takes
    # their group's three in a different order, so every held-out course is in others' train.
    triples = []
    for m in range(6):
        group = [0, 1, 2] if m < 3 else [3, 4, 5]
        shift = m % 3
        for t, c in enumerate(group[shift:] + group[:shift]):
            triples.append((f"m{m}", f"c{c}", t))
    rows = rows_of(*triples)
    train, test = split_last_per_member(rows)
    return matrices_build(rows, train, test)


@pytest.mark.parametrize(
    "build",
    [
        lambda train: cosine_knn_baseline(train, neighbours=None),
        lambda train: cosine_knn_baseline(train, neighbours=2),
        lambda train: ease_baseline(train, regularization=1.0),
    ],
)
def test_item_baselines_recommend_the_course_of_the_learners_group(build):
    data = small_matrices()
    result = scorer_evaluate(build(data.train), data, k=1)
    assert result == {"hit_rate": 1.0, "ndcg": 1.0, "members_evaluated": 6}


def test_popularity_ranks_by_member_count():
    train = sp.csr_array(np.array([[1, 1, 0], [0, 1, 0], [0, 1, 1]], dtype=np.float32))
    scores = popularity_baseline(train)(np.array([0, 2]))
    assert scores.shape == (2, 3)
    assert top_k_unseen(scores, train[[0, 2]], k=1).tolist() == [[2], [0]]


def test_catalog_split_halves_a_seeded_permutation():
    tagged, untagged = catalog_split(7, seed=0)
    order = np.random.default_rng(0).permutation(7)
    assert sorted(tagged) == sorted(order[:3])
    assert sorted(untagged) == sorted(order[3:])


def test_top_suggestions_take_the_five_most_confident_non_taxonomist_tags():
    export = [
        {"course_id": "x", "skill": f"S{i}", "source": "model", "confidence": str(i / 10)}
        for i in range(7)
    ]
    export += [
        {"course_id": "x", "skill": "Curated", "source": "taxonomist", "confidence": "1.0"},
        {"course_id": "x", "skill": "Tie", "source": "tagger", "confidence": "0.6"},
        {"course_id": "y", "skill": "Other", "source": "tagger", "confidence": "0.9"},
    ]
    assert top_suggestions(export, {"x"}, n=5) == {"x": ["S6", "Tie", "S5", "S4", "S3"]}


def test_micro_prf_counts_over_courses_case_insensitively():
    truth = {"a": {"Python", "SQL"}, "b": {"Excel", "Finance", "Accounting"}, "c": {"Git"}}
    predictions = {"a": ["python", "Java"], "b": ["excel", "finance", "Tax"]}
    result = micro_prf(predictions, truth)
    assert (result.correct, result.predicted, result.relevant) == (3, 5, 6)
    assert result.precision == pytest.approx(3 / 5)
    assert result.recall == pytest.approx(3 / 6)
    assert result.f1 == pytest.approx(2 * 0.6 * 0.5 / 1.1)


def test_ceiling_counts_only_skills_that_exist_and_five_picks():
    truth = {"a": {f"s{i}" for i in range(8)}, "b": {"s1", "unknown"}}
    ceiling = top5_ceiling(truth, {f"s{i}" for i in range(8)}, n=5)
    assert ceiling.correct == 6
    assert ceiling.recall == pytest.approx(6 / 10)
    assert ceiling.precision == pytest.approx(6 / 10)


def test_knn_vote_weights_neighbours_by_similarity_power():
    similarity = np.array([[0.9, 0.5, 0.45, 0.0]])
    labels = [["A"], ["B"], ["B", "C"], ["D"]]
    assert knn_vote(similarity, labels, neighbours=3, power=1.0, n=2) == [["B", "A"]]
    assert knn_vote(similarity, labels, neighbours=3, power=3.0, n=2) == [["A", "B"]]
    assert knn_vote(similarity, labels, neighbours=1, power=1.0, n=5) == [["A"]]


def test_verdicts_name_the_baselines_at_or_above_the_project():
    baselines = {"pop": {"ndcg": 0.1}, "ease": {"ndcg": 0.3}, "same": {"ndcg": 0.2}}
    assert verdicts({"ndcg": 0.2}, baselines, ["ndcg"]) == {"ndcg": ["ease", "same"]}


def test_missing_data_files_stop_with_a_clear_message(tmp_path, capsys):
    assert main(["--data-dir", str(tmp_path), "--out", str(tmp_path / "q.json")]) == 2
    out = capsys.readouterr().out
    assert "coco_udemy_enrolments.csv" in out and "QUALITY_DATA_DIR" in out


def test_evaluate_parse_finds_the_model_among_the_other_features_reports():
    output = (
        "noise before the JSON\n"
        '{"family": "bm25", "k": 10, "run": 3, "test": "last", "test_rows_unknown_ids": 0,'
        ' "learned": {"ndcg": 0.2, "hit_rate": 0.3},'
        ' "popularity": {"ndcg": 0.1, "hit_rate": 0.15},'
        ' "people": {"hit_rate": {"learned": 0.4}}, "goal_paths": {"k": 10}}'
    )
    model, popularity, keys = evaluate_parse(output)
    assert (model["ndcg"], model["hit_rate"]) == (0.2, 0.3)
    assert popularity == {"ndcg": 0.1, "hit_rate": 0.15}
    assert "people" in keys and "goal_paths" in keys


def test_evaluate_parse_refuses_a_report_without_one_model_entry():
    output = '{"popularity": {"ndcg": 0.1}, "learned": {"ndcg": 0.2}, "other": {"ndcg": 0.3}}'
    with pytest.raises(RuntimeError, match="no single model entry"):
        evaluate_parse(output)
