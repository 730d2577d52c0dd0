"""Stage 2 on a small synthetic corpus, the combination rule, metrics and chart arithmetic."""

import pytest

from catalog.tagging.evaluation import (
    cross_validate,
    fold_assignments,
    metrics_at_threshold,
    metrics_top_k,
    skill_coverage,
)
from catalog.tagging.model import LogisticTagger, NeighbourTagger, combine, tagger_build
from core.charts import line_chart

SPREADSHEETS, DATABASES, DESIGN, RARE = 1, 2, 3, 4

TOPICS = {
    SPREADSHEETS: "pivot tables formulas workbook cells vlookup",
    DATABASES: "queries joins indexes tables schema transactions",
    DESIGN: "typography layout colour grids mockups",
}


def corpus(per_skill: int = 8):
    texts, labels = [], []
    for skill_id, words in TOPICS.items():
        vocabulary = words.split()
        for i in range(per_skill):
            rotated = vocabulary[i % len(vocabulary) :] + vocabulary[: i % len(vocabulary)]
            texts.append(f"course {i} about " + " ".join(rotated[:4]))
            labels.append({skill_id})
    texts.append("a lone course on pivot tables")
    labels.append({SPREADSHEETS, RARE})
    return texts, labels


@pytest.mark.parametrize("tagger_class", [LogisticTagger, NeighbourTagger])
def test_model_learns_topics_and_leaves_rare_skills_out(tagger_class):
    texts, labels = corpus()
    tagger = tagger_class(min_positives=5).fit(texts, labels)

    predicted = tagger.predict(
        ["workbook formulas and vlookup", "schema design and joins", "grids and typography"]
    )

    assert tagger.modelled_skills == frozenset({SPREADSHEETS, DATABASES, DESIGN})
    assert [max(scores, key=scores.get) for scores in predicted] == [
        SPREADSHEETS,
        DATABASES,
        DESIGN,
    ]
    assert all(RARE not in scores for scores in predicted)
    assert all(0.0 <= c <= 1.0 for scores in predicted for c in scores.values())
    assert predicted[0][SPREADSHEETS] > 0.5
    assert predicted[0].get(DESIGN, 0.0) < 0.5


def test_unknown_model_is_refused():
    with pytest.raises(ValueError, match="Unknown tagger model 'forest'"):
        tagger_build(kind="forest", min_positives=5)


def test_combine_averages_modelled_skills_and_keeps_stage1_for_the_rest():
    combined = combine(
        stage1={SPREADSHEETS: 0.8, RARE: 0.45},
        stage2={SPREADSHEETS: 0.6, DATABASES: 0.3},
        modelled=frozenset({SPREADSHEETS, DATABASES}),
    )

    assert combined == {
        SPREADSHEETS: (0.7, "model"),
        DATABASES: (0.15, "model"),
        RARE: (0.45, "tagger"),
    }


def test_metric_arithmetic_on_a_known_case():
    truth = [{1, 2}, {3}, {4}]
    scores = [{1: 0.9, 2: 0.3, 5: 0.6}, {3: 0.5, 6: 0.2}, {}]

    # At 0.5: suggested {1,5}, {3}, {} → 2 correct of 3 suggested; 2 of 4 curated found.
    assert metrics_at_threshold(truth=truth, scores=scores, threshold=0.5) == {
        "precision": 0.6667,
        "recall": 0.5,
        "f1": 0.5714,
        "correct": 2,
        "suggested": 3,
        "actual": 4,
    }
    # Top 2: {1,5}, {3,6}, {} → 2 correct of 4; top 3 also finds 2.
    assert metrics_top_k(truth=truth, scores=scores, k=2)["precision"] == 0.5
    top3 = metrics_top_k(truth=truth, scores=scores, k=3)
    assert (top3["correct"], top3["suggested"], top3["recall"]) == (3, 5, 0.75)
    # Skills 1 and 3 of the curated {1,2,3,4} are found at 0.5.
    assert skill_coverage(truth=truth, scores=scores, threshold=0.5) == 0.5


def test_metrics_without_suggestions_are_zero_not_an_error():
    result = metrics_at_threshold(truth=[{1}], scores=[{}], threshold=0.5)

    assert (result["precision"], result["recall"], result["f1"]) == (0.0, 0.0, 0.0)


def test_folds_are_balanced_and_refused_when_impossible():
    assignment = fold_assignments(10, folds=3, seed=1)

    assert sorted(assignment.tolist()) == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    with pytest.raises(ValueError):
        fold_assignments(2, folds=3, seed=1)


def test_cross_validation_reports_stage1_and_each_candidate():
    texts, labels = corpus()
    stage1 = [{skill: 0.45 for skill in tags} for tags in labels]

    results = cross_validate(
        texts=texts,
        truth=labels,
        stage1=stage1,
        build={"logistic": lambda: LogisticTagger(min_positives=5)},
        folds=3,
        seed=0,
        threshold=0.4,
        top_k=5,
    )

    assert set(results) == {"stage1", "logistic"}
    assert results["stage1"]["at_threshold"]["precision"] == 1.0
    assert results["stage1"]["at_threshold"]["recall"] == 1.0
    assert results["logistic"]["at_threshold"]["actual"] == sum(len(t) for t in labels)


def test_line_chart_places_points_on_a_shared_axis():
    chart = line_chart(
        series={"p": [0.0, 1.0], "r": [0.5, 0.5]},
        x_labels=["a", "b"],
        width=200,
        height=100,
        margin=20,
    )

    assert [s.points for s in chart.series] == ["20.0,80.0 180.0,20.0", "20.0,50.0 180.0,50.0"]
    assert chart.x_labels == [(20.0, "a"), (180.0, "b")]
    assert [(s.label_x, s.label_y) for s in chart.series] == [(186.0, 20.0), (186.0, 50.0)]


def test_line_chart_ends_the_plot_where_the_longest_series_name_still_fits():
    chart = line_chart(
        series={"popularity hit rate": [0.2, 0.3], "als": [0.1, 0.1]},
        x_labels=["#1", "#2"],
        width=640,
        height=240,
        margin=36,
    )

    # 6 px gap and 7 px per character for the 19 characters of the longest name.
    assert chart.plot_width == 640 - 36 - (6 + 7 * 19)
    assert [s.last_x for s in chart.series] == [501.0, 501.0]
    assert all(s.label_x + 7 * len(s.label) <= chart.width for s in chart.series)


def test_line_chart_spreads_series_names_that_would_print_over_each_other():
    chart = line_chart(
        series={"a": [0.50], "b": [0.51], "c": [0.9], "d": [0.50]},
        x_labels=["#1"],
        width=200,
        height=100,
        margin=20,
    )

    # Top to bottom by the lines' ends: c (y 26), b (49.4), a and d (50, a first as given).
    assert [s.last_y for s in chart.series] == [50.0, 49.4, 26.0, 50.0]
    assert [s.label_y for s in chart.series] == [62.4, 49.4, 26.0, 75.4]


def test_line_chart_keeps_crowded_names_at_the_bottom_inside_the_chart():
    chart = line_chart(
        series={name: [0.0] for name in "abcde"},
        x_labels=["#1"],
        width=200,
        height=100,
        margin=20,
    )

    # All end on the 0 line (y 80); five names need 52 px below it, so they rise to fit.
    assert [s.label_y for s in chart.series] == [41.5, 54.5, 67.5, 80.5, 93.5]
    with pytest.raises(ValueError):
        line_chart(series={"precision": [0.1]}, x_labels=["a", "b"])
