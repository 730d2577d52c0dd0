import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from catalog.models import Category, Course, CourseSkill, Skill, SkillSynonym
from tests.factories import (
    PASSWORD,
    CategoryFactory,
    CourseFactory,
    CourseSkillFactory,
    SkillFactory,
    SkillSynonymFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PENDING = CourseSkill.Status.PENDING
APPROVED = CourseSkill.Status.APPROVED
REJECTED = CourseSkill.Status.REJECTED


@pytest.fixture
def catalog_rows():
    tag = CourseSkillFactory(status=PENDING)
    SkillSynonymFactory(skill=tag.skill)
    tag.course.categories.add(tag.skill.category)
    tag.skill.related.add(SkillFactory())
    return tag


def admin_url(model, action: str, *args) -> str:
    return reverse(f"admin:catalog_{model._meta.model_name}_{action}", args=args)


@pytest.mark.parametrize("model", [Category, Skill, SkillSynonym, Course, CourseSkill])
def test_changelist_add_and_change_pages_render(admin_client, catalog_rows, model):
    obj = model.objects.first()

    for url in (
        admin_url(model, "changelist"),
        admin_url(model, "changelist") + "?q=a",
        admin_url(model, "add"),
        admin_url(model, "change", obj.pk),
    ):
        assert admin_client.get(url).status_code == 200, url


def test_count_columns(admin_client):
    category = CategoryFactory(name="Langs")
    python = SkillFactory(name="Python", category=category)
    SkillFactory(category=category)
    course = CourseFactory(title="Scripting")
    CourseSkillFactory(course=course, skill=python)
    CourseSkillFactory(course=course, status=PENDING)
    CourseSkillFactory(skill=python, status=REJECTED)

    categories = admin_client.get(admin_url(Category, "changelist")).context["cl"].result_list
    skills = admin_client.get(admin_url(Skill, "changelist")).context["cl"].result_list
    courses = admin_client.get(admin_url(Course, "changelist")).context["cl"].result_list

    assert {c.name: c.skill_count for c in categories}["Langs"] == 2
    assert {s.name: s.course_count for s in skills}["Python"] == 1
    assert {c.title: c.approved_skill_count for c in courses}["Scripting"] == 1


def test_skill_search_covers_synonyms_without_duplicates(admin_client):
    excel = SkillFactory(name="Microsoft Excel")
    SkillSynonymFactory(skill=excel, name="Spreadsheet")
    SkillSynonymFactory(skill=excel, name="Spreadsheet software")
    SkillFactory(name="Python")

    response = admin_client.get(admin_url(Skill, "changelist"), {"q": "spreadsheet"})

    assert list(response.context["cl"].result_list) == [excel]


def test_course_skill_filters(admin_client):
    pending = CourseSkillFactory(status=PENDING, source=CourseSkill.Source.TAGGER)
    CourseSkillFactory(status=APPROVED, source=CourseSkill.Source.TAXONOMIST)

    response = admin_client.get(
        admin_url(CourseSkill, "changelist"),
        {"status__exact": "pending", "source__exact": "tagger"},
    )

    assert list(response.context["cl"].result_list) == [pending]


@pytest.mark.parametrize(
    ("action", "status"), [("approve_selected", APPROVED), ("reject_selected", REJECTED)]
)
def test_bulk_review_actions_change_only_selected_rows(admin_client, action, status):
    selected = [CourseSkillFactory(status=PENDING) for _ in range(2)]
    other = CourseSkillFactory(status=PENDING)
    reviewer = get_user_model().objects.get(username="admin")

    response = admin_client.post(
        admin_url(CourseSkill, "changelist"),
        {"action": action, "_selected_action": [tag.pk for tag in selected]},
        follow=True,
    )

    assert response.status_code == 200
    assert f"2 tag(s) marked {CourseSkill.Status(status).label.lower()}." in [
        str(m) for m in response.context["messages"]
    ]
    for tag in selected:
        tag.refresh_from_db()
        assert (tag.status, tag.reviewed_by) == (status, reviewer)
        assert tag.reviewed_at is not None
    other.refresh_from_db()
    assert (other.status, other.reviewed_by, other.reviewed_at) == (PENDING, None, None)


def test_changing_status_in_the_form_records_the_reviewer(admin_client):
    tag = CourseSkillFactory(status=PENDING, source=CourseSkill.Source.TAGGER, confidence=0.5)
    reviewer = get_user_model().objects.get(username="admin")

    response = admin_client.post(
        admin_url(CourseSkill, "change", tag.pk),
        {
            "course": tag.course.pk,
            "skill": tag.skill.pk,
            "source": "tagger",
            "confidence": "0.5",
            "status": "approved",
        },
    )

    assert response.status_code == 302
    tag.refresh_from_db()
    assert (tag.status, tag.reviewed_by) == (APPROVED, reviewer)
    assert tag.reviewed_at is not None


def test_editing_other_fields_does_not_count_as_a_review(admin_client):
    tag = CourseSkillFactory(status=PENDING, source=CourseSkill.Source.TAGGER, confidence=0.5)

    admin_client.post(
        admin_url(CourseSkill, "change", tag.pk),
        {
            "course": tag.course.pk,
            "skill": tag.skill.pk,
            "source": "tagger",
            "confidence": "0.7",
            "status": "pending",
        },
    )

    tag.refresh_from_db()
    assert (tag.confidence, tag.status, tag.reviewed_by) == (0.7, PENDING, None)


def test_course_inline_tag_added_by_curator_records_the_reviewer(admin_client):
    course = CourseFactory(title="Scripting", slug="scripting")
    skill = SkillFactory()
    reviewer = get_user_model().objects.get(username="admin")

    response = admin_client.post(
        admin_url(Course, "change", course.pk),
        {
            "title": "Scripting",
            "slug": "scripting",
            "description": course.description,
            "level": "beginner",
            "duration_minutes": "60",
            "teacher": "Ada",
            "published_at_0": "2024-01-02",
            "published_at_1": "10:00:00",
            "skill_tags-TOTAL_FORMS": "1",
            "skill_tags-INITIAL_FORMS": "0",
            "skill_tags-MIN_NUM_FORMS": "0",
            "skill_tags-MAX_NUM_FORMS": "1000",
            "skill_tags-0-skill": skill.pk,
            "skill_tags-0-source": "taxonomist",
            "skill_tags-0-confidence": "1.0",
            "skill_tags-0-status": "approved",
        },
    )

    assert response.status_code == 302, response.context["errors"]
    tag = CourseSkill.objects.get(course=course)
    assert (tag.skill, tag.status, tag.reviewed_by) == (skill, APPROVED, reviewer)


def test_skill_autocomplete_finds_by_synonym(admin_client):
    excel = SkillFactory(name="Microsoft Excel")
    SkillSynonymFactory(skill=excel, name="Spreadsheet")

    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "term": "spread",
            "app_label": "catalog",
            "model_name": "courseskill",
            "field_name": "skill",
        },
    )

    assert response.status_code == 200
    assert response.json()["results"] == [{"id": str(excel.pk), "text": "Microsoft Excel"}]


@pytest.mark.parametrize("model", [Category, Skill, SkillSynonym, Course, CourseSkill])
def test_non_staff_user_is_sent_to_the_admin_login(client, model):
    user = UserFactory(is_staff=False)
    client.login(username=user.username, password=PASSWORD)

    response = client.get(admin_url(model, "changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_non_staff_user_cannot_run_review_actions(client):
    user = UserFactory(is_staff=False)
    client.login(username=user.username, password=PASSWORD)
    tag = CourseSkillFactory(status=PENDING)

    client.post(
        admin_url(CourseSkill, "changelist"),
        {"action": "approve_selected", "_selected_action": [tag.pk]},
    )

    tag.refresh_from_db()
    assert (tag.status, tag.reviewed_by) == (PENDING, None)
