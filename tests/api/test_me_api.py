import datetime as dt

from django.utils import timezone

from members.models import FollowedSkill, Member
from tests.factories import (
    BookmarkFactory,
    EnrolmentFactory,
    FollowedSkillFactory,
    MemberSkillFactory,
)


def test_profile(api, member, world):
    FollowedSkillFactory(member=member, skill=world["skills"]["SQL"])
    MemberSkillFactory(member=member, skill=world["skills"]["Python"], weight=0.5)
    body = api.get("/api/v1/me/").json()
    assert body["id"] == member.pk
    assert body["username"] == member.user.username
    assert body["title"] == {"id": member.title_id, "name": member.title.name}
    assert body["seniority"] == "mid"
    assert body["needs_onboarding"] is True
    assert [row["skill"]["name"] for row in body["followed_skills"]] == ["SQL"]
    assert body["profile_skills"] == [
        {
            "skill": {"id": world["skills"]["Python"].pk, "slug": "python", "name": "Python"},
            "weight": 0.5,
            "source": "self",
        }
    ]


def test_onboarding_submit_replaces_followed_skills_and_completes(api, member, world):
    skills = world["skills"]
    kept = FollowedSkillFactory(member=member, skill=skills["SQL"])
    FollowedSkillFactory(member=member, skill=skills["Photoshop"])
    response = api.put(
        "/api/v1/me/onboarding/",
        {
            "title": "data analyst",
            "industry": world["finance"].pk,
            "seniority": "senior",
            "skills": [skills["SQL"].pk, skills["Tableau"].pk, skills["SQL"].pk],
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    # Kept as typed; matched to the occupation, which is the member's cohort.
    assert body["title"] == "data analyst"
    assert body["occupation"] == {
        "id": world["analyst"].pk,
        "name": "Data Analyst",
        "onet_code": "",
    }
    assert body["industry"] == world["finance"].pk
    assert body["seniority"] == "senior"
    assert body["skills"] == sorted([skills["SQL"].pk, skills["Tableau"].pk])
    # Suggestions come from analysts' skills and leave out what is already followed.
    assert [skill["name"] for skill in body["suggested_skills"]] == ["Python"]
    member.refresh_from_db()
    assert member.title == world["analyst"] and member.onboarded_at is not None
    assert FollowedSkill.objects.get(pk=kept.pk).followed_at == kept.followed_at
    assert api.get("/api/v1/me/").json()["needs_onboarding"] is False


def test_onboarding_refuses_unknown_industry_and_skills_with_field_errors(api, member, world):
    response = api.put(
        "/api/v1/me/onboarding/",
        {"title": "Astronaut", "industry": 999999, "skills": [world["skills"]["SQL"].pk, 999998]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid",
        "message": "Some fields are not valid; see `fields`.",
        "fields": {
            "industry": ["No industry has the id 999999."],
            "skills": ["Not skills we know: 999998."],
        },
    }
    member.refresh_from_db()
    assert member.onboarded_at is None
    assert not FollowedSkill.objects.filter(member=member).exists()


def test_onboarding_needs_at_least_one_skill_and_right_types(api, member, world):
    empty = api.put(
        "/api/v1/me/onboarding/", {"title": "Data Analyst", "skills": []}, format="json"
    )
    assert empty.json()["error"]["fields"] == {"skills": ["Follow at least one skill."]}
    missing = api.put("/api/v1/me/onboarding/", {}, format="json")
    assert missing.json()["error"]["fields"] == {
        "title": ["This field is required."],
        "skills": ["This field is required."],
    }
    wrong = api.put(
        "/api/v1/me/onboarding/",
        {"title": ["x"], "skills": "SQL", "seniority": "intern"},
        format="json",
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"]["fields"] == {
        "title": ["Not a valid string."],
        "seniority": ['"intern" is not a valid choice.'],
        "skills": ['Expected a list of items but got type "str".'],
    }
    assert Member.objects.get(pk=member.pk).onboarded_at is None


def test_learning_lists_only_the_members_own_activity(api, member, other_member, world):
    courses = world["courses"]
    now = timezone.now()
    EnrolmentFactory(
        member=member,
        course=courses["Learning Python"],
        progress_percent=40,
        last_watched_at=now,
    )
    EnrolmentFactory(
        member=member,
        course=courses["SQL Window Functions"],
        enrolled_at=now - dt.timedelta(days=2),
        progress_percent=100,
        completed_at=now - dt.timedelta(days=1),
    )
    BookmarkFactory(member=member, course=courses["Tableau Dashboards"])
    EnrolmentFactory(member=other_member, course=courses["Python Testing"])
    BookmarkFactory(member=other_member, course=courses["Illustrator Basics"])
    body = api.get("/api/v1/me/learning/").json()
    assert [(e["course"]["title"], e["progress_percent"]) for e in body["in_progress"]] == [
        ("Learning Python", 40)
    ]
    assert [e["course"]["title"] for e in body["finished"]] == ["SQL Window Functions"]
    assert [b["course"]["title"] for b in body["bookmarked"]] == ["Tableau Dashboards"]
    assert body["in_progress"][0]["course"]["skills"][0]["name"] == "Python"


def test_me_endpoints_need_authentication(anon, db):
    for path in ("/api/v1/me/", "/api/v1/me/onboarding/", "/api/v1/me/learning/"):
        assert anon.get(path).status_code == 401
    assert anon.put("/api/v1/me/onboarding/", {}, format="json").status_code == 401


def test_title_search_for_the_questionnaire(api, world):
    body = api.get("/api/v1/titles/", {"q": "analy"}).json()
    assert [(t["id"], t["name"], t["onet_code"], t["alternate_title"]) for t in body] == [
        (world["analyst"].pk, "Data Analyst", "", None)
    ]
    assert body[0]["score"] < 100
    # No O*NET skills for a title made here: the analysts' own skills are suggested.
    assert body[0]["suggested_skills"] and {"id", "slug", "name"} == set(
        body[0]["suggested_skills"][0]
    )
    missing = api.get("/api/v1/titles/")
    assert missing.status_code == 400
    assert missing.json()["error"]["fields"] == {"q": ["This field is required."]}
