"""Reads for the members app. Each returns plain objects and costs a fixed number of queries."""

import datetime as dt
import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection, router
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    Model,
    OuterRef,
    QuerySet,
)
from django.db.models.expressions import Col
from django.utils import timezone

from catalog.models import Course, Skill
from catalog.selectors import course_published_q
from core.inputs import ids_parse
from core.prepared_statements import prepared_cursor
from core.queries import SubqueryCount
from members.models import (
    ApiToken,
    Bookmark,
    Enrolment,
    FollowedSkill,
    Industry,
    JobTitle,
    Member,
    MemberSkill,
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


# The signed-in user with their member row, its title and industry, read on every request
# that carries an API token or a session, in one prepared statement (see
# core/prepared_statements.py). The ORM's select_related builds the same join, but building
# and planning it anew on each request cost three times what running it does. The columns come
# from the models, and values pass through the fields' converters as the ORM's would.
@dataclass(frozen=True)
class _SignedInSelect:
    sql: str
    # Per model, in column order: the model, its field names and each column's converters.
    shapes: tuple[tuple[type[Model], tuple[str, ...], tuple[list, ...]], ...]
    columns: tuple[Col, ...]


@functools.cache
def _signed_in_select(*, by_token: bool) -> _SignedInSelect:
    quote = connection.ops.quote_name
    user_model = get_user_model()
    models = [user_model, Member, JobTitle, Industry]
    if by_token:
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
    if by_token:
        source = (
            f"FROM {quote(ApiToken._meta.db_table)} JOIN {user} ON {user_id} = "
            f"{column(ApiToken, 'user')} {joins} WHERE {column(ApiToken, 'digest')} = %s"
        )
    else:
        source = f"FROM {user} {joins} WHERE {user_id} = %s"
    return _SignedInSelect(
        sql=f"SELECT {', '.join(selected)} {source}", shapes=tuple(shapes), columns=tuple(columns)
    )


def _signed_in_read(*, by_token: bool, value: object) -> list[Model | None] | None:
    """The selected row as model instances (None for a row the left joins did not find)."""
    select = _signed_in_select(by_token=by_token)
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
    found = _signed_in_read(by_token=True, value=digest)
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
    found = _signed_in_read(by_token=False, value=user_id)
    return None if found is None else found[0]


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
