"""Writes for the members app: accounts (passwords, email, API tokens), onboarding answers,
profile skills, course activity.

Every function is keyword-only and does its writes in one transaction, so a page never sees a
member without a profile row, a half-replaced followed-skill set, or an enrolment that breaks the
"completed iff 100 %" constraint.
"""

import datetime as dt
import hashlib
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import import_module

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.core import signing
from django.core.mail import send_mail
from django.db import DatabaseError, connection, router, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from catalog.models import Course, LearningPath, Skill
from catalog.services import TaxonomySkill, skill_rows_merge, taxonomy_skills_load
from core.inserts import row_insert_unless_present
from core.prepared_statements import prepared_cursor
from core.rate_limits import rate_limit_take
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
from members.onet import OnetSubset, occupation_skill_weights, onet_subset_read
from members.selectors import job_title_by_name, job_title_match
from members.signals import member_activity_announce, member_people_visibility_announce

# What one press of the course page's "Watch" button stands for.
WATCH_STEP_SECONDS = 10 * 60


@transaction.atomic
def member_sign_up(*, username: str, email: str, password: str) -> Member:
    # One transaction: a user must never exist without its member row.
    user = get_user_model().objects.create_user(username=username, email=email, password=password)
    return Member.objects.create(user=user)


@dataclass
class TaxonomyLoaded:
    """Rows `taxonomy_load` created (and updated), per kind."""

    counts: dict[str, int] = field(default_factory=dict)


@transaction.atomic
def taxonomy_load(*, subset: OnetSubset | None = None) -> TaxonomyLoaded:
    """Load the vendored O*NET taxonomy (`members/data/onet/`): skills with their categories,
    synonyms and related skills (through the catalog), one job title per occupation, every
    alternate title, and each occupation's skills with their weights.

    Idempotent: skills and categories match by name, job titles by O*NET code, alternate titles
    by (title, name), occupation skills by (title, skill), so a second run creates nothing and
    only brings changed values up to date. A job title whose vendored name is taken by another
    row keeps its current name (or, when new, takes O*NET's own title).
    """
    subset = subset or onet_subset_read()
    counts: dict[str, int] = {}
    skills = taxonomy_skills_load(
        skills=[
            TaxonomySkill(
                name=s.name,
                category=s.category,
                description=f"{s.name} ({s.category}), listed for {s.occupation_count} "
                "occupations in O*NET.",
            )
            for s in subset.skills
        ],
        synonyms=[(name, synonym) for name, names in subset.synonyms.items() for synonym in names],
        related=[(name, other) for name, pairs in subset.related.items() for other, _ in pairs],
    )
    counts.update(
        {
            "categories created": skills.categories_created,
            "skills created": skills.skills_created,
            "skills updated": skills.skills_updated,
            "synonyms created": skills.synonyms_created,
            "related skill pairs created": skills.related_created,
        }
    )

    titles = {t.onet_code: t for t in JobTitle.objects.exclude(onet_code="")}
    by_name = {t.name.lower(): t for t in JobTitle.objects.all()}
    created = updated = 0
    for item in subset.job_titles:
        row = titles.get(item.code)
        if row is None:
            same = by_name.get(item.title.lower())
            if same is not None and not same.onet_code:
                # A title of that name made in the admin or by an import becomes the occupation's.
                row = same
                row.onet_code, row.onet_title = item.code, item.onet_title
                row.save(update_fields=["onet_code", "onet_title"])
                updated += 1
            else:
                names = (item.title, item.onet_title)
                name = next((n for n in names if n.lower() not in by_name), None)
                if name is None:
                    continue
                row = JobTitle.objects.create(
                    name=name, onet_code=item.code, onet_title=item.onet_title
                )
                created += 1
            titles[item.code] = by_name[row.name.lower()] = row
            continue
        fields = []
        if row.onet_title != item.onet_title:
            row.onet_title = item.onet_title
            fields.append("onet_title")
        if row.name != item.title and item.title.lower() not in by_name:
            by_name.pop(row.name.lower(), None)
            row.name = item.title
            by_name[row.name.lower()] = row
            fields.append("name")
        if fields:
            row.save(update_fields=fields)
            updated += 1
    counts["job titles created"], counts["job titles updated"] = created, updated

    existing_alternates = {
        (title_id, name.lower())
        for title_id, name in AlternateTitle.objects.values_list("job_title_id", "name")
    }
    alternates = []
    for code, name in subset.alternate_titles:
        title = titles.get(code)
        if title is not None and (title.pk, name.lower()) not in existing_alternates:
            existing_alternates.add((title.pk, name.lower()))
            alternates.append(AlternateTitle(job_title=title, name=name))
    AlternateTitle.objects.bulk_create(alternates, batch_size=5_000)
    counts["alternate titles created"] = len(alternates)

    existing_skills = {
        (row.job_title_id, row.skill_id): row
        for row in OccupationSkill.objects.filter(job_title__in=list(titles.values()))
    }
    new_rows, changed_rows = [], []
    weighted = occupation_skill_weights(
        occupation_skills=subset.occupation_skills, alternate_titles=subset.alternate_titles
    )
    for code, rows in weighted.items():
        title = titles.get(code)
        if title is None:
            continue
        for name, hot, weight in rows:
            skill_id = skills.skill_ids.get(name.lower())
            if skill_id is None:
                continue
            row = existing_skills.get((title.pk, skill_id))
            if row is None:
                row = OccupationSkill(job_title=title, skill_id=skill_id, hot=hot, weight=weight)
                existing_skills[(title.pk, skill_id)] = row
                new_rows.append(row)
            elif (row.hot, row.weight) != (hot, weight):
                row.hot, row.weight = hot, weight
                changed_rows.append(row)
    OccupationSkill.objects.bulk_create(new_rows, batch_size=5_000)
    OccupationSkill.objects.bulk_update(changed_rows, ["hot", "weight"], batch_size=5_000)
    counts["occupation skills created"] = len(new_rows)
    counts["occupation skills updated"] = len(changed_rows)
    return TaxonomyLoaded(counts=counts)


