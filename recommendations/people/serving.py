"""A member's suggested people, read from the stored rows, each with its reasons.

Only a discoverable member gets people, and only discoverable people are read: the filter is in
the query, so a person who switches discoverability off is gone on the next request whatever
the stored rows hold. Hidden people never come back. A person is shown by display name and
what they chose to show (title, followed skills, courses in progress); never a username or
email. Whatever the number of people, one statement on PostgreSQL (elsewhere three queries): the
rows with the people, their and the member's followed skills, their and the member's courses
in progress.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from catalog.models import Course, Skill
from core.prepared_statements import prepared_cursor
from members.models import Enrolment, FollowedSkill, Industry, JobTitle, Member
from recommendations.models import PersonHidden, PersonSuggestion
from recommendations.serving.state import snapshot_active

# A learned suggestion with nothing visible in common still says why, and ranks it this strong.
LEARNED_REASON_STRENGTH = 1.0


@dataclass(frozen=True)
class PersonReason:
    kind: str  # skills, courses, title, industry, learned
    text: str
    strength: float


@dataclass(frozen=True)
class SuggestedCourse:
    title: str
    slug: str


@dataclass(frozen=True)
class SuggestedPerson:
    member_id: int
    display_name: str
    title: str  # empty when not shown
    skills: list[str]
    courses: list[SuggestedCourse]
    reasons: list[PersonReason]  # strongest first
    family: str
    score: float
    best_strength: float = field(default=0.0)


def _names(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return f"{items[0]}, {items[1]} and {len(items) - 2} more"


def person_reasons(
    *,
    shared_skills: list[tuple[str, float]],
    shared_courses: list[str],
    same_title: str,
    same_industry: str,
    learned: bool,
) -> list[PersonReason]:
    """Why a person is suggested, strongest first (ties keep this order: skills, courses,
    title, industry). A shared skill weighs its IDF, a shared course in progress, the same
    occupation and the same industry their `PEOPLE_RULE_WEIGHTS`, as in the rule-based score."""
    weights = settings.RECOMMENDATIONS["PEOPLE_RULE_WEIGHTS"]
    reasons = []
    skills = [name for name, idf in sorted(shared_skills, key=lambda s: -s[1]) if idf > 0]
    if skills:
        strength = sum(idf for _, idf in shared_skills)
        reasons.append(PersonReason("skills", f"You both follow {_names(skills)}", strength))
    if shared_courses:
        strength = weights["course"] * len(shared_courses)
        reasons.append(PersonReason("courses", f"Also taking {_names(shared_courses)}", strength))
    if same_title:
        reasons.append(PersonReason("title", f"{same_title} like you", weights["title"]))
    if same_industry:
        reasons.append(
            PersonReason("industry", f"Also works in {same_industry}", weights["industry"])
        )
    if not reasons and learned:
        reasons.append(PersonReason("learned", "Takes courses like yours", LEARNED_REASON_STRENGTH))
    return sorted(reasons, key=lambda reason: -reason.strength)


def _skill_idf(skill_ids: list[int]) -> dict[int, float]:
    """The active snapshot's IDF of these skills (0 for a skill it does not know)."""
    snapshot = snapshot_active()
    positions = snapshot.skill_positions(np.asarray(skill_ids, dtype=np.int64))
    known = positions >= 0
    idf = np.zeros(len(skill_ids))
    idf[known] = snapshot.idf[positions[known]]
    return dict(zip(skill_ids, idf.tolist(), strict=True))


@dataclass(frozen=True, slots=True)
class _PersonRow:
    """A stored suggestion with what serving shows of its person."""

    person_id: int
    score: float
    family: int
    display_name: str
    title_text: str
    title_id: int | None
    title_name: str
    industry_id: int | None
    industry_name: str
    shows_title: bool
    shows_skills: bool
    shows_courses: bool


@dataclass(frozen=True)
class _PeopleRead:
    """The member's people (by rank) and, for them and the member, followed skills
    ({member: {skill id: name}}) and courses in progress ({member: {course id: course}})."""

    rows: list[_PersonRow]
    skills: dict[int, dict[int, str]]
    courses: dict[int, dict[int, SuggestedCourse]]


