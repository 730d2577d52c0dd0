"""The course page's read: the course, its categories and approved skills, the signed-in
member's activity on it, and its similar courses, as one statement on PostgreSQL.

The statement returns the course row, its categories' names and its skills (as JSON, which
psycopg decodes in C), the course's stored similar courses (`SimilarCourses`, written with the
active run), the member's enrolment and bookmark, and the catalog revision. The similar
courses' cards then come from the card cache (`catalog.selectors.course_cards_by_id`), which
costs no query while the catalog is unchanged (the revision read here says so). Elsewhere
(SQLite) one ORM query each, as the pieces' own selectors read them.

A course without a stored row (no run activated yet, or a course created a moment ago whose row
is still being written) gets its similar courses the way the API does
(`recommendations.serving.similar.courses_similar`), which works them out in the process.
"""

import datetime as dt
from dataclasses import dataclass

import orjson
from django.db import connection, router
from django.utils import timezone

from catalog import selectors as catalog_selectors
from catalog.models import CatalogRevision, Category, Course, CourseSkill, Skill
from core.prepared_statements import prepared_cursor
from members.models import Bookmark, Enrolment, Member
from members.selectors import CourseActivity, course_activity_for_member
from recommendations.models import SimilarCourses
from recommendations.serving.similar import courses_similar, similar_ranked

# Similar courses under a course page.
SIMILAR_SHOWN = 6


@dataclass(frozen=True)
class CoursePage:
    course: Course
    # Names, as `Category`'s ordering lists them.
    categories: list[str]
    # Approved skills (id, slug and name loaded), most confident first.
    skills: list[Skill]
    # None for a visitor.
    activity: CourseActivity | None
    # Published courses, best first, ready for `_course_card.html`.
    similar: list[Course]


def course_page_read(
    *, slug: str, member: Member | None, include_unpublished: bool = False
) -> CoursePage | None:
    """The course page of the course with this slug; None when there is no such course, or it
    is not published and `include_unpublished` is off (staff see courses before they are)."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        read = _course_page_postgresql(
            slug=slug, member=member, include_unpublished=include_unpublished, now=now
        )
    else:
        read = _course_page_portable(
            slug=slug, member=member, include_unpublished=include_unpublished
        )
    if read is None:
        return None
    course, categories, skills, activity, payload, revision = read
    if payload is None:
        similar = [item.course for item in courses_similar(course=course, limit=SIMILAR_SHOWN)]
    else:
        similar = _similar_cards(payload, revision=revision, now=now)
    return CoursePage(
        course=course, categories=categories, skills=skills, activity=activity, similar=similar
    )


def _similar_cards(payload: bytes, *, revision: int | None, now: dt.datetime) -> list[Course]:
    """The first `SIMILAR_SHOWN` published courses of a stored row, as cards.

    Cards of twice as many as shown are read at once, and more only when unpublished or
    deleted courses leave the page short.
    """
    ids = [course_id for course_id, _ in similar_ranked(payload)]
    found: list[Course] = []
    step = SIMILAR_SHOWN * 2
    for start in range(0, len(ids), step):
        chunk = ids[start : start + step]
        cards = catalog_selectors.course_cards_by_id(course_ids=chunk, catalog_revision=revision)
        for course_id in chunk:
            card = cards.get(course_id)
            if card is not None and card.published_at <= now:
                found.append(card)
                if len(found) == SIMILAR_SHOWN:
                    return found
    return found


_COURSE_COLUMNS = [field.column for field in Course._meta.concrete_fields]
_COURSE_FIELDS = [field.attname for field in Course._meta.concrete_fields]
_ENROLMENT_COLUMNS = [field.column for field in Enrolment._meta.concrete_fields]
_ENROLMENT_FIELDS = [field.attname for field in Enrolment._meta.concrete_fields]

# One statement, one row: five reads a signed-in page would otherwise make one round trip
# each. The member may be NULL (a visitor): the enrolment join and the bookmark then find
# nothing. Categories by name, as `Category.Meta.ordering`; skills as
# `catalog.selectors.course_approved_skills` orders them.
_COURSE_PAGE_SQL = f"""
SELECT
    {", ".join(f"c.{column}" for column in _COURSE_COLUMNS)},
    (SELECT json_agg(cat.name ORDER BY cat.name, cat.id)
        FROM {Course.categories.through._meta.db_table} cc
        JOIN {Category._meta.db_table} cat ON cat.id = cc.category_id
        WHERE cc.course_id = c.id),
    (SELECT json_agg(json_build_array(s.id, s.name, s.slug)
            ORDER BY t.confidence DESC, s.name, s.id)
        FROM {CourseSkill._meta.db_table} t
        JOIN {Skill._meta.db_table} s ON s.id = t.skill_id
        WHERE t.course_id = c.id AND t.status = '{CourseSkill.Status.APPROVED}'),
    (SELECT payload FROM {SimilarCourses._meta.db_table} WHERE course_id = c.id),
    (SELECT revision FROM {CatalogRevision._meta.db_table} WHERE id = 1),
    {", ".join(f"e.{column}" for column in _ENROLMENT_COLUMNS)},
    EXISTS (SELECT 1 FROM {Bookmark._meta.db_table} b
        WHERE b.member_id = %(member)s::bigint AND b.course_id = c.id)
FROM {Course._meta.db_table} c
LEFT JOIN {Enrolment._meta.db_table} e
    ON e.course_id = c.id AND e.member_id = %(member)s::bigint
WHERE c.slug = %(slug)s::text AND (%(any)s::boolean OR c.published_at <= %(now)s::timestamptz)
"""


def _course_page_postgresql(
    *, slug: str, member: Member | None, include_unpublished: bool, now: dt.datetime
):
    with prepared_cursor() as cursor:
        cursor.execute(
            _COURSE_PAGE_SQL,
            {
                "member": member.pk if member is not None else None,
                "slug": slug,
                "any": include_unpublished,
                "now": now,
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None
    db = router.db_for_read(Course)
    n_course, n_enrolment = len(_COURSE_FIELDS), len(_ENROLMENT_FIELDS)
    course = Course.from_db(db, _COURSE_FIELDS, row[:n_course])
    categories, skills, payload, revision = row[n_course : n_course + 4]
    enrolment_row = row[n_course + 4 : n_course + 4 + n_enrolment]
    bookmarked = row[-1]
    activity = None
    if member is not None:
        enrolment = (
            Enrolment.from_db(db, _ENROLMENT_FIELDS, enrolment_row)
            if enrolment_row[0] is not None
            else None
        )
        activity = CourseActivity(course=course, enrolment=enrolment, bookmarked=bookmarked)
    return (
        course,
        _json(categories) or [],
        # `from_db` takes the values in the model's field order.
        [Skill.from_db(db, ["id", "name", "slug"], skill) for skill in _json(skills) or []],
        activity,
        bytes(payload) if payload is not None else None,
        revision,
    )


def _json(value):
    # A json column arrives decoded from a prepared statement's binary result, as text from
    # Django's cursor (queries logged: DEBUG, tests).
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _course_page_portable(*, slug: str, member: Member | None, include_unpublished: bool):
    course = catalog_selectors.course_get_by_slug(
        slug=slug, include_unpublished=include_unpublished
    )
    if course is None:
        return None
    payload = (
        SimilarCourses.objects.filter(course_id=course.pk).values_list("payload", flat=True).first()
    )
    return (
        course,
        [category.name for category in course.categories.all()],
        catalog_selectors.course_approved_skills(course=course),
        course_activity_for_member(member=member, course=course) if member else None,
        bytes(payload) if payload is not None else None,
        None,
    )
