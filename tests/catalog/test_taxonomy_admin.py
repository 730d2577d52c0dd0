"""Curation admin: skill counts and merge, the review queue, the taxonomy overview."""

import pytest
from django.urls import reverse

from catalog.models import CourseSkill, Skill, TaggerEvaluation
from tests.factories import (
    PASSWORD,
    CourseFactory,
    CourseSkillFactory,
    FollowedSkillFactory,
    MemberSkillFactory,
    SkillFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PENDING, APPROVED, REJECTED = (
    CourseSkill.Status.PENDING,
    CourseSkill.Status.APPROVED,
    CourseSkill.Status.REJECTED,
)
TAGGER, MODEL, TAXONOMIST = (
    CourseSkill.Source.TAGGER,
    CourseSkill.Source.MODEL,
    CourseSkill.Source.TAXONOMIST,
)
QUEUE = "admin:catalog_tagsuggestion_changelist"
OVERVIEW = "admin:catalog_taxonomyoverview_changelist"


def test_skill_changelist_counts_in_constant_queries(admin_client, django_assert_max_num_queries):
    python = SkillFactory(name="Python")
    CourseSkillFactory.create_batch(2, skill=python)
    CourseSkillFactory(skill=python, status=PENDING)
    FollowedSkillFactory.create_batch(3, skill=python)
    MemberSkillFactory.create_batch(4, skill=python)
    SkillFactory.create_batch(5)

    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("admin:catalog_skill_changelist"))

    row = {s.name: s for s in response.context["cl"].result_list}["Python"]
    assert (row.course_count, row.follower_count, row.member_count) == (2, 3, 4)


def test_merge_action_asks_for_the_survivor_then_merges(admin_client):
    survivor, merged = SkillFactory(name="Excel"), SkillFactory(name="MS Excel")
    CourseSkillFactory(skill=merged)
    url = reverse("admin:catalog_skill_changelist")
    selection = {"action": "merge_selected", "_selected_action": [survivor.pk, merged.pk]}

    confirm = admin_client.post(url, selection)
    assert confirm.status_code == 200
    assert "admin/catalog/skill/merge_confirmation.html" in [t.name for t in confirm.templates]
    assert Skill.objects.count() == 2

    done = admin_client.post(url, {**selection, "confirm": "yes", "survivor": survivor.pk})

    assert done.status_code == 302
    assert list(Skill.objects.values_list("name", flat=True)) == ["Excel"]
    assert CourseSkill.objects.get().skill == survivor


def test_merge_action_refuses_other_than_two_skills(admin_client):
    skills = SkillFactory.create_batch(3)

    response = admin_client.post(
        reverse("admin:catalog_skill_changelist"),
        {"action": "merge_selected", "_selected_action": [s.pk for s in skills]},
        follow=True,
    )

    assert "Select exactly two skills to merge." in response.content.decode()
    assert Skill.objects.count() == 3


@pytest.fixture
def queue():
    low = CourseSkillFactory(source=TAGGER, status=PENDING, confidence=0.5)
    high = CourseSkillFactory(source=MODEL, status=PENDING, confidence=0.9)
    CourseSkillFactory(source=TAXONOMIST, status=PENDING, confidence=0.95)
    CourseSkillFactory(source=TAGGER, status=REJECTED, confidence=0.99)
    CourseSkillFactory(source=MODEL, status=APPROVED, confidence=0.97)
    return high, low


def test_queue_lists_pending_machine_suggestions_by_confidence(admin_client, queue):
    response = admin_client.get(reverse(QUEUE))

    assert list(response.context["cl"].result_list) == list(queue)
    assert response.content.decode().count('formaction="') == 4


def test_queue_approve_and_reject_one_by_one(admin_client, queue):
    high, low = queue

    approve = reverse("admin:catalog_tagsuggestion_review", args=[high.pk, "approve"])
    reject = reverse("admin:catalog_tagsuggestion_review", args=[low.pk, "reject"])
    assert admin_client.get(approve).status_code == 405
    assert admin_client.post(approve).status_code == 302
    assert admin_client.post(reject).status_code == 302
    # Reviewed: gone from the queue, so a second decision finds nothing to decide.
    assert admin_client.post(approve).status_code == 404

    high.refresh_from_db()
    low.refresh_from_db()
    assert (high.status, high.reviewed_by.is_superuser) == (APPROVED, True)
    assert low.status == REJECTED
    assert list(admin_client.get(reverse(QUEUE)).context["cl"].result_list) == []


