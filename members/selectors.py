"""Reads for the members app. Each returns plain objects and costs a fixed number of queries."""

import datetime as dt
import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection, router
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    Max,
    Model,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.expressions import Col
from django.db.models.functions import Lower
from django.utils import timezone
from rapidfuzz import fuzz, process
from rapidfuzz import utils as rf_utils

from catalog.models import Course, LearningPath, Skill
from catalog.selectors import course_published_q, learning_path_steps, learning_paths_published
from core.inputs import ids_parse
from core.prepared_statements import prepared_cursor
from core.queries import SubqueryCount
from members.models import (
    AlternateTitle,
    ApiToken,
    Bookmark,
    Enrolment,
    FollowedPath,
    FollowedSkill,
    Industry,
    JobTitle,
    Member,
    MemberSkill,
    OccupationSkill,
)


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


# Typed titles: an exact title, an exact alternate title, then the closest by fuzzy matching.
# WRatio takes the best of plain, partial and token-set ratios, so "Sr. Data Analyst" and
# "data analist" still find "Data Analyst"; below the cutoff a title is kept without a match.
FUZZY_MATCH_CUTOFF = 88.0
FUZZY_SEARCH_CUTOFF = 70.0
# Search-as-you-type also lists titles containing the text typed so far (from this length).
SUBSTRING_MIN_LENGTH = 3
SUBSTRING_SCORE = 85.0


@dataclass(frozen=True)
class TitleMatch:
    """The occupation a typed title names, and how it was found."""

    job_title: JobTitle
    alternate_title: str | None  # the alternate title that matched; None for the title itself
    score: float  # 100 for an exact match, else rapidfuzz's WRatio


@dataclass(frozen=True)
class _TitleIndex:
    key: tuple
    names: list[str]
    title_ids: list[int]
    alternate: list[bool]


_title_index: _TitleIndex | None = None


def _title_index_get() -> _TitleIndex:
    """Every job title and alternate title (about 61,000 with the O*NET taxonomy) for fuzzy
    matching, kept per process while no title is added or removed (a count and the highest id
    of each table; names are not edited in bulk, and an edited name is still
    found exactly). Rebuilt on every call when `JOB_TITLE_INDEX_CACHE` is off (tests, whose
    rolled-back rows would otherwise leave one test's titles for the next)."""
    global _title_index
    key = (
        *JobTitle.objects.aggregate(n=Count("id"), top=Max("id")).values(),
        *AlternateTitle.objects.aggregate(n=Count("id"), top=Max("id")).values(),
    )
    cached = _title_index
    if cached is not None and cached.key == key and settings.JOB_TITLE_INDEX_CACHE:
        return cached
    names: list[str] = []
    title_ids: list[int] = []
    alternate: list[bool] = []
    for pk, name in JobTitle.objects.values_list("pk", "name"):
        names.append(name)
        title_ids.append(pk)
        alternate.append(False)
    for title_id, name in AlternateTitle.objects.values_list("job_title_id", "name"):
        names.append(name)
        title_ids.append(title_id)
        alternate.append(True)
    _title_index = _TitleIndex(key=key, names=names, title_ids=title_ids, alternate=alternate)
    return _title_index


def _closest_occupation(text: str, titles: list[JobTitle]) -> JobTitle:
    """Of several occupations sharing an alternate title, the one whose own titles are closest
    to the typed text, then the lowest O*NET code (one answer, always the same)."""
    return min(
        titles,
        key=lambda t: (
            -max(fuzz.WRatio(text, t.name), fuzz.WRatio(text, t.onet_title or t.name)),
            t.onet_code or "~",
            t.pk,
        ),
    )


