import numpy as np
import pytest
import scipy.sparse as sp

from recommendations.engine import (
    LEVEL_ADVANCED,
    LEVEL_BEGINNER,
    LEVEL_INTERMEDIATE,
    path_plan,
    role_skill_importance,
    role_skill_order,
)


def plan(rows, importance, *, preference=None, level=None, eligible=None, max_steps=10, weight=0.5):
    n_courses = len(rows)
    n_skills = len(importance)
    coverage = sp.csr_array(
        (
            np.ones(sum(len(r) for r in rows)),
            ([i for i, r in enumerate(rows) for _ in r], [s for r in rows for s in r]),
        ),
        shape=(n_courses, n_skills),
    )
    steps = path_plan(
        coverage,
        np.array(importance, dtype=np.float64),
        preference=np.zeros(n_courses) if preference is None else np.array(preference),
        level=np.zeros(n_courses, dtype=np.int64) if level is None else np.array(level),
        eligible=np.ones(n_courses, dtype=bool) if eligible is None else np.array(eligible),
        max_steps=max_steps,
        preference_weight=weight,
    )
    return [(step.course, step.covers.tolist()) for step in steps]


def test_role_skill_importance_blends_onet_and_cohort_and_boosts_hot():
    importance = role_skill_importance(
        np.array([1.0, 0.5, 0.5]),
        np.array([False, True, False]),
        np.array([0.0, 0.5, 1.0]),
        hot_boost=2.0,
    )
    assert importance.tolist() == pytest.approx([0.5, 1.0, 0.75])


def test_role_skill_order_puts_hot_skills_first_then_importance():
    order = role_skill_order(np.array([0.9, 0.2, 0.5, 0.5]), np.array([False, True, False, False]))
    assert order.tolist() == [1, 0, 2, 3]


def test_greedy_cover_takes_the_heaviest_uncovered_gain_first_and_stops_when_covered():
    # Course 0 covers skills 0 and 1 (1.0 + 0.5), course 1 only skill 0, course 2 skill 2.
    steps = plan([[0, 1], [0], [2]], [1.0, 0.5, 0.2])
    assert steps == [(0, [0, 1]), (2, [2])]


def test_a_course_covering_nothing_new_is_never_taken():
    steps = plan([[0], [0], [1]], [1.0, 1.0])
    assert [course for course, _ in steps] == [0, 2]


def test_learned_preference_breaks_near_ties_toward_the_members_favourite():
    # Equal coverage; course 1 is ranked high by the member's learned scores.
    assert plan([[0], [0]], [1.0], preference=[0.0, 1.0])[0][0] == 1
    # Preference scales the gain, it does not override coverage: 2 skills beat 1 skill at 1.5x.
    assert plan([[0, 1], [0]], [1.0, 1.0], preference=[0.0, 1.0])[0][0] == 0


def test_equal_gains_go_to_the_lower_level():
    steps = plan([[0], [0], [0]], [1.0], level=[LEVEL_ADVANCED, LEVEL_BEGINNER, LEVEL_INTERMEDIATE])
    assert steps == [(1, [0])]


def test_within_a_skill_beginner_comes_before_advanced_whatever_the_pick_order():
    # The advanced course covers more and is picked first; the beginner course shares skill 0
    # with it, so it is placed first. Course 2 shares nothing and keeps its pick order.
    steps = plan(
        [[0, 1], [0, 2], [3]],
        [1.0, 1.0, 0.4, 0.3],
        level=[LEVEL_ADVANCED, LEVEL_BEGINNER, LEVEL_INTERMEDIATE],
    )
    assert steps == [(1, [0, 2]), (0, [0, 1]), (2, [3])]


def test_level_order_chains_beginner_intermediate_advanced():
    steps = plan(
        [[0, 1], [0, 2], [0, 3]],
        [1.0, 0.9, 0.8, 0.7],
        level=[LEVEL_ADVANCED, LEVEL_INTERMEDIATE, LEVEL_BEGINNER],
    )
    assert [course for course, _ in steps] == [2, 1, 0]


def test_ineligible_courses_are_never_planned():
    # Course 0 would be the best step, but the member dismissed it.
    steps = plan([[0, 1], [0], [1]], [1.0, 1.0], eligible=[False, True, True])
    assert sorted(course for course, _ in steps) == [1, 2]


def test_target_length_caps_the_steps():
    steps = plan([[0], [1], [2], [3]], [0.4, 0.3, 0.2, 0.1], max_steps=2)
    assert steps == [(0, [0]), (1, [1])]


def test_covers_lists_every_gap_skill_a_step_teaches_most_important_first():
    steps = plan([[0, 2], [1]], [0.1, 0.5, 0.9])
    assert steps[0] == (0, [2, 0])
    assert all(covers for _, covers in steps)


def test_empty_inputs_give_an_empty_path():
    assert plan([], []) == []
    assert plan([[0]], [1.0], max_steps=0) == []
