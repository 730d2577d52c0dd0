"""Writes to the catalog."""

from collections.abc import Iterable

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone

from catalog.models import CourseSkill

REVIEW_DECISIONS = frozenset({CourseSkill.Status.APPROVED, CourseSkill.Status.REJECTED})


def course_skills_review(*, tag_ids: Iterable[int], status: str, reviewer: AbstractBaseUser) -> int:
    """Record a curator's decision on course-skill tags; returns how many tags were updated.

    Only a decision (approved or rejected) is recorded: putting a tag back to pending is not a
    review, and doing it here would leave a reviewer on a tag nobody has decided on.
    """
    if status not in REVIEW_DECISIONS:
        raise ValueError(f"A review decides approved or rejected, not {status!r}.")
    return CourseSkill.objects.filter(pk__in=list(tag_ids)).update(
        status=status, reviewed_by=reviewer, reviewed_at=timezone.now()
    )