def job_title_match(*, text: str) -> TitleMatch | None:
    """The occupation a typed title names: an exact job title or O*NET title (any case), else an
    exact alternate title, else the closest title scoring at least FUZZY_MATCH_CUTOFF; None when
    nothing is that close (the title is then kept without an occupation)."""
    text = " ".join(text.split())
    if not text:
        return None
    lowered = text.lower()
    exact = (
        JobTitle.objects.alias(lname=Lower("name"), lonet=Lower("onet_title"))
        .filter(Q(lname=lowered) | Q(lonet=lowered))
        .order_by("onet_code", "pk")
    )
    exact_titles = list(exact)
    if exact_titles:
        by_name = [t for t in exact_titles if t.name.lower() == lowered]
        return TitleMatch(job_title=(by_name or exact_titles)[0], alternate_title=None, score=100.0)
    alternates = list(
        AlternateTitle.objects.alias(lname=Lower("name"))
        .filter(lname=lowered)
        .select_related("job_title")
    )
    if alternates:
        chosen = _closest_occupation(text, [a.job_title for a in alternates])
        name = next(a.name for a in alternates if a.job_title_id == chosen.pk)
        return TitleMatch(job_title=chosen, alternate_title=name, score=100.0)
    found = _fuzzy_matches(text, limit=1, cutoff=FUZZY_MATCH_CUTOFF)
    return found[0] if found else None


def _fuzzy_matches(
    text: str, *, limit: int, cutoff: float, substrings: bool = False
) -> list[TitleMatch]:
    """Titles scoring at least `cutoff`; with `substrings`, also every title that contains the
    text as typed so far (scored SUBSTRING_SCORE): WRatio scales a short text against a long
    title down, so "data" alone would miss "Data Analyst, Marketing Insights"."""
    index = _title_index_get()
    hits = process.extract(
        text,
        index.names,
        scorer=fuzz.WRatio,
        processor=rf_utils.default_process,
        limit=limit * 10,
        score_cutoff=cutoff,
    )
    if substrings and len(text) >= SUBSTRING_MIN_LENGTH:
        scored = {position: score for _, score, position in hits}
        for _name, _, position in process.extract(
            text,
            index.names,
            scorer=fuzz.partial_ratio,
            processor=rf_utils.default_process,
            limit=limit * 10,
            score_cutoff=100,
        ):
            scored[position] = max(scored.get(position, 0.0), SUBSTRING_SCORE)
        hits = [(index.names[position], score, position) for position, score in scored.items()]
    lowered = text.lower()
    # Equal scores: a title starting with the text, then the shorter, then the job title itself.
    hits.sort(
        key=lambda hit: (
            -hit[1],
            not index.names[hit[2]].lower().startswith(lowered),
            len(index.names[hit[2]]),
            index.alternate[hit[2]],
            index.names[hit[2]].lower(),
        )
    )
    chosen: dict[int, tuple[str | None, float]] = {}
    for name, score, position in hits:
        title_id = index.title_ids[position]
        if title_id not in chosen:
            chosen[title_id] = (name if index.alternate[position] else None, float(score))
        if len(chosen) == limit:
            break
    titles = JobTitle.objects.in_bulk(list(chosen))
    return [
        TitleMatch(job_title=titles[pk], alternate_title=alternate, score=round(score, 1))
        for pk, (alternate, score) in chosen.items()
        if pk in titles
    ]


def job_titles_search(*, query: str, limit: int = 20) -> list[TitleMatch]:
    """Titles for a typed query, best first, one per occupation: the exact match (if any),
    then fuzzy matches of job titles and alternate titles (search-as-you-type)."""
    query = " ".join(query.split())
    if not query:
        return []
    matches: list[TitleMatch] = []
    exact = job_title_match(text=query)
    if exact is not None and exact.score == 100.0:
        matches.append(exact)
    found = _fuzzy_matches(query, limit=limit + 1, cutoff=FUZZY_SEARCH_CUTOFF, substrings=True)
    for match in found:
        if all(match.job_title.pk != m.job_title.pk for m in matches):
            matches.append(match)
    return matches[:limit]


def job_title_by_name(*, name: str) -> JobTitle | None:
    """The occupation a typed title names (see `job_title_match`), or None."""
    match = job_title_match(text=name)
    return match.job_title if match is not None else None


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
    """The skills among `ids` that exist, by name; values that are not ids are ignored."""
    pks = ids_parse(ids)
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


# A cohort of this many members with skills weighs as much as the occupation's O*NET skills.
COHORT_BLEND_MEMBERS = 10


