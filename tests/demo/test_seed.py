"""Writing the demo into the database: exact counts, constraints, the command's guards, logins."""

import datetime as dt
from io import StringIO

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F, Q

from catalog.models import Category, Course, CourseSkill, Skill, SkillSynonym
from demo.dataset import demo_dataset_build
from demo.dataset.types import NO_TIME
from demo.seed import (
    ADMIN_PASSWORD,
    LEARNER_PASSWORD,
    MEMBER_PASSWORD,
    demo_accounts_ensure,
    demo_dataset_write,
)
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
SIZES = ["--members", "60", "--courses", "40", "--interactions", "500", "--seed", "5"]


def _seed(*extra):
    out = StringIO()
    call_command("seed_demo", *SIZES, *extra, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def dataset():
    return demo_dataset_build(
        members=60, courses=40, interactions=500, seed=5, now=dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    )


@pytest.mark.django_db
def test_write_gives_exact_counts_and_ids(dataset):
    counts = demo_dataset_write(dataset=dataset)

    a = dataset.interactions
    assert Category.objects.count() == len(dataset.categories)
    assert Skill.objects.count() == len(dataset.skills)
    assert SkillSynonym.objects.count() == sum(len(s.synonyms) for s in dataset.skills)
    assert JobTitle.objects.count() == len(dataset.titles)
    assert Industry.objects.count() == len(dataset.industries)
    assert Course.objects.count() == 40
    assert CourseSkill.objects.count() == sum(len(c.tags) for c in dataset.courses)
    assert User.objects.count() == 60
    assert Member.objects.count() == 60
    assert MemberSkill.objects.count() == len(dataset.members.profile_member)
    assert FollowedSkill.objects.count() == len(dataset.members.followed_member)
    assert Enrolment.objects.count() == 500
    assert Bookmark.objects.count() == int((a.bookmarked_at != NO_TIME).sum())
    assert Enrolment.objects.filter(completed_at__isnull=False).count() == int(
        (a.completed_at != NO_TIME).sum()
    )
    assert counts["members_enrolment"] == 500
    # Sequences continue after the explicit ids.
    assert Category.objects.create(name="After seeding", slug="after-seeding").pk > max(
        Category.objects.exclude(slug="after-seeding").values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_written_rows_match_the_dataset(dataset):
    demo_dataset_write(dataset=dataset)
    member = Member.objects.select_related("user", "title").get(user__username="member000003")
    assert member.title.name == dataset.titles[dataset.members.title[2]].name
    profile = set(member.profile_skills.values_list("skill__name", flat=True))
    expected = {
        dataset.skills[s].name
        for m, s in zip(dataset.members.profile_member, dataset.members.profile_skill, strict=True)
        if m == 2
    }
    assert profile == expected
    excel = Skill.objects.get(name="Microsoft Excel")
    assert list(excel.synonyms.values_list("name", flat=True)) == ["Excel"]
    python = Skill.objects.get(name="Python")
    assert python.related.filter(name="C++").exists()
    assert Skill.objects.get(name="C++").related.filter(name="Python").exists()
    course = Course.objects.get(slug=dataset.courses[0].slug)
    assert course.title == dataset.courses[0].title
    assert set(course.skill_tags.values_list("skill__name", flat=True)) == {
        dataset.skills[t.skill].name for t in dataset.courses[0].tags
    }
    assert set(course.categories.values_list("name", flat=True)) == {
        dataset.categories[dataset.skills[s].category] for s in dataset.courses[0].skills
    }


@pytest.mark.django_db
def test_seed_command_rows_satisfy_the_rules():
    output = _seed()

    assert User.objects.filter(username__startswith="member").count() == 60
    assert Member.objects.count() == 62  # plus admin and learner
    assert Course.objects.count() == 40
    assert Enrolment.objects.filter(member__user__username__startswith="member").count() == 500
    assert "members_enrolment" in output and "admin-demo-password" in output
    # Enrolment rules (also database constraints; checked here on the data itself).
    assert not Enrolment.objects.filter(completed_at__isnull=False, progress_percent__lt=100)
    assert not Enrolment.objects.filter(completed_at__isnull=True, progress_percent=100)
    assert not Enrolment.objects.filter(completed_at__lt=F("enrolled_at"))
    assert not Enrolment.objects.filter(enrolled_at__lt=F("course__published_at"))
    assert not Enrolment.objects.filter(watched_seconds__gt=F("course__duration_minutes") * 72)
    assert not Enrolment.objects.values("member", "course").annotate(n=Count("id")).filter(n__gt=1)
    assert not MemberSkill.objects.filter(Q(weight__lte=0) | Q(weight__gt=1))
    # Members with followed skills are onboarded; members' profile skills fit their title.
    assert not Member.objects.filter(followed_skills__isnull=False, onboarded_at__isnull=True)
    for member in Member.objects.filter(title__isnull=False).exclude(user__username="learner"):
        assert member.title.onet_code
    approved = CourseSkill.objects.filter(status="approved")
    pending = CourseSkill.objects.filter(status="pending")
    assert approved.count() and not approved.exclude(source="taxonomist", confidence=1.0)
    assert not pending.exclude(source="tagger")
    # Every generated member shares the one hash, and it works.
    hashes = set(
        User.objects.filter(username__startswith="member").values_list("password", flat=True)
    )
    assert len(hashes) == 1
    assert User.objects.get(username="member000001").check_password(MEMBER_PASSWORD)


@pytest.mark.django_db
def test_if_empty_is_a_noop_on_a_seeded_database():
    _seed()
    before = (Course.objects.count(), Enrolment.objects.count(), User.objects.count())

    output = _seed("--if-empty", "--seed", "9")

    assert "nothing to do" in output
    assert (Course.objects.count(), Enrolment.objects.count(), User.objects.count()) == before


@pytest.mark.django_db
def test_seeding_a_seeded_database_is_refused_without_flush():
    _seed()
    titles = set(Course.objects.values_list("title", flat=True))

    with pytest.raises(CommandError, match="--flush"):
        _seed("--seed", "9")

    assert set(Course.objects.values_list("title", flat=True)) == titles


@pytest.mark.django_db
def test_flush_replaces_the_demo_and_keeps_other_accounts():
    other = User.objects.create_user("someone", password="x-long-password-1")
    _seed()
    learner = User.objects.get(username="learner")

    _seed("--flush", "--members", "30", "--seed", "9")

    assert User.objects.filter(username__startswith="member").count() == 30
    assert Enrolment.objects.filter(member__user__username__startswith="member").count() == 500
    assert Course.objects.count() == 40
    assert User.objects.filter(pk=other.pk).exists()
    assert User.objects.get(username="learner").pk == learner.pk


@pytest.mark.django_db
def test_demo_accounts_log_in(client):
    _seed()

    assert client.login(username="admin", password=ADMIN_PASSWORD)
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    client.logout()
    assert client.login(username="learner", password=LEARNER_PASSWORD)
    learner = Member.objects.get(user__username="learner")
    assert learner.onboarded_at is not None
    assert learner.title is not None and "Analyst" in learner.title.name
    followed = set(learner.followed_skills.values_list("skill__name", flat=True))
    assert "Structured query language SQL" in followed and len(followed) == 4
    assert learner.enrolments.filter(completed_at__isnull=False).count() == 1
    assert learner.enrolments.count() == 3


@pytest.mark.django_db
def test_demo_logins_is_idempotent_and_repairs_passwords():
    out = StringIO()
    call_command("demo_logins", stdout=out)
    admin = User.objects.get(username="admin")
    admin.set_password("changed-by-someone")
    admin.save()

    call_command("demo_logins", stdout=out)

    assert User.objects.filter(username__in=["admin", "learner"]).count() == 2
    assert User.objects.get(username="admin").check_password(ADMIN_PASSWORD)
    assert "http://127.0.0.1:8000" in out.getvalue()
    assert "learner / learner-demo-password" in out.getvalue()
    # Demo accounts alone do not count as demo data: seeding still works afterwards.
    _seed()
    assert Course.objects.count() == 40
    assert demo_accounts_ensure()[1].username == "learner"


@pytest.mark.django_db
def test_demo_logins_prints_the_address_it_is_given():
    out = StringIO()
    call_command("demo_logins", "--url", "http://127.0.0.1:8123", stdout=out)
    assert out.getvalue().splitlines()[0] == "SkillPath demo: http://127.0.0.1:8123"


def test_learner_history_is_recent_relative_to_catalog():
    # The generator's catalog always has courses older than the learner's 30-day history window.
    data = demo_dataset_build(members=10, courses=40, interactions=50, seed=5)
    ages = np.array([data.now.timestamp() - c.published_at for c in data.courses]) / 86400
    assert (ages > 30).sum() >= 30
