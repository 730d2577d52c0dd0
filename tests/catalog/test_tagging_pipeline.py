"""Storing suggestions, the tagging run, the django-q2 task, the command and the evaluation."""

import json

import pytest
from django.core.management import call_command
from django_q.models import Schedule, Task

from catalog.apps import TAGGING_SCHEDULE_NAME
from catalog.models import CourseSkill, TaggerEvaluation
from catalog.services import (
    TagSuggestionInput,
    course_skill_suggestions_store,
    course_tagging_enqueue,
)
from catalog.tagging.pipeline import courses_tag_run
from tests.factories import CourseFactory, CourseSkillFactory, SkillFactory, SkillSynonymFactory

pytestmark = pytest.mark.django_db

PENDING = CourseSkill.Status.PENDING
APPROVED = CourseSkill.Status.APPROVED
REJECTED = CourseSkill.Status.REJECTED
TAGGER = CourseSkill.Source.TAGGER
MODEL = CourseSkill.Source.MODEL
TAXONOMIST = CourseSkill.Source.TAXONOMIST


def rows():
    return set(
        CourseSkill.objects.values_list("course_id", "skill_id", "source", "status", "confidence")
    )


def test_store_creates_pending_and_protects_human_decisions():
    course = CourseFactory()
    new, pending, rejected, curated, approved = SkillFactory.create_batch(5)
    old_pending = CourseSkillFactory(
        course=course, skill=pending, source=TAGGER, status=PENDING, confidence=0.5
    )
    CourseSkillFactory(
        course=course, skill=rejected, source=TAGGER, status=REJECTED, confidence=0.6
    )
    CourseSkillFactory(
        course=course, skill=curated, source=TAXONOMIST, status=PENDING, confidence=0.3
    )
    CourseSkillFactory(course=course, skill=approved, source=MODEL, status=APPROVED, confidence=0.7)

    result = course_skill_suggestions_store(
        suggestions=[
            TagSuggestionInput(course.pk, s.pk, 0.9, MODEL)
            for s in (new, pending, rejected, curated, approved)
        ]
        + [TagSuggestionInput(course.pk, SkillFactory().pk, 0.1, TAGGER)],
        threshold=0.4,
    )

    assert (result.created, result.updated, result.protected, result.below_threshold) == (
        1,
        1,
        3,
        1,
    )
    assert rows() == {
        (course.pk, new.pk, MODEL, PENDING, 0.9),
        (course.pk, pending.pk, MODEL, PENDING, 0.9),
        (course.pk, rejected.pk, TAGGER, REJECTED, 0.6),
        (course.pk, curated.pk, TAXONOMIST, PENDING, 0.3),
        (course.pk, approved.pk, MODEL, APPROVED, 0.7),
    }
    assert CourseSkill.objects.get(pk=old_pending.pk).confidence == 0.9


def test_store_twice_changes_nothing_and_dry_run_writes_nothing():
    course, skill = CourseFactory(), SkillFactory()
    suggestion = [TagSuggestionInput(course.pk, skill.pk, 0.8, TAGGER)]

    dry = course_skill_suggestions_store(suggestions=suggestion, threshold=0.4, dry_run=True)
    assert (dry.created, CourseSkill.objects.count()) == (1, 0)
    course_skill_suggestions_store(suggestions=suggestion, threshold=0.4)
    again = course_skill_suggestions_store(suggestions=suggestion, threshold=0.4)

    assert (again.created, again.updated) == (0, 0)
    assert rows() == {(course.pk, skill.pk, TAGGER, PENDING, 0.8)}


