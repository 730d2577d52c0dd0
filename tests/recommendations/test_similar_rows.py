"""Every course's similar courses, stored with the active run (training/similar_rows.py), and
the rows of courses created since (serving/similar.py)."""

import datetime as dt

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Course, CourseSkill
from recommendations import engine
from recommendations.models import SimilarCourses, TrainingRun
from recommendations.serving.similar import courses_similar, similar_ranked
from recommendations.serving.state import snapshot_active, snapshot_forget
from recommendations.training import runs
from recommendations.training.runs import training_run_activate, training_run_execute
from recommendations.training.similar_rows import SIMILAR_KEPT
from tests.factories import CourseFactory, CourseSkillFactory

pytestmark = pytest.mark.django_db


def _rows() -> dict[int, tuple[int, bytes]]:
    return {
        course_id: (run_id, bytes(payload))
        for course_id, run_id, payload in SimilarCourses.objects.values_list(
            "course_id", "run_id", "payload"
        )
    }


def _expected(snapshot, course_id: int) -> list[int]:
    """The snapshot's similar courses of one course, best first, ties to the lower id."""
    position = int(np.searchsorted(snapshot.course_ids, course_id))
    row = snapshot.similar_courses[[position], :].tocsr()
    pairs = [
        (-score, int(snapshot.course_ids[column]))
        for column, score in zip(row.indices, row.data, strict=True)
        if score > 0 and column != position
    ]
    return [course for _, course in sorted(pairs)][:SIMILAR_KEPT]


def test_activation_writes_one_row_per_course_from_its_snapshot(world):
    run = training_run_execute(trigger="test")

    rows = _rows()
    assert sorted(rows) == sorted(Course.objects.values_list("pk", flat=True))
    assert {run_id for run_id, _ in rows.values()} == {run.pk}
    snapshot = snapshot_active()
    by_text = 0
    for course_id, (_, payload) in rows.items():
        expected = _expected(snapshot, course_id)
        if expected:
            assert [pk for pk, _ in similar_ranked(payload)] == expected
        else:  # nothing by skills or activity: by text (the next test)
            by_text += 1
    assert by_text < len(rows) / 2
    sql = world["courses"]["SQL Essential Training"].pk
    assert similar_ranked(rows[sql][1])[0][1] > 0
    assert "similar_seconds" in run.metrics and "similar_store_seconds" in run.metrics


def test_a_course_with_no_similar_courses_by_skills_gets_them_by_text(world):
    # No skills and no activity: the snapshot has nothing for it; its words match SQL courses.
    lonely = CourseFactory(
        title="Window Functions in SQL",
        description="Running totals and rankings with SQL window functions.",
        published_at=timezone.now() - dt.timedelta(days=3),
    )
    training_run_execute(trigger="test")

    ranked = similar_ranked(SimilarCourses.objects.get(course=lonely).payload)

    titles = list(Course.objects.in_bulk([pk for pk, _ in ranked]).values())
    assert ranked[0][0] == world["courses"]["SQL Window Functions"].pk
    assert lonely.pk not in [pk for pk, _ in ranked]
    assert all("SQL" in course.title for course in titles)


def test_a_rollback_serves_the_rows_of_the_run_it_activates(world):
    first = training_run_execute(trigger="test")
    first_rows = _rows()
    # A confident suggestion counts as a tag for the retrain (not for the courses' texts,
    # which read approved skills only): the second run's skill rows differ.
    CourseSkillFactory(
        course=world["courses"]["Tableau Dashboards"],
        skill=world["skills"]["SQL"],
        status=CourseSkill.Status.PENDING,
        confidence=0.99,
    )
    second = training_run_execute(trigger="test")
    second_rows = _rows()
    assert {run_id for run_id, _ in second_rows.values()} == {second.pk}
    assert second_rows != {pk: (second.pk, payload) for pk, (_, payload) in first_rows.items()}

    training_run_activate(run=first, inline=True)

    assert _rows() == first_rows
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_active and not second.is_active