def member_get_or_create_for_user(*, user: AbstractBaseUser) -> Member:
    """The user's member row, created on first use for accounts made outside sign-up
    (createsuperuser, admin, imports)."""
    # Already read with the user (API token authentication, see members/authentication.py).
    cached = Member._meta.get_field("user").remote_field.get_cached_value(user, default=None)
    if cached is not None:
        return cached
    # Title and industry come along: the homepage names them in its reasons.
    member, _ = Member.objects.select_related("title", "industry").get_or_create(user=user)
    return member


# What the site keeps about an account outside its rows: sessions and login records


def user_sessions_delete(*, users: Iterable[AbstractBaseUser]) -> int:
    """Delete every stored session signed in as one of `users`; how many.

    Sessions are stored by key, not by user, so each stored one is decoded to find theirs (an
    account deletion is rare; the table holds one row per browser). Expired sessions count
    too: they still name the user until `clearsessions` runs.
    """
    engine = import_module(settings.SESSION_ENGINE)
    if not issubclass(engine.SessionStore, DatabaseSessionStore):
        # Cookie or cache sessions: nothing is stored that could be looked up by user; they
        # stop authenticating once the user is gone.
        return 0
    user_ids = {str(user.pk) for user in users}
    keys = [
        session.session_key
        for session in Session.objects.only("session_key", "session_data").iterator(chunk_size=2000)
        if session.get_decoded().get(SESSION_KEY) in user_ids
    ]
    for key in keys:
        # Through the store, so a cached_db session leaves the cache too.
        engine.SessionStore(session_key=key).delete()
    return len(keys)


def login_records_delete(*, username: str) -> int:
    """Delete django-axes' records of logins under `username` (attempts, logins, failures)."""
    return sum(
        model.objects.filter(username=username).delete()[0]
        for model in (AccessAttempt, AccessLog, AccessFailureLog)
    )


def login_records_prune(*, now: dt.datetime | None = None, kept_days: int | None = None) -> int:
    """Delete login records older than `kept_days` (default `LOGIN_RECORDS_KEPT_DAYS`); how
    many. A lockout in force is among the youngest (its cool-off is minutes) and stays."""
    if kept_days is None:
        kept_days = settings.LOGIN_RECORDS_KEPT_DAYS
    if kept_days < 1:
        raise ValueError("keep login records for at least one day")
    cutoff = (now or timezone.now()) - dt.timedelta(days=kept_days)
    return sum(
        model.objects.filter(attempt_time__lt=cutoff).delete()[0]
        for model in (AccessAttempt, AccessLog, AccessFailureLog)
    )