def test_store_auto_approves_only_above_its_threshold():
    course = CourseFactory()
    sure, unsure = SkillFactory.create_batch(2)

    result = course_skill_suggestions_store(
        suggestions=[
            TagSuggestionInput(course.pk, sure.pk, 0.97, TAGGER),
            TagSuggestionInput(course.pk, unsure.pk, 0.6, TAGGER),
        ],
        threshold=0.4,
        auto_approve_threshold=0.95,
    )

    assert result.auto_approved == 1
    assert rows() == {
        (course.pk, sure.pk, TAGGER, APPROVED, 0.97),
        (course.pk, unsure.pk, TAGGER, PENDING, 0.6),
    }


def test_store_refuses_a_human_source():
    with pytest.raises(ValueError, match="not 'taxonomist'"):
        course_skill_suggestions_store(
            suggestions=[
                TagSuggestionInput(CourseFactory().pk, SkillFactory().pk, 0.9, TAXONOMIST)
            ],
            threshold=0.4,
        )


def build_catalog(*, per_skill: int, tagged_per_skill: int):
    """Six skills, `per_skill` courses on each; the first `tagged_per_skill` carry a curated tag."""
    names = ["Microsoft Excel", "Python", "Tableau", "Figma", "PostgreSQL", "Kubernetes"]
    skills = {name: SkillFactory(name=name) for name in names}
    SkillSynonymFactory(skill=skills["Microsoft Excel"], name="Excel")
    tagged, untagged = [], []
    for i, name in enumerate(names):
        for j in range(per_skill):
            course = CourseFactory(
                title=f"{name} essentials part {i}-{j}",
                description=f"Hands-on {name} for everyday work, lesson {j}.",
            )
            if j < tagged_per_skill:
                CourseSkillFactory(course=course, skill=skills[name])
                tagged.append(course)
            else:
                untagged.append(course)
    return skills, tagged, untagged


@pytest.fixture
def half_tagged_catalog():
    """Five curated and three untagged courses per skill: enough to learn from."""
    return build_catalog(per_skill=8, tagged_per_skill=5)


@pytest.fixture
def barely_tagged_catalog():
    """One curated course per skill: too few to learn from."""
    return build_catalog(per_skill=3, tagged_per_skill=1)


def test_run_suggests_skills_for_untagged_courses(half_tagged_catalog):
    skills, tagged, untagged = half_tagged_catalog
    before = rows()

    result = courses_tag_run()

    suggested = CourseSkill.objects.filter(status=PENDING, source__in=[TAGGER, MODEL])
    by_course = {}
    for tag in suggested:
        by_course.setdefault(tag.course_id, set()).add(tag.skill_id)
    assert result.courses == len(tagged) + len(untagged)
    assert result.learned and result.modelled_skills == 6
    assert result.max_per_course == 1 and result.expected["f1"] == 1.0
    for course in untagged:
        expected_name = course.title.split(" essentials")[0]
        assert by_course[course.pk] == {skills[expected_name].pk}
    assert before <= rows()  # curated rows untouched
    assert all(result.threshold <= tag.confidence < 1.0 for tag in suggested)
    assert {tag.source for tag in suggested} == {MODEL}


def test_run_with_too_few_curated_courses_falls_back_to_name_matching(
    barely_tagged_catalog, capsys
):
    skills, _tagged, untagged = barely_tagged_catalog

    result = courses_tag_run()

    assert not result.learned and "6 curated courses" in result.fallback_reason
    suggested = CourseSkill.objects.filter(status=PENDING)
    assert {tag.source for tag in suggested} == {TAGGER}
    assert all(tag.confidence >= 0.4 for tag in suggested)
    for course in untagged:
        expected = skills[course.title.split(" essentials")[0]]
        assert set(suggested.filter(course=course).values_list("skill_id", flat=True)) == {
            expected.pk
        }
    call_command("tag_courses", "--dry-run")
    assert "Name matching alone (6 curated courses" in capsys.readouterr().out


