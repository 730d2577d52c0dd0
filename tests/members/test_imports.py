import datetime as dt

import pytest
from django.core.management import CommandError

from catalog.models import Skill
from core.csv_import import RowError
from members.imports import members_import
from members.models import Industry, JobTitle, Member
from tests.factories import (
    CategoryFactory,
    JobTitleFactory,
    MemberSkillFactory,
    SkillFactory,
    SkillSynonymFactory,
    UserFactory,
)
from tests.helpers import command_run as run
from tests.helpers import csv_file_write as write

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0, month: int = 1) -> dt.datetime:
    return dt.datetime(2024, month, day, hour, minute, second, tzinfo=UTC)


# --- Members --------------------------------------------------------------------------------

MEMBER_HEADER = "member_id,title,industry,skills,seniority,username,email"


@pytest.fixture
def skills():
    category = CategoryFactory(name="Analytics")
    python = SkillFactory(name="Python", category=category)
    excel = SkillFactory(name="Microsoft Excel", category=category)
    SkillSynonymFactory(skill=excel, name="Excel")
    return {"python": python, "excel": excel}


def profile(member: Member) -> list[tuple[str, str, float]]:
    return sorted(
        (ms.skill.name, ms.source, ms.weight)
        for ms in member.profile_skills.select_related("skill")
    )


def test_import_members_creates_accounts_profiles_titles_and_industries(tmp_path, skills):
    analyst = JobTitleFactory(name="Data Analyst")
    UserFactory(username="m2")
    path = write(
        tmp_path,
        f"{MEMBER_HEADER}\n"
        "M1,data analyst,Finance,python|Excel,Senior,alice,alice@example.com\n"
        "M2,,,,,,\n"
        "M 3,Engineer,finance,Python,,,\n",
    )

    result = members_import(path=path)

    assert result.errors == []
    assert (result.created, result.updated, result.unchanged, result.skipped) == (3, 0, 0, 0)
    # "Engineer" matches no occupation: kept as typed, without a cohort, and no title is made.
    assert (result.titles_unmatched, result.industries_created, result.skills_created) == (1, 1, 0)
    m1 = Member.objects.select_related("user").get(external_id="M1")
    assert (m1.user.username, m1.user.email, m1.title, m1.industry.name, m1.seniority) == (
        "alice",
        "alice@example.com",
        analyst,
        "Finance",
        "senior",
    )
    assert m1.title_text == "data analyst"
    assert not m1.user.has_usable_password()
    assert profile(m1) == [("Microsoft Excel", "import", 1.0), ("Python", "import", 1.0)]
    m2 = Member.objects.select_related("user").get(external_id="M2")
    # "m2" is taken (case-insensitively) by an account outside the file.
    assert (m2.user.username, m2.user.email, m2.title, m2.industry, m2.seniority) == (
        "M2-2",
        "",
        None,
        None,
        "",
    )
    assert profile(m2) == []
    m3 = Member.objects.select_related("user").get(external_id="M 3")
    assert (m3.user.username, m3.title_text, m3.title, m3.industry.name) == (
        "M-3",
        "Engineer",
        None,
        "Finance",
    )
    assert sorted(JobTitle.objects.values_list("name", flat=True)) == ["Data Analyst"]
    assert list(Industry.objects.values_list("name", flat=True)) == ["Finance"]


