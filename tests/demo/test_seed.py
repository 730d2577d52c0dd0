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
    DemoPasswordsRefused,
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
def debug_on(settings):
    """A development machine: the demo accounts need no flag."""
    settings.DEBUG = True


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
def test_seed_command_rows_satisfy_the_rules(debug_on):
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
def test_if_empty_is_a_noop_on_a_seeded_database(debug_on):
    _seed()
    before = (Course.objects.count(), Enrolment.objects.count(), User.objects.count())

    output = _seed("--if-empty", "--seed", "9")

    assert "nothing to do" in output
    assert (Course.objects.count(), Enrolment.objects.count(), User.objects.count()) == before


@pytest.mark.django_db
def test_seeding_a_seeded_database_is_refused_without_flush(debug_on):
    _seed()
    titles = set(Course.objects.values_list("title", flat=True))

    with pytest.raises(CommandError, match="--flush"):
        _seed("--seed", "9")

    assert set(Course.objects.values_list("title", flat=True)) == titles


@pytest.mark.django_db
def test_flush_replaces_the_demo_and_keeps_other_accounts(debug_on):
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
def test_demo_accounts_log_in(client, debug_on):
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
def test_demo_logins_is_idempotent(debug_on):
    out = StringIO()
    call_command("demo_logins", stdout=out)
    call_command("demo_logins", stdout=out)

    assert User.objects.filter(username__in=["admin", "learner"]).count() == 2
    assert User.objects.get(username="admin").check_password(ADMIN_PASSWORD)
    assert "http://127.0.0.1:8000" in out.getvalue()
    assert out.getvalue().count("admin / admin-demo-password  (superuser") == 2
    assert out.getvalue().count("learner / learner-demo-password  (learner)") == 2
    # Demo accounts alone do not count as demo data: seeding still works afterwards.
    _seed()
    assert Course.objects.count() == 40
    assert demo_accounts_ensure()[1].username == "learner"


@pytest.mark.django_db
def test_demo_logins_never_resets_a_password_changed_since(debug_on):
    call_command("demo_logins", stdout=StringIO())
    admin = User.objects.get(username="admin")
    admin.set_password("changed-by-someone")
    admin.save()
    stored = admin.password

    out = StringIO()
    call_command("demo_logins", stdout=out)

    admin.refresh_from_db()
    assert admin.password == stored
    assert admin.check_password("changed-by-someone")
    assert not admin.check_password(ADMIN_PASSWORD)
    lines = out.getvalue().splitlines()
    assert (
        "  admin  (superuser, also for /admin/): its password was changed since it was set; "
        "left as it is"
    ) in lines
    assert "admin-demo-password" not in out.getvalue()
    assert "  learner / learner-demo-password  (learner)" in lines
    assert [(a.username, a.state) for a in demo_accounts_ensure()] == [
        ("admin", "changed"),
        ("learner", "kept"),
    ]


@pytest.mark.django_db
def test_an_existing_account_without_a_usable_password_is_left_alone(debug_on):
    User.objects.create_user(username="learner", password=None)

    accounts = demo_accounts_ensure()

    learner = User.objects.get(username="learner")
    assert not learner.has_usable_password()
    assert not Member.objects.filter(user=learner).exists()
    assert [(a.username, a.state) for a in accounts] == [
        ("admin", "created"),
        ("learner", "changed"),
    ]
    # seed_demo says so too, and prints no password for it.
    out = _seed()
    assert "Login: learner: its password was changed since it was set; left as it is" in out
    assert "Login: admin / admin-demo-password" in out


@pytest.mark.django_db
def test_demo_logins_prints_the_address_it_is_given(debug_on):
    out = StringIO()
    call_command("demo_logins", "--url", "http://127.0.0.1:8123", stdout=out)
    assert out.getvalue().splitlines()[0] == "SkillPath demo: http://127.0.0.1:8123"


# With DEBUG off (pytest-django runs every test with settings.DEBUG False, as production).

REFUSAL = r"^DEBUG is off, so this looks like a real deployment, .* Nothing was written\."


@pytest.mark.django_db
def test_demo_logins_is_refused_when_debug_is_off():
    with pytest.raises(CommandError, match=REFUSAL) as refused:
        call_command("demo_logins", stdout=StringIO())
    assert "--allow-public-passwords" in str(refused.value)
    assert not User.objects.exists()
    with pytest.raises(DemoPasswordsRefused):
        demo_accounts_ensure()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_seed_demo_is_refused_when_debug_is_off_and_writes_nothing():
    with pytest.raises(CommandError, match=REFUSAL):
        call_command("seed_demo", *SIZES, stdout=StringIO(), stderr=StringIO())
    assert not User.objects.exists()
    assert not Course.objects.exists() and not Member.objects.exists()


@pytest.mark.django_db
def test_seed_demo_flush_is_refused_before_anything_is_deleted(debug_on, settings):
    _seed()
    courses = Course.objects.count()
    settings.DEBUG = False

    with pytest.raises(CommandError, match=REFUSAL):
        _seed("--flush")

    assert Course.objects.count() == courses
    # --if-empty on a seeded database has nothing to write, so nothing to refuse.
    assert "nothing to do" in _seed("--if-empty")


@pytest.mark.django_db
def test_the_flag_allows_the_demo_accounts_when_debug_is_off():
    out = _seed("--allow-public-passwords")
    assert "Login: admin / admin-demo-password" in out
    assert Course.objects.count() == 40

    logins = StringIO()
    call_command("demo_logins", "--allow-public-passwords", stdout=logins)
    assert "  admin / admin-demo-password  (superuser, also for /admin/)" in logins.getvalue()
    assert User.objects.get(username="admin").check_password(ADMIN_PASSWORD)


def test_learner_history_is_recent_relative_to_catalog():
    # The generator's catalog always has courses older than the learner's 30-day history window.
    data = demo_dataset_build(members=10, courses=40, interactions=50, seed=5)
    ages = np.array([data.now.timestamp() - c.published_at for c in data.courses]) / 86400
    assert (ages > 30).sum() >= 30


@pytest.mark.django_db
def test_the_demo_learner_gets_people_to_learn_with_after_a_retrain(debug_on):
    from rest_framework.test import APIClient

    from demo.seed import DISCOVERABLE_EVERY, LEARNER_PASSWORD, LEARNER_USERNAME
    from recommendations.models import PersonSuggestion
    from recommendations.training.runs import training_run_execute

    # Enough members that the demo's share of discoverable ones (one in DISCOVERABLE_EVERY)
    # is a dozen people, as on the full demo's 2,000 members it is a hundred.
    call_command(
        "seed_demo",
        "--members",
        "240",
        "--courses",
        "40",
        "--interactions",
        "2400",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    discoverable = Member.objects.filter(discoverable=True)
    assert discoverable.count() == 240 // DISCOVERABLE_EVERY + 1  # and the learner
    assert not discoverable.filter(display_name="").exists()
    assert training_run_execute(trigger="test").status == "succeeded"
    client = APIClient()
    assert client.login(username=LEARNER_USERNAME, password=LEARNER_PASSWORD)
    people = client.get("/api/v1/people/").json()["people"]
    assert len(people) >= 3 and all(person["reasons"] for person in people)
    assert set(p["id"] for p in people) <= set(discoverable.values_list("pk", flat=True))
    assert not PersonSuggestion.objects.exclude(person__discoverable=True).exists()
    page = client.get("/people/").content.decode()
    assert page.count('class="card person-card"') >= 3
