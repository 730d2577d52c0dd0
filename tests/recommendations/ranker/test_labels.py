"""The ranker's labelling rule: clicked on that page view, or enrolled soon after the impression."""

import uuid

import numpy as np

from recommendations.ranker.examples import impression_labels
from recommendations.training.activity import ActivityArrays

HOUR = 3600.0
PAGE_A, PAGE_B = uuid.uuid4(), uuid.uuid4()


def _activity(*enrolments: tuple[int, int, float]) -> ActivityArrays:
    """Enrolments as (member, course, started); the other tables empty."""
    rows = np.array(enrolments, dtype=np.float64).reshape(-1, 3)
    empty = np.zeros(0)
    return ActivityArrays(
        enrol_member=rows[:, 0].astype(np.int64),
        enrol_course=rows[:, 1].astype(np.int64),
        enrol_progress=np.zeros(len(rows)),
        enrol_started=rows[:, 2],
        enrol_latest=rows[:, 2],
        enrol_completed=np.zeros(len(rows), dtype=bool),
        bookmark_member=empty.astype(np.int64),
        bookmark_course=empty.astype(np.int64),
        bookmark_time=empty,
        dismiss_member=empty.astype(np.int64),
        dismiss_course=empty.astype(np.int64),
        dismiss_time=empty,
    )


def _labels(*, members, courses, pages, times, clicked=(), activity=None, window=24 * HOUR):
    return impression_labels(
        member=np.array(members, dtype=np.int64),
        course=np.array(courses, dtype=np.int64),
        page_view=list(pages),
        time=np.array(times, dtype=np.float64),
        clicked=set(clicked),
        activity=activity or _activity(),
        enrol_window_seconds=window,
    ).tolist()


def test_a_click_labels_only_the_impression_on_the_page_view_it_came_from():
    labels = _labels(
        members=[1, 1, 1],
        courses=[10, 10, 11],
        pages=[PAGE_A, PAGE_B, PAGE_A],
        times=[0, 0, 0],
        clicked=[(PAGE_A, 10)],
    )
    assert labels == [1.0, 0.0, 0.0]


def test_an_enrolment_within_the_window_after_the_impression_is_positive():
    activity = _activity((1, 10, 5 * HOUR), (2, 10, 30 * HOUR), (3, 10, 24 * HOUR))
    labels = _labels(
        members=[1, 2, 3],
        courses=[10, 10, 10],
        pages=[PAGE_A, PAGE_A, PAGE_A],
        times=[0, 0, 0],
        activity=activity,
    )
    # 5 hours after: positive; 30 hours: too late; exactly the window's end: still positive.
    assert labels == [1.0, 0.0, 1.0]


def test_an_enrolment_before_the_impression_or_in_another_course_is_not_a_label():
    activity = _activity((1, 10, 0.0), (2, 99, 2 * HOUR))
    labels = _labels(
        members=[1, 2],
        courses=[10, 10],
        pages=[PAGE_A, PAGE_A],
        times=[HOUR, HOUR],
        activity=activity,
    )
    assert labels == [0.0, 0.0]


def test_another_members_enrolment_does_not_label_the_impression():
    activity = _activity((2, 10, 2 * HOUR))
    assert _labels(members=[1], courses=[10], pages=[PAGE_A], times=[HOUR], activity=activity) == [
        0.0
    ]


def test_no_activity_and_no_clicks_label_everything_negative():
    assert _labels(members=[1, 2], courses=[10, 11], pages=[PAGE_A, PAGE_B], times=[0, 0]) == [
        0.0,
        0.0,
    ]
