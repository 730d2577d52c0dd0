import pytest
from django.utils import timezone

from catalog.models import CourseSkill
from catalog.services import course_skills_review
from tests.factories import CourseSkillFactory, UserFactory

pytestmark = pytest.mark.django_db

PENDING = CourseSkill.Status.PENDING


@pytest.mark.parametrize("status", [CourseSkill.Status.APPROVED, CourseSkill.Status.REJECTED])
def test_review_updates_exactly_the_given_tags(status):
    reviewer = UserFactory()
    chosen = [CourseSkillFactory(status=PENDING) for _ in range(2)]
    untouched = CourseSkillFactory(status=PENDING)
    before = timezone.now()

    updated = course_skills_review(tag_ids=[t.pk for t in chosen], status=status, reviewer=reviewer)

    assert updated == 2
    for tag in chosen:
        tag.refresh_from_db()
        assert tag.status == status
        assert tag.reviewed_by == reviewer
        assert tag.reviewed_at >= before
    untouched.refresh_from_db()
    assert (untouched.status, untouched.reviewed_by, untouched.reviewed_at) == (PENDING, None, None)


def test_review_overrides_an_earlier_decision_and_reviewer():
    first, second = UserFactory(), UserFactory()
    tag = CourseSkillFactory(status=PENDING)
    course_skills_review(tag_ids=[tag.pk], status=CourseSkill.Status.APPROVED, reviewer=first)

    course_skills_review(tag_ids=[tag.pk], status=CourseSkill.Status.REJECTED, reviewer=second)

    tag.refresh_from_db()
    assert (tag.status, tag.reviewed_by) == (CourseSkill.Status.REJECTED, second)


def test_unknown_ids_are_ignored():
    tag = CourseSkillFactory(status=PENDING)

    updated = course_skills_review(
        tag_ids=[tag.pk, 999_999], status=CourseSkill.Status.APPROVED, reviewer=UserFactory()
    )

    assert updated == 1


@pytest.mark.parametrize("status", [PENDING, "maybe"])
def test_refuses_a_status_that_is_not_a_decision(status):
    tag = CourseSkillFactory(status=PENDING)

    with pytest.raises(ValueError, match="approved or rejected"):
        course_skills_review(tag_ids=[tag.pk], status=status, reviewer=UserFactory())

    tag.refresh_from_db()
    assert tag.reviewed_by is None