def test_a_retrain_that_finishes_after_a_rollback_leaves_the_rows_alone(world, monkeypatch):
    older = training_run_execute(trigger="test")
    training_run_execute(trigger="test")
    CourseSkillFactory(
        course=world["courses"]["Tableau Dashboards"],
        skill=world["skills"]["SQL"],
        status=CourseSkill.Status.PENDING,
        confidence=0.99,
    )
    rows = _rows()
    checks = runs.rules_snapshot_problems

    def rollback_meanwhile(snapshot):
        # An admin activates the older run while this retrain is building its snapshot.
        TrainingRun.objects.filter(is_active=True).update(is_active=False)
        TrainingRun.objects.filter(pk=older.pk).update(is_active=True)
        return checks(snapshot)

    monkeypatch.setattr(runs, "rules_snapshot_problems", rollback_meanwhile)
    late = training_run_execute(trigger="test")

    assert not TrainingRun.objects.get(pk=late.pk).is_active
    assert _rows() == rows


def test_a_course_created_after_the_retrain_gets_its_row_without_a_retrain(
    world, django_capture_on_commit_callbacks
):
    run = training_run_execute(trigger="test")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        course = CourseFactory(
            title="Window Functions in SQL",
            description="Running totals and rankings with SQL window functions.",
            published_at=timezone.now(),
        )
        other = CourseFactory(title="Photoshop Layers and Masks", description="Photoshop.")

    # One task for both courses (an import of a thousand queues one too).
    assert len(callbacks) == 2
    row = SimilarCourses.objects.get(course=course)
    assert row.run_id == run.pk
    assert similar_ranked(row.payload)[0][0] == world["courses"]["SQL Window Functions"].pk
    assert SimilarCourses.objects.filter(course=other, run=run).exists()
    # It is no one's neighbour until the next retrain.
    for _, payload in _rows().values():
        assert course.pk not in [pk for pk, _ in similar_ranked(payload)]


def test_a_course_without_a_row_is_worked_out_in_the_process(world, client):
    training_run_execute(trigger="test")
    course = CourseFactory(
        title="Window Functions in SQL",
        description="Running totals and rankings with SQL window functions.",
        published_at=timezone.now(),
    )
    assert not SimilarCourses.objects.filter(course=course).exists()  # nothing committed

    titles = [item.course.title for item in courses_similar(course=course, limit=3)]
    response = client.get(reverse("web:course_detail", args=[course.slug]))

    assert titles[0] == "SQL Window Functions"
    assert [c.title for c in response.context["similar"]] == [
        item.course.title for item in courses_similar(course=course, limit=6)
    ]


def test_no_rows_and_no_task_work_without_an_active_run(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        CourseFactory(title="Window Functions in SQL")
    assert not SimilarCourses.objects.exists()


def test_unpublished_courses_never_appear_as_similar(world, client):
    training_run_execute(trigger="test")
    row = max(SimilarCourses.objects.all(), key=lambda row: len(row.payload))
    course, ranked = row.course, similar_ranked(row.payload)
    assert len(ranked) > 8
    hidden = Course.objects.get(pk=ranked[0][0])
    hidden.published_at = timezone.now() + dt.timedelta(days=1)
    hidden.save()
    deleted = Course.objects.get(pk=ranked[1][0])
    deleted.delete()
    expected = [pk for pk, _ in ranked[2:8]]

    response = client.get(reverse("web:course_detail", args=[course.slug]))
    api = client.get(f"/api/v1/courses/{course.pk}/similar/", {"limit": 6}).json()

    assert [c.pk for c in response.context["similar"]] == expected
    assert [item["course"]["id"] for item in api] == expected
    assert f'id="course-card-{hidden.pk}"' not in response.content.decode()


def test_rows_store_positive_scores_only_and_never_the_course_itself(world):
    training_run_execute(trigger="test")
    snapshot_forget()
    for course_id, (_, payload) in _rows().items():
        records = engine.similar_courses_decode(payload)
        assert course_id not in records["course"].tolist()
        assert (records["score"] > 0).all()
        assert len(records) <= SIMILAR_KEPT
