import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from members.models import Member, MemberSkill
from members.services import member_profile_skill_add, member_profile_skill_remove
from tests.factories import (
    FollowedSkillFactory,
    MemberFactory,
    MemberSkillFactory,
    SkillFactory,
    SkillSynonymFactory,
)

pytestmark = pytest.mark.django_db

URL = reverse("members:profile")
ADD = reverse("members:profile_skill_add")
REMOVE = reverse("members:profile_skill_remove")


def _profile_skills(member: Member) -> list[tuple[str, str, float]]:
    return list(
        MemberSkill.objects.filter(member=member)
        .order_by("skill__name")
        .values_list("skill__name", "source", "weight")
    )


def test_profile_shows_answers_and_skills(member_client: Client, member: Member) -> None:
    FollowedSkillFactory(member=member, skill=SkillFactory(name="Kotlin"))
    MemberSkillFactory(
        member=member,
        skill=SkillFactory(name="Scala"),
        source=MemberSkill.Source.INFERRED,
        weight=0.4,
    )

    response = member_client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert f"<h1>{member.user.username}</h1>" in html
    assert f"<dd>{member.title.name}</dd>" in html
    assert f"<dd>{member.industry.name}</dd>" in html
    assert "<dd>Mid level</dd>" in html
    assert '<a href="/skills/kotlin/">Kotlin</a>' in html
    assert 'aria-label="Stop following Kotlin"' in html
    assert "<td>Scala</td>" in html
    assert "<td>Inferred from activity</td>" in html
    assert "<td>0.40</td>" in html
    assert f'href="{reverse("members:onboarding")}"' in html
    assert 'for="id_skill"' in html
    assert 'for="id_weight"' in html


def test_profile_requires_login(client: Client) -> None:
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url == f"{reverse('members:login')}?next={URL}"


def test_add_a_skill_by_name_in_any_case(member_client: Client, member: Member) -> None:
    SkillFactory(name="Python")

    response = member_client.post(ADD, {"skill": "python", "weight": "0.75"})

    assert response.status_code == 302
    assert response.url == URL
    assert _profile_skills(member) == [("Python", "self", 0.75)]


def test_add_a_skill_by_synonym(member_client: Client, member: Member) -> None:
    SkillSynonymFactory(skill=SkillFactory(name="Microsoft Excel"), name="Excel")

    member_client.post(ADD, {"skill": "EXCEL", "weight": "1.0"})

    assert _profile_skills(member) == [("Microsoft Excel", "self", 1.0)]


def test_adding_a_skill_again_updates_its_weight_and_source(member: Member) -> None:
    skill = SkillFactory(name="SQL")
    MemberSkillFactory(member=member, skill=skill, source=MemberSkill.Source.IMPORT, weight=0.25)

    member_profile_skill_add(member=member, skill=skill, weight=1.0)

    assert _profile_skills(member) == [("SQL", "self", 1.0)]


def test_unknown_skill_is_a_form_error(member_client: Client, member: Member) -> None:
    response = member_client.post(ADD, {"skill": "Telepathy", "weight": "0.5"})

    assert response.status_code == 200
    assert response.context["add_form"].errors == {
        "skill": ["We do not know that skill; pick one from the list."]
    }
    assert "We do not know that skill" in response.content.decode()
    assert _profile_skills(member) == []


def test_weight_outside_the_choices_is_a_form_error(member_client: Client, member: Member) -> None:
    SkillFactory(name="Python")

    response = member_client.post(ADD, {"skill": "Python", "weight": "7"})

    assert response.status_code == 200
    assert list(response.context["add_form"].errors) == ["weight"]
    assert _profile_skills(member) == []


def test_service_refuses_a_weight_outside_the_range(member: Member) -> None:
    with pytest.raises(ValueError):
        member_profile_skill_add(member=member, skill=SkillFactory(), weight=0.0)
    assert _profile_skills(member) == []


def test_remove_a_skill(member_client: Client, member: Member) -> None:
    kept, removed = SkillFactory(name="Kept"), SkillFactory(name="Removed")
    MemberSkillFactory(member=member, skill=kept)
    MemberSkillFactory(member=member, skill=removed)
    someone_else = MemberSkillFactory(skill=removed)

    response = member_client.post(REMOVE, {"skill": removed.pk})

    assert response.status_code == 302
    assert _profile_skills(member) == [("Kept", "self", 1.0)]
    assert MemberSkill.objects.filter(pk=someone_else.pk).exists()


