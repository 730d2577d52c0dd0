"""Writes that span apps: merging one skill into another across catalog and members, and
deleting accounts with everything keyed to them across members and recommendations."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Min

from catalog.models import Skill
from catalog.services import course_tags_merge, skill_absorb, skills_merge_lock
from members.models import Member
from members.services import (
    login_records_delete,
    member_follows_merge,
    member_profile_skills_merge,
    occupation_skills_merge,
    user_sessions_delete,
)
from recommendations.training.retention import training_runs_member_deleted


@dataclass(frozen=True)
class SkillMergeResult:
    """How many rows of each kind moved to the survivor, and how many were folded into one."""

    course_tags_moved: int
    course_tags_combined: int
    profile_skills_moved: int
    profile_skills_combined: int
    follows_moved: int
    follows_combined: int
    occupation_skills_moved: int
    occupation_skills_combined: int
    synonyms_moved: int
    related_added: int


@transaction.atomic
def skill_merge(*, survivor: Skill, merged: Skill, actor: AbstractBaseUser) -> SkillMergeResult:
    """Fold `merged` into `survivor` and delete it, losing no tag, follow, profile skill or
    occupation skill.

    Where both skills sit on the same course, member or occupation, one row is kept: for course
    tags the higher confidence and the better decision (`catalog.services.course_tags_merge`),
    for profile skills the stronger weight, for follows the earlier date, for occupation skills
    the higher weight and hot if either was (the members app's own rules). `merged`'s synonyms
    move over and its name becomes a synonym of `survivor`; related skills are unioned;
    `survivor` keeps its own name, slug and category. Dismissals are per course, so a merge
    leaves them alone. The merge is recorded in the admin log under `actor`.
    """
    survivor, merged = skills_merge_lock(survivor=survivor, merged=merged)
    merged_name, merged_pk = merged.name, merged.pk

    tags_moved, tags_combined = course_tags_merge(survivor=survivor, merged=merged)
    profiles_moved, profiles_combined = member_profile_skills_merge(
        survivor=survivor, merged=merged
    )
    follows_moved, follows_combined = member_follows_merge(survivor=survivor, merged=merged)
    occupations_moved, occupations_combined = occupation_skills_merge(
        survivor=survivor, merged=merged
    )
    synonyms_moved, related_added = skill_absorb(survivor=survivor, merged=merged)

    result = SkillMergeResult(
        course_tags_moved=tags_moved,
        course_tags_combined=tags_combined,
        profile_skills_moved=profiles_moved,
        profile_skills_combined=profiles_combined,
        follows_moved=follows_moved,
        follows_combined=follows_combined,
        occupation_skills_moved=occupations_moved,
        occupation_skills_combined=occupations_combined,
        synonyms_moved=synonyms_moved,
        related_added=related_added,
    )
    LogEntry.objects.log_actions(
        user_id=actor.pk,
        queryset=Skill.objects.filter(pk=survivor.pk),
        action_flag=CHANGE,
        change_message=f"Merged skill {merged_name!r} (id {merged_pk}) into this skill: {result}",
        single_object=True,
    )
    return result


@dataclass(frozen=True)
class AccountsDeleted:
    accounts: int
    sessions: int
    login_records: int
    training_runs_pruned: int


@transaction.atomic
def accounts_delete(*, users: Sequence[AbstractBaseUser]) -> AccountsDeleted:
    """Delete these accounts and everything keyed to them, in one transaction.

    The user row goes and the database (Django's cascades) takes with it the member and every
    row keyed to either: profile and followed skills, enrolments, bookmarks, dismissals,
    feedback events and their counts, the stored recommendations row and next homepage,
    experiment assignments, API tokens and admin log entries. Sessions and django-axes' login
    records name the user without a key, so they are looked up and deleted here. The training
    runs that may hold the member in their artifacts are pruned, or, for the active and a
    running one, pruned as soon as another run takes over (the next retrain at the latest).

    Whoever calls this has checked that the accounts may go (the member's password, or an
    admin's permission); the entry points are `web.views.account_delete`,
    `web.api.MeView.delete` and the member admin's action.
    """
    user_model = get_user_model()
    locked = list(user_model.objects.select_for_update().filter(pk__in=[user.pk for user in users]))
    if not locked:
        return AccountsDeleted(accounts=0, sessions=0, login_records=0, training_runs_pruned=0)
    first_member = Member.objects.filter(user__in=locked).aggregate(first=Min("created_at"))
    pruned = (
        training_runs_member_deleted(member_created_at=first_member["first"])
        if first_member["first"] is not None
        else 0
    )
    sessions = user_sessions_delete(users=locked)
    login_records = sum(login_records_delete(username=user.get_username()) for user in locked)
    user_model.objects.filter(pk__in=[user.pk for user in locked]).delete()
    return AccountsDeleted(
        accounts=len(locked),
        sessions=sessions,
        login_records=login_records,
        training_runs_pruned=pruned,
    )
