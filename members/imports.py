"""CSV import of members: profiles with title, industry, seniority and skills
(`manage.py import_members`).

Validate the whole file, collecting a RowError per bad row (`core.csv_import`), then write in
one transaction. The members' course interactions are imported by the recommendations app
(`recommendations.feedback.imports`), which owns the feedback they also write.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction

from catalog.imports import (
    IMPORTED_SKILLS_CATEGORY,
    SkillIndex,
    category_get_or_create,
    names_split,
    skill_index_load,
)
from catalog.models import Category
from core.csv_import import (
    CsvHeader,
    ImportOutcome,
    RowError,
    csv_open,
    csv_read_header,
    csv_records,
    width_error,
)
from members.models import Industry, JobTitle, Member, MemberSkill
from members.selectors import job_title_by_name

# Skills created by `import_members --create-skills` need a category; the file gives none.

_USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")
_username_validator = UnicodeUsernameValidator()
_email_validator = EmailValidator()


def usernames_taken() -> set[str]:
    # Lower-cased: two accounts differing only in case confuse people and some auth backends.
    User = get_user_model()
    return {name.lower() for name in User.objects.values_list(User.USERNAME_FIELD, flat=True)}


def username_derive(*, external_id: str, taken: set[str]) -> str:
    """A valid, unused username made from an external id ("M 7" -> "M-7", then "M-7-2")."""
    base = _USERNAME_UNSAFE.sub("-", external_id)[:140] or "member"
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        name = f"{base}-{n}"
    taken.add(name.lower())
    return name


# --- Members --------------------------------------------------------------------------------

MEMBER_REQUIRED = ("member_id", "title", "industry", "skills")
MEMBER_OPTIONAL = ("seniority", "username", "email")
SENIORITIES = tuple(value for value in Member.Seniority.values if value)


@dataclass(frozen=True)
class MemberRow:
    line: int
    member_id: str
    title: str | None
    industry: str | None
    skills: tuple[str, ...]
    seniority: str | None
    username: str | None
    email: str | None


@dataclass
class MemberImportResult(ImportOutcome):
    rows: list[MemberRow] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    titles_unmatched: int = 0  # rows whose title matched no occupation (kept as typed)
    industries_created: int = 0
    skills_created: int = 0


def _field(fields: list[str], header: CsvHeader, name: str) -> str:
    index = header.index(name)
    return fields[index].strip() if index is not None else ""


def member_row_parse(
    *,
    line: int,
    fields: list[str],
    header: CsvHeader,
    skills: SkillIndex,
    create_skills: bool,
) -> tuple[MemberRow | None, list[str]]:
    reasons: list[str] = []
    member_id = _field(fields, header, "member_id")
    if not member_id:
        reasons.append("member_id is empty")
    elif len(member_id) > 64:
        reasons.append("member_id is longer than 64 characters")
    title = _field(fields, header, "title") or None
    if title and len(title) > 150:
        reasons.append("title is longer than 150 characters")
    industry = _field(fields, header, "industry") or None
    if industry and len(industry) > 120:
        reasons.append("industry is longer than 120 characters")

    seniority = _field(fields, header, "seniority").lower() or None
    if seniority and seniority not in SENIORITIES:
        reasons.append(f"seniority '{seniority}' is not one of {', '.join(SENIORITIES)}")

    username = _field(fields, header, "username") or None
    if username:
        try:
            _username_validator(username)
            if len(username) > 150:
                raise ValidationError("too long")
        except ValidationError:
            reasons.append(
                f"username '{username}' is not valid (at most 150 letters, digits and @.+-_)"
            )
    email = _field(fields, header, "email") or None
    if email:
        try:
            _email_validator(email)
        except ValidationError:
            reasons.append(f"email '{email}' is not a valid address")

    names: list[str] = []
    for name in names_split(_field(fields, header, "skills")):
        if not name:
            reasons.append("skills has an empty name (two '|' in a row, or one at an end)")
        elif len(name) > 120:
            reasons.append(f"skill '{name[:40]}...' is longer than 120 characters")
        elif skills.find(name) is None and not create_skills:
            reasons.append(f"skill '{name}' is not in the taxonomy (see --create-skills)")
        elif name.lower() not in {n.lower() for n in names}:
            names.append(name)

    if reasons:
        return None, reasons
    return (
        MemberRow(
            line=line,
            member_id=member_id,
            title=title,
            industry=industry,
            skills=tuple(names),
            seniority=seniority,
            username=username,
            email=email,
        ),
        [],
    )


def members_file_validate(*, path: Path, create_skills: bool = False) -> MemberImportResult:
    """Parse and check every row; raises ImportFileError for a file that cannot be read at all."""
    result = MemberImportResult()
    skills = skill_index_load()
    User = get_user_model()
    # Who holds each username now, so a row may keep its own but not take another account's.
    holders = {
        name.lower(): external_id
        for name, external_id in User.objects.values_list(
            User.USERNAME_FIELD, "member__external_id"
        )
    }
    first_line: dict[str, int] = {}
    username_line: dict[str, int] = {}
    with csv_open(path=path) as handle:
        records = csv_records(handle=handle)
        header = csv_read_header(
            records=records, required=MEMBER_REQUIRED, optional=MEMBER_OPTIONAL
        )
        for line, fields in records:
            error = width_error(line=line, fields=fields, header=header)
            if error:
                result.errors.append(error)
                continue
            row, reasons = member_row_parse(
                line=line, fields=fields, header=header, skills=skills, create_skills=create_skills
            )
            if row is not None:
                seen = first_line.setdefault(row.member_id, line)
                if seen != line:
                    reasons.append(f"duplicate member_id {row.member_id} (first on line {seen})")
                if row.username:
                    key = row.username.lower()
                    other = username_line.setdefault(key, line)
                    if other != line:
                        reasons.append(f"username '{row.username}' is also on line {other}")
                    elif key in holders and holders[key] != row.member_id:
                        reasons.append(f"username '{row.username}' belongs to another account")
            result.errors.extend(RowError(line, reason) for reason in reasons)
            if row is not None and not reasons:
                result.rows.append(row)
    return result


def _named_get_or_create(
    model: type[JobTitle] | type[Industry], cache: dict[str, JobTitle | Industry], name: str
) -> tuple[JobTitle | Industry, bool]:
    found = cache.get(name.lower())
    if found is not None:
        return found, False
    created = model.objects.create(name=name)
    cache[name.lower()] = created
    return created, True


def members_rows_write(
    *,
    rows: Sequence[MemberRow],
    result: MemberImportResult,
    on_row: Callable[[], None] | None = None,
) -> None:
    """Upsert members by external id with their accounts, titles, industries, profile skills.

    Empty optional cells keep what the member has (a file from a system that lacks seniority
    must not wipe the seniority the member chose). The skills cell is the complete list of the
    member's *imported* skills: the ones a row no longer lists are removed, while skills the
    member added or that were inferred are never touched, even when the row lists them too.
    """
    User = get_user_model()
    with transaction.atomic():
        # A typed title is matched once per distinct text (see `job_title_match`).
        titles: dict[str, JobTitle | None] = {}
        industries: dict = {i.name.lower(): i for i in Industry.objects.all()}
        skills = skill_index_load()
        imported_category: Category | None = None
        categories = {c.name.lower(): c for c in Category.objects.all()}
        category_slugs = {c.slug for c in categories.values()}
        existing = {
            m.external_id: m
            for m in Member.objects.filter(external_id__isnull=False).select_related("user")
        }
        profile: dict[int, dict[int, MemberSkill]] = {}
        for ms in MemberSkill.objects.filter(member__external_id__isnull=False):
            profile.setdefault(ms.member_id, {})[ms.skill_id] = ms
        taken = usernames_taken()
        # A username named in the file is reserved before any is derived from an id.
        taken |= {row.username.lower() for row in rows if row.username}

        for row in rows:
            title = industry = None
            if row.title:
                key = " ".join(row.title.split()).lower()
                if key not in titles:
                    titles[key] = job_title_by_name(name=row.title)
                title = titles[key]
                result.titles_unmatched += title is None
            if row.industry:
                industry, created = _named_get_or_create(Industry, industries, row.industry)
                result.industries_created += created
            skill_ids = set()
            for name in row.skills:
                skill = skills.find(name)
                if skill is None:
                    if imported_category is None:
                        imported_category, _ = category_get_or_create(
                            name=IMPORTED_SKILLS_CATEGORY,
                            categories=categories,
                            slugs=category_slugs,
                        )
                    skill = skills.add(name=name, category=imported_category)
                    result.skills_created += 1
                skill_ids.add(skill.pk)

            member = existing.get(row.member_id)
            if member is None:
                user = User(
                    username=row.username
                    or username_derive(external_id=row.member_id, taken=taken),
                    email=row.email or "",
                )
                # Imported people sign in through a password reset, never with a known password.
                user.set_unusable_password()
                user.save()
                member = Member.objects.create(
                    user=user,
                    external_id=row.member_id,
                    title_text=" ".join(row.title.split()) if row.title else "",
                    title=title,
                    industry=industry,
                    seniority=row.seniority or "",
                )
                _profile_sync(member=member, current={}, skill_ids=skill_ids)
                result.created += 1
            else:
                changed = _member_update(member=member, row=row, title=title, industry=industry)
                changed |= _profile_sync(
                    member=member, current=profile.get(member.pk, {}), skill_ids=skill_ids
                )
                if changed:
                    result.updated += 1
                else:
                    result.unchanged += 1
            if on_row:
                on_row()
    result.written = True


def _member_update(
    *, member: Member, row: MemberRow, title: JobTitle | None, industry: Industry | None
) -> bool:
    changed = []
    title_text = " ".join(row.title.split()) if row.title else ""
    if title_text and member.title_text != title_text:
        member.title_text = title_text
        changed.append("title_text")
    if title_text and member.title_id != (title.pk if title is not None else None):
        member.title = title
        changed.append("title")
    if industry is not None and member.industry_id != industry.pk:
        member.industry = industry
        changed.append("industry")
    if row.seniority and member.seniority != row.seniority:
        member.seniority = row.seniority
        changed.append("seniority")
    if changed:
        member.save(update_fields=changed)
    user_changed = []
    if row.username and member.user.get_username() != row.username:
        member.user.username = row.username
        user_changed.append("username")
    if row.email and member.user.email != row.email:
        member.user.email = row.email
        user_changed.append("email")
    if user_changed:
        member.user.save(update_fields=user_changed)
    return bool(changed or user_changed)


def _profile_sync(*, member: Member, current: dict[int, MemberSkill], skill_ids: set[int]) -> bool:
    stale = [
        ms.pk
        for skill_id, ms in current.items()
        if ms.source == MemberSkill.Source.IMPORT and skill_id not in skill_ids
    ]
    if stale:
        MemberSkill.objects.filter(pk__in=stale).delete()
    new = sorted(skill_ids - current.keys())
    MemberSkill.objects.bulk_create(
        [
            MemberSkill(member=member, skill_id=pk, source=MemberSkill.Source.IMPORT, weight=1.0)
            for pk in new
        ]
    )
    return bool(stale or new)


def members_import(
    *,
    path: Path,
    skip_invalid: bool = False,
    create_skills: bool = False,
    on_row: Callable[[], None] | None = None,
) -> MemberImportResult:
    """Validate the whole file, then write it (only the valid rows with `skip_invalid`)."""
    result = members_file_validate(path=path, create_skills=create_skills)
    if result.errors and not skip_invalid:
        return result
    members_rows_write(rows=result.rows, result=result, on_row=on_row)
    return result