def people_for_member(
    *, member: Member, limit: int, person_id: int | None = None, details: bool = True
) -> list[SuggestedPerson]:
    """The member's suggested people (at most `limit`, by rank), or only `person_id` when it is
    one of them. Empty for a member who is not discoverable.

    Without `details` (person cards, which show the reasons only) each person's `skills` and
    `courses` are left empty, and only the follows and courses they share with the member are
    read, which is all their reasons need: a dozen people hold a couple of hundred courses in
    progress, and reading them all with their titles costs about a millisecond of CPU."""
    if not member.discoverable:
        return []
    read = (
        _people_read_postgresql if connection.vendor == "postgresql" else _people_read_portable
    )(
        member_id=member.pk,
        limit=limit,
        person_id=person_id,
        now=timezone.now(),
        shared_only=not details,
    )
    if not read.rows:
        return []
    own_skills = read.skills.get(member.pk, {})
    own_courses = read.courses.get(member.pk, {})
    # Only the member's own skills can be shared: their IDF is all that is read.
    idf = _skill_idf(list(own_skills))
    suggested = []
    for row in read.rows:
        their_skills = read.skills.get(row.person_id, {}) if row.shows_skills else {}
        their_courses = read.courses.get(row.person_id, {}) if row.shows_courses else {}
        shows_title = row.shows_title
        title = (row.title_text or row.title_name) if shows_title else ""
        reasons = person_reasons(
            shared_skills=[
                (name, idf.get(skill_id, 0.0))
                for skill_id, name in their_skills.items()
                if skill_id in own_skills
            ],
            shared_courses=[c.title for cid, c in their_courses.items() if cid in own_courses],
            same_title=(
                row.title_name
                if shows_title and row.title_id and row.title_id == member.title_id
                else ""
            ),
            same_industry=(
                row.industry_name
                if shows_title and row.industry_id and row.industry_id == member.industry_id
                else ""
            ),
            learned=row.family == PersonSuggestion.Family.LEARNED,
        )
        if not reasons:
            continue  # nothing in common any more that they show: not a suggestion now
        suggested.append(
            SuggestedPerson(
                member_id=row.person_id,
                display_name=row.display_name,
                title=title,
                skills=sorted(their_skills.values()) if details else [],
                courses=list(their_courses.values()) if details else [],
                reasons=reasons,
                family=PersonSuggestion.Family(row.family).name.lower(),
                score=row.score,
                best_strength=reasons[0].strength,
            )
        )
    return suggested


# One prepared statement (core/prepared_statements.py) for the three reads: the ORM spent
# longer building its three queries than PostgreSQL answering them (a discoverable member's
# homepage cost twice another's). People by rank, follows and enrolments newest first, ties
# by id, as the portable reads order them. `{follows_shared}` and `{courses_shared}` keep,
# besides the member's own, only the people's follows and courses the member shares
# (`_SHARED_ONLY`), or are empty.
_PEOPLE_SQL_TEMPLATE = f"""
WITH people AS (
    SELECT s.person_id, s.rank, s.score, s.family, p.display_name, p.title_text, p.title_id,
           t.name AS title_name, p.industry_id, i.name AS industry_name,
           p.shows_title, p.shows_skills, p.shows_courses
    FROM {PersonSuggestion._meta.db_table} s
    JOIN {Member._meta.db_table} p ON p.id = s.person_id AND p.discoverable
    LEFT JOIN {JobTitle._meta.db_table} t ON t.id = p.title_id
    LEFT JOIN {Industry._meta.db_table} i ON i.id = p.industry_id
    WHERE s.member_id = %(member)s
      AND (%(person)s::bigint IS NULL OR s.person_id = %(person)s::bigint)
      AND NOT EXISTS (
          SELECT 1 FROM {PersonHidden._meta.db_table} h
          WHERE h.member_id = %(member)s AND h.person_id = s.person_id
      )
    ORDER BY s.rank, s.person_id
    LIMIT %(limit)s
), everyone AS (
    SELECT %(member)s::bigint AS id UNION ALL SELECT person_id FROM people
)
SELECT
    (SELECT json_agg(json_build_array(
         person_id, score, family, display_name, title_text, title_id, title_name,
         industry_id, industry_name, shows_title, shows_skills, shows_courses)
         ORDER BY rank, person_id)
     FROM people),
    (SELECT json_agg(json_build_array(f.member_id, f.skill_id, k.name)
                     ORDER BY f.member_id, f.followed_at DESC, f.id)
     FROM {FollowedSkill._meta.db_table} f
     JOIN {Skill._meta.db_table} k ON k.id = f.skill_id
     WHERE f.member_id IN (SELECT id FROM everyone) {{follows_shared}}
       AND EXISTS (SELECT 1 FROM people)),
    (SELECT json_agg(json_build_array(e.member_id, e.course_id, c.title, c.slug)
                     ORDER BY e.enrolled_at DESC, e.id)
     FROM {Enrolment._meta.db_table} e
     JOIN {Course._meta.db_table} c ON c.id = e.course_id
     WHERE e.member_id IN (SELECT id FROM everyone) AND e.completed_at IS NULL
       AND c.published_at <= %(now)s {{courses_shared}}
       AND EXISTS (SELECT 1 FROM people))
"""
_SHARED_ONLY = {
    "follows_shared": f"""AND (f.member_id = %(member)s OR f.skill_id IN (
        SELECT own.skill_id FROM {FollowedSkill._meta.db_table} own
        WHERE own.member_id = %(member)s))""",
    "courses_shared": f"""AND (e.member_id = %(member)s OR e.course_id IN (
        SELECT own.course_id FROM {Enrolment._meta.db_table} own
        WHERE own.member_id = %(member)s AND own.completed_at IS NULL))""",
}
_PEOPLE_SQL = {
    False: _PEOPLE_SQL_TEMPLATE.format(follows_shared="", courses_shared=""),
    True: _PEOPLE_SQL_TEMPLATE.format(**_SHARED_ONLY),
}


