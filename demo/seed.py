"""Writes a `DemoDataset` into the database, fast, and keeps the two demo accounts in place.

Rows get explicit primary keys allocated above the current maximum, so foreign keys can be
written without reading anything back. PostgreSQL gets every table through COPY (psycopg 3);
other databases get `bulk_create` in large batches. Sequences are reset afterwards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import islice

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Count, Max
from django.utils import timezone

from catalog.models import Category, Course, CourseSkill, Skill, SkillSynonym
from demo.dataset import demo_member_username
from demo.dataset.common import FIRST_NAMES, LAST_NAMES, demo_slugify
from demo.dataset.types import NO_TIME, SENIORITIES, DemoDataset
from members.models import (
    Bookmark,
    Enrolment,
    FollowedSkill,
    Industry,
    JobTitle,
    Member,
    MemberSkill,
)

User = get_user_model()

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin-demo-password"
LEARNER_USERNAME = "learner"
LEARNER_PASSWORD = "learner-demo-password"
LEARNER_GOAL = "Data Scientist"
# One generated member in this many is discoverable ("People to learn with"), shown by first
# name and initial: an opt-in most members leave off (about one in twenty), as on a real site.
DISCOVERABLE_EVERY = 20
LEARNER_DISPLAY_NAME = "Demo Learner"
# Generated members share one password so a demo can log in as any of them.
MEMBER_PASSWORD = "member-demo-password"
MEMBER_USERNAME_REGEX = r"^member[0-9]{6}$"

LEARNER_TITLES = ("Data Analyst", "Business Intelligence Analyst", "Data Scientist")
LEARNER_SKILLS = (
    "Structured query language SQL",
    "Microsoft Excel",
    "Tableau",
    "Python",
    "Microsoft Power BI",
)

ProgressCallback = Callable[[str, int, int], None]  # (table, rows written so far, total)

_CHUNK = 50_000


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    is_superuser: bool
    # What demo_accounts_ensure did: CREATED, KEPT (the demo password still works) or CHANGED
    # (someone changed the password since it was set: left as it is).
    state: str = ""

    CREATED = "created"
    KEPT = "kept"
    CHANGED = "changed"


class DemoPasswordsRefused(Exception):
    """DEBUG is off and the public demo passwords were not explicitly allowed."""


def demo_public_passwords_check(*, allowed: bool) -> None:
    """Refuse to make accounts with public passwords on what looks like a real deployment.

    The demo accounts (`admin` a superuser, `learner`) and every generated member have passwords
    printed in the README. With DEBUG on (a development machine) that is the point; with DEBUG
    off only `allowed` (the commands' `--allow-public-passwords`) lets them be created.
    """
    if settings.DEBUG or allowed:
        return
    raise DemoPasswordsRefused(
        "DEBUG is off, so this looks like a real deployment, and the demo accounts have public "
        f"passwords ({ADMIN_USERNAME} / {ADMIN_PASSWORD} is a superuser; {LEARNER_USERNAME} / "
        f"{LEARNER_PASSWORD}; generated members {MEMBER_PASSWORD}). Nothing was written. Run "
        "with DEBUG=1 for a local demo, or pass --allow-public-passwords on a machine nobody "
        "else can reach."
    )


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


def _times(values: np.ndarray, *, as_text: bool) -> list:
    """Epoch seconds as COPY text (PostgreSQL) or aware datetimes; NO_TIME becomes None."""
    missing = values == NO_TIME
    stamps = np.where(missing, 0, values).astype("datetime64[s]")
    if as_text:
        texts = np.char.add(np.datetime_as_string(stamps, unit="s"), "+00:00").tolist()
    else:
        texts = [moment.replace(tzinfo=dt.UTC) for moment in stamps.astype(object)]
    return [None if gone else text for text, gone in zip(texts, missing.tolist(), strict=True)]


def _rows_write(
    *,
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[tuple],
    total: int,
    on_progress: ProgressCallback | None,
) -> int:
    """Insert `rows` (tuples in `columns` order, attnames) into `model`'s table."""
    table = model._meta.db_table
    written = 0
    iterator: Iterator[tuple] = iter(rows)
    if on_progress:
        on_progress(table, 0, total)
    if _is_postgres():
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        with connection.cursor() as cursor:
            # Django's cursor wraps psycopg's; COPY needs the raw psycopg 3 cursor.
            raw = cursor.cursor
            with raw.copy(f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN") as copy:
                while chunk := list(islice(iterator, _CHUNK)):
                    for row in chunk:
                        copy.write_row(row)
                    written += len(chunk)
                    if on_progress:
                        on_progress(table, written, total)
    else:
        while chunk := list(islice(iterator, _CHUNK)):
            model.objects.bulk_create(
                [model(**dict(zip(columns, row, strict=True))) for row in chunk],
                batch_size=5_000,
            )
            written += len(chunk)
            if on_progress:
                on_progress(table, written, total)
    return written


def _sequences_reset(model_list: Sequence[type[models.Model]]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


@dataclass
class _TableWriter:
    """Writes a table's rows and counts them, with what every step of `demo_dataset_write` shares:
    the first free primary key per model, the format of values, and the rows' creation time."""

    first: dict[type[models.Model], int]
    text: bool  # values as COPY text (PostgreSQL) rather than Python objects
    stamp: object  # created_at (and updated_at) of every row written
    on_progress: ProgressCallback | None
    counts: dict[str, int] = field(default_factory=dict)

    def __call__(
        self, model: type[models.Model], columns: Sequence[str], rows: Iterable[tuple], total: int
    ) -> None:
        self.counts[model._meta.db_table] = _rows_write(
            model=model, columns=columns, rows=rows, total=total, on_progress=self.on_progress
        )


def demo_dataset_write(
    *, dataset: DemoDataset, on_progress: ProgressCallback | None = None
) -> dict[str, int]:
    """Write every row of `dataset`; returns rows written per table. All or nothing."""
    text = _is_postgres()
    now = timezone.now()
    stamp = now.isoformat() if text else now
    touched = [
        Category,
        Skill,
        SkillSynonym,
        Skill.related.through,
        JobTitle,
        Industry,
        Course,
        Course.categories.through,
        CourseSkill,
        User,
        Member,
        MemberSkill,
        FollowedSkill,
        Enrolment,
        Bookmark,
    ]
    with transaction.atomic():
        first = {model: _next_id(model) for model in touched}
        write = _TableWriter(first=first, text=text, stamp=stamp, on_progress=on_progress)
        category_id, skill_id = _taxonomy_write(write=write, dataset=dataset)
        title_id, industry_id = _titles_write(write=write, dataset=dataset)
        course_id = _catalog_write(
            write=write, dataset=dataset, category_id=category_id, skill_id=skill_id
        )
        member_id, joined, onboarded = _members_write(
            write=write, dataset=dataset, title_id=title_id, industry_id=industry_id
        )
        _member_skills_write(
            write=write,
            dataset=dataset,
            skill_id=skill_id,
            member_id=member_id,
            joined=joined,
            onboarded=onboarded,
        )
        _activity_write(write=write, dataset=dataset, member_id=member_id, course_id=course_id)
        _sequences_reset(touched)
    if text:
        # Fresh statistics: before autovacuum gets to them, the planner would estimate millions
        # of bulk-loaded rows as empty tables and pick sequential scans for per-member reads.
        with connection.cursor() as cursor:
            for model in touched:
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    return write.counts


def _ids_reusing(
    keys: list[str], existing: dict[str, int], first: int
) -> tuple[list[int], list[int]]:
    """Ids for `keys`: an existing row's where one has the key, else new ones from `first`;
    returns them and the positions of the keys that need a new row."""
    ids, new = [], []
    for position, key in enumerate(keys):
        if key in existing:
            ids.append(existing[key])
        else:
            ids.append(first + len(new))
            new.append(position)
    return ids, new


def _taxonomy_write(*, write: _TableWriter, dataset: DemoDataset) -> tuple[list[int], list[int]]:
    """Categories, skills, their synonyms and related skills; returns category and skill ids.

    Rows `load_taxonomy` already wrote (same names, case-insensitively) are reused, so the demo
    can be written over a loaded taxonomy; on an empty database everything is written here.
    """
    first, stamp = write.first, write.stamp
    related_through = Skill.related.through
    category_id, new_categories = _ids_reusing(
        [name.lower() for name in dataset.categories],
        {name.lower(): pk for pk, name in Category.objects.values_list("pk", "name")},
        first[Category],
    )
    category_slugs = _unique(dataset.categories)
    write(
        Category,
        ["id", "name", "slug", "description"],
        ((category_id[i], dataset.categories[i], category_slugs[i], "") for i in new_categories),
        len(new_categories),
    )
    skill_id, new_skills = _ids_reusing(
        [s.name.lower() for s in dataset.skills],
        {name.lower(): pk for pk, name in Skill.objects.values_list("pk", "name")},
        first[Skill],
    )
    write(
        Skill,
        ["id", "name", "slug", "category_id", "description", "created_at"],
        (
            (
                skill_id[i],
                dataset.skills[i].name,
                dataset.skills[i].slug,
                category_id[dataset.skills[i].category],
                f"{dataset.skills[i].name} ({dataset.categories[dataset.skills[i].category]}), "
                f"listed for {dataset.skills[i].occupation_count} occupations in O*NET.",
                stamp,
            )
            for i in new_skills
        ),
        len(new_skills),
    )
    taken = {name.lower() for name in SkillSynonym.objects.values_list("name", flat=True)}
    synonyms = [
        (skill_id[i], name)
        for i, s in enumerate(dataset.skills)
        for name in s.synonyms
        if name.lower() not in taken
    ]
    write(
        SkillSynonym,
        ["id", "skill_id", "name"],
        ((first[SkillSynonym] + n, sid, name) for n, (sid, name) in enumerate(synonyms)),
        len(synonyms),
    )
    # The relation is symmetrical: Django stores both directions.
    tied = set(related_through.objects.values_list("from_skill_id", "to_skill_id"))
    pairs = sorted(
        {
            pair
            for i, s in enumerate(dataset.skills)
            for j in s.related
            for pair in ((skill_id[i], skill_id[j]), (skill_id[j], skill_id[i]))
        }
        - tied
    )
    write(
        related_through,
        ["id", "from_skill_id", "to_skill_id"],
        ((first[related_through] + n, a, b) for n, (a, b) in enumerate(pairs)),
        len(pairs),
    )
    return category_id, skill_id


def _titles_write(*, write: _TableWriter, dataset: DemoDataset) -> tuple[list[int], list[int]]:
    """Job titles (reusing those `load_taxonomy` wrote, by O*NET code) and industries; returns
    their ids."""
    first = write.first
    title_id, new_titles = _ids_reusing(
        [t.onet_code or t.name.lower() for t in dataset.titles],
        {
            **{name.lower(): pk for pk, name in JobTitle.objects.values_list("pk", "name")},
            **{
                code: pk
                for pk, code in JobTitle.objects.exclude(onet_code="").values_list(
                    "pk", "onet_code"
                )
            },
        },
        first[JobTitle],
    )
    write(
        JobTitle,
        # Every column: COPY fills no Django default. O*NET's own title comes with load_taxonomy.
        ["id", "name", "onet_code", "onet_title"],
        (
            (title_id[i], dataset.titles[i].name, dataset.titles[i].onet_code, "")
            for i in new_titles
        ),
        len(new_titles),
    )
    industry_id = [first[Industry] + i for i in range(len(dataset.industries))]
    write(
        Industry,
        ["id", "name"],
        ((industry_id[i], name) for i, name in enumerate(dataset.industries)),
        len(dataset.industries),
    )
    return title_id, industry_id


def _catalog_write(
    *, write: _TableWriter, dataset: DemoDataset, category_id: list[int], skill_id: list[int]
) -> np.ndarray:
    """Courses, their categories (those of the skills they teach) and their skill tags;
    returns the course ids."""
    first, stamp, text = write.first, write.stamp, write.text
    categories_through = Course.categories.through
    course_id = np.arange(len(dataset.courses), dtype=np.int64) + first[Course]
    published = _times(
        np.array([c.published_at for c in dataset.courses], dtype=np.int64), as_text=text
    )
    write(
        Course,
        [
            "id",
            "title",
            "slug",
            "description",
            "level",
            "duration_minutes",
            "teacher",
            "published_at",
            "created_at",
            "updated_at",
        ],
        (
            (
                int(course_id[i]),
                c.title,
                c.slug,
                c.description,
                c.level,
                c.duration_minutes,
                dataset.teachers[c.teacher],
                published[i],
                stamp,
                stamp,
            )
            for i, c in enumerate(dataset.courses)
        ),
        len(dataset.courses),
    )
    course_categories = sorted(
        {
            (int(course_id[i]), category_id[dataset.skills[s].category])
            for i, c in enumerate(dataset.courses)
            for s in c.skills
        }
    )
    write(
        categories_through,
        ["id", "course_id", "category_id"],
        (
            (first[categories_through] + n, cid, gid)
            for n, (cid, gid) in enumerate(course_categories)
        ),
        len(course_categories),
    )
    tags = [
        (int(course_id[i]), skill_id[t.skill], t.source, t.confidence, t.status)
        for i, c in enumerate(dataset.courses)
        for t in c.tags
    ]
    write(
        CourseSkill,
        ["id", "course_id", "skill_id", "source", "confidence", "status", "created_at"],
        ((first[CourseSkill] + n, *tag, stamp) for n, tag in enumerate(tags)),
        len(tags),
    )
    return course_id


def _members_write(
    *, write: _TableWriter, dataset: DemoDataset, title_id: list[int], industry_id: list[int]
) -> tuple[np.ndarray, list, list]:
    """The generated members' users and members; returns member ids, then when each joined and
    onboarded (as written)."""
    first, text = write.first, write.text
    m = dataset.members
    n_members = len(m)
    user_id = np.arange(n_members, dtype=np.int64) + first[User]
    member_id = np.arange(n_members, dtype=np.int64) + first[Member]
    # Hashing is deliberately slow; every generated member shares this one hash.
    password = make_password(MEMBER_PASSWORD)
    joined = _times(m.joined_at, as_text=text)
    first_names, last_names = m.first_name.tolist(), m.last_name.tolist()
    write(
        User,
        [
            "id",
            "password",
            "is_superuser",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_staff",
            "is_active",
            "date_joined",
        ],
        (
            (
                int(user_id[i]),
                password,
                False,
                demo_member_username(index=i),
                FIRST_NAMES[first_names[i]],
                LAST_NAMES[last_names[i]],
                f"{demo_member_username(index=i)}@example.com",
                False,
                True,
                joined[i],
            )
            for i in range(n_members)
        ),
        n_members,
    )
    onboarded = _times(m.onboarded_at, as_text=text)
    goals = demo_member_goals(dataset)
    titles = [title_id[t] for t in m.title.tolist()]
    title_texts = [dataset.titles[t].name for t in m.title.tolist()]
    industries = [industry_id[i] for i in m.industry.tolist()]
    seniorities = [SENIORITIES[s] for s in m.seniority.tolist()]
    write(
        Member,
        [
            "id",
            "user_id",
            "title_text",
            "title_id",
            "industry_id",
            "seniority",
            "onboarded_at",
            "digest_opt_in",
            "created_at",
            "goal_text",
            "goal_id",
            "discoverable",
            "display_name",
            "shows_title",
            "shows_skills",
            "shows_courses",
        ],
        (
            (
                int(member_id[i]),
                int(user_id[i]),
                title_texts[i],
                titles[i],
                industries[i],
                seniorities[i],
                onboarded[i],
                # The questionnaire asks for the weekly email: the demo's members who answered
                # it said yes, the others never saw the question.
                onboarded[i] is not None,
                joined[i],
                dataset.titles[goals[i]].name if goals[i] >= 0 else "",
                title_id[goals[i]] if goals[i] >= 0 else None,
                i % DISCOVERABLE_EVERY == 0,
                f"{FIRST_NAMES[first_names[i]]} {LAST_NAMES[last_names[i]][0]}."
                if i % DISCOVERABLE_EVERY == 0
                else "",
                True,
                True,
                True,
            )
            for i in range(n_members)
        ),
        n_members,
    )
    return member_id, joined, onboarded


# One generated member in this many aims for another role (a career goal).
GOAL_EVERY = 4


def demo_member_goals(dataset: DemoDataset) -> list[int]:
    """Per member, the index of their goal title, -1 for none: every GOAL_EVERY-th member aims
    for the demo title, other than their own, whose skills share the most with the skills they
    follow (drawn from their hidden preferences, so the goal points where they are heading);
    ties to the lower index, none when no title shares a skill."""
    m = dataset.members
    followed: dict[int, set[int]] = {}
    for member, skill in zip(m.followed_member.tolist(), m.followed_skill.tolist(), strict=True):
        followed.setdefault(member, set()).add(skill)
    title_skills = [set(title.skills) for title in dataset.titles]
    goals = [-1] * len(m)
    for member in range(0, len(m), GOAL_EVERY):
        own, wanted = int(m.title[member]), followed.get(member, set())
        best, best_overlap = -1, 0
        for index, skills in enumerate(title_skills):
            overlap = len(skills & wanted)
            if index != own and overlap > best_overlap:
                best, best_overlap = index, overlap
        goals[member] = best
    return goals


def _member_skills_write(
    *,
    write: _TableWriter,
    dataset: DemoDataset,
    skill_id: list[int],
    member_id: np.ndarray,
    joined: list,
    onboarded: list,
) -> None:
    """Profile skills (dated when the member joined) and followed skills (when they onboarded)."""
    first = write.first
    m = dataset.members
    skill_ids = np.array(skill_id, dtype=np.int64)
    write(
        MemberSkill,
        ["id", "member_id", "skill_id", "source", "weight", "created_at"],
        zip(
            range(first[MemberSkill], first[MemberSkill] + len(m.profile_member)),
            member_id[m.profile_member].tolist(),
            skill_ids[m.profile_skill].tolist(),
            np.where(m.profile_imported, "import", "self").tolist(),
            m.profile_weight.tolist(),
            (joined[i] for i in m.profile_member.tolist()),
            strict=True,
        ),
        len(m.profile_member),
    )
    write(
        FollowedSkill,
        ["id", "member_id", "skill_id", "followed_at"],
        zip(
            range(first[FollowedSkill], first[FollowedSkill] + len(m.followed_member)),
            member_id[m.followed_member].tolist(),
            skill_ids[m.followed_skill].tolist(),
            (onboarded[i] for i in m.followed_member.tolist()),
            strict=True,
        ),
        len(m.followed_member),
    )


def _activity_write(
    *, write: _TableWriter, dataset: DemoDataset, member_id: np.ndarray, course_id: np.ndarray
) -> None:
    """Enrolments and bookmarks."""
    first, text = write.first, write.text
    a = dataset.interactions
    n = len(a)
    members_col = member_id[a.member].tolist()
    courses_col = course_id[a.course].tolist()
    write(
        Enrolment,
        [
            "id",
            "member_id",
            "course_id",
            "enrolled_at",
            "progress_percent",
            "watched_seconds",
            "last_watched_at",
            "completed_at",
        ],
        zip(
            range(first[Enrolment], first[Enrolment] + n),
            members_col,
            courses_col,
            _times(a.enrolled_at, as_text=text),
            a.progress_percent.tolist(),
            a.watched_seconds.tolist(),
            _times(a.last_watched_at, as_text=text),
            _times(a.completed_at, as_text=text),
            strict=True,
        ),
        n,
    )
    saved = np.flatnonzero(a.bookmarked_at != NO_TIME)
    write(
        Bookmark,
        ["id", "member_id", "course_id", "created_at"],
        zip(
            range(first[Bookmark], first[Bookmark] + len(saved)),
            member_id[a.member[saved]].tolist(),
            course_id[a.course[saved]].tolist(),
            _times(a.bookmarked_at[saved], as_text=text),
            strict=True,
        ),
        len(saved),
    )


def _unique(names: list[str]) -> list[str]:
    seen: set[str] = set()
    slugs = []
    for name in names:
        base = demo_slugify(text=name)[:130]
        slug, n = base, 1
        while slug in seen:
            n += 1
            slug = f"{base}-{n}"
        seen.add(slug)
        slugs.append(slug)
    return slugs


def demo_data_exists() -> bool:
    """True when courses, industries or generated members are already in the database.

    The taxonomy alone (`load_taxonomy`: skills, categories, job titles) is not demo data: the
    demo is written over it, reusing its rows.
    """
    return (
        Course.objects.exists()
        or Industry.objects.exists()
        or User.objects.filter(username__regex=MEMBER_USERNAME_REGEX).exists()
    )


def demo_data_flush() -> dict[str, int]:
    """Delete what `demo_dataset_write` creates: the catalog, titles, industries, members.

    Other accounts (including the two demo accounts) stay; their course activity goes with the
    courses and their title and industry are cleared. Leaf tables are deleted first so each is
    one DELETE statement rather than a cascade collected in Python.
    """
    deleted: dict[str, int] = {}
    generated = Member.objects.filter(user__username__regex=MEMBER_USERNAME_REGEX)
    steps: list[tuple[str, models.QuerySet]] = [
        ("enrolments", Enrolment.objects.all()),
        ("bookmarks", Bookmark.objects.all()),
        ("course skills", CourseSkill.objects.all()),
        ("member skills", MemberSkill.objects.filter(member__in=generated)),
        ("followed skills", FollowedSkill.objects.filter(member__in=generated)),
        ("members", generated),
        ("users", User.objects.filter(username__regex=MEMBER_USERNAME_REGEX)),
        ("courses", Course.objects.all()),
        ("skill synonyms", SkillSynonym.objects.all()),
        ("skills", Skill.objects.all()),
        ("categories", Category.objects.all()),
        ("job titles", JobTitle.objects.all()),
        ("industries", Industry.objects.all()),
    ]
    with transaction.atomic():
        for label, queryset in steps:
            deleted[label] = queryset.delete()[0]
    return deleted


def _learner_profile_fill(member: Member) -> None:
    """Give the learner a data title, a few followed data skills, the goal of becoming a Data
    Scientist (when that title is loaded) and a little history."""
    now = timezone.now()
    if member.title_id is None:
        member.title = next(
            (t for name in LEARNER_TITLES if (t := JobTitle.objects.filter(name=name).first())),
            JobTitle.objects.filter(name__icontains="data").order_by("name").first(),
        )
        member.title_text = member.title.name if member.title is not None else ""
        member.industry = Industry.objects.filter(name="Technology").first()
        member.seniority = Member.Seniority.MID
    skills = [s for name in LEARNER_SKILLS if (s := Skill.objects.filter(name=name).first())]
    if skills and not member.followed_skills.exists():
        FollowedSkill.objects.bulk_create(
            [FollowedSkill(member=member, skill=skill) for skill in skills[:4]]
        )
        MemberSkill.objects.bulk_create(
            [MemberSkill(member=member, skill=skill, weight=0.8) for skill in skills[:3]],
            ignore_conflicts=True,
        )
    if member.onboarded_at is None and member.followed_skills.exists():
        member.onboarded_at = now - dt.timedelta(days=30)
        # Answered the questionnaire, weekly email ticked: the demo shows it (an unsubscribed
        # learner stays unsubscribed, as the questionnaire is answered once here).
        member.digest_opt_in = True
    goal = JobTitle.objects.filter(name=LEARNER_GOAL).first()
    if member.goal_id is None and goal is not None and goal.pk != member.title_id:
        # The demo's homepage then shows the "Toward Data Scientist" carousel.
        member.goal, member.goal_text = goal, LEARNER_GOAL
    if not member.display_name:
        # The learner is discoverable, so the demo's homepage shows people to learn with.
        member.discoverable = True
        member.display_name = LEARNER_DISPLAY_NAME
    member.save()
    if skills and not member.enrolments.exists():
        courses = list(
            Course.objects.filter(
                skill_tags__skill__in=skills,
                skill_tags__status=CourseSkill.Status.APPROVED,
                published_at__lte=now - dt.timedelta(days=30),
            )
            .annotate(matches=Count("skill_tags"))
            .order_by("-matches", "-published_at")[:4]
        )
        history = [(100, 21), (45, 6), (10, 2)]
        for course, (progress, days) in zip(courses, history, strict=False):
            enrolled = now - dt.timedelta(days=days)
            completed = enrolled + dt.timedelta(days=2) if progress == 100 else None
            Enrolment.objects.create(
                member=member,
                course=course,
                enrolled_at=enrolled,
                progress_percent=progress,
                watched_seconds=course.duration_minutes * 60 * progress // 100,
                last_watched_at=completed or enrolled + dt.timedelta(hours=1),
                completed_at=completed,
            )
        if len(courses) > len(history):
            Bookmark.objects.get_or_create(
                member=member, course=courses[-1], defaults={"created_at": now}
            )


def demo_accounts_ensure(*, public_passwords_allowed: bool = False) -> list[DemoAccount]:
    """Create the superuser and the onboarded learner when missing; safe to run repeatedly.

    An existing account whose password is no longer the demo password was changed by someone
    since it was set: it is left exactly as it is (state CHANGED), never reset. Raises
    DemoPasswordsRefused when DEBUG is off, unless `public_passwords_allowed`.
    """
    demo_public_passwords_check(allowed=public_passwords_allowed)
    accounts = [
        DemoAccount(ADMIN_USERNAME, ADMIN_PASSWORD, True),
        DemoAccount(LEARNER_USERNAME, LEARNER_PASSWORD, False),
    ]
    ensured = []
    with transaction.atomic():
        for account in accounts:
            user, created = User.objects.get_or_create(
                username=account.username,
                defaults={
                    "email": f"{account.username}@example.com",
                    "is_staff": account.is_superuser,
                    "is_superuser": account.is_superuser,
                },
            )
            if created:
                user.set_password(account.password)
                user.save(update_fields=["password"])
                state = DemoAccount.CREATED
            elif user.check_password(account.password):
                state = DemoAccount.KEPT
            else:
                ensured.append(replace(account, state=DemoAccount.CHANGED))
                continue
            member, _ = Member.objects.get_or_create(user=user)
            if account.username == LEARNER_USERNAME:
                _learner_profile_fill(member)
            ensured.append(replace(account, state=state))
    return ensured