def skills_suggested_for_titles(
    *, titles: Iterable[JobTitle], limit: int = 12
) -> dict[int, list[Skill]]:
    """Each title's suggested skills (by title id), in four queries whatever the number of titles.

    Two sources, blended: the occupation's O*NET technology skills (`OccupationSkill.weight`:
    hot technologies first, then the skills that mark the occupation most) and the cohort's own
    skills (members with the title; a profile skill and a followed skill each count once, so a
    skill members both have and follow outranks one they only do either with), as a share of the
    cohort's most counted skill. The cohort's share of the blend grows with the number of its
    members who have skills, n / (n + COHORT_BLEND_MEMBERS), so a new install suggests O*NET's
    skills from day one and a grown cohort its own. A title without O*NET skills goes by its
    cohort alone. Ties go by skill name. A title with neither gets an empty list.
    """
    titles = list(titles)
    ids = [t.pk for t in titles]
    prior: dict[int, dict[int, float]] = {pk: {} for pk in ids}
    for title_id, skill_id, weight in OccupationSkill.objects.filter(
        job_title_id__in=ids
    ).values_list("job_title_id", "skill_id", "weight"):
        prior[title_id][skill_id] = weight
    counts: dict[int, Counter[int]] = {pk: Counter() for pk in ids}
    holders: dict[int, set[int]] = {pk: set() for pk in ids}
    for model in (MemberSkill, FollowedSkill):
        rows = model.objects.filter(member__title_id__in=ids).values_list(
            "member__title_id", "member_id", "skill_id"
        )
        for title_id, member_id, skill_id in rows:
            counts[title_id][skill_id] += 1
            holders[title_id].add(member_id)
    scores: dict[int, dict[int, float]] = {}
    for pk in ids:
        n = len(holders[pk])
        share = 1.0 if not prior[pk] else n / (n + COHORT_BLEND_MEMBERS)
        top = max(counts[pk].values(), default=1)
        scores[pk] = {
            skill_id: (1.0 - share) * prior[pk].get(skill_id, 0.0)
            + share * counts[pk][skill_id] / top
            for skill_id in prior[pk].keys() | counts[pk].keys()
        }
    skills = Skill.objects.in_bulk({skill_id for s in scores.values() for skill_id in s})
    return {
        pk: sorted(
            (skills[skill_id] for skill_id in scores[pk] if skill_id in skills),
            key=lambda skill, pk=pk: (-scores[pk][skill.pk], skill.name.lower(), skill.pk),
        )[:limit]
        for pk in ids
    }


def skills_suggested_for_title(*, title: JobTitle | None, limit: int = 12) -> list[Skill]:
    """`skills_suggested_for_titles` for one title. A title with neither O*NET skills nor a
    cohort with skills (or no title) falls back to the most-followed skills overall, so a new
    learner is never shown an empty list."""
    if title is not None:
        suggested = skills_suggested_for_titles(titles=[title], limit=limit)[title.pk]
        if suggested:
            return suggested
    return skills_most_followed(limit=limit)


def _skills_in_order(pks: list[int]) -> list[Skill]:
    by_pk = Skill.objects.in_bulk(pks)
    return [by_pk[pk] for pk in pks if pk in by_pk]


@dataclass(frozen=True)
class MemberProfile:
    member: Member
    followed_skills: list[FollowedSkill]
    profile_skills: list[MemberSkill]


def skill_followed_by_member(*, member: Member, skill: Skill) -> bool:
    """Whether the member follows `skill` (the skill page's Follow or Unfollow button)."""
    return FollowedSkill.objects.filter(member=member, skill=skill).exists()


def followed_skills_of_member(*, member: Member) -> list[FollowedSkill]:
    """The member's follows with their skills, by skill name (one query)."""
    return list(
        FollowedSkill.objects.filter(member=member).select_related("skill").order_by("skill__name")
    )


def member_digest_subscribed(*, member_id: int) -> bool | None:
    """Whether the member gets the weekly recommendations email; None: no such member."""
    return Member.objects.filter(pk=member_id).values_list("digest_opt_in", flat=True).first()


