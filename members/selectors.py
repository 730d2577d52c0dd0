"""Reads for the members app. Each returns plain objects and costs a fixed number of queries."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, F

from catalog.models import Course, Skill
from members.models import Bookmark, Enrolment, FollowedSkill, JobTitle, Member, MemberSkill


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


def member_needs_onboarding(*, member: Member) -> bool:
    return member.onboarded_at is None


def job_titles_search(*, query: str, limit: int = 20) -> list[JobTitle]:
    """Titles containing `query`, those starting with it first, for search-as-you-type."""
    query = query.strip()
    if not query:
        return []
    matches = JobTitle.objects.filter(name__icontains=query).order_by("name")[: limit * 5]
    lowered = query.lower()
    ranked = sorted(matches, key=lambda t: (not t.name.lower().startswith(lowered), t.name.lower()))
    return ranked[:limit]


def job_title_by_name(*, name: str) -> JobTitle | None:
    name = name.strip()
    if not name:
        return None
    # Names are unique case-insensitively (a database constraint), so at most one matches.
    return JobTitle.objects.filter(name__iexact=name).first()


def skill_by_name(*, name: str) -> Skill | None:
    """The skill called `name` or having it as a synonym, ignoring case."""
    name = name.strip()
    if not name:
        return None
    return (
        Skill.objects.filter(name__iexact=name).first()
        or Skill.objects.filter(synonyms__name__iexact=name).first()
    )


def skills_by_ids(*, ids: Iterable[object]) -> list[Skill]:
    """The skills among `ids` that exist, by name; ids that are not integers are ignored."""
    pks = {int(value) for value in ids if str(value).isdigit()}
    if not pks:
        return []
    return list(Skill.objects.filter(pk__in=pks).order_by("name"))


def skills_most_followed(*, limit: int = 12) -> list[Skill]:
    rows = (
        FollowedSkill.objects.values("skill_id")
        .annotate(n=Count("id"), name=F("skill__name"))
        .order_by("-n", "name")[:limit]
    )
    return _skills_in_order([row["skill_id"] for row in rows])


def skills_suggested_for_title(*, title: JobTitle | None, limit: int = 12) -> list[Skill]:
    """The skills most common among members with `title`, most common first.

    A profile skill and a followed skill each count once, so a skill members both have and follow
    outranks one they only do either with. Ties go by skill name. A title nobody holds (or no title)
    falls back to the most-followed skills overall, so a new learner is never shown an empty list.
    """
    if title is None:
        return skills_most_followed(limit=limit)
    counts: Counter[int] = Counter()
    for model in (MemberSkill, FollowedSkill):
        rows = model.objects.filter(member__title=title).values("skill_id").annotate(n=Count("id"))
        for row in rows:
            counts[row["skill_id"]] += row["n"]
    if not counts:
        return skills_most_followed(limit=limit)
    names = dict(Skill.objects.filter(pk__in=counts).values_list("pk", "name"))
    ranked = sorted(counts, key=lambda pk: (-counts[pk], names[pk].lower(), pk))[:limit]
    return _skills_in_order(ranked)


def _skills_in_order(pks: list[int]) -> list[Skill]:
    by_pk = Skill.objects.in_bulk(pks)
    return [by_pk[pk] for pk in pks if pk in by_pk]


@dataclass(frozen=True)
class MemberProfile:
    member: Member
    followed_skills: list[FollowedSkill]
    profile_skills: list[MemberSkill]


def member_profile(*, member: Member) -> MemberProfile:
    member = Member.objects.select_related("user", "title", "industry").get(pk=member.pk)
    followed = list(
        FollowedSkill.objects.filter(member=member).select_related("skill").order_by("skill__name")
    )
    profile = list(
        MemberSkill.objects.filter(member=member)
        .select_related("skill")
        .order_by("-weight", "skill__name")
    )
    return MemberProfile(member=member, followed_skills=followed, profile_skills=profile)


@dataclass(frozen=True)
class MemberLearning:
    in_progress: list[Enrolment]
    finished: list[Enrolment]
    bookmarked: list[Bookmark]


def member_learning(*, member: Member) -> MemberLearning:
    """The "My learning" page: two queries whatever the number of courses."""
    enrolments = list(
        Enrolment.objects.filter(member=member)
        .select_related("course")
        .order_by(
            F("last_watched_at").desc(nulls_last=True),
            F("completed_at").desc(nulls_last=True),
            "-enrolled_at",
            "id",
        )
    )
    finished = sorted(
        (e for e in enrolments if e.completed_at is not None),
        key=lambda e: (e.completed_at, e.pk),
        reverse=True,
    )
    bookmarks = list(
        Bookmark.objects.filter(member=member)
        .select_related("course")
        .order_by("-created_at", "-id")
    )
    return MemberLearning(
        in_progress=[e for e in enrolments if e.completed_at is None],
        finished=finished,
        bookmarked=bookmarks,
    )
