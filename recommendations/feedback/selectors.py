"""Reads of recorded feedback: where a page view showed a course, and a member's
dismissals."""

import uuid

from catalog.selectors import course_published_q
from members.models import Member
from recommendations.data import ShownCourse
from recommendations.feedback.services import shown_course_of_impression
from recommendations.models import (
    Dismissal,
)
from recommendations.serving.pending import impression_of_page_view


def shown_course_of_page_view(
    *, member: Member, page_view_id: uuid.UUID | None, course_id: int
) -> ShownCourse | None:
    """Where the member's page view showed the course (reason, carousel, position, strategy,
    variant), read from its logged impression; None when it logged none (no page view, or a
    forged or stale one). Dismiss and undo record this context, so a card's form carries only
    the page view's id and no one can credit a reason that never showed the course. Waits for
    the page's impressions if they are still being written."""
    return shown_course_of_impression(
        impression=impression_of_page_view(
            member=member, page_view_id=page_view_id, course_id=course_id
        )
    )


def dismissal_of_member(*, member: Member, dismissal_id: int) -> Dismissal | None:
    """The member's dismissal with that id; None for an unknown id or another member's."""
    return Dismissal.objects.filter(pk=dismissal_id, member=member).first()


def dismissals_for_member(*, member: Member) -> list[Dismissal]:
    """The member's dismissals of published courses, newest first (a course unpublished since
    has nothing to come back to)."""
    return list(
        Dismissal.objects.filter(course_published_q(prefix="course__"), member=member)
        .select_related("course")
        .order_by("-created_at")
    )