def member_profile(*, member: Member) -> MemberProfile:
    member = Member.objects.select_related("user", "title", "industry").get(pk=member.pk)
    followed = followed_skills_of_member(member=member)
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
    """The "My learning" page: two queries whatever the number of courses.

    The member's own enrolments and bookmarks stay listed when their course is unpublished
    later; each carries `course_published`, and the page shows such a course without its link.
    """
    published = ExpressionWrapper(
        course_published_q(prefix="course__"), output_field=BooleanField()
    )
    enrolments = list(
        Enrolment.objects.filter(member=member)
        .select_related("course")
        .annotate(course_published=published)
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
        .annotate(course_published=published)
        .order_by("-created_at", "-id")
    )
    return MemberLearning(
        in_progress=[e for e in enrolments if e.completed_at is None],
        finished=finished,
        bookmarked=bookmarks,
    )


@dataclass(frozen=True)
class PathCourse:
    course: Course
    # The member's progress in percent (100: finished), None when they have not started it.
    progress: int | None


@dataclass(frozen=True)
class PathProgress:
    """A curated path as one member sees it: its courses with their progress, whether they
    follow it, and how many of its courses they finished."""

    path: LearningPath
    courses: list[PathCourse]
    following: bool

    @property
    def finished(self) -> int:
        return sum(1 for step in self.courses if step.progress == 100)

    @property
    def share_finished(self) -> float:
        return self.finished / len(self.courses) if self.courses else 0.0

    @property
    def next_course(self) -> Course | None:
        return next((step.course for step in self.courses if step.progress != 100), None)


def learning_paths_progress(
    *, member: Member | None, paths: Iterable[LearningPath]
) -> list[PathProgress]:
    """`paths` with the member's progress on each course and whether they follow each: three
    queries whatever the number of paths (none of the member's for a visitor)."""
    paths = list(paths)
    steps = learning_path_steps(path_ids=[path.pk for path in paths])
    progress: dict[int, int] = {}
    followed: set[int] = set()
    if member is not None and paths:
        course_ids = {course.pk for courses in steps.values() for course in courses}
        progress = dict(
            Enrolment.objects.filter(member=member, course_id__in=course_ids).values_list(
                "course_id", "progress_percent"
            )
        )
        followed = set(
            FollowedPath.objects.filter(member=member, path__in=paths).values_list(
                "path_id", flat=True
            )
        )
    return [
        PathProgress(
            path=path,
            courses=[PathCourse(course, progress.get(course.pk)) for course in steps[path.pk]],
            following=path.pk in followed,
        )
        for path in paths
    ]


def learning_paths_followed(*, member: Member) -> list[PathProgress]:
    """The published paths the member follows, most recently followed first, with progress."""
    paths = list(
        LearningPath.objects.filter(followers__member=member, is_published=True).order_by(
            "-followers__followed_at", "pk"
        )
    )
    return learning_paths_progress(member=member, paths=paths)


def learning_paths_listed(*, member: Member | None) -> list[PathProgress]:
    """Every published path, by title, with the member's progress."""
    return learning_paths_progress(member=member, paths=learning_paths_published())


# The signed-in user with their member row, its title and industry, read on every request
# that carries an API token or a session, and by the task worker's per-member refresh, in one
# prepared statement (see core/prepared_statements.py). The ORM's select_related builds the
# same join, but building and planning it anew each time cost three times what running it
# does (1.7 ms against 0.4 on the benchmark database). The columns come from the models, and
# values pass through the fields' converters as the ORM's would.
@dataclass(frozen=True)
class _SignedInSelect:
    sql: str
    # Per model, in column order: the model, its field names and each column's converters.
    shapes: tuple[tuple[type[Model], tuple[str, ...], tuple[list, ...]], ...]
    columns: tuple[Col, ...]


# What `_signed_in_select` finds the row by: an API token's digest, the user's id or the
# member's id.
_ByKey = Literal["token", "user", "member"]


