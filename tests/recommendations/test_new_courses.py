"""Courses created or imported after the last retrain serve at once (serving/new_courses.py).

These tests commit (`transaction=True`): the kept snapshot is keyed by the catalog revision,
which on PostgreSQL is the writing transaction's id, so it moves at each commit.
"""

import datetime as dt
import io
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.card_cache import catalog_revision_current
from catalog.models import Course
from recommendations.serving.home_page import home_page_for_member, home_page_for_visitor
from recommendations.serving.inputs import member_serving_inputs
from recommendations.serving.new_courses import (
    snapshot_courses_appended,
    snapshot_with_new_courses,
)
from recommendations.serving.reasons import member_scoring_build, reasons_for_member
from recommendations.serving.similar import courses_similar
from recommendations.serving.state import snapshot_active, snapshot_forget
from recommendations.training.runs import training_run_execute
from tests.factories import CourseFactory, CourseSkillFactory
from tests.helpers import new_analyst, token_client

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = "course_id,title,description,category,skills,level,duration_minutes,published_at,teacher"


def _import(tmp_path: Path, *rows: str) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    call_command("import_catalog", str(path), "--no-progress", stdout=io.StringIO())


def _course_ids(body: dict) -> dict[int, str]:
    return {item["course"]["id"]: c["label"] for c in body["carousels"] for item in c["courses"]}


def test_an_imported_course_reaches_a_follower_without_a_retrain(world, tmp_path, settings):
    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "SNAPSHOT_CHECK_SECONDS": 3600}
    run = training_run_execute(trigger="test")
    assert run.is_active
    member = new_analyst(world, "Illustrator")
    api = token_client(member.user)
    before = api.get(reverse("api:recommendations"))
    assert before.status_code == 200

    _import(
        tmp_path,
        "N1,Illustrator Brushes and Patterns,Custom brushes and seamless patterns.,Design,"
        "Illustrator,beginner,45,,Ana Ruiz",
    )
    course = Course.objects.get(external_id="N1")
    # No retrain: the serving snapshot still does not hold the course.
    assert course.pk not in snapshot_active().course_ids

    after = api.get(reverse("api:recommendations"))
    assert after.status_code == 200
    shown = _course_ids(after.json())
    assert course.pk not in _course_ids(before.json())
    assert shown[course.pk] in ("Because you follow Illustrator", "New")


def test_a_new_course_is_a_candidate_of_new_and_of_each_skill_it_teaches(world):
    training_run_execute(trigger="test")
    member = new_analyst(world, "Photoshop", "Illustrator")
    course = CourseFactory(title="Vector Retouching", published_at=timezone.now())
    for name in ("Photoshop", "Illustrator"):
        CourseSkillFactory(course=course, skill=world["skills"][name])

    snapshot = snapshot_with_new_courses(
        snapshot=snapshot_active(), catalog_revision=catalog_revision_current()
    )
    position = int(snapshot.course_positions(np.array([course.pk]))[0])
    assert position >= 0
    inputs = member_serving_inputs(
        member_id=member.pk,
        window_start=timezone.localdate(),
        discount_threshold=3,
        with_learned=False,
    )
    scoring = member_scoring_build(
        inputs=inputs, member=member, snapshot=snapshot, now=timezone.now()
    )
    reasons = reasons_for_member(
        inputs=inputs, scoring=scoring, member=member, snapshot=snapshot, personalised=True
    )
    holding = {
        r.key
        for r in reasons
        if position in r.courses.tolist() and r.scores[r.courses.tolist().index(position)] > 0
    }
    assert {
        f"follow:{world['skills']['Photoshop'].pk}",
        f"follow:{world['skills']['Illustrator'].pk}",
        "new",
    } <= holding
    # The newest course of all tops "New" for the visitor too.
    visitor_new = next(c for c in home_page_for_visitor().carousels if c.key == "new")
    assert visitor_new.cards[0].course == course


def test_the_new_courses_are_read_once_per_catalog_revision(world, settings):
    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "SNAPSHOT_CHECK_SECONDS": 3600}
    training_run_execute(trigger="test")
    snapshot = snapshot_active()
    revision = catalog_revision_current()
    with CaptureQueriesContext(connection) as unchanged:
        assert snapshot_with_new_courses(snapshot=snapshot, catalog_revision=revision) is snapshot
        assert snapshot_with_new_courses(snapshot=snapshot, catalog_revision=revision) is snapshot
    # The first call reads the courses created since the snapshot (none); the second nothing.
    assert len(unchanged) == 1

    course = CourseFactory(published_at=timezone.now())
    CourseSkillFactory(course=course, skill=world["skills"]["SQL"])
    moved = catalog_revision_current()
    assert moved != revision
    with CaptureQueriesContext(connection) as changed:
        first = snapshot_with_new_courses(snapshot=snapshot, catalog_revision=moved)
        again = snapshot_with_new_courses(snapshot=snapshot, catalog_revision=moved)
    assert again is first
    assert len(changed) == 2  # the new courses, then their tags
    assert first.course_ids.tolist() == [*snapshot.course_ids.tolist(), course.pk]