@transaction.atomic
def member_onboarding_submit(
    *,
    member: Member,
    title_text: str,
    industry: Industry | None,
    seniority: str,
    skills: Iterable[Skill],
    digest_opt_in: bool | None = None,
    now: dt.datetime | None = None,
) -> Member:
    """Store the questionnaire's answers; the submitted skills become the followed set.

    The title is kept as typed (`title_text`) and matched to an occupation (`job_title_match`),
    which becomes the member's cohort; a title that matches none is kept without one.
    `digest_opt_in` (the site's questionnaire asks it; None leaves it as it is): whether the
    member gets the weekly recommendations email.
    """
    now = now or timezone.now()
    skill_ids = {skill.pk for skill in skills}
    if not skill_ids:
        raise ValueError("A member must follow at least one skill.")
    title_text = " ".join(title_text.split())
    if not title_text:
        raise ValueError("A member's title cannot be empty.")
    title = job_title_by_name(name=title_text)
    # Lock the row so two submits from two tabs cannot interleave their replace of the set.
    locked = Member.objects.select_for_update().get(pk=member.pk)
    locked.title_text = title_text
    locked.title = title
    locked.industry = industry
    locked.seniority = seniority
    if locked.onboarded_at is None:
        locked.onboarded_at = now
    fields = ["title_text", "title", "industry", "seniority", "onboarded_at"]
    if digest_opt_in is not None:
        locked.digest_opt_in = digest_opt_in
        fields.append("digest_opt_in")
    locked.save(update_fields=fields)

    FollowedSkill.objects.filter(member=locked).exclude(skill_id__in=skill_ids).delete()
    kept = set(FollowedSkill.objects.filter(member=locked).values_list("skill_id", flat=True))
    # Skills already followed keep their row (and so their followed_at); only new ones are added.
    FollowedSkill.objects.bulk_create(
        [FollowedSkill(member=locked, skill_id=pk) for pk in sorted(skill_ids - kept)]
    )

    member.title_text, member.title = title_text, title
    member.industry, member.seniority = industry, seniority
    member.onboarded_at = locked.onboarded_at
    member.digest_opt_in = locked.digest_opt_in
    member_activity_announce(member_id=member.pk)
    return member


class GoalUnmatched(ValueError):
    """A typed goal that names no occupation: a goal is only useful with the role's skills."""


def member_goal_set(*, member: Member, text: str) -> Member:
    """Set the member's goal role: the text as typed (spaces collapsed) and the occupation it
    matches, found as a typed title is (`job_title_match`: exact, alternate, then fuzzy).
    Raises `GoalUnmatched` (and changes nothing) when the text is empty or matches none."""
    text = " ".join(text.split())
    match = job_title_match(text=text) if text else None
    if match is None:
        raise GoalUnmatched(text)
    member.goal_text, member.goal = text, match.job_title
    member.save(update_fields=["goal_text", "goal"])
    return member


def member_goal_clear(*, member: Member) -> bool:
    """Clear the member's goal; returns whether they had one."""
    had = member.goal_id is not None or bool(member.goal_text)
    member.goal_text, member.goal = "", None
    member.save(update_fields=["goal_text", "goal"])
    return had


@transaction.atomic
def member_path_follow(
    *, member: Member, path: LearningPath, now: dt.datetime | None = None
) -> bool:
    """Follow a curated learning path; returns whether it was newly followed (following it
    again, from a double submit or a second tab, changes nothing)."""
    _, created = FollowedPath.objects.get_or_create(
        member=member, path=path, defaults={"followed_at": now or timezone.now()}
    )
    return created


def member_path_unfollow(*, member: Member, path: LearningPath) -> bool:
    deleted, _ = FollowedPath.objects.filter(member=member, path=path).delete()
    return deleted > 0


def member_digest_subscription_set(*, member_id: int, subscribed: bool) -> bool:
    """Turn the member's weekly recommendations email on or off (the profile, the email's
    unsubscribe link); True when it changed. Setting it as it already is changes nothing, so
    unsubscribing twice is fine."""
    return bool(
        Member.objects.filter(pk=member_id)
        .exclude(digest_opt_in=subscribed)
        .update(digest_opt_in=subscribed)
    )


@transaction.atomic
def member_skills_follow(*, member: Member, skills: Iterable[Skill]) -> list[Skill]:
    """Follow `skills` besides those already followed (a skill page's Follow button, the
    profile's skill picker); returns the ones newly followed. Following one already followed
    changes nothing (a double submit, two tabs) and so announces nothing."""
    wanted = {skill.pk: skill for skill in skills}
    if not wanted:
        return []
    kept = set(
        FollowedSkill.objects.filter(member=member, skill_id__in=wanted).values_list(
            "skill_id", flat=True
        )
    )
    new = [wanted[pk] for pk in sorted(wanted.keys() - kept)]
    if not new:
        return []
    # ignore_conflicts: a follow written by a concurrent request in between is the same follow.
    FollowedSkill.objects.bulk_create(
        [FollowedSkill(member=member, skill=skill) for skill in new], ignore_conflicts=True
    )
    # The member's recommendations are refreshed like after any other change of their answers.
    member_activity_announce(member_id=member.pk)
    return new