def _people_read_postgresql(
    *,
    member_id: int,
    limit: int,
    person_id: int | None,
    now: dt.datetime,
    shared_only: bool = False,
) -> _PeopleRead:
    with prepared_cursor() as cursor:
        cursor.execute(
            _PEOPLE_SQL[shared_only],
            {"member": member_id, "person": person_id, "limit": limit, "now": now},
        )
        rows, followed, in_progress = cursor.fetchone()
    return _people_read_build(rows or [], followed or [], in_progress or [])


def _people_read_portable(
    *,
    member_id: int,
    limit: int,
    person_id: int | None,
    now: dt.datetime,
    shared_only: bool = False,
) -> _PeopleRead:
    """The same reads through the ORM, one query each (SQLite)."""
    hidden = PersonHidden.objects.filter(member_id=member_id, person_id=OuterRef("person_id"))
    suggestions = (
        PersonSuggestion.objects.filter(member_id=member_id, person__discoverable=True)
        .exclude(Exists(hidden))
        .order_by("rank", "person_id")
    )
    if person_id is not None:
        suggestions = suggestions.filter(person_id=person_id)
    rows = list(
        suggestions.values_list(
            "person_id",
            "score",
            "family",
            "person__display_name",
            "person__title_text",
            "person__title_id",
            "person__title__name",
            "person__industry_id",
            "person__industry__name",
            "person__shows_title",
            "person__shows_skills",
            "person__shows_courses",
        )[:limit]
    )
    if not rows:
        return _PeopleRead(rows=[], skills={}, courses={})
    everyone = [member_id, *(row[0] for row in rows)]
    # Tuples, not model instances: a dozen people hold hundreds of follows and enrolments.
    followed = FollowedSkill.objects.filter(member_id__in=everyone)
    in_progress = Enrolment.objects.filter(
        member_id__in=everyone, completed_at__isnull=True, course__published_at__lte=now
    )
    if shared_only:
        followed = followed.filter(
            Q(member_id=member_id)
            | Q(skill_id__in=FollowedSkill.objects.filter(member_id=member_id).values("skill_id"))
        )
        in_progress = in_progress.filter(
            Q(member_id=member_id)
            | Q(
                course_id__in=Enrolment.objects.filter(
                    member_id=member_id, completed_at__isnull=True
                ).values("course_id")
            )
        )
    followed = followed.order_by("member_id", "-followed_at", "pk").values_list(
        "member_id", "skill_id", "skill__name"
    )
    in_progress = in_progress.order_by("-enrolled_at", "pk").values_list(
        "member_id", "course_id", "course__title", "course__slug"
    )
    return _people_read_build(rows, followed, in_progress)


def _people_read_build(rows, followed, in_progress) -> _PeopleRead:
    """From the suggestions' rows (in `_PersonRow` order, a missing title or industry name as
    None), (member, skill id, name) follows and (member, course id, title, slug) courses in
    progress, either read's order kept."""
    skills: dict[int, dict[int, str]] = defaultdict(dict)
    for follower_id, skill_id, name in followed:
        skills[follower_id][skill_id] = name
    courses: dict[int, dict[int, SuggestedCourse]] = defaultdict(dict)
    for learner_id, course_id, title, slug in in_progress:
        courses[learner_id][course_id] = SuggestedCourse(title, slug)
    return _PeopleRead(
        # JSON gives a whole-number score as an int.
        rows=[
            _PersonRow(
                row[0], float(row[1]), *row[2:6], row[6] or "", row[7], row[8] or "", *row[9:]
            )
            for row in rows
        ],
        skills=dict(skills),
        courses=dict(courses),
    )


def people_good_matches(people: list[SuggestedPerson]) -> list[SuggestedPerson]:
    """The homepage block's people: a best reason of at least `PEOPLE_HOME_MIN_SCORE`."""
    minimum = settings.RECOMMENDATIONS["PEOPLE_HOME_MIN_SCORE"]
    shown = settings.RECOMMENDATIONS["PEOPLE_HOME_SHOWN"]
    return [person for person in people if person.best_strength >= minimum][:shown]


def shown_ids_pack(member_ids: list[int]) -> bytes:
    """A page view's shown people as little-endian int32 (`PeoplePageView.shown`)."""
    return np.asarray(member_ids, dtype="<i4").tobytes()


def shown_ids_unpack(packed: bytes) -> list[int]:
    return np.frombuffer(bytes(packed), dtype="<i4").astype(np.int64).tolist()