def test_appended_courses_keep_every_array_sorted_by_id(world):
    training_run_execute(trigger="test")
    snapshot = snapshot_active()
    low_id = int(snapshot.course_ids[0]) - 1  # below every course the snapshot holds
    sql = int(world["skills"]["SQL"].pk)
    extended = snapshot_courses_appended(
        snapshot,
        course_ids=np.array([10_000_000, low_id]),
        published=np.array([2.0e9, 1.0e9]),
        levels=np.array([2, 1]),
        tag_course=np.array([low_id, low_id, 10_000_000, 10_000_000]),
        tag_skill=np.array([sql, 987_654_321, sql, int(world["skills"]["Python"].pk)]),
    )
    n = snapshot.course_ids.size
    assert extended.course_ids.tolist() == [low_id, *snapshot.course_ids.tolist(), 10_000_000]
    assert extended.course_published.tolist() == [
        1.0e9,
        *snapshot.course_published.tolist(),
        2.0e9,
    ]
    assert extended.popularity.tolist() == [0.0, *snapshot.popularity.tolist(), 0.0]
    assert extended.course_level.tolist() == [1, *snapshot.course_level.tolist(), 2]
    # Old courses' rows and their similarities moved one position down, unchanged.
    assert (extended.course_skill[1 : n + 1] != snapshot.course_skill).nnz == 0
    assert (extended.similar_courses[1 : n + 1, 1 : n + 1] != snapshot.similar_courses).nnz == 0
    assert (extended.title_trending[:, 1 : n + 1] != snapshot.title_trending).nnz == 0
    skills = snapshot.skill_ids.tolist()
    # An unknown skill is left out.
    assert extended.course_skill[[0], :].indices.tolist() == [skills.index(sql)]
    assert sorted(extended.course_skill[[n + 1], :].indices.tolist()) == sorted(
        [skills.index(sql), skills.index(world["skills"]["Python"].pk)]
    )
    assert extended.similar_courses.shape == (n + 2, n + 2)
    assert extended.similar_courses[[0, n + 1], :].nnz == 0


@pytest.mark.parametrize("with_run", [False, True], ids=["no-run", "active-run"])
def test_homepage_shows_a_course_created_after_the_snapshot(world, with_run, settings):
    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "SNAPSHOT_CHECK_SECONDS": 3600}
    if with_run:
        training_run_execute(trigger="test")
    member = new_analyst(world, "SQL")
    home_page_for_member(member=member)  # the snapshot is loaded before the course exists
    course = CourseFactory(title="SQL for Spreadsheets Users", published_at=timezone.now())
    CourseSkillFactory(course=course, skill=world["skills"]["SQL"])
    page = home_page_for_member(member=member)
    shown = {card.course.pk: c.key for c in page.carousels for card in c.cards}
    assert shown[course.pk] in (f"follow:{world['skills']['SQL'].pk}", "new")


def test_a_new_course_gets_similar_courses_by_text_until_the_next_retrain(world, client):
    training_run_execute(trigger="test")
    course = CourseFactory(
        title="Window Functions in SQL",
        description="Running totals and rankings with SQL window functions.",
        published_at=timezone.now(),
    )
    similar = courses_similar(course=course, limit=3)
    titles = [item.course.title for item in similar]
    assert titles[0] == "SQL Window Functions"
    assert all("SQL" in title for title in titles)
    assert all(item.score > 0 for item in similar)
    # The course page shows them.
    response = client.get(reverse("web:course_detail", args=[course.slug]))
    assert "SQL Window Functions" in response.content.decode()

    # The next retrain folds the course in: its neighbours come from the snapshot.
    training_run_execute(trigger="test")
    snapshot_forget()  # as this process would after SNAPSHOT_CHECK_SECONDS
    assert course.pk in snapshot_active().course_ids
    assert courses_similar(course=course, limit=3)


def test_similar_by_text_leaves_out_unpublished_courses(world):
    training_run_execute(trigger="test")
    hidden = world["courses"]["SQL Window Functions"]
    hidden.published_at = timezone.now() + dt.timedelta(days=1)
    hidden.save()
    course = CourseFactory(
        title="Window Functions in SQL",
        description="Running totals and rankings with SQL window functions.",
        published_at=timezone.now(),
    )
    titles = [item.course.title for item in courses_similar(course=course, limit=20)]
    assert "SQL Window Functions" not in titles
    assert titles
