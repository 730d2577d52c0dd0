"""The tagger on a small synthetic corpus, its operating point, metrics and chart arithmetic."""

import numpy as np
import pytest

from catalog.tagging.evaluation import (
    cross_validate,
    fold_assignments,
    metrics_at_threshold,
    metrics_top_k,
    skill_coverage,
)
from catalog.tagging.model import (
    OperatingPoint,
    SkillTagger,
    apply_operating_point,
    operating_point_choose,
)
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


def test_tagger_learns_topics_and_chooses_its_operating_point():
    texts, labels = corpus()
    no_matches = [{} for _ in texts]
    tagger = SkillTagger(min_positives=5, folds=3).fit(texts, labels, no_matches)

    predicted = tagger.predict(
        ["workbook formulas and vlookup", "schema design and joins", "grids and typography"],
        [{}, {}, {}],
    )

    assert tagger.learned and tagger.fallback_reason == ""
    assert tagger.modelled_skills == frozenset({SPREADSHEETS, DATABASES, DESIGN})
    assert [max(scores, key=scores.get) for scores in predicted] == [
        SPREADSHEETS,
        DATABASES,
        DESIGN,
    ]
    assert all(0.0 <= c <= 1.0 for scores in predicted for c in scores.values())
    point = tagger.operating_point
    # One or two skills per course: a few suggestions each, nearly always right.
    assert point.max_per_course <= 2
    assert point.precision >= 0.9 and point.recall >= 0.9
    suggested = tagger.suggest(["workbook formulas and vlookup"], [{}])
    assert list(suggested[0]) == [SPREADSHEETS]


def test_name_matches_count_for_skills_without_curated_examples():
    texts, labels = corpus()
    # Every curated course that names the rare skill carries it.
    matches = [{RARE: 0.75} if RARE in tags else {} for tags in labels]
    tagger = SkillTagger(min_positives=5, folds=3).fit(texts, labels, matches)

    predicted = tagger.predict(["pivot tables for the rare skill"], [{RARE: 0.75, 99: 0.45}])

    # A named skill is a candidate, even one no curated course carries (99).
    assert {RARE, 99} <= set(predicted[0])


def test_too_few_curated_courses_fall_back_to_name_matching():
    texts, labels = corpus(per_skill=2)
    matches = [{skill: 0.45 for skill in tags} for tags in labels]
    tagger = SkillTagger(min_positives=5, fallback_threshold=0.4).fit(texts, labels, matches)

    assert not tagger.learned
    assert "7 curated courses" in tagger.fallback_reason
    assert tagger.operating_point.threshold == 0.4
    assert tagger.operating_point.max_per_course is None
    assert tagger.suggest(["x", "y"], [{1: 0.45, 2: 0.3}, {}]) == [{1: 0.45}, {}]


def test_operating_point_cuts_between_kept_and_dropped_probabilities():
    course = np.array([0, 0, 1, 1, 2])
    probability = np.array([0.9, 0.3, 0.8, 0.2, 0.35])
    correct = np.array([True, False, True, False, False])

    point = operating_point_choose(
        course=course, probability=probability, correct=correct, actual=2
    )

    # Keeping 0.9 and 0.8 is perfect; with one per course the next candidate is course 2's
    # 0.35, so the cut sits halfway between 0.8 and 0.35.
    assert (point.threshold, point.max_per_course, point.f1) == (0.575, 1, 1.0)


def test_operating_point_maximises_f1_over_threshold_and_per_course_limit():
    # Course 0: right at 0.9 and 0.8, wrong at 0.7; course 1: wrong at 0.95, right at 0.6.
    course = np.array([0, 0, 0, 1, 1])
    probability = np.array([0.9, 0.8, 0.7, 0.95, 0.6])
    correct = np.array([True, True, False, False, True])

    point = operating_point_choose(
        course=course, probability=probability, correct=correct, actual=4
    )

    # Top 2 down to 0.6: 3 right of 4 suggested, 3 of 4 found (F1 0.75); no other point does
    # better (everything: 3/5 and 3/4, F1 0.667; top 1 at 0.9: 1/2 and 1/4). The top 2 keep
    # nothing below 0.6, so the threshold is halfway between 0.6 and 0.
    assert (point.threshold, point.max_per_course) == (0.3, 2)
    assert (point.precision, point.recall, point.f1) == (0.75, 0.75, 0.75)


def test_operating_point_prefers_fewer_surer_suggestions_on_ties_and_keeps_ties_together():
    course = np.array([0, 0, 1, 1])
    probability = np.array([0.9, 0.5, 0.9, 0.5])
    correct = np.array([True, False, True, False])

    point = operating_point_choose(
        course=course, probability=probability, correct=correct, actual=2
    )

    # One per course keeps both 0.9s and nothing else: halfway to 0 (two per course would
    # reach the same F1 at the same cut, with a threshold halfway to 0.5).
    assert (point.threshold, point.max_per_course, point.f1) == (0.45, 1, 1.0)
    # Equal probabilities stand or fall together: no threshold keeps one 0.5 and not the other.
    tied = operating_point_choose(
        course=np.array([0, 1]),
        probability=np.array([0.5, 0.5]),
        correct=np.array([True, False]),
        actual=1,
    )
    assert (tied.threshold, tied.precision, tied.recall) == (0.25, 0.5, 1.0)


def test_apply_operating_point_cuts_by_threshold_then_limit():
    point = OperatingPoint(threshold=0.3, max_per_course=2, precision=0, recall=0, f1=0)

    assert apply_operating_point([{1: 0.9, 2: 0.2, 3: 0.5, 4: 0.4}, {5: 0.1}], point) == [
        {1: 0.9, 3: 0.5},
        {},
    ]


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


def test_cross_validation_reports_name_matching_and_the_tagger_on_held_out_folds():
    texts, labels = corpus(per_skill=10)
    matches = [{skill: 0.45 for skill in tags} for tags in labels]

    results = cross_validate(
        texts=texts,
        truth=labels,
        matches=matches,
        build=lambda: SkillTagger(min_positives=5, folds=3),
        folds=3,
        seed=0,
        fallback_threshold=0.4,
        top_k=5,
    )

    assert set(results) == {"stage1", "combined"}
    assert results["stage1"]["at_threshold"]["precision"] == 1.0
    combined = results["combined"]["at_threshold"]
    assert combined["actual"] == sum(len(t) for t in labels)
    assert combined["precision"] >= 0.9 and combined["recall"] >= 0.9


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
