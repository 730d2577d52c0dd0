"""A member's suggested people, read from the stored rows, each with its reasons.

Only a discoverable member gets people, and only discoverable people are read: the filter is in
the query, so a person who switches discoverability off is gone on the next request whatever
the stored rows hold. Hidden people never come back. A person is shown by display name and
what they chose to show (title, followed skills, courses in progress); never a username or
email. Three queries whatever the number of people: the rows with the people, their and the
member's followed skills, their and the member's courses in progress.
"""

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db.models import Exists, OuterRef

from catalog.selectors import course_published_q
from members.models import Enrolment, FollowedSkill, Member
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


def people_for_member(
    *, member: Member, limit: int, person_id: int | None = None
) -> list[SuggestedPerson]:
    """The member's suggested people (at most `limit`, by rank), or only `person_id` when it is
    one of them. Empty for a member who is not discoverable."""
    if not member.discoverable:
        return []
    hidden = PersonHidden.objects.filter(member_id=member.pk, person_id=OuterRef("person_id"))
    rows = (
        PersonSuggestion.objects.filter(member_id=member.pk, person__discoverable=True)
        .exclude(Exists(hidden))
        .select_related("person__title", "person__industry")
        .order_by("rank")
    )
    if person_id is not None:
        rows = rows.filter(person_id=person_id)
    rows = list(rows[:limit])
    if not rows:
        return []
    people = {row.person_id: row.person for row in rows}
    everyone = [member.pk, *people]
    # Tuples, not model instances: a dozen people hold hundreds of follows and enrolments.
    skills: dict[int, dict[int, str]] = defaultdict(dict)
    followed = FollowedSkill.objects.filter(member_id__in=everyone).values_list(
        "member_id", "skill_id", "skill__name"
    )
    for follower_id, skill_id, name in followed:
        skills[follower_id][skill_id] = name
    courses: dict[int, dict[int, SuggestedCourse]] = defaultdict(dict)
    in_progress = (
        Enrolment.objects.filter(member_id__in=everyone, completed_at__isnull=True)
        .filter(course_published_q(prefix="course__"))
        .order_by("-enrolled_at", "pk")
        .values_list("member_id", "course_id", "course__title", "course__slug")
    )
    for learner_id, course_id, title, slug in in_progress:
        courses[learner_id][course_id] = SuggestedCourse(title, slug)
    own_skills, own_courses = skills[member.pk], courses[member.pk]
    # Only the member's own skills can be shared: their IDF is all that is read.
    idf = _skill_idf(list(own_skills))
    suggested = []
    for row in rows:
        person = people[row.person_id]
        their_skills = skills[person.pk] if person.shows_skills else {}
        their_courses = courses[person.pk] if person.shows_courses else {}
        shows_title = person.shows_title
        title = (
            (person.title_text or (person.title.name if person.title_id else ""))
            if (shows_title)
            else ""
        )
        reasons = person_reasons(
            shared_skills=[
                (name, idf.get(skill_id, 0.0))
                for skill_id, name in their_skills.items()
                if skill_id in own_skills
            ],
            shared_courses=[c.title for cid, c in their_courses.items() if cid in own_courses],
            same_title=(
                person.title.name
                if shows_title and person.title_id and person.title_id == member.title_id
                else ""
            ),
            same_industry=(
                person.industry.name
                if shows_title and person.industry_id and person.industry_id == member.industry_id
                else ""
            ),
            learned=row.family == PersonSuggestion.Family.LEARNED,
        )
        if not reasons:
            continue  # nothing in common any more that they show: not a suggestion now
        suggested.append(
            SuggestedPerson(
                member_id=person.pk,
                display_name=person.display_name,
                title=title,
                skills=sorted(their_skills.values()),
                courses=list(their_courses.values()),
                reasons=reasons,
                family=PersonSuggestion.Family(row.family).name.lower(),
                score=row.score,
                best_strength=reasons[0].strength,
            )
        )
    return suggested


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
