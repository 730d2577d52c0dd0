"""Writes for the members app: accounts, onboarding answers, profile skills, course activity.

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
from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from catalog.models import Course, Skill
from catalog.services import TaxonomySkill, taxonomy_skills_load
from members.models import (
    AlternateTitle,
    ApiToken,
    Bookmark,
    Enrolment,
    FollowedSkill,
    Industry,
    JobTitle,
    Member,
    MemberSkill,
    OccupationSkill,
)
from members.onet import OnetSubset, occupation_skill_weights, onet_subset_read
from members.selectors import job_title_by_name
from members.signals import member_activity_announce

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
    now: dt.datetime | None = None,
) -> Member:
    """Store the questionnaire's answers; the submitted skills become the followed set.

    The title is kept as typed (`title_text`) and matched to an occupation (`job_title_match`),
    which becomes the member's cohort; a title that matches none is kept without one.
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
    locked.save(update_fields=["title_text", "title", "industry", "seniority", "onboarded_at"])

    FollowedSkill.objects.filter(member=locked).exclude(skill_id__in=skill_ids).delete()
    kept = set(FollowedSkill.objects.filter(member=locked).values_list("skill_id", flat=True))
    # Skills already followed keep their row (and so their followed_at); only new ones are added.
    FollowedSkill.objects.bulk_create(
        [FollowedSkill(member=locked, skill_id=pk) for pk in sorted(skill_ids - kept)]
    )

    member.title_text, member.title = title_text, title
    member.industry, member.seniority = industry, seniority
    member.onboarded_at = locked.onboarded_at
    member_activity_announce(member_id=member.pk)
    return member


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
    enrolment, created = Enrolment.objects.get_or_create(
        member=member, course=course, defaults={"enrolled_at": now}
    )
    if created:
        return enrolment
    return Enrolment.objects.select_for_update().get(pk=enrolment.pk)


def _completion_time(enrolment: Enrolment, now: dt.datetime) -> dt.datetime:
    # A caller passing an older `now` (back-filled data) must not break completed >= enrolled.
    return max(now, enrolment.enrolled_at)


def enrolment_start(*, member: Member, course: Course, now: dt.datetime | None = None) -> Enrolment:
    enrolment, created = Enrolment.objects.get_or_create(
        member=member, course=course, defaults={"enrolled_at": now or timezone.now()}
    )
    if created:
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
    enrolment.watched_seconds += seconds
    enrolment.last_watched_at = now
    if enrolment.completed_at is None:
        # At least one point per watch, so a very long course still visibly moves.
        step = max(1, math.floor(seconds * 100 / (course.duration_minutes * 60) + 0.5))
        enrolment.progress_percent = min(100, enrolment.progress_percent + step)
        if enrolment.progress_percent == 100:
            enrolment.completed_at = _completion_time(enrolment, now)
            member_activity_announce(member_id=member.pk)
    enrolment.save(
        update_fields=["watched_seconds", "last_watched_at", "progress_percent", "completed_at"]
    )
    return enrolment


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


def member_profile_skills_merge(*, survivor: Skill, merged: Skill) -> tuple[int, int]:
    """Move profile skills from `merged` to `survivor`; a member holding both keeps one row,
    with the stronger weight. Returns (moved, combined)."""
    kept_by_member = {p.member_id: p for p in MemberSkill.objects.filter(skill=survivor)}
    moved = combined = 0
    for profile in MemberSkill.objects.filter(skill=merged):
        kept = kept_by_member.get(profile.member_id)
        if kept is None:
            profile.skill = survivor
            profile.save(update_fields=["skill"])
            moved += 1
            continue
        if profile.weight > kept.weight:
            kept.weight, kept.source = profile.weight, profile.source
        profile.delete()
        kept.save(update_fields=["weight", "source"])
        combined += 1
    return moved, combined


def member_follows_merge(*, survivor: Skill, merged: Skill) -> tuple[int, int]:
    """Move follows from `merged` to `survivor`; a member following both keeps one row, followed
    since the earlier date. Returns (moved, combined)."""
    kept_by_member = {f.member_id: f for f in FollowedSkill.objects.filter(skill=survivor)}
    moved = combined = 0
    for follow in FollowedSkill.objects.filter(skill=merged):
        kept = kept_by_member.get(follow.member_id)
        if kept is None:
            follow.skill = survivor
            follow.save(update_fields=["skill"])
            moved += 1
            continue
        # The member has followed the skill since the earlier of the two dates.
        if follow.followed_at < kept.followed_at:
            FollowedSkill.objects.filter(pk=kept.pk).update(followed_at=follow.followed_at)
        follow.delete()
        combined += 1
    return moved, combined


def occupation_skills_merge(*, survivor: Skill, merged: Skill) -> tuple[int, int]:
    """Move occupations' skills from `merged` to `survivor`, so a merge keeps what title
    suggestions draw on; an occupation listing both keeps one row, hot if either was, with the
    higher weight. Returns (moved, combined).

    The weight is not summed: it is relative to the occupation's best skill and capped at 1, and
    two O*NET names of one technology describe the same use, not twice as much of it."""
    kept_by_title = {o.job_title_id: o for o in OccupationSkill.objects.filter(skill=survivor)}
    moved = combined = 0
    for row in OccupationSkill.objects.filter(skill=merged):
        kept = kept_by_title.get(row.job_title_id)
        if kept is None:
            row.skill = survivor
            row.save(update_fields=["skill"])
            moved += 1
            continue
        kept.hot = kept.hot or row.hot
        kept.weight = max(kept.weight, row.weight)
        row.delete()
        kept.save(update_fields=["hot", "weight"])
        combined += 1
    return moved, combined


# API tokens


# Live tokens a user may hold; obtaining one more revokes the oldest (scripts that obtain a
# token per run must not pile them up).
API_TOKENS_PER_USER = 20


def api_token_digest(*, key: str) -> str:
    """What is stored of a token key: its SHA-256, hex. Keys are 256 random bits, so a fast
    hash suffices (no guessing to slow down)."""
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(
    *, user: AbstractBaseUser, now: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for `user` and its key (shown once; only its digest is stored). It expires
    `API_TOKEN_TTL_HOURS` after `now`. The user's expired tokens are deleted, and the oldest
    live ones beyond `API_TOKENS_PER_USER`."""
    now = now or timezone.now()
    key = secrets.token_urlsafe(32)
    with transaction.atomic():
        ApiToken.objects.filter(user=user, expires_at__lte=now).delete()
        token = ApiToken.objects.create(
            user=user,
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