def test_reimport_members_updates_and_replaces_only_imported_skills(tmp_path, skills):
    path = write(tmp_path, f"{MEMBER_HEADER}\nM1,Analyst,Finance,Python|Excel,mid,,\n")
    members_import(path=path)
    member = Member.objects.get(external_id="M1")
    sql = SkillFactory(name="SQL")
    MemberSkillFactory(member=member, skill=sql, source="self", weight=0.5)

    # Excel is no longer imported; SQL is listed but stays the member's own; seniority is kept.
    path = write(tmp_path, f"{MEMBER_HEADER}\nM1,Engineer,,Python|SQL,,,bob@example.com\n")
    result = members_import(path=path)

    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    member.refresh_from_db()
    # "Engineer" matches no occupation: kept as typed, the old cohort left.
    assert (member.title_text, member.title, member.industry.name) == ("Engineer", None, "Finance")
    assert (member.title_text, member.industry.name, member.seniority, member.user.email) == (
        "Engineer",
        "Finance",
        "mid",
        "bob@example.com",
    )
    assert profile(member) == [("Python", "import", 1.0), ("SQL", "self", 0.5)]

    again = members_import(path=path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert Member.objects.count() == 1


def test_unknown_skills_are_refused_unless_create_skills(tmp_path, skills):
    path = write(tmp_path, f"{MEMBER_HEADER}\nM1,,,Python|Knitting,,,\n")

    refused = members_import(path=path)
    assert refused.errors == [
        RowError(2, "skill 'Knitting' is not in the taxonomy (see --create-skills)")
    ]
    assert Member.objects.count() == 0

    out, err = run("import_members", str(path), "--create-skills")
    assert err == ""
    assert out.strip() == (
        "Members: 1 created, 0 updated, 0 unchanged, 0 skipped (invalid). "
        "Titles matching no occupation (kept as typed): 0. Created industries: 0, skills: 1."
    )
    knitting = Skill.objects.get(name="Knitting")
    assert (knitting.category.name, knitting.slug) == ("Imported skills", "knitting")
    assert profile(Member.objects.get(external_id="M1")) == [
        ("Knitting", "import", 1.0),
        ("Python", "import", 1.0),
    ]


MEMBER_BAD_ROWS = (
    f"{MEMBER_HEADER}\n"
    "M1,,,,,,\n"  # line 2
    ",Analyst,,,,,\n"  # line 3
    "M3,,,,boss,,\n"  # line 4
    "M4,,,,,bad name!,\n"  # line 5
    "M5,,,,,,not-an-email\n"  # line 6
    "M1,,,,,,\n"  # line 7
    "M7,,,,,taken,\n"  # line 8
    "M8,,,,,carol,\n"  # line 9
    "M9,,,,,CAROL,\n"  # line 10
    "M10,,,Python|Cooking,,,\n"  # line 11
    "M11,,\n"  # line 12
    "M12,,,Python,,,\n"  # line 13
)

MEMBER_ERRORS = [
    RowError(3, "member_id is empty"),
    RowError(4, "seniority 'boss' is not one of entry, mid, senior, lead, executive"),
    RowError(5, "username 'bad name!' is not valid (at most 150 letters, digits and @.+-_)"),
    RowError(6, "email 'not-an-email' is not a valid address"),
    RowError(7, "duplicate member_id M1 (first on line 2)"),
    RowError(8, "username 'taken' belongs to another account"),
    RowError(10, "username 'CAROL' is also on line 9"),
    RowError(11, "skill 'Cooking' is not in the taxonomy (see --create-skills)"),
    RowError(12, "has 3 fields, the header has 7"),
]


def test_member_rows_are_validated_all_or_nothing(tmp_path, skills):
    UserFactory(username="taken")
    path = write(tmp_path, MEMBER_BAD_ROWS)

    result = members_import(path=path)

    assert result.errors == MEMBER_ERRORS
    assert Member.objects.count() == 0
    with pytest.raises(CommandError, match=r"^9 invalid row\(s\); nothing was imported"):
        run("import_members", str(path))
    assert Member.objects.count() == 0

    out, err = run("import_members", str(path), "--skip-invalid")
    assert err.splitlines() == [str(error) for error in MEMBER_ERRORS]
    assert out.startswith("Members: 3 created, 0 updated, 0 unchanged, 9 skipped (invalid).")
    assert sorted(Member.objects.values_list("external_id", "user__username")) == [
        ("M1", "M1"),
        ("M12", "M12"),
        ("M8", "carol"),
    ]


def test_a_member_keeps_its_own_username_on_reimport(tmp_path, skills):
    path = write(tmp_path, f"{MEMBER_HEADER}\nM1,,,,,dana,\n")
    members_import(path=path)
    result = members_import(path=path)
    assert (result.errors, result.unchanged) == ([], 1)


def test_member_file_with_bad_header_fails(tmp_path):
    path = write(tmp_path, "member_id,skills\nM1,Python\n")
    with pytest.raises(CommandError, match=r"missing required column\(s\): title, industry"):
        run("import_members", str(path))
