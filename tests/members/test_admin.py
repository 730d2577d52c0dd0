import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from members.models import AlternateTitle, JobTitle, Member, OccupationSkill
from tests.factories import (
    BookmarkFactory,
    CategoryFactory,
    EnrolmentFactory,
    FollowedSkillFactory,
    JobTitleFactory,
    MemberFactory,
    MemberSkillFactory,
    SkillFactory,
)

pytestmark = pytest.mark.django_db

MODELS = (
    "jobtitle",
    "alternatetitle",
    "occupationskill",
    "industry",
    "member",
    "memberskill",
    "followedskill",
    "enrolment",
    "bookmark",
)


@pytest.fixture
def admin_client_(client: Client) -> Client:
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "x"))
    return client


@pytest.fixture
def data() -> Member:
    member = MemberFactory(user__username="ada", user__email="ada@example.com")
    MemberSkillFactory(member=member)
    FollowedSkillFactory(member=member)
    EnrolmentFactory(member=member)
    BookmarkFactory(member=member)
    AlternateTitle.objects.create(job_title=member.title, name="Reporting Analyst")
    OccupationSkill.objects.create(job_title=member.title, skill=SkillFactory(), weight=0.5)
    return member


@pytest.mark.parametrize("model", MODELS)
def test_changelist_add_and_change_pages_render(admin_client_: Client, data, model) -> None:
    changelist = admin_client_.get(reverse(f"admin:members_{model}_changelist"))
    add = admin_client_.get(reverse(f"admin:members_{model}_add"))
    obj = changelist.context["cl"].result_list[0]
    change = admin_client_.get(reverse(f"admin:members_{model}_change", args=[obj.pk]))

    assert (changelist.status_code, add.status_code, change.status_code) == (200, 200, 200)


def test_member_change_page_has_skill_and_path_inlines(admin_client_: Client, data: Member) -> None:
    response = admin_client_.get(reverse("admin:members_member_change", args=[data.pk]))

    prefixes = [formset.formset.prefix for formset in response.context["inline_admin_formsets"]]
    assert prefixes == ["profile_skills", "followed_skills", "followed_paths"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [("ada@", ["ada"]), ("ADA", ["ada"]), ("no-such-person", [])],
)
def test_member_search(admin_client_: Client, data: Member, query, expected) -> None:
    MemberFactory(user__username="bob")

    response = admin_client_.get(reverse("admin:members_member_changelist"), {"q": query})

    assert [m.user.username for m in response.context["cl"].result_list] == expected


def test_member_search_by_title(admin_client_: Client, data: Member) -> None:
    MemberFactory(user__username="bob")

    response = admin_client_.get(reverse("admin:members_member_changelist"), {"q": data.title.name})

    assert [m.user.username for m in response.context["cl"].result_list] == ["ada"]


def test_member_onboarded_filter(admin_client_: Client, data: Member) -> None:
    MemberFactory(user__username="done", onboarded_at="2025-01-01T00:00:00Z")
    url = reverse("admin:members_member_changelist")

    done = admin_client_.get(url, {"onboarded": "yes"})
    pending = admin_client_.get(url, {"onboarded": "no"})

    assert [m.user.username for m in done.context["cl"].result_list] == ["done"]
    assert [m.user.username for m in pending.context["cl"].result_list] == ["ada"]


def test_enrolment_completed_filter(admin_client_: Client, data: Member) -> None:
    finished = EnrolmentFactory(
        member=data, progress_percent=100, completed_at="2099-01-01T00:00:00Z"
    )
    url = reverse("admin:members_enrolment_changelist")

    response = admin_client_.get(url, {"completed": "yes"})

    assert [e.pk for e in response.context["cl"].result_list] == [finished.pk]


def test_skill_autocomplete_for_member_skill(admin_client_: Client) -> None:
    SkillFactory(name="Python")
    SkillFactory(name="Rust")

    response = admin_client_.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "members",
            "model_name": "memberskill",
            "field_name": "skill",
            "term": "pyth",
        },
    )

    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Python"]


