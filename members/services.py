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

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from catalog.models import Course, Skill
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
from members.signals import member_activity_announce

# What one press of the course page's "Watch" button stands for.
WATCH_STEP_SECONDS = 10 * 60


@transaction.atomic
def member_sign_up(*, username: str, email: str, password: str) -> Member:
    # One transaction: a user must never exist without its member row.
    user = get_user_model().objects.create_user(username=username, email=email, password=password)
    return Member.objects.create(user=user)


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


@transaction.atomic
def member_onboarding_submit(
    *,
    member: Member,
    title: JobTitle,
    industry: Industry | None,
    seniority: str,
    skills: Iterable[Skill],
    now: dt.datetime | None = None,
) -> Member:
    """Store the questionnaire's answers; the submitted skills become the followed set."""
    now = now or timezone.now()
    skill_ids = {skill.pk for skill in skills}
    if not skill_ids:
        raise ValueError("A member must follow at least one skill.")
    # Lock the row so two submits from two tabs cannot interleave their replace of the set.
    locked = Member.objects.select_for_update().get(pk=member.pk)
    locked.title = title
    locked.industry = industry
    locked.seniority = seniority
    if locked.onboarded_at is None:
        locked.onboarded_at = now
    locked.save(update_fields=["title", "industry", "seniority", "onboarded_at"])

    FollowedSkill.objects.filter(member=locked).exclude(skill_id__in=skill_ids).delete()
    kept = set(FollowedSkill.objects.filter(member=locked).values_list("skill_id", flat=True))
    # Skills already followed keep their row (and so their followed_at); only new ones are added.
    FollowedSkill.objects.bulk_create(
        [FollowedSkill(member=locked, skill_id=pk) for pk in sorted(skill_ids - kept)]
    )

    member.title, member.industry, member.seniority = title, industry, seniority
    member.onboarded_at = locked.onboarded_at
    member_activity_announce(member_id=member.pk)
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
