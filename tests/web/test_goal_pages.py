"""Setting a goal (profile, onboarding, API), `/api/v1/me/goal/`, and curated paths."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from catalog.models import LearningPath
from members.models import FollowedPath, OccupationSkill
from members.services import enrolment_finish
from tests.factories import PASSWORD, JobTitleFactory, MemberSkillFactory
from tests.helpers import new_analyst, token_client


@pytest.fixture
def scientist(world):
    title = JobTitleFactory(name="Data Scientist")
    for name, weight, hot in [("SQL", 0.6, True), ("Python", 0.9, True), ("Tableau", 0.5, False)]:
        OccupationSkill.objects.create(
            job_title=title, skill=world["skills"][name], weight=weight, hot=hot
        )
    return title


@pytest.fixture
def analyst(world, scientist):
    member = new_analyst(world)
    MemberSkillFactory(member=member, skill=world["skills"]["SQL"])
    return member


def test_profile_sets_the_goal_and_goes_to_my_goal(analyst, scientist, client):
    client.login(username=analyst.user.username, password=PASSWORD)
    response = client.post(reverse("members:goal_set"), {"goal": "  Data   Scientist "})
    assert response.status_code == 302 and response["Location"] == reverse("web:goal")
    analyst.refresh_from_db()
    assert (analyst.goal_text, analyst.goal) == ("Data Scientist", scientist)
    page = client.get(reverse("web:goal")).content.decode()
    assert "Python" in page and 'id="goal-path"' in page


@pytest.mark.parametrize(
    ("goal", "error"),
    [
        ("Underwater Basket Weaver", "No role we know matches"),
        ("", "This field is required."),
        ("x" * 151, "at most 150 characters"),
        ("Data\x00Scientist", "Null characters are not allowed."),
    ],
)
def test_profile_refuses_a_goal_that_matches_no_role_and_keeps_the_old(
    analyst, scientist, client, goal, error
):
    analyst.goal, analyst.goal_text = scientist, "Data Scientist"
    analyst.save()
    client.login(username=analyst.user.username, password=PASSWORD)
    response = client.post(reverse("members:goal_set"), {"goal": goal})
    assert response.status_code == 200
    assert error in response.content.decode()
    analyst.refresh_from_db()
    assert (analyst.goal_text, analyst.goal) == ("Data Scientist", scientist)


def test_profile_clears_the_goal(analyst, scientist, client):
    analyst.goal, analyst.goal_text = scientist, "Data Scientist"
    analyst.save()
    client.login(username=analyst.user.username, password=PASSWORD)
    assert client.post(reverse("members:goal_clear")).status_code == 302
    analyst.refresh_from_db()
    assert (analyst.goal_text, analyst.goal) == ("", None)


def test_onboarding_sets_and_refuses_the_goal(world, analyst, scientist, client):
    client.login(username=analyst.user.username, password=PASSWORD)
    answers = {
        "title": "Data Analyst",
        "skills": [world["skills"]["SQL"].pk],
        "action": "save",
    }
    refused = client.post(reverse("members:onboarding"), {**answers, "goal": "Zzzz Qqqq"})
    assert refused.status_code == 200 and "No role we know matches" in refused.content.decode()
    analyst.refresh_from_db()
    assert analyst.goal is None and analyst.onboarded_at is None
    client.post(reverse("members:onboarding"), {**answers, "goal": "Data Scientist"})
    analyst.refresh_from_db()
    assert analyst.goal == scientist


def test_goal_api_put_get_delete(analyst, scientist):
    api = token_client(analyst.user)
    empty = api.get("/api/v1/me/goal/")
    assert empty.status_code == 200
    assert empty.json() == {
        "goal": "",
        "occupation": None,
        "share_covered": 0.0,
        "skills": [],
        "path": [],
    }
    response = api.put("/api/v1/me/goal/", {"goal": "data scientist"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["goal"] == "data scientist"
    assert body["occupation"] == {"id": scientist.pk, "name": "Data Scientist"}
    assert [(s["name"], s["covered"], s["held_by"]) for s in body["skills"]] == [
        ("Python", False, ""),
        ("SQL", True, "profile"),
        ("Tableau", False, ""),
    ]
    assert body["share_covered"] == pytest.approx(0.3333)
    assert body["path"] and all(
        set(step["covers"]) <= {"Python", "Tableau"} for step in body["path"]
    )
    assert all(step["covers"] for step in body["path"])
    assert api.get("/api/v1/me/goal/").json() == body
    assert api.delete("/api/v1/me/goal/").status_code == 204
    assert api.get("/api/v1/me/goal/").json()["goal"] == ""


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"goal": "Zzzz Qqqq"}, "No role we know matches"),
        ({}, "This field is required."),
        ({"goal": "x" * 151}, "no more than 150 characters"),
    ],
)
def test_goal_api_refuses_bad_goals_and_keeps_the_old(analyst, scientist, payload, message):
    analyst.goal, analyst.goal_text = scientist, "Data Scientist"
    analyst.save()
    response = token_client(analyst.user).put("/api/v1/me/goal/", payload, format="json")
    assert response.status_code == 400
    assert message in str(response.json())
    analyst.refresh_from_db()
    assert analyst.goal == scientist


def test_goal_api_needs_a_member(client, db):
    assert client.get("/api/v1/me/goal/").status_code in (401, 403)


def test_a_curated_path_made_in_admin_can_be_followed_and_shows_progress(world, analyst, client):
    admin_user = get_user_model().objects.create_superuser("boss", "b@example.com", PASSWORD)
    client.force_login(admin_user)
    courses = world["courses"]
    response = client.post(
        reverse("admin:catalog_learningpath_add"),
        {
            "title": "SQL from zero",
            "slug": "sql-from-zero",
            "description": "The basics, then the rest.",
            "is_published": "on",
            "steps-TOTAL_FORMS": "2",
            "steps-INITIAL_FORMS": "0",
            "steps-MIN_NUM_FORMS": "0",
            "steps-MAX_NUM_FORMS": "1000",
            "steps-0-position": "1",
            "steps-0-course": courses["SQL for Beginners"].pk,
            "steps-1-position": "2",
            "steps-1-course": courses["Advanced SQL for Analysts"].pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    path = LearningPath.objects.get(slug="sql-from-zero")
    assert path.steps.count() == 2

    client.logout()
    client.login(username=analyst.user.username, password=PASSWORD)
    assert b"SQL from zero" in client.get(reverse("members:learning_paths")).content
    detail = reverse("members:learning_path", args=["sql-from-zero"])
    assert (
        client.post(reverse("members:learning_path_follow", args=["sql-from-zero"])).status_code
        == 302
    )
    assert FollowedPath.objects.filter(member=analyst, path=path).exists()
    enrolment_finish(member=analyst, course=courses["SQL for Beginners"])
    page = client.get(detail).content.decode()
    assert "1 of 2 courses finished" in page and "Unfollow this path" in page
    goal_page = client.get(reverse("web:goal")).content.decode()
    assert "SQL from zero" in goal_page and "1 of 2 courses finished" in goal_page
    assert "Advanced SQL for Analysts" in goal_page  # the next course
    client.post(reverse("members:learning_path_unfollow", args=["sql-from-zero"]))
    assert not FollowedPath.objects.filter(member=analyst).exists()


def test_unpublished_or_unknown_paths_are_404(analyst, client):
    LearningPath.objects.create(title="Draft", slug="draft", is_published=False)
    client.login(username=analyst.user.username, password=PASSWORD)
    assert client.get(reverse("members:learning_path", args=["draft"])).status_code == 404
    assert client.post(reverse("members:learning_path_follow", args=["draft"])).status_code == 404
    assert client.get(reverse("members:learning_path", args=["nope"])).status_code == 404
