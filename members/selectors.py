from dataclasses import dataclass

from catalog.models import Course
from members.models import Bookmark, Enrolment, Member


@dataclass(frozen=True)
class CourseActivity:
    """What one member has done with one course, for the course page's activity panel."""

    course: Course
    enrolment: Enrolment | None
    bookmarked: bool

    @property
    def is_enrolled(self) -> bool:
        return self.enrolment is not None

    @property
    def is_completed(self) -> bool:
        return self.enrolment is not None and self.enrolment.completed_at is not None


def course_activity_for_member(*, member: Member, course: Course) -> CourseActivity:
    enrolment = Enrolment.objects.filter(member=member, course=course).first()
    bookmarked = Bookmark.objects.filter(member=member, course=course).exists()
    return CourseActivity(course=course, enrolment=enrolment, bookmarked=bookmarked)