@pytest.mark.parametrize(
    ("action", "status"), [("approve_selected", APPROVED), ("reject_selected", REJECTED)]
)
def test_queue_bulk_actions(admin_client, queue, action, status):
    response = admin_client.post(
        reverse(QUEUE), {"action": action, "_selected_action": [t.pk for t in queue]}
    )

    assert response.status_code == 302
    assert set(
        CourseSkill.objects.filter(pk__in=[t.pk for t in queue]).values_list("status", flat=True)
    ) == {status}


def test_queue_refuses_staff_without_change_permission(client, queue):
    user = UserFactory(is_staff=True)
    client.login(username=user.username, password=PASSWORD)
    high, _low = queue

    response = client.post(reverse("admin:catalog_tagsuggestion_review", args=[high.pk, "approve"]))

    assert response.status_code == 403
    high.refresh_from_db()
    assert high.status == PENDING


def test_overview_shows_coverage_and_evaluations(admin_client, settings):
    settings.TAGGER = {**settings.TAGGER, "COVERAGE_MIN_SKILLS": 2}
    covered, single = CourseFactory(), CourseFactory()
    CourseFactory()
    a, b = SkillFactory.create_batch(2)
    SkillFactory.create_batch(2)
    CourseSkillFactory(course=covered, skill=a)
    CourseSkillFactory(course=covered, skill=b)
    CourseSkillFactory(course=single, skill=a)
    CourseSkillFactory(course=single, status=PENDING, source=TAGGER)
    for precision, recall in ((0.6, 0.7), (0.8, 0.9)):
        TaggerEvaluation.objects.create(
            params={"model": "logistic", "folds": 5, "top_k": 5, "threshold": 0.4},
            metrics={
                "stage1": {"at_threshold": {"precision": 0.5, "recall": 0.95, "f1": 0.65}},
                "combined": {"at_threshold": {"precision": precision, "recall": recall, "f1": 0.8}},
            },
        )

    response = admin_client.get(reverse(OVERVIEW))

    overview = response.context["overview"]
    # Skills: a, b and the pending tag's skill are counted; only a and b are approved.
    assert (overview.skills_covered, overview.skills_total) == (2, 5)
    assert (overview.courses_covered, overview.courses_total) == (1, 3)
    assert overview.pending_suggestions == 1
    assert [(p.precision, p.recall) for p in overview.history] == [(0.6, 0.7), (0.8, 0.9)]
    page = response.content.decode()
    assert "<svg" in page and page.count("<polyline") == 2
    assert "40%" in page and "33%" in page
    assert reverse(OVERVIEW) in admin_client.get(reverse("admin:index")).content.decode()


def test_overview_and_evaluation_list_show_the_chosen_operating_point(admin_client):
    TaggerEvaluation.objects.create(
        params={"model": "combined", "folds": 5, "top_k": 5, "threshold": 0.1394},
        metrics={
            "stage1": {"at_threshold": {"precision": 0.35, "recall": 0.04, "f1": 0.08}},
            "combined": {"at_threshold": {"precision": 0.33, "recall": 0.33, "f1": 0.33}},
            "operating_point": {
                "threshold": 0.1394,
                "max_per_course": 18,
                "precision": 0.3581,
                "recall": 0.2814,
                "f1": 0.3152,
            },
            "fallback_reason": "",
        },
    )

    page = admin_client.get(reverse(OVERVIEW)).content.decode()
    listing = admin_client.get(reverse("admin:catalog_taggerevaluation_changelist"))

    assert 'id="operating-point"' in page
    for figure in ("0.1394", "18", "0.3581", "0.2814", "0.3152"):
        assert figure in page
    assert "Name matching alone" in page
    listed = listing.content.decode()
    assert "0.139" in listed and ">18<" in listed and "33.0%" in listed


def test_overview_without_evaluations_says_how_to_run_one(admin_client):
    response = admin_client.get(reverse(OVERVIEW))

    assert response.status_code == 200
    assert "tag_courses --evaluate" in response.content.decode()


def test_overview_is_staff_only(client):
    user = UserFactory(is_staff=False)
    client.login(username=user.username, password=PASSWORD)

    response = client.get(reverse(OVERVIEW))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    staff = UserFactory(is_staff=True)
    client.login(username=staff.username, password=PASSWORD)
    assert client.get(reverse(OVERVIEW)).status_code == 200