def test_admin_is_closed_to_learners(member_client: Client) -> None:
    response = member_client.get(reverse("admin:members_member_changelist"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_the_admin_has_no_page_for_drfs_plain_text_tokens(admin_client):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    assert "/admin/authtoken/" not in response.content.decode()
    assert admin_client.get("/admin/authtoken/tokenproxy/").status_code == 404


@pytest.fixture
def occupations() -> tuple[JobTitle, JobTitle]:
    analyst = JobTitleFactory(name="Data Analyst", onet_code="15-2051.01")
    clerk = JobTitleFactory(name="Statistical Clerk", onet_code="43-9111.01")
    AlternateTitle.objects.create(job_title=analyst, name="Reporting Analyst")
    AlternateTitle.objects.create(job_title=analyst, name="Data Specialist")
    AlternateTitle.objects.create(job_title=clerk, name="data specialist")
    data_skills = CategoryFactory(name="Data tools")
    office = CategoryFactory(name="Office")
    OccupationSkill.objects.create(
        job_title=analyst, skill=SkillFactory(name="Tableau", category=data_skills), hot=True
    )
    OccupationSkill.objects.create(
        job_title=analyst, skill=SkillFactory(name="Excel", category=office), weight=0.4
    )
    OccupationSkill.objects.create(
        job_title=clerk, skill=SkillFactory(name="SAS", category=data_skills), weight=0.6
    )
    return analyst, clerk


def _listed(client: Client, model: str, params: dict[str, str]) -> list[str]:
    response = client.get(reverse(f"admin:members_{model}_changelist"), params)
    assert response.status_code == 200
    return [str(row) for row in response.context["cl"].result_list]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["Data Specialist", "data specialist", "Reporting Analyst"]),
        ({"q": "reporting"}, ["Reporting Analyst"]),
        ({"q": "43-9111"}, ["data specialist"]),  # by the occupation's O*NET code
        ({"q": "statistical clerk"}, ["data specialist"]),  # by the occupation's title
        ({"shared": "yes"}, ["Data Specialist", "data specialist"]),  # any case
        ({"shared": "no"}, ["Reporting Analyst"]),
    ],
)
def test_alternate_title_search_and_filter(admin_client_, occupations, params, expected):
    assert _listed(admin_client_, "alternatetitle", params) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {},
            ["Data Analyst uses Tableau", "Data Analyst uses Excel", "Statistical Clerk uses SAS"],
        ),
        ({"q": "sas"}, ["Statistical Clerk uses SAS"]),
        ({"q": "15-2051"}, ["Data Analyst uses Tableau", "Data Analyst uses Excel"]),
        ({"hot__exact": "1"}, ["Data Analyst uses Tableau"]),
    ],
)
def test_occupation_skill_search_and_filters(admin_client_, occupations, params, expected):
    assert _listed(admin_client_, "occupationskill", params) == expected


def test_occupation_skill_filter_by_skill_category(admin_client_, occupations):
    office = CategoryFactory._meta.model.objects.get(name="Office")
    listed = _listed(admin_client_, "occupationskill", {"skill__category__id__exact": office.pk})
    assert listed == ["Data Analyst uses Excel"]


@pytest.mark.parametrize(
    ("model", "field", "term", "expected"),
    [
        ("alternatetitle", "job_title", "analy", ["Data Analyst"]),
        ("occupationskill", "job_title", "clerk", ["Statistical Clerk"]),
        ("occupationskill", "skill", "tabl", ["Tableau"]),
    ],
)
def test_occupation_autocompletes(admin_client_, occupations, model, field, term, expected):
    response = admin_client_.get(
        reverse("admin:autocomplete"),
        {"app_label": "members", "model_name": model, "field_name": field, "term": term},
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == expected


def test_an_alternate_title_is_added_in_the_admin(admin_client_, occupations):
    analyst, _ = occupations
    response = admin_client_.post(
        reverse("admin:members_alternatetitle_add"),
        {"job_title": analyst.pk, "name": "Insights Analyst"},
    )
    assert response.status_code == 302
    assert AlternateTitle.objects.filter(job_title=analyst, name="Insights Analyst").exists()
    # The same name for the same occupation in another case is refused by its constraint.
    response = admin_client_.post(
        reverse("admin:members_alternatetitle_add"),
        {"job_title": analyst.pk, "name": "insights analyst"},
    )
    assert response.status_code == 200
    assert AlternateTitle.objects.filter(name__iexact="insights analyst").count() == 1


def test_an_occupation_skill_weight_outside_its_range_is_refused(admin_client_, occupations):
    analyst, _ = occupations
    skill = SkillFactory(name="Power BI")
    url = reverse("admin:members_occupationskill_add")
    refused = admin_client_.post(url, {"job_title": analyst.pk, "skill": skill.pk, "weight": "1.5"})
    assert refused.status_code == 200
    assert not OccupationSkill.objects.filter(skill=skill).exists()
    accepted = admin_client_.post(url, {"job_title": analyst.pk, "skill": skill.pk, "weight": "1"})
    assert accepted.status_code == 302
    assert OccupationSkill.objects.filter(skill=skill, weight=1.0, hot=False).exists()
