"""Reads of recorded feedback: where a page view showed a course, what a member was shown
recently, and a member's dismissals."""

import datetime as dt
import uuid

from catalog.selectors import course_published_q
from members.models import Member
from recommendations.data import ShownCourse
from recommendations.feedback.page_views import page_view_courses
from recommendations.models import Dismissal, PageView
from recommendations.serving.pending import page_view_card


def shown_course_of_page_view(
    *, member: Member, page_view_id: uuid.UUID | None, course_id: int
) -> ShownCourse | None:
    """Where the member's page view showed the course (reason, carousel, position, strategy,
    variant), read from its `PageView`; None when it showed none (no page view, or a forged or
    stale one). Dismiss and undo record this context, so a card's form carries only the page
    view's id and no one can credit a reason that never showed the course. Waits for the page
    view if it is still being written."""
    return page_view_card(member=member, page_view_id=page_view_id, course_id=course_id)


def courses_shown_since(*, member: Member, since: dt.datetime) -> set[int]:
    """The courses the member's page views showed since `since`.

    On PostgreSQL an index-only scan of `page_view_member_time`, which holds each page view's
    course ids: the page views' rows (their slots and labels) are not read.
    """
    return {
        course_id
        for courses in PageView.objects.filter(member=member, created_at__gte=since)
        .order_by()
        .values_list("courses", flat=True)
        for course_id in page_view_courses(courses).tolist()
    }


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
