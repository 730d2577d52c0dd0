import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from members.models import Member
from tests.factories import (
    BookmarkFactory,
    EnrolmentFactory,
    FollowedSkillFactory,
    MemberFactory,
    MemberSkillFactory,
    SkillFactory,
)

pytestmark = pytest.mark.django_db

MODELS = ("jobtitle", "industry", "member", "memberskill", "followedskill", "enrolment", "bookmark")


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
    return member


@pytest.mark.parametrize("model", MODELS)
def test_changelist_add_and_change_pages_render(admin_client_: Client, data, model) -> None:
    changelist = admin_client_.get(reverse(f"admin:members_{model}_changelist"))
    add = admin_client_.get(reverse(f"admin:members_{model}_add"))
    obj = changelist.context["cl"].result_list[0]
    change = admin_client_.get(reverse(f"admin:members_{model}_change", args=[obj.pk]))

    assert (changelist.status_code, add.status_code, change.status_code) == (200, 200, 200)


def test_member_change_page_has_skill_inlines(admin_client_: Client, data: Member) -> None:
    response = admin_client_.get(reverse("admin:members_member_change", args=[data.pk]))

    prefixes = [formset.formset.prefix for formset in response.context["inline_admin_formsets"]]
    assert prefixes == ["profile_skills", "followed_skills"]


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
