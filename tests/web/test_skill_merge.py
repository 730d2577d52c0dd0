"""skill_merge: every tag, follow, profile skill and occupation skill survives, conflicts
folded into one row."""

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from catalog.models import CourseSkill, Skill, SkillSynonym
from members.models import FollowedSkill, MemberSkill, OccupationSkill
from recommendations.models import Dismissal
from tests.factories import (
    CourseFactory,
    CourseSkillFactory,
    FollowedSkillFactory,
    JobTitleFactory,
    MemberFactory,
    MemberSkillFactory,
    SkillFactory,
    SkillSynonymFactory,
    UserFactory,
)
from web.services import skill_merge

pytestmark = pytest.mark.django_db

APPROVED, PENDING, REJECTED = (
    CourseSkill.Status.APPROVED,
    CourseSkill.Status.PENDING,
    CourseSkill.Status.REJECTED,
)
TAGGER, TAXONOMIST = CourseSkill.Source.TAGGER, CourseSkill.Source.TAXONOMIST


def test_merge_moves_everything_and_folds_conflicts():
    actor = UserFactory(is_staff=True)
    survivor = SkillFactory(name="Microsoft Excel")
    merged = SkillFactory(name="MS Excel")
    SkillSynonymFactory(skill=survivor, name="Excel")
    SkillSynonymFactory(skill=merged, name="Excel 365")
    related_both, related_merged = SkillFactory.create_batch(2)
    survivor.related.add(related_both)
    merged.related.add(related_both, related_merged)

    only_merged, both_a, both_b, both_c = CourseFactory.create_batch(4)
    CourseSkillFactory(
        course=only_merged, skill=merged, source=TAGGER, status=PENDING, confidence=0.6
    )
    # Conflict: survivor pending 0.9, merged approved 0.7 → approved, 0.9.
    CourseSkillFactory(course=both_a, skill=survivor, source=TAGGER, status=PENDING, confidence=0.9)
    CourseSkillFactory(
        course=both_a, skill=merged, source=TAXONOMIST, status=APPROVED, confidence=0.7
    )
    # Conflict: survivor rejected 0.5, merged pending 0.8 → pending, 0.8.
    CourseSkillFactory(
        course=both_b, skill=survivor, source=TAGGER, status=REJECTED, confidence=0.5
    )
    CourseSkillFactory(course=both_b, skill=merged, source=TAGGER, status=PENDING, confidence=0.8)
    # Conflict: both approved; the survivor's taxonomist row stays, confidence is the max.
    CourseSkillFactory(
        course=both_c, skill=survivor, source=TAXONOMIST, status=APPROVED, confidence=1.0
    )
    CourseSkillFactory(course=both_c, skill=merged, source=TAGGER, status=APPROVED, confidence=0.6)

    member_only, member_both = MemberFactory(), MemberFactory()
    MemberSkillFactory(member=member_only, skill=merged, weight=0.4)
    MemberSkillFactory(member=member_both, skill=survivor, weight=0.3)
    MemberSkillFactory(member=member_both, skill=merged, weight=0.8)
    early = timezone.now() - dt.timedelta(days=10)
    FollowedSkillFactory(member=member_only, skill=merged)
    FollowedSkillFactory(member=member_both, skill=survivor)
    merged_follow = FollowedSkillFactory(member=member_both, skill=merged)
    FollowedSkill.objects.filter(pk=merged_follow.pk).update(followed_at=early)
    Dismissal.objects.create(member=member_only, course=only_merged)

    result = skill_merge(survivor=survivor, merged=merged, actor=actor)

    assert not Skill.objects.filter(pk=merged.pk).exists()
    assert set(
        CourseSkill.objects.values_list("course_id", "skill_id", "source", "status", "confidence")
    ) == {
        (only_merged.pk, survivor.pk, TAGGER, PENDING, 0.6),
        (both_a.pk, survivor.pk, TAXONOMIST, APPROVED, 0.9),
        (both_b.pk, survivor.pk, TAGGER, PENDING, 0.8),
        (both_c.pk, survivor.pk, TAXONOMIST, APPROVED, 1.0),
    }
    assert set(MemberSkill.objects.values_list("member_id", "skill_id", "weight")) == {
        (member_only.pk, survivor.pk, 0.4),
        (member_both.pk, survivor.pk, 0.8),
    }
    assert set(FollowedSkill.objects.values_list("member_id", "skill_id")) == {
        (member_only.pk, survivor.pk),
        (member_both.pk, survivor.pk),
    }
    assert FollowedSkill.objects.get(member=member_both).followed_at == early
    assert set(survivor.synonyms.values_list("name", flat=True)) == {
        "Excel",
        "Excel 365",
        "MS Excel",
    }
    assert set(survivor.related.all()) == {related_both, related_merged}
    assert Dismissal.objects.filter(member=member_only, course=only_merged).exists()
    assert (result.course_tags_moved, result.course_tags_combined) == (1, 3)
    assert (result.profile_skills_moved, result.profile_skills_combined) == (1, 1)
    assert (result.follows_moved, result.follows_combined) == (1, 1)
    entry = LogEntry.objects.get()
    assert (entry.user_id, entry.object_id) == (actor.pk, str(survivor.pk))
    assert "MS Excel" in entry.change_message


def test_merge_moves_occupation_skills_and_folds_an_occupation_listing_both():
    survivor, merged = SkillFactory(name="Microsoft Excel"), SkillFactory(name="MS Excel")
    only_merged, both_hot, both_heavier = JobTitleFactory.create_batch(3)
    OccupationSkill.objects.create(job_title=only_merged, skill=merged, hot=True, weight=0.3)
    # Conflict: the merged row is hot, the survivor's heavier → hot, the survivor's weight.
    OccupationSkill.objects.create(job_title=both_hot, skill=survivor, hot=False, weight=0.9)
    OccupationSkill.objects.create(job_title=both_hot, skill=merged, hot=True, weight=0.2)
    # Conflict: the merged row is heavier → its weight (not the sum, which could pass 1).
    OccupationSkill.objects.create(job_title=both_heavier, skill=survivor, hot=False, weight=0.5)
    OccupationSkill.objects.create(job_title=both_heavier, skill=merged, hot=False, weight=0.7)
    untouched = OccupationSkill.objects.create(job_title=only_merged, skill=SkillFactory())

    result = skill_merge(survivor=survivor, merged=merged, actor=UserFactory())

    assert set(
        OccupationSkill.objects.exclude(pk=untouched.pk).values_list(
            "job_title_id", "skill_id", "hot", "weight"
        )
    ) == {
        (only_merged.pk, survivor.pk, True, 0.3),
        (both_hot.pk, survivor.pk, True, 0.9),
        (both_heavier.pk, survivor.pk, False, 0.7),
    }
    assert OccupationSkill.objects.filter(pk=untouched.pk).exists()
    assert (result.occupation_skills_moved, result.occupation_skills_combined) == (1, 2)


def test_merge_keeps_existing_synonym_of_merged_name_once():
    survivor, merged = SkillFactory(name="PostgreSQL"), SkillFactory(name="Postgres")
    SkillSynonymFactory(skill=merged, name="postgres")

    skill_merge(survivor=survivor, merged=merged, actor=UserFactory())

    assert list(SkillSynonym.objects.values_list("skill_id", "name")) == [(survivor.pk, "postgres")]


def test_merge_refuses_a_skill_into_itself():
    skill = SkillFactory()

    with pytest.raises(ValueError, match="into itself"):
        skill_merge(survivor=skill, merged=skill, actor=UserFactory())
    assert Skill.objects.filter(pk=skill.pk).exists()
