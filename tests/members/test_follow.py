"""Following skills outside the questionnaire: the skill page's Follow/Unfollow button and the
profile's "Skills you follow" (a skill picker to add, a button per skill to remove); each works
as a plain form post (redirect back) and as an htmx request (the button or section swapped)."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from members.models import FollowedSkill, Member
from members.services import member_skill_unfollow, member_skills_follow
from tests.factories import CourseSkillFactory, FollowedSkillFactory, MemberFactory, SkillFactory

pytestmark = pytest.mark.django_db

PROFILE = reverse("members:profile")
ADD = reverse("members:profile_follow_add")
REMOVE = reverse("members:profile_follow_remove")


def _followed(member: Member) -> list[str]:
    return sorted(FollowedSkill.objects.filter(member=member).values_list("skill__name", flat=True))


@pytest.fixture
def sql():
    return SkillFactory(name="SQL", slug="sql")


# Services


def test_follow_adds_only_new_skills_and_announces_once(
    member, sql, announced, django_capture_on_commit_callbacks
):
    tableau = SkillFactory(name="Tableau")
    FollowedSkillFactory(member=member, skill=sql)
    kept_since = FollowedSkill.objects.get(member=member, skill=sql).followed_at

    with django_capture_on_commit_callbacks(execute=True):
        new = member_skills_follow(member=member, skills=[sql, tableau, tableau])

    assert new == [tableau]
    assert _followed(member) == ["SQL", "Tableau"]
    assert FollowedSkill.objects.get(member=member, skill=sql).followed_at == kept_since
    assert announced == [member.pk]


def test_following_what_is_followed_changes_and_announces_nothing(
    member, sql, announced, django_capture_on_commit_callbacks
):
    FollowedSkillFactory(member=member, skill=sql)
    with django_capture_on_commit_callbacks(execute=True):
        assert member_skills_follow(member=member, skills=[sql]) == []
        assert member_skills_follow(member=member, skills=[]) == []
    assert announced == []


def test_unfollow_removes_and_announces_only_a_follow_that_existed(
    member, sql, announced, django_capture_on_commit_callbacks
):
    FollowedSkillFactory(member=member, skill=sql)
    other = MemberFactory()
    FollowedSkillFactory(member=other, skill=sql)
    with django_capture_on_commit_callbacks(execute=True):
        assert member_skill_unfollow(member=member, skill=sql) is True
        assert member_skill_unfollow(member=member, skill=sql) is False
    assert _followed(member) == []
    assert _followed(other) == ["SQL"]  # another member's follow stays
    assert announced == [member.pk]


# The skill page's button


def test_a_visitor_sees_a_sign_in_link_back_to_the_skill(client: Client, sql):
    html = client.get("/skills/sql/").content.decode()
    assert 'href="/accounts/login/?next=/skills/sql/">Sign in</a> to follow SQL' in html
    assert "/skills/sql/follow/" not in html


def test_a_member_sees_follow_then_unfollow(member_client: Client, member, sql):
    html = member_client.get("/skills/sql/").content.decode()
    assert 'action="/skills/sql/follow/"' in html
    assert ">Follow</button>" in html

    FollowedSkillFactory(member=member, skill=sql)
    html = member_client.get("/skills/sql/").content.decode()
    assert 'action="/skills/sql/unfollow/"' in html
    assert "You follow SQL." in html
    assert ">Unfollow</button>" in html


def test_follow_without_javascript_redirects_back_to_the_skill(member_client: Client, member, sql):
    response = member_client.post("/skills/sql/follow/")
    assert response.status_code == 302
    assert response["Location"] == "/skills/sql/"
    assert _followed(member) == ["SQL"]
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "You follow SQL: your homepage gets a row for it."
    ]

    response = member_client.post("/skills/sql/unfollow/")
    assert response["Location"] == "/skills/sql/"
    assert _followed(member) == []


def test_follow_with_htmx_swaps_the_button(member_client: Client, member, sql):
    response = member_client.post("/skills/sql/follow/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="skill-follow"')
    assert 'hx-post="/skills/sql/unfollow/"' in html
    assert "<html" not in html
    assert _followed(member) == ["SQL"]

    response = member_client.post("/skills/sql/unfollow/", HTTP_HX_REQUEST="true")
    assert 'hx-post="/skills/sql/follow/"' in response.content.decode()
    assert _followed(member) == []


def test_following_twice_keeps_one_row(member_client: Client, member, sql):
    member_client.post("/skills/sql/follow/")
    member_client.post("/skills/sql/follow/", HTTP_HX_REQUEST="true")
    assert FollowedSkill.objects.filter(member=member).count() == 1


def test_a_visitor_is_sent_to_login_and_back_to_the_skill(client: Client, sql):
    plain = client.post("/skills/sql/follow/")
    htmx = client.post("/skills/sql/unfollow/", HTTP_HX_REQUEST="true")
    assert plain.status_code == 302
    assert plain["Location"] == "/accounts/login/?next=/skills/sql/"
    assert htmx["HX-Redirect"] == "/accounts/login/?next=/skills/sql/"
    assert not FollowedSkill.objects.exists()


def test_follow_refuses_unknown_skills_and_get(member_client: Client, sql):
    assert member_client.post("/skills/no-such-skill/follow/").status_code == 404
    assert member_client.post("/skills/no-such-skill/unfollow/").status_code == 404
    assert member_client.get("/skills/sql/follow/").status_code == 405
    assert not FollowedSkill.objects.exists()


def test_the_skill_page_costs_a_fixed_number_of_queries(
    member_client: Client, member, sql, django_assert_num_queries
):
    for _ in range(3):
        CourseSkillFactory(skill=sql)
    # skill, synonyms, related skills, session, user with member, the follow (the one query the
    # button adds), course count, courses, the cards' skills
    with django_assert_num_queries(9):
        response = member_client.get("/skills/sql/")
    assert response.context["page"].paginator.count == 3


# The profile's followed skills


def test_the_profile_lists_follows_with_a_remove_button_each(member_client, member, sql):
    FollowedSkillFactory(member=member, skill=sql)
    html = member_client.get(PROFILE).content.decode()
    assert '<a href="/skills/sql/">SQL</a>' in html
    assert f'name="skill" value="{sql.pk}"' in html
    assert 'aria-label="Stop following SQL"' in html
    # The picker searches with the questionnaire's skill search.
    assert 'hx-get="/skills/search/"' in html
    assert 'hx-vals=\'{"mode": "follow"}\'' in html


def test_without_javascript_the_search_lists_skills_not_yet_followed(member_client, member, sql):
    FollowedSkillFactory(member=member, skill=sql)
    SkillFactory(name="SQL Server", slug="sql-server")
    SkillFactory(name="Tableau")

    html = member_client.get(PROFILE, {"q": "sql"}).content.decode()
    results = html[html.index('id="follow-results"') : html.index("Follow the ticked skills")]
    assert ">SQL Server</label>" in results
    assert ">SQL</label>" not in results  # already followed
    assert "Tableau" not in results
    assert 'value="sql"' in html  # the search box keeps the query

    html = member_client.get(PROFILE, {"q": "nothing like it"}).content.decode()
    assert "No other skill matches “nothing like it”." in html


def test_a_search_too_long_is_a_field_error(member_client):
    response = member_client.get(PROFILE, {"q": "x" * 121})
    assert response.status_code == 200
    assert "Ensure this value has at most 120 characters" in response.content.decode()


def test_adding_without_javascript_follows_and_redirects(member_client, member, sql):
    tableau = SkillFactory(name="Tableau")
    response = member_client.post(ADD, {"skills": [sql.pk, tableau.pk]})
    assert response.status_code == 302
    assert response["Location"] == PROFILE
    assert _followed(member) == ["SQL", "Tableau"]
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["You now follow SQL, Tableau."]


def test_adding_with_htmx_returns_the_section(member_client, member, sql):
    response = member_client.post(ADD, {"skills": [sql.pk]}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="followed-skills-section"')
    assert '<a href="/skills/sql/">SQL</a>' in html
    assert "<html" not in html
    assert _followed(member) == ["SQL"]


@pytest.mark.parametrize(
    ("skills", "message"),
    [
        ([], "Tick a skill to follow."),
        (["999999"], "999999 is not a skill we know."),
        (["junk"], "“junk” is not a skill we know."),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_adding_refuses_bad_ids_with_the_fields_error(member_client, member, skills, message, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = member_client.post(ADD, {"skills": skills}, **headers)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert ("<html" in html) is not htmx
    assert _followed(member) == []


def test_removing_without_javascript_and_with_htmx(member_client, member, sql):
    tableau = SkillFactory(name="Tableau")
    member_skills_follow(member=member, skills=[sql, tableau])

    response = member_client.post(REMOVE, {"skill": sql.pk})
    assert response["Location"] == PROFILE
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["You no longer follow SQL."]
    response = member_client.post(REMOVE, {"skill": tableau.pk}, HTTP_HX_REQUEST="true")
    assert "You follow no skills yet." in response.content.decode()
    assert _followed(member) == []


@pytest.mark.parametrize("value", ["", "junk", "999999", "9" * 25])
def test_removing_an_unknown_skill_is_a_field_error(member_client, value):
    response = member_client.post(REMOVE, {"skill": value})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


def test_the_follow_endpoints_are_post_only_and_for_members(client: Client, member_client, sql):
    assert member_client.get(ADD).status_code == 405
    assert member_client.get(REMOVE).status_code == 405
    client.logout()
    response = client.post(ADD, {"skills": [sql.pk]})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not FollowedSkill.objects.exists()