@functools.cache
def _signed_in_select(*, by: _ByKey) -> _SignedInSelect:
    quote = connection.ops.quote_name
    user_model = get_user_model()
    models = [user_model, Member, JobTitle, Industry]
    if by == "token":
        models.insert(0, ApiToken)
    columns, selected, shapes = [], [], []
    for model in models:
        table = model._meta.db_table
        fields = model._meta.concrete_fields
        cols = tuple(field.get_col(table) for field in fields)
        converters = tuple(
            connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            for col in cols
        )
        shapes.append((model, tuple(field.attname for field in fields), converters))
        columns += cols
        selected += [f"{quote(table)}.{quote(field.column)}" for field in fields]
    user, member, title, industry = (quote(model._meta.db_table) for model in models[-4:])

    def column(model: type[Model], name: str) -> str:
        return f"{quote(model._meta.db_table)}.{quote(model._meta.get_field(name).column)}"

    user_id = column(user_model, user_model._meta.pk.name)
    joins = (
        f"LEFT JOIN {member} ON {column(Member, 'user')} = {user_id} "
        f"LEFT JOIN {title} ON {column(JobTitle, 'id')} = {column(Member, 'title')} "
        f"LEFT JOIN {industry} ON {column(Industry, 'id')} = {column(Member, 'industry')}"
    )
    if by == "token":
        source = (
            f"FROM {quote(ApiToken._meta.db_table)} JOIN {user} ON {user_id} = "
            f"{column(ApiToken, 'user')} {joins} WHERE {column(ApiToken, 'digest')} = %s"
        )
    elif by == "user":
        source = f"FROM {user} {joins} WHERE {user_id} = %s"
    else:
        source = f"FROM {user} {joins} WHERE {column(Member, 'id')} = %s"
    return _SignedInSelect(
        sql=f"SELECT {', '.join(selected)} {source}", shapes=tuple(shapes), columns=tuple(columns)
    )


def _signed_in_read(*, by: _ByKey, value: object) -> list[Model | None] | None:
    """The selected row as model instances (None for a row the left joins did not find)."""
    select = _signed_in_select(by=by)
    with prepared_cursor() as cursor:
        cursor.execute(select.sql, [value])
        row = cursor.fetchone()
    if row is None:
        return None
    instances: list[Model | None] = []
    start = 0
    db = router.db_for_read(Member)
    for model, names, converters in select.shapes:
        values = list(row[start : start + len(names)])
        for index, field_converters in enumerate(converters):
            for converter in field_converters:
                values[index] = converter(values[index], select.columns[start + index], connection)
        start += len(names)
        primary_key = values[names.index(model._meta.pk.attname)]
        instances.append(None if primary_key is None else model.from_db(db, names, values))
    user, member, title, industry = instances[-4:]
    # Cached as select_related caches them: `user.member` costs no query, and raises
    # Member.DoesNotExist when the user has no member row.
    link = Member._meta.get_field("user")
    link.remote_field.set_cached_value(user, member)
    if member is not None:
        link.set_cached_value(member, user)
        Member._meta.get_field("title").set_cached_value(member, title)
        Member._meta.get_field("industry").set_cached_value(member, industry)
    return instances


def token_with_member(*, digest: str) -> ApiToken | None:
    """The API token with this digest (`services.api_token_digest` of the presented key), with
    its user and the user's member (title, industry) loaded; None for an unknown one. Expired
    or not, active user or not: the caller decides."""
    found = _signed_in_read(by="token", value=digest)
    if found is None:
        return None
    token, user = found[0], found[1]
    ApiToken._meta.get_field("user").set_cached_value(token, user)
    return token


def api_tokens_of_user(*, user: AbstractBaseUser, now: dt.datetime | None = None) -> list[ApiToken]:
    """The user's tokens that have not expired, newest first (the profile page)."""
    now = now or timezone.now()
    return list(
        ApiToken.objects.filter(user=user, expires_at__gt=now).order_by("-created_at", "-id")
    )


def user_with_member(*, user_id: int) -> AbstractBaseUser | None:
    """The user with this id and their member (title, industry) loaded; None if unknown."""
    found = _signed_in_read(by="user", value=user_id)
    return None if found is None else found[0]


def member_with_user(*, member_id: int) -> Member | None:
    """The member with this id, their user, title and industry loaded; None if unknown."""
    found = _signed_in_read(by="member", value=member_id)
    return None if found is None else found[1]


def skills_with_member_counts(*, skills: QuerySet[Skill]) -> QuerySet[Skill]:
    """`skills` with `follower_count` and `member_count` (members with the skill on their
    profile), as correlated counts: a changelist page stays one query however many skills.
    """
    return skills.annotate(
        follower_count=SubqueryCount(
            FollowedSkill.objects.filter(skill=OuterRef("pk")).values("pk")
        ),
        member_count=SubqueryCount(MemberSkill.objects.filter(skill=OuterRef("pk")).values("pk")),
    )