def test_run_never_resuggests_rejected_or_overwrites_taxonomist(half_tagged_catalog):
    skills, _tagged, untagged = half_tagged_catalog
    excel_course = next(c for c in untagged if c.title.startswith("Microsoft Excel"))
    rejected = CourseSkillFactory(
        course=excel_course,
        skill=skills["Microsoft Excel"],
        source=TAGGER,
        status=REJECTED,
        confidence=0.5,
    )
    python_course = next(c for c in untagged if c.title.startswith("Python"))
    own = CourseSkillFactory(
        course=python_course,
        skill=skills["Python"],
        source=TAXONOMIST,
        status=PENDING,
        confidence=0.2,
    )

    courses_tag_run()
    courses_tag_run()

    rejected.refresh_from_db()
    own.refresh_from_db()
    assert (rejected.status, rejected.source, rejected.confidence) == (REJECTED, TAGGER, 0.5)
    assert (own.status, own.source, own.confidence) == (PENDING, TAXONOMIST, 0.2)
    assert CourseSkill.objects.filter(course=excel_course).count() == 1
    assert CourseSkill.objects.filter(course=python_course).count() == 1


def test_task_runs_through_django_q_in_sync_mode_and_twice_is_safe(
    half_tagged_catalog, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        course_tagging_enqueue()
    # Queued for after the commit, not run inside the caller's transaction.
    assert len(callbacks) == 1
    assert not CourseSkill.objects.filter(status=PENDING).exists()
    callbacks[0]()
    first = rows()
    with django_capture_on_commit_callbacks(execute=True):
        course_tagging_enqueue()

    assert rows() == first
    assert len(first) > 30
    tasks = Task.objects.filter(func="catalog.tasks.courses_tag")
    assert tasks.count() == 2
    assert all(task.success for task in tasks)
    assert tasks.order_by("started").last().result["stored"]["created"] == 0


def test_schedule_exists_once_after_migrate():
    schedules = Schedule.objects.filter(name=TAGGING_SCHEDULE_NAME)

    assert schedules.count() == 1
    assert schedules.get().func == "catalog.tasks.courses_tag"


def test_command_dry_run_and_course_filter(half_tagged_catalog, capsys):
    _skills, _tagged, untagged = half_tagged_catalog

    call_command("tag_courses", "--dry-run", "--courses", str(untagged[0].pk))
    assert "Dry run: would have 1 created" in capsys.readouterr().out
    assert CourseSkill.objects.filter(course=untagged[0]).count() == 0

    call_command("tag_courses", "--courses", str(untagged[0].pk))
    assert CourseSkill.objects.filter(course=untagged[0], status=PENDING).count() == 1
    assert CourseSkill.objects.filter(course=untagged[1]).count() == 0


def test_command_evaluate_prints_and_stores_metrics(half_tagged_catalog, capsys):
    call_command("tag_courses", "--evaluate", "--folds", "3")

    captured = capsys.readouterr()
    printed = json.loads(captured.out)
    evaluation = TaggerEvaluation.objects.get()
    assert printed["evaluation_id"] == evaluation.pk
    assert set(printed) >= {"stage1", "combined", "operating_point", "learned"}
    stage1 = printed["stage1"]["at_threshold"]
    assert (stage1["precision"], stage1["recall"], stage1["actual"]) == (1.0, 1.0, 30)
    combined = printed["combined"]["at_threshold"]
    assert combined["actual"] == 30 and combined["f1"] >= 0.9
    point = printed["operating_point"]
    assert set(point) == {"threshold", "max_per_course", "precision", "recall", "f1"}
    assert evaluation.params["threshold"] == point["threshold"]
    assert evaluation.params["max_per_course"] == point["max_per_course"] == 1
    assert evaluation.params["courses"] == 30
    assert f"Operating point: threshold {point['threshold']}, at most 1 suggestions" in (
        captured.err
    )
    assert f"F1 {combined['f1']}" in captured.err


def test_command_evaluate_refuses_too_few_courses():
    CourseSkillFactory()

    with pytest.raises(Exception, match="at least 5 courses"):
        call_command("tag_courses", "--evaluate")
