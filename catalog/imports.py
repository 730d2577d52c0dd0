"""CSV import and export of the course catalog, and the skill and category lookups the other
importers share.

Validation first (a `RowError` with the line number for each bad row, through `core.csv_import`),
then the valid rows in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.db import transaction
from django.db.models import CharField
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.models import Category, Course, CourseSkill, Skill, SkillSynonym
from catalog.services import course_tagging_enqueue
from core.csv_export import SpreadsheetCsvWriter
from core.csv_import import (
    CsvHeader,
    ImportOutcome,
    RowError,
    csv_open,
    csv_read_header,
    csv_records,
    slug_unique,
    timestamp_read,
    width_error,
)
from core.inputs import whole_number_parse

SKILL_SEPARATOR = "|"

# Placeholders for course fields a file may leave out; the same ones stand in for the bare
# courses that `import_interactions --create-missing` makes, so "Unknown" means one thing.
UNKNOWN_TEACHER = "Unknown"
UNKNOWN_DURATION_MINUTES = 1

# /skills/search/ is routed before /skills/<slug>/, so a skill with this slug would be unreachable.
RESERVED_SKILL_SLUGS = frozenset({"search"})


def names_split(raw: str) -> list[str]:
    return [name.strip() for name in raw.split(SKILL_SEPARATOR)] if raw else []


# --- Skill names ----------------------------------------------------------------------------


@dataclass
class SkillIndex:
    """Skills by lower-cased name and synonym, loaded once per import."""

    by_name: dict[str, Skill]
    slugs: set[str]

    def find(self, name: str) -> Skill | None:
        return self.by_name.get(name.lower())

    def add(self, *, name: str, category: Category) -> Skill:
        skill = Skill.objects.create(
            name=name,
            category=category,
            slug=slug_unique(text=name, taken=self.slugs, fallback="skill", max_length=140),
        )
        self.by_name[name.lower()] = skill
        return skill


def skill_index_load() -> SkillIndex:
    by_name: dict[str, Skill] = {}
    skills = list(Skill.objects.all())
    # Synonyms first, so a skill's own name wins if it is also another skill's synonym.
    by_pk = {skill.pk: skill for skill in skills}
    for synonym in SkillSynonym.objects.only("name", "skill_id"):
        by_name[synonym.name.lower()] = by_pk[synonym.skill_id]
    for skill in skills:
        by_name[skill.name.lower()] = skill
    return SkillIndex(by_name=by_name, slugs={s.slug for s in skills} | RESERVED_SKILL_SLUGS)


def category_get_or_create(
    *, name: str, categories: dict[str, Category], slugs: set[str]
) -> tuple[Category, bool]:
    category = categories.get(name.lower())
    if category is not None:
        return category, False
    category = Category.objects.create(
        name=name, slug=slug_unique(text=name, taken=slugs, fallback="category", max_length=140)
    )
    categories[name.lower()] = category
    return category, True


# --- Catalog import -------------------------------------------------------------------------

# `category` is optional: real catalogs often file courses nowhere, and a course may have none.
CATALOG_REQUIRED = ("course_id", "title", "description", "skills")
CATALOG_OPTIONAL = ("category", "level", "duration_minutes", "published_at", "teacher")
# Where a skill first named by a row without a category is created (a skill needs a category).
IMPORTED_SKILLS_CATEGORY = "Imported skills"
LEVELS = tuple(Course.Level.values)


@dataclass(frozen=True)
class CatalogRow:
    line: int
    course_id: str
    title: str
    description: str
    category: str | None
    skills: tuple[str, ...]
    level: str | None
    duration_minutes: int | None
    published_at: dt.datetime | None
    teacher: str | None


@dataclass
class CatalogImportResult(ImportOutcome):
    rows: list[CatalogRow] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    categories_created: int = 0
    skills_created: int = 0


def _text(
    fields: list[str], header: CsvHeader, name: str, *, max_length: int | None, required: bool
) -> tuple[str | None, str | None]:
    """(value or None when empty, error reason or None)."""
    index = header.index(name)
    value = fields[index].strip() if index is not None else ""
    if not value:
        return None, (f"{name} is empty" if required else None)
    if max_length is not None and len(value) > max_length:
        return None, f"{name} is longer than {max_length} characters"
    return value, None


def catalog_row_parse(
    *, line: int, fields: list[str], header: CsvHeader, now: dt.datetime
) -> tuple[CatalogRow | None, list[str]]:
    reasons: list[str] = []

    def text(name: str, max_length: int | None, required: bool = True) -> str | None:
        value, reason = _text(fields, header, name, max_length=max_length, required=required)
        if reason:
            reasons.append(reason)
        return value

    course_id = text("course_id", 64)
    title = text("title", 200)
    description = text("description", None)
    category = text("category", 120, required=False)
    teacher = text("teacher", 120, required=False)

    skills: list[str] = []
    for name in names_split(text("skills", None, required=False) or ""):
        if not name:
            reasons.append("skills has an empty name (two '|' in a row, or one at an end)")
        elif len(name) > 120:
            reasons.append(f"skill '{name[:40]}...' is longer than 120 characters")
        elif name.lower() not in {s.lower() for s in skills}:
            skills.append(name)

    level = text("level", None, required=False)
    if level is not None:
        level = level.lower()
        if level not in LEVELS:
            reasons.append(f"level '{level}' is not one of {', '.join(LEVELS)}")

    duration: int | None = None
    raw_duration = text("duration_minutes", None, required=False)
    if raw_duration is not None:
        duration = whole_number_parse(raw_duration, min_value=1, max_value=100_000)
        if duration is None:
            reasons.append(
                f"duration_minutes '{raw_duration}' is not a whole number from 1 to 100000"
            )

    published_at: dt.datetime | None = None
    raw_published = text("published_at", None, required=False)
    if raw_published is not None:
        published_at, reason = timestamp_read(raw_published, column="published_at", now=now)
        if reason:
            reasons.append(reason)

    if reasons:
        return None, reasons
    assert course_id and title and description
    return (
        CatalogRow(
            line=line,
            course_id=course_id,
            title=title,
            description=description,
            category=category,
            skills=tuple(skills),
            level=level,
            duration_minutes=duration,
            published_at=published_at,
            teacher=teacher,
        ),
        [],
    )


def catalog_file_validate(*, path: Path, now: dt.datetime | None = None) -> CatalogImportResult:
    """Parse and check every row; raises ImportFileError for a file that cannot be read at all."""
    now = now or timezone.now()
    result = CatalogImportResult()
    first_line: dict[str, int] = {}
    with csv_open(path=path) as handle:
        records = csv_records(handle=handle)
        header = csv_read_header(
            records=records, required=CATALOG_REQUIRED, optional=CATALOG_OPTIONAL
        )
        for line, fields in records:
            error = width_error(line=line, fields=fields, header=header)
            if error:
                result.errors.append(error)
                continue
            row, reasons = catalog_row_parse(line=line, fields=fields, header=header, now=now)
            if row is not None:
                seen = first_line.setdefault(row.course_id, line)
                if seen != line:
                    reasons = [f"duplicate course_id {row.course_id} (first on line {seen})"]
            result.errors.extend(RowError(line, reason) for reason in reasons)
            if row is not None and not reasons:
                result.rows.append(row)
    return result


def _tags_sync(*, course: Course, tags: dict[int, CourseSkill], skills: Iterable[Skill]) -> bool:
    """Make the course's taxonomist tags exactly `skills`; returns whether anything changed.

    Tags from the tagger or the model are left alone, except for a skill the file lists: there
    the taxonomist's word settles it, so that tag becomes an approved taxonomist tag (the pair is
    unique, so it cannot have both).
    """
    wanted = {skill.pk for skill in skills}
    changed = False
    stale = [
        tag.pk
        for skill_id, tag in tags.items()
        if tag.source == CourseSkill.Source.TAXONOMIST and skill_id not in wanted
    ]
    if stale:
        CourseSkill.objects.filter(pk__in=stale).delete()
        changed = True
    promote = [
        tag.pk
        for skill_id, tag in tags.items()
        if skill_id in wanted
        and (
            tag.source != CourseSkill.Source.TAXONOMIST
            or tag.status != CourseSkill.Status.APPROVED
            or tag.confidence != 1.0
        )
    ]
    if promote:
        CourseSkill.objects.filter(pk__in=promote).update(
            source=CourseSkill.Source.TAXONOMIST, status=CourseSkill.Status.APPROVED, confidence=1.0
        )
        changed = True
    new = sorted(wanted - tags.keys())
    if new:
        CourseSkill.objects.bulk_create(
            [
                CourseSkill(
                    course=course,
                    skill_id=skill_id,
                    source=CourseSkill.Source.TAXONOMIST,
                    status=CourseSkill.Status.APPROVED,
                    confidence=1.0,
                )
                for skill_id in new
            ]
        )
        changed = True
    return changed


def catalog_rows_write(
    *,
    rows: Sequence[CatalogRow],
    result: CatalogImportResult,
    now: dt.datetime | None = None,
    on_row: Callable[[], None] | None = None,
) -> None:
    """Upsert courses by external id, creating categories and skills as needed."""
    now = now or timezone.now()
    with transaction.atomic():
        categories = {c.name.lower(): c for c in Category.objects.all()}
        category_slugs = {c.slug for c in categories.values()}
        skills = skill_index_load()
        course_slugs = set(Course.objects.values_list("slug", flat=True))
        # Whole-table loads rather than `__in` lists: a catalog of tens of thousands of courses
        # would pass SQLite's limit on query parameters.
        existing = {c.external_id: c for c in Course.objects.filter(external_id__isnull=False)}
        tags: dict[int, dict[int, CourseSkill]] = defaultdict(dict)
        for tag in CourseSkill.objects.filter(course__external_id__isnull=False):
            tags[tag.course_id][tag.skill_id] = tag
        filed: dict[int, set[int]] = defaultdict(set)
        for course_id, category_id in Course.categories.through.objects.filter(
            course__external_id__isnull=False
        ).values_list("course_id", "category_id"):
            filed[course_id].add(category_id)

        for row in rows:
            category = None
            if row.category:
                category, created = category_get_or_create(
                    name=row.category, categories=categories, slugs=category_slugs
                )
                result.categories_created += created
            row_skills = []
            for name in row.skills:
                skill = skills.find(name)
                if skill is None:
                    if category is None:
                        home, created = category_get_or_create(
                            name=IMPORTED_SKILLS_CATEGORY,
                            categories=categories,
                            slugs=category_slugs,
                        )
                        result.categories_created += created
                    skill = skills.add(name=name, category=category or home)
                    result.skills_created += 1
                row_skills.append(skill)

            course = existing.get(row.course_id)
            if course is None:
                course = Course.objects.create(
                    external_id=row.course_id,
                    title=row.title,
                    slug=slug_unique(
                        text=row.title, taken=course_slugs, fallback="course", max_length=220
                    ),
                    description=row.description,
                    level=row.level or Course.Level.BEGINNER,
                    duration_minutes=row.duration_minutes or UNKNOWN_DURATION_MINUTES,
                    teacher=row.teacher or UNKNOWN_TEACHER,
                    published_at=row.published_at or now,
                )
                if category is not None:
                    course.categories.set([category])
                _tags_sync(course=course, tags={}, skills=row_skills)
                result.created += 1
            else:
                changed = _course_update(course=course, row=row)
                # An empty category cell keeps the course's filing, like any optional cell.
                if category is not None and filed[course.pk] != {category.pk}:
                    # The row's category is the course's filing; filings made by an earlier
                    # import are replaced, as the row is the catalog's current word.
                    course.categories.set([category])
                    changed = True
                changed |= _tags_sync(course=course, tags=tags[course.pk], skills=row_skills)
                if changed:
                    result.updated += 1
                else:
                    result.unchanged += 1
            if on_row:
                on_row()
    result.written = True


def _course_update(*, course: Course, row: CatalogRow) -> bool:
    # Optional columns left empty keep what the course has: a partial export must not wipe
    # durations or teachers. The slug stays too, so links to the course keep working.
    values = {"title": row.title, "description": row.description}
    if row.level is not None:
        values["level"] = row.level
    if row.duration_minutes is not None:
        values["duration_minutes"] = row.duration_minutes
    if row.teacher is not None:
        values["teacher"] = row.teacher
    if row.published_at is not None:
        values["published_at"] = row.published_at
    changed = [name for name, value in values.items() if getattr(course, name) != value]
    for name in changed:
        setattr(course, name, values[name])
    if changed:
        course.save(update_fields=[*changed, "updated_at"])
    return bool(changed)


def catalog_import(
    *,
    path: Path,
    skip_invalid: bool = False,
    now: dt.datetime | None = None,
    on_row: Callable[[], None] | None = None,
) -> CatalogImportResult:
    """Validate the whole file, then write it (only the valid rows with `skip_invalid`)."""
    now = now or timezone.now()
    result = catalog_file_validate(path=path, now=now)
    if result.errors and not skip_invalid:
        return result
    catalog_rows_write(rows=result.rows, result=result, now=now, on_row=on_row)
    if result.written:
        # New or changed course text: let the tagger suggest skills for it.
        course_tagging_enqueue()
    return result


# --- Export ---------------------------------------------------------------------------------

EXPORT_COLUMNS = ("course_id", "skill", "source", "confidence", "status")


def course_skills_export(*, handle: IO[str]) -> int:
    """Write every course-skill tag as CSV; returns the number of tags written.

    A course without an external id is named by its slug, which is unique too. Course ids and
    skill names are free text, written safe from formula injection (core/csv_export.py).
    """
    writer = SpreadsheetCsvWriter(
        handle, columns=EXPORT_COLUMNS, numeric={"confidence"}, lineterminator="\n"
    )
    writer.writeheader()
    count = 0
    tags = (
        CourseSkill.objects.annotate(
            name=Coalesce("course__external_id", "course__slug", output_field=CharField())
        )
        .order_by("name", "skill__name")
        .values_list("name", "skill__name", "source", "confidence", "status")
        .iterator(chunk_size=5000)
    )
    for row in tags:
        writer.writerow(row)
        count += 1
    return count
