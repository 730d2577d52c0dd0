"""Why a card is shown, in one short line: "Matches your skills: SQL, Tableau", "Because you
watched Intro to SQL", "Popular with Data Analysts", "New, matches SQL", "40% done".

One function, `card_explanation`, writes the text for the homepage's cards and the
recommendations API's `explanation`, so both always say the same. It derives the line from
what the page already holds: the reason that won the course (family and carousel label), the
course's approved skills (its card) and the member's followed and profile skills and course
progress (their serving inputs). It reads nothing and adds no query.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from catalog.models import Course
from catalog.selectors import course_cards_by_id
from members.models import FollowedSkill, Member, MemberSkill, OccupationSkill
from recommendations.data import REASON_CONTINUE, STRATEGY_EXPLORE, ShownCourse
from recommendations.serving.goal import REASON_GOAL, GoalGap, goal_label
from recommendations.serving.inputs import MemberServingInputs
from recommendations.serving.reasons import plural

# At most this many matched skills are named; a line is read at a glance.
MATCHES_NAMED = 3

# The phrase of each reason family that does not already say it in its carousel label.
_PHRASES = {
    "als": "Taken by learners with your history",
    "text": "Close to what you learn",
    "popular": "Popular with learners",
    "new": "New",
}


@dataclass(frozen=True)
class ExplanationContext:
    """What of the member an explanation reads: their skill ids (followed, then profile), the
    progress of their unfinished courses and the skills their goal role needs that they lack
    (the gap). The empty context is a visitor's."""

    skill_ids: frozenset[int] = frozenset()
    progress: dict[int, int] = field(default_factory=dict)
    gap_skill_ids: frozenset[int] = frozenset()


def explanation_context_build(
    *, inputs: MemberServingInputs, gap: GoalGap | None = None
) -> ExplanationContext:
    return ExplanationContext(
        skill_ids=frozenset(
            [skill_id for skill_id, _ in inputs.followed]
            + [skill_id for skill_id, _, _ in inputs.profile]
        ),
        progress=dict(inputs.in_progress),
        gap_skill_ids=frozenset(skill.skill_id for skill in gap.to_learn)
        if gap is not None
        else frozenset(),
    )


def card_explanation(
    *,
    reason: str,
    label: str,
    strategy: str,
    course_id: int,
    course_skills: Iterable[dict],
    context: ExplanationContext,
) -> str:
    """The card's line, from its reason family and carousel label, the course's approved skills
    (`{"id", "name"}` dicts, most confident first) and the member's `context`.

    A goal card names the gap skills the course teaches ("Toward Data Scientist: covers
    Python, SQL"); skill reasons name the member's skills the course teaches; "watched", "title" and
    "industry" cards say their carousel's label ("Because you watched ...", "Popular with Data
    Analysts"); the others their family's phrase, with the matched skills when there are any.
    """
    if strategy == STRATEGY_EXPLORE:
        return "Something different to try"
    if reason == REASON_CONTINUE:
        progress = context.progress.get(course_id, 0)
        return f"{progress}% done" if progress > 0 else "Enrolled, not started yet"
    if reason == REASON_GOAL:
        covers = [skill["name"] for skill in course_skills if skill["id"] in context.gap_skill_ids]
        return f"{label}: covers {_names(covers)}" if covers else label
    matched = [skill["name"] for skill in course_skills if skill["id"] in context.skill_ids]
    if reason in ("follow", "profile"):
        return f"Matches your skills: {_names(matched)}" if matched else label
    if reason in ("watched", "title", "industry"):
        return label
    phrase = _PHRASES.get(reason, label)
    return f"{phrase}, matches {_names(matched)}" if matched else phrase


def shown_card_explanation(*, member: Member, shown: ShownCourse, course: Course) -> str:
    """The line the card of `course` had where `shown` (its logged impression) put it, for
    undo's card, which puts a dismissed card back as it was. The carousel label is rebuilt from
    the reason key; a folded skill carousel's label is not (its card names the matched skill).
    Reads the member's skill ids, the card, for "watched" the anchor's title, and for "goal"
    the role's skills the member neither follows nor has on their profile."""
    skill_ids = frozenset(
        FollowedSkill.objects.filter(member=member)
        .order_by()
        .values_list("skill_id", flat=True)
        .union(
            MemberSkill.objects.filter(member=member).order_by().values_list("skill_id", flat=True)
        )
    )
    family, _, anchor = shown.reason_key.partition(":")
    label = ""
    gap_skill_ids: frozenset[int] = frozenset()
    if family == "watched" and anchor.isdigit():
        title = Course.objects.filter(pk=int(anchor)).values_list("title", flat=True).first()
        label = f"Because you watched {title}" if title else ""
    elif family == "title" and member.title_id is not None:
        label = f"Popular with {plural(member.title.name)}"
    elif family == "industry" and member.industry_id is not None:
        label = f"Trending in {member.industry.name}"
    elif family == REASON_GOAL and member.goal_id is not None:
        label = goal_label(member.goal_text)
        gap_skill_ids = frozenset(
            OccupationSkill.objects.filter(job_title_id=member.goal_id)
            .exclude(skill_id__in=skill_ids)
            .values_list("skill_id", flat=True)
        )
    card = course_cards_by_id(course_ids=[course.pk]).get(course.pk)
    return card_explanation(
        reason=shown.reason,
        label=label,
        strategy=shown.strategy,
        course_id=course.pk,
        course_skills=card.card_skills if card is not None else (),
        context=ExplanationContext(skill_ids=skill_ids, gap_skill_ids=gap_skill_ids),
    )


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:MATCHES_NAMED])
    more = len(names) - MATCHES_NAMED
    return f"{shown} and {more} more" if more > 0 else shown