def test_removing_a_skill_not_on_the_profile_changes_nothing(member: Member) -> None:
    assert member_profile_skill_remove(member=member, skill=SkillFactory()) is False


def test_removing_an_unknown_skill_is_a_form_error(member_client: Client) -> None:
    response = member_client.post(REMOVE, {"skill": 999_999})

    assert response.status_code == 200
    assert response.context["remove_form"].errors == {"skill": ["That skill does not exist."]}


def test_skill_changes_are_post_only(member_client: Client) -> None:
    assert member_client.get(ADD).status_code == 405
    assert member_client.get(REMOVE).status_code == 405


def test_skill_add_requires_csrf(member: Member) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(member.user)
    SkillFactory(name="Python")

    response = client.post(ADD, {"skill": "Python", "weight": "0.5"})

    assert response.status_code == 403
    assert _profile_skills(member) == []


def test_skill_options_partial(member_client: Client) -> None:
    SkillFactory(name="Python")
    SkillFactory(name="Jython")

    response = member_client.get(reverse("members:skill_options"), {"skill": "ython"})

    assert response.status_code == 200
    assert response.content.decode().strip().splitlines() == [
        '<option value="Jython"></option>',
        '<option value="Python"></option>',
    ]


def test_an_account_without_a_member_row_gets_one(client: Client) -> None:
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    client.force_login(admin)

    response = client.get(URL)

    assert response.status_code == 200
    assert Member.objects.filter(user=admin).count() == 1
    assert "<dd>Not set</dd>" in response.content.decode()


# API tokens


def test_the_profile_lists_the_members_live_tokens_only(member_client, member):
    from members.models import ApiToken
    from members.services import api_token_create

    live, _ = api_token_create(user=member.user)
    expired, _ = api_token_create(user=member.user)
    ApiToken.objects.filter(pk=expired.pk).update(
        prefix="EXPIRED!", expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    others, _ = api_token_create(user=MemberFactory().user)

    html = member_client.get("/profile/").content.decode()

    assert f"<code>{live.prefix}…</code>" in html
    assert "EXPIRED!" not in html
    assert others.prefix not in html
    assert f'action="/profile/tokens/{live.pk}/revoke/"' in html


@pytest.mark.parametrize("htmx", [False, True])
def test_a_token_is_revoked_from_the_profile(member_client, member, htmx):
    from members.models import ApiToken
    from members.services import api_token_create

    token, key = api_token_create(user=member.user)
    kept, _ = api_token_create(user=member.user)
    headers = {"HX-Request": "true"} if htmx else {}

    response = member_client.post(f"/profile/tokens/{token.pk}/revoke/", headers=headers)

    if htmx:
        assert response.status_code == 200
        assert (
            response.content.decode()
            .lstrip()
            .startswith('<section aria-labelledby="api-tokens-heading"')
        )
        assert kept.prefix in response.content.decode()
    else:
        assert (response.status_code, response.url) == (302, "/profile/")
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [kept.pk]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").status_code == 401


def test_revoking_is_post_only_csrf_checked_and_own_tokens_only(member, client):
    from members.models import ApiToken
    from members.services import api_token_create

    theirs, _ = api_token_create(user=MemberFactory().user)
    mine, _ = api_token_create(user=member.user)
    client.force_login(member.user)
    assert client.get(f"/profile/tokens/{mine.pk}/revoke/").status_code == 405
    assert client.post(f"/profile/tokens/{theirs.pk}/revoke/").status_code == 404
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(member.user)
    assert checked.post(f"/profile/tokens/{mine.pk}/revoke/").status_code == 403
    assert ApiToken.objects.count() == 2


def test_revoke_all_revokes_only_the_members_tokens(member_client, member):
    from members.models import ApiToken
    from members.services import api_token_create

    api_token_create(user=member.user)
    api_token_create(user=member.user)
    theirs, _ = api_token_create(user=MemberFactory().user)

    response = member_client.post("/profile/tokens/revoke-all/", follow=True)

    assert "2 API tokens revoked." in response.content.decode()
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [theirs.pk]