@transaction.atomic
def member_skill_unfollow(*, member: Member, skill: Skill) -> bool:
    """Stop following `skill`; returns whether it was followed. A member may unfollow every
    skill: the questionnaire asks for one to start from, the homepage needs none."""
    deleted, _ = FollowedSkill.objects.filter(member=member, skill=skill).delete()
    if deleted:
        member_activity_announce(member_id=member.pk)
    return deleted > 0


class PeopleSettingsInvalid(ValueError):
    """Settings refused, with a message per field (`errors`); nothing was saved."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


DISPLAY_NAME_MAX = 60


@transaction.atomic
def member_people_settings_set(
    *,
    member: Member,
    discoverable: bool,
    display_name: str,
    shows_title: bool,
    shows_skills: bool,
    shows_courses: bool,
) -> Member:
    """Set whether the member is discoverable ("People to learn with") and what others see.

    A discoverable member needs a display name, which may not be their username or look like an
    email address: neither is ever shown to other members. Switching off is announced after
    commit, and `recommendations` removes the member from every stored suggestion at once;
    switching on is announced too, and their own suggestions are computed.
    """
    display_name = " ".join(display_name.split())
    errors = {}
    if len(display_name) > DISPLAY_NAME_MAX:
        errors["display_name"] = f"At most {DISPLAY_NAME_MAX} characters."
    elif "@" in display_name:
        errors["display_name"] = "A display name cannot contain @: emails are never shown."
    elif display_name and display_name.casefold() == member.user.get_username().casefold():
        errors["display_name"] = (
            "Choose a name other than your username: usernames are never shown to other members."
        )
    elif discoverable and not display_name:
        errors["display_name"] = "Choose the name other members will see to be discoverable."
    if errors:
        raise PeopleSettingsInvalid(errors)
    locked = Member.objects.select_for_update().only("discoverable").get(pk=member.pk)
    was_discoverable = locked.discoverable
    member.discoverable = discoverable
    member.display_name = display_name
    member.shows_title = shows_title
    member.shows_skills = shows_skills
    member.shows_courses = shows_courses
    member.save(
        update_fields=[
            "discoverable",
            "display_name",
            "shows_title",
            "shows_skills",
            "shows_courses",
        ]
    )
    if discoverable != was_discoverable:
        member_people_visibility_announce(member_id=member.pk, discoverable=discoverable)
    return member


def member_profile_skill_add(*, member: Member, skill: Skill, weight: float) -> MemberSkill:
    """Put a skill on the profile as self-declared, or update the weight of one already there."""
    if not 0.0 < weight <= 1.0:
        raise ValueError("A profile skill's weight must be in (0, 1].")
    profile_skill, _ = MemberSkill.objects.update_or_create(
        member=member,
        skill=skill,
        defaults={"weight": weight, "source": MemberSkill.Source.SELF},
    )
    return profile_skill


def member_profile_skill_remove(*, member: Member, skill: Skill) -> bool:
    deleted, _ = MemberSkill.objects.filter(member=member, skill=skill).delete()
    return deleted > 0


def _enrolment_locked(*, member: Member, course: Course, now: dt.datetime) -> Enrolment:
    # The existing row locked in one statement (the common case: watching a course started
    # before); only without one, get_or_create, which a racing first watch cannot duplicate.
    enrolment = _enrolment_existing_locked(member=member, course=course)
    if enrolment is not None:
        return enrolment
    enrolment, created = Enrolment.objects.get_or_create(
        member=member, course=course, defaults={"enrolled_at": now}
    )
    if created:
        return enrolment
    return Enrolment.objects.select_for_update().get(pk=enrolment.pk)


def _enrolment_existing_locked(*, member: Member, course: Course) -> Enrolment | None:
    """The member's enrolment in the course with its row locked until the transaction ends;
    None without one."""
    if connection.vendor != "postgresql":
        return Enrolment.objects.select_for_update().filter(member=member, course=course).first()
    # Prepared: every watch event takes this lock, and the ORM's query cost about three times
    # as much to build and plan as to run.
    with prepared_cursor() as cursor:
        cursor.execute(_ENROLMENT_LOCK_SQL, [member.pk, course.pk])
        row = cursor.fetchone()
    if row is None:
        return None
    return Enrolment.from_db(router.db_for_write(Enrolment), _ENROLMENT_ATTNAMES, row)


_ENROLMENT_ATTNAMES = [field.attname for field in Enrolment._meta.concrete_fields]
_ENROLMENT_LOCK_SQL = (
    f"SELECT {', '.join(field.column for field in Enrolment._meta.concrete_fields)} "
    f"FROM {Enrolment._meta.db_table} WHERE member_id = %s AND course_id = %s FOR UPDATE"
)


def _completion_time(enrolment: Enrolment, now: dt.datetime) -> dt.datetime:
    # A caller passing an older `now` (back-filled data) must not break completed >= enrolled.
    return max(now, enrolment.enrolled_at)


def enrolment_start(*, member: Member, course: Course, now: dt.datetime | None = None) -> Enrolment:
    """The member's enrolment in the course, started now if there is none. One statement when
    it starts, two when it exists (no savepoint: `row_insert_unless_present`): a member enrols
    in a course once, so the insert is tried first."""
    enrolment = Enrolment(member=member, course=course, enrolled_at=now or timezone.now())
    if not row_insert_unless_present(enrolment, unique=("member", "course")):
        return Enrolment.objects.get(member=member, course=course)
    member_activity_announce(member_id=member.pk)
    return enrolment


@transaction.atomic
def enrolment_watch(
    *,
    member: Member,
    course: Course,
    seconds: int = WATCH_STEP_SECONDS,
    now: dt.datetime | None = None,
) -> Enrolment:
    """Record `seconds` of watching: progress grows by that share of the course's duration.

    Progress advances by a step rather than being recomputed from watched_seconds, because
    imported and seeded enrolments carry a progress without the seconds behind it.
    """
    if seconds <= 0:
        raise ValueError("Watched time must be positive.")
    now = now or timezone.now()
    enrolment = _enrolment_locked(member=member, course=course, now=now)
    _enrolment_watched(enrolment=enrolment, member=member, course=course, seconds=seconds, now=now)
    return enrolment


# No savepoint inside a caller's transaction (an event batch): it would add two round trips to
# the batch's fifteen, and a failure here fails the caller's transaction anyway.
@transaction.atomic(savepoint=False)
def enrolment_progress_reach(
    *, member: Member, course: Course, percent: int, now: dt.datetime | None = None
) -> Enrolment | None:
    """Record watching up to `percent` of the course (a player reporting the furthest point
    reached): progress only moves forward, so a late or replayed report of an earlier point
    changes nothing. Starts the enrolment if there is none and `percent` is above 0; None
    when there is none and it is not. Inside a caller's transaction an error here leaves that
    transaction to be rolled back (no savepoint)."""
    now = now or timezone.now()
    enrolment = _enrolment_existing_locked(member=member, course=course)
    target = min(100, percent)
    if target <= (enrolment.progress_percent if enrolment else 0):
        return enrolment
    if enrolment is None:
        enrolment = _enrolment_locked(member=member, course=course, now=now)
    if target > enrolment.progress_percent:
        # A watch advances by round(seconds / duration) points; this many seconds advances by
        # exactly target - current for any course of two minutes or more.
        seconds = max(
            1, round((target - enrolment.progress_percent) * course.duration_minutes * 60 / 100)
        )
        _enrolment_watched(
            enrolment=enrolment, member=member, course=course, seconds=seconds, now=now
        )
    return enrolment


def _enrolment_watched(
    *, enrolment: Enrolment, member: Member, course: Course, seconds: int, now: dt.datetime
) -> None:
    """`seconds` more watching of the locked `enrolment`, saved."""
    enrolment.watched_seconds += seconds
    enrolment.last_watched_at = now
    if enrolment.completed_at is None:
        # At least one point per watch, so a very long course still visibly moves.
        step = max(1, math.floor(seconds * 100 / (course.duration_minutes * 60) + 0.5))
        enrolment.progress_percent = min(100, enrolment.progress_percent + step)
        if enrolment.progress_percent == 100:
            enrolment.completed_at = _completion_time(enrolment, now)
            member_activity_announce(member_id=member.pk)
    _enrolment_watch_save(enrolment)


_WATCH_FIELDS = ("watched_seconds", "last_watched_at", "progress_percent", "completed_at")


def _enrolment_watch_save(enrolment: Enrolment) -> None:
    """Save what a watch changes on the locked `enrolment`. On PostgreSQL a prepared UPDATE:
    every watch event saves here, and the ORM's save cost twice what the statement does. It
    sends no model signals (nothing receives them for enrolments)."""
    if connection.vendor != "postgresql":
        enrolment.save(update_fields=list(_WATCH_FIELDS))
        return
    with prepared_cursor() as cursor:
        cursor.execute(
            _ENROLMENT_WATCH_SQL,
            [*(getattr(enrolment, name) for name in _WATCH_FIELDS), enrolment.pk],
        )
        if cursor.rowcount != 1:
            # As the ORM's save with update_fields: the locked row cannot have gone, but if
            # it has, say so rather than lose the watch.
            raise DatabaseError(f"Enrolment {enrolment.pk} to save is gone.")


_ENROLMENT_WATCH_SQL = (
    f"UPDATE {Enrolment._meta.db_table} SET "
    + ", ".join(f"{Enrolment._meta.get_field(name).column} = %s" for name in _WATCH_FIELDS)
    + " WHERE id = %s"
)


@transaction.atomic
def enrolment_finish(
    *, member: Member, course: Course, now: dt.datetime | None = None
) -> Enrolment:
    """Mark the course finished; finishing again keeps the first completion time."""
    now = now or timezone.now()
    enrolment = _enrolment_locked(member=member, course=course, now=now)
    if enrolment.completed_at is None:
        enrolment.progress_percent = 100
        enrolment.completed_at = _completion_time(enrolment, now)
        enrolment.save(update_fields=["progress_percent", "completed_at"])
        member_activity_announce(member_id=member.pk)
    return enrolment


@transaction.atomic
def bookmark_toggle(*, member: Member, course: Course, now: dt.datetime | None = None) -> bool:
    """Save the course if it is not saved, unsave it if it is; returns whether it is now saved."""
    deleted, _ = Bookmark.objects.filter(member=member, course=course).delete()
    member_activity_announce(member_id=member.pk)
    if deleted:
        return False
    Bookmark.objects.get_or_create(
        member=member, course=course, defaults={"created_at": now or timezone.now()}
    )
    return True


def bookmark_set(
    *, member: Member, course: Course, saved: bool, now: dt.datetime | None = None
) -> bool:
    """Save or unsave the course, whichever `saved` says; returns whether that changed anything.
    Unlike a toggle, setting again changes nothing, so a replayed request never undoes itself."""
    if saved:
        changed = row_insert_unless_present(
            Bookmark(member=member, course=course, created_at=now or timezone.now()),
            unique=("member", "course"),
        )
    elif connection.vendor == "postgresql":
        # A prepared DELETE: every unbookmark event runs it, and the ORM's delete cost more
        # than twice what the statement does. No model signals (nothing receives them).
        with prepared_cursor() as cursor:
            cursor.execute(_BOOKMARK_DELETE_SQL, [member.pk, course.pk])
            changed = cursor.rowcount > 0
    else:
        changed = Bookmark.objects.filter(member=member, course=course).delete()[0] > 0
    if changed:
        member_activity_announce(member_id=member.pk)
    return changed


_BOOKMARK_DELETE_SQL = (
    f"DELETE FROM {Bookmark._meta.db_table} WHERE member_id = %s AND course_id = %s"
)


def member_profile_skills_merge(*, survivor: Skill, merged: Skill) -> tuple[int, int]:
    """Move profile skills from `merged` to `survivor`; a member holding both keeps one row,
    with the stronger weight. Returns (moved, combined)."""

    def combine(kept: MemberSkill, profile: MemberSkill) -> None:
        if profile.weight > kept.weight:
            kept.weight, kept.source = profile.weight, profile.source
        kept.save(update_fields=["weight", "source"])

    return skill_rows_merge(
        model=MemberSkill, owner="member_id", survivor=survivor, merged=merged, combine=combine
    )


def member_follows_merge(*, survivor: Skill, merged: Skill) -> tuple[int, int]:
    """Move follows from `merged` to `survivor`; a member following both keeps one row, followed
    since the earlier date. Returns (moved, combined)."""

    def combine(kept: FollowedSkill, follow: FollowedSkill) -> None:
        # The member has followed the skill since the earlier of the two dates.
        if follow.followed_at < kept.followed_at:
            FollowedSkill.objects.filter(pk=kept.pk).update(followed_at=follow.followed_at)

    return skill_rows_merge(
        model=FollowedSkill, owner="member_id", survivor=survivor, merged=merged, combine=combine
    )


def occupation_skills_merge(*, survivor: Skill, merged: Skill) -> tuple[int, int]:
    """Move occupations' skills from `merged` to `survivor`, so a merge keeps what title
    suggestions draw on; an occupation listing both keeps one row, hot if either was, with the
    higher weight. Returns (moved, combined).

    The weight is not summed: it is relative to the occupation's best skill and capped at 1, and
    two O*NET names of one technology describe the same use, not twice as much of it."""

    def combine(kept: OccupationSkill, row: OccupationSkill) -> None:
        kept.hot = kept.hot or row.hot
        kept.weight = max(kept.weight, row.weight)
        kept.save(update_fields=["hot", "weight"])

    return skill_rows_merge(
        model=OccupationSkill,
        owner="job_title_id",
        survivor=survivor,
        merged=merged,
        combine=combine,
    )


# Passwords and email


def user_password_set(
    *, user: AbstractBaseUser, password: str, keep_token_id: int | None = None
) -> None:
    """Set the user's password (the form or serializer ran the validators) and revoke their API
    tokens but `keep_token_id`, the one an API change came with: a new password shuts out
    whoever held the old one, tokens included. Sessions elsewhere end by themselves (Django
    checks each against the password's hash); the entry point keeps its own session with
    `update_session_auth_hash`."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        tokens = ApiToken.objects.filter(user=user)
        if keep_token_id is not None:
            tokens = tokens.exclude(pk=keep_token_id)
        tokens.delete()


def user_password_reset(*, user: AbstractBaseUser, password: str) -> None:
    """Set a password through a reset link: as `user_password_set`, every token revoked, and the
    username's login lockout lifted (django-axes), since the link proved who is asking."""
    user_password_set(user=user, password=password)
    axes_reset(username=user.get_username())


def password_reset_rate_take(*, email: str, address: str | None) -> float | None:
    """Count a reset request for `email` from the client `address`: None when both rates
    (PASSWORD_RESET_RATE_PER_ADDRESS, PASSWORD_RESET_RATE_PER_EMAIL) still allow it, else the
    seconds to wait. Counted whether or not an account uses the email, so a refusal says
    nothing about accounts; the per-email rate keeps a stranger from filling an inbox."""
    if address:
        wait = rate_limit_take(
            scope="password_reset_address",
            key=address,
            rate=settings.PASSWORD_RESET_RATE_PER_ADDRESS,
        )
        if wait is not None:
            return wait
    return rate_limit_take(
        scope="password_reset_email",
        key=email.strip().lower(),
        rate=settings.PASSWORD_RESET_RATE_PER_EMAIL,
    )


def password_reset_send(*, email: str, domain: str, use_https: bool) -> None:
    """Mail a reset link to every active account with a usable password that uses `email`
    (any case), and nothing to anyone else: the caller answers the same either way. The link
    leads to this site at `domain` (the request's host, which ALLOWED_HOSTS vetted)."""
    form = PasswordResetForm({"email": email})
    if not form.is_valid():
        raise ValueError(f"Not an email address: {email!r}")
    form.save(
        domain_override=domain,
        use_https=use_https,
        subject_template_name="members/email/password_reset_subject.txt",
        email_template_name="members/email/password_reset_body.txt",
        extra_email_context={"timeout_hours": settings.PASSWORD_RESET_TIMEOUT // 3600},
    )


class EmailChangeRefused(Exception):
    """An email-change link that is not (or no longer) good; the message says why."""


EMAIL_CHANGE_SALT = "members.email_change"


def _email_digest(email: str) -> str:
    # The link carries the old address as a digest: it only has to tell whether the account
    # still has it, and the new address's owner need not learn it.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def current_password_check(*, user: AbstractBaseUser, password: str) -> str | None:
    """None when `password` is the user's current one, else why it is refused. Every check
    counts toward CURRENT_PASSWORD_RATE_PER_USER before the password is compared, so past the
    rate even the right one is refused until the wait is over."""
    wait = rate_limit_take(
        scope="current_password", key=str(user.pk), rate=settings.CURRENT_PASSWORD_RATE_PER_USER
    )
    if wait is not None:
        minutes = max(1, math.ceil(wait / 60))
        return f"Too many password checks for this account: try again in {minutes} minutes."
    if not user.check_password(password):
        return "That is not your current password."
    return None


def email_change_rate_take(*, user: AbstractBaseUser) -> float | None:
    """Count an email-change request of `user` (EMAIL_CHANGE_RATE_PER_USER): None when it
    fits, else the seconds to wait."""
    return rate_limit_take(
        scope="email_change", key=str(user.pk), rate=settings.EMAIL_CHANGE_RATE_PER_USER
    )


def email_change_request(
    *, user: AbstractBaseUser, new_email: str, domain: str, use_https: bool
) -> None:
    """Mail `new_email` a link that confirms it as the user's address (signed with SECRET_KEY,
    good for EMAIL_CHANGE_TIMEOUT seconds and only while the account keeps its current
    address, so once). Nothing changes until the link is followed: a typo cannot take the
    account's address away."""
    token = signing.dumps(
        {"user": user.pk, "old": _email_digest(user.email), "new": new_email},
        salt=EMAIL_CHANGE_SALT,
        compress=True,
    )
    path = reverse("members:email_change_confirm", args=[token])
    context = {
        "user": user,
        "new_email": new_email,
        "link": f"{'https' if use_https else 'http'}://{domain}{path}",
        "valid_hours": settings.EMAIL_CHANGE_TIMEOUT // 3600,
    }
    send_mail(
        subject=render_to_string("members/email/email_change_confirm_subject.txt").strip(),
        message=render_to_string("members/email/email_change_confirm_body.txt", context),
        from_email=None,
        recipient_list=[new_email],
    )


def email_change_token_read(*, user: AbstractBaseUser, token: str) -> str:
    """The new address an email-change link confirms for `user`; EmailChangeRefused when the
    link is altered, expired, for another account or already used."""
    try:
        payload = signing.loads(
            token, salt=EMAIL_CHANGE_SALT, max_age=settings.EMAIL_CHANGE_TIMEOUT
        )
    except signing.SignatureExpired as error:
        raise EmailChangeRefused("This link has expired: ask for a new one.") from error
    except signing.BadSignature as error:
        raise EmailChangeRefused("This link is not valid: ask for a new one.") from error
    if payload.get("user") != user.pk:
        raise EmailChangeRefused("This link is for another account: log in as its owner.")
    if payload.get("old") != _email_digest(user.email):
        raise EmailChangeRefused("This link was already used, or your address changed since.")
    return payload["new"]


def email_change_confirm(*, user: AbstractBaseUser, token: str) -> str:
    """Switch the user's address to the one `token` confirms, tell the old address, and return
    the new one. Raises EmailChangeRefused as `email_change_token_read`."""
    new_email = email_change_token_read(user=user, token=token)
    old_email = user.email
    user.email = new_email
    user.save(update_fields=["email"])
    if old_email:
        # The old address hears of it, so a change its owner did not make does not go unseen.
        context = {"user": user, "new_email": new_email}
        send_mail(
            subject=render_to_string("members/email/email_changed_subject.txt").strip(),
            message=render_to_string("members/email/email_changed_body.txt", context),
            from_email=None,
            recipient_list=[old_email],
        )
    return new_email


# API tokens


# Live tokens a user may hold; obtaining one more revokes the oldest (scripts that obtain a
# token per run must not pile them up).
API_TOKENS_PER_USER = 20


def api_token_digest(*, key: str) -> str:
    """What is stored of a token key: its SHA-256, hex. Keys are 256 random bits, so a fast
    hash suffices (no guessing to slow down)."""
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(
    *, user: AbstractBaseUser, name: str = "", now: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for `user`, called `name`, and its key (shown once; only its digest is
    stored). It expires `API_TOKEN_TTL_HOURS` after `now`. The user's expired tokens are
    deleted, and the oldest live ones beyond `API_TOKENS_PER_USER`."""
    now = now or timezone.now()
    key = secrets.token_urlsafe(32)
    with transaction.atomic():
        ApiToken.objects.filter(user=user, expires_at__lte=now).delete()
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=key[:8],
            digest=api_token_digest(key=key),
            created_at=now,
            expires_at=now + dt.timedelta(hours=settings.API_TOKEN_TTL_HOURS),
        )
        surplus = ApiToken.objects.filter(user=user).order_by("-created_at", "-id")[
            API_TOKENS_PER_USER:
        ]
        ApiToken.objects.filter(pk__in=list(surplus.values_list("pk", flat=True))).delete()
    return token, key


def api_token_revoke(*, user: AbstractBaseUser, token_id: int) -> bool:
    """Delete one of the user's tokens; False for an unknown id or another user's token."""
    deleted, _ = ApiToken.objects.filter(user=user, pk=token_id).delete()
    return deleted > 0


def api_tokens_revoke_all(*, user: AbstractBaseUser) -> int:
    """Delete every token of the user; how many there were."""
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return deleted
