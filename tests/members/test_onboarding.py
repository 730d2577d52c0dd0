import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from members.models import FollowedSkill, Member
from members.selectors import (
    job_titles_search,
    member_needs_onboarding,
    skills_suggested_for_title,
)
from members.services import member_onboarding_submit
from tests.factories import (
    FollowedSkillFactory,
    IndustryFactory,
    JobTitleFactory,
    MemberFactory,
    MemberSkillFactory,
    SkillFactory,
)

pytestmark = pytest.mark.django_db

URL = reverse("members:onboarding")


def _followed_names(member: Member) -> list[str]:
    return sorted(FollowedSkill.objects.filter(member=member).values_list("skill__name", flat=True))


@pytest.fixture
def newcomer(member: Member) -> Member:
    """The logged-in member as sign-up leaves them: no answers yet."""
    Member.objects.filter(pk=member.pk).update(title=None, industry=None, seniority="")
    member.refresh_from_db()
    return member


def test_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url == f"{reverse('members:login')}?next={URL}"


def test_submit_stores_answers_and_goes_home(member_client: Client, newcomer: Member) -> None:
    title = JobTitleFactory(name="Data Analyst")
    industry = IndustryFactory(name="Retail")
    python, sql = SkillFactory(name="Python"), SkillFactory(name="SQL")

    response = member_client.post(
        URL,
        {
            "title": "  data analyst ",
            "industry": industry.pk,
            "seniority": "senior",
            "skills": [python.pk, sql.pk],
        },
    )

    assert response.status_code == 302
    assert response.url == reverse("home")
    newcomer.refresh_from_db()
    assert newcomer.title == title
    assert newcomer.industry == industry
    assert newcomer.seniority == Member.Seniority.SENIOR
    assert newcomer.onboarded_at is not None
    assert member_needs_onboarding(member=newcomer) is False
    assert _followed_names(newcomer) == ["Python", "SQL"]


def test_industry_and_seniority_may_be_left_out(member_client: Client, newcomer: Member) -> None:
    title = JobTitleFactory(name="Nurse")
    skill = SkillFactory()

    response = member_client.post(URL, {"title": "Nurse", "skills": [skill.pk]})

    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert (newcomer.title, newcomer.industry, newcomer.seniority) == (title, None, "")


def test_at_least_one_skill_is_required(member_client: Client, newcomer: Member) -> None:
    JobTitleFactory(name="Nurse")

    response = member_client.post(URL, {"title": "Nurse"})

    assert response.status_code == 200
    assert response.context["form"].errors == {"skills": ["Follow at least one skill."]}
    assert "Follow at least one skill." in response.content.decode()
    newcomer.refresh_from_db()
    assert newcomer.title is None
    assert newcomer.onboarded_at is None


def test_an_unknown_skill_id_is_refused(member_client: Client, newcomer: Member) -> None:
    JobTitleFactory(name="Nurse")
    skill = SkillFactory()

    response = member_client.post(URL, {"title": "Nurse", "skills": [skill.pk, 999_999]})

    assert response.status_code == 200
    assert response.context["form"].errors == {"skills": ["999999 is not a skill we know."]}
    assert not FollowedSkill.objects.filter(member=newcomer).exists()


def test_a_non_numeric_skill_id_is_refused(member_client: Client, newcomer: Member) -> None:
    JobTitleFactory(name="Nurse")

    response = member_client.post(URL, {"title": "Nurse", "skills": ["python"]})

    assert response.status_code == 200
    assert response.context["form"].errors == {"skills": ["“python” is not a skill we know."]}


def test_an_unknown_title_is_kept_as_typed_without_a_cohort(
    member_client: Client, newcomer: Member
) -> None:
    JobTitleFactory(name="Nurse")
    skill = SkillFactory(name="Triage")

    response = member_client.post(URL, {"title": "  Astronaut  ", "skills": [skill.pk]})

    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert (newcomer.title_text, newcomer.title) == ("Astronaut", None)
    assert newcomer.onboarded_at is not None


def test_a_blank_title_is_refused(member_client: Client, newcomer: Member) -> None:
    skill = SkillFactory(name="Triage")

    response = member_client.post(URL, {"title": "   ", "skills": [skill.pk]})

    assert response.status_code == 200
    assert response.context["form"].errors == {"title": ["This field is required."]}
    # The ticked skill stays ticked on the re-rendered page.
    assert [s.name for s in response.context["selected_skills"]] == ["Triage"]
    newcomer.refresh_from_db()
    assert (newcomer.title_text, newcomer.onboarded_at) == ("", None)


def test_submit_replaces_the_followed_set_and_keeps_old_follow_dates(
    member_client: Client, member: Member
) -> None:
    kept, dropped, added = (
        SkillFactory(name="Kept"),
        SkillFactory(name="Dropped"),
        SkillFactory(name="Added"),
    )
    long_ago = timezone.now() - dt.timedelta(days=200)
    FollowedSkillFactory(member=member, skill=kept)
    FollowedSkillFactory(member=member, skill=dropped)
    FollowedSkill.objects.filter(member=member).update(followed_at=long_ago)
    other = FollowedSkillFactory(skill=dropped)

    response = member_client.post(URL, {"title": member.title.name, "skills": [kept.pk, added.pk]})

    assert response.status_code == 302
    assert _followed_names(member) == ["Added", "Kept"]
    assert FollowedSkill.objects.get(member=member, skill=kept).followed_at == long_ago
    assert FollowedSkill.objects.get(member=member, skill=added).followed_at > long_ago
    # Someone else's follow of the dropped skill is untouched.
    assert FollowedSkill.objects.filter(pk=other.pk).exists()


def test_first_completion_time_survives_later_edits(member: Member) -> None:
    skill = SkillFactory()
    first = timezone.now() - dt.timedelta(days=3)

    member_onboarding_submit(
        member=member, title_text="Nurse", industry=None, seniority="", skills=[skill], now=first
    )
    member_onboarding_submit(
        member=member, title_text="Nurse", industry=None, seniority="mid", skills=[skill]
    )

    member.refresh_from_db()
    assert member.onboarded_at == first
    assert member.seniority == "mid"


def test_service_refuses_an_empty_skill_set(member: Member) -> None:
    with pytest.raises(ValueError, match="at least one skill"):
        member_onboarding_submit(
            member=member, title_text="Nurse", industry=None, seniority="", skills=[]
        )
    member.refresh_from_db()
    assert member.onboarded_at is None


def test_returning_member_sees_current_answers(member_client: Client, member: Member) -> None:
    python = SkillFactory(name="Python")
    FollowedSkillFactory(member=member, skill=python)
    Member.objects.filter(pk=member.pk).update(seniority="lead")

    response = member_client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'name="title" id="id_title" value="{member.title.name}"' in html
    assert f'<option value="{member.industry.pk}" selected>' in html
    assert '<option value="lead" selected>' in html
    assert [s.name for s in response.context["selected_skills"]] == ["Python"]
    assert (
        f'<input type="checkbox" name="skills" value="{python.pk}" '
        f'id="selected-skill-{python.pk}" checked>' in html
    )


def test_refresh_keeps_entries_without_saving_or_showing_errors(
    member_client: Client, newcomer: Member
) -> None:
    JobTitleFactory(name="Nurse")
    triage = SkillFactory(name="Triage")
    SkillFactory(name="Python")

    response = member_client.post(
        URL, {"action": "refresh", "title": "nurse", "skills": [triage.pk], "q": "pyth"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {}
    assert [s.name for s in response.context["selected_skills"]] == ["Triage"]
    assert [s.name for s in response.context["skill_results"]] == ["Python"]
    assert response.context["title"].name == "Nurse"
    newcomer.refresh_from_db()
    assert newcomer.title is None
    assert not FollowedSkill.objects.filter(member=newcomer).exists()


def test_user_text_is_escaped(member_client: Client, newcomer: Member) -> None:
    response = member_client.post(
        URL, {"action": "refresh", "title": "<script>x</script>", "q": "<b>"}
    )

    html = response.content.decode()
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


# Suggestions


@pytest.fixture
def analysts() -> dict:
    """Three analysts and one nurse, with skills chosen so every count differs or ties by name."""
    analyst, nurse = JobTitleFactory(name="Analyst"), JobTitleFactory(name="Nurse")
    sql, excel, python, r_lang, zeta = (
        SkillFactory(name=name) for name in ("SQL", "Excel", "Python", "R", "Zeta")
    )
    triage = SkillFactory(name="Triage")
    a1, a2, a3 = (MemberFactory(title=analyst) for _ in range(3))
    # SQL: profile + follow by a1, follow by a2 and a3 -> 4
    MemberSkillFactory(member=a1, skill=sql)
    for m in (a1, a2, a3):
        FollowedSkillFactory(member=m, skill=sql)
    # Excel: profile by a2 and a3 -> 2; Python: follow by a1, profile by a3 -> 2
    MemberSkillFactory(member=a2, skill=excel)
    MemberSkillFactory(member=a3, skill=excel)
    FollowedSkillFactory(member=a1, skill=python)
    MemberSkillFactory(member=a3, skill=python)
    # R and Zeta: one mention each
    FollowedSkillFactory(member=a2, skill=r_lang)
    MemberSkillFactory(member=a1, skill=zeta)
    # Nurses follow Triage a lot, which must not leak into analysts' suggestions.
    for _ in range(5):
        FollowedSkillFactory(member=MemberFactory(title=nurse), skill=triage)
    return {"analyst": analyst, "nurse": nurse}


def test_suggestions_come_from_members_with_the_title(analysts: dict) -> None:
    names = [s.name for s in skills_suggested_for_title(title=analysts["analyst"])]

    assert names == ["SQL", "Excel", "Python", "R", "Zeta"]


def test_suggestions_respect_the_limit(analysts: dict) -> None:
    names = [s.name for s in skills_suggested_for_title(title=analysts["analyst"], limit=2)]

    assert names == ["SQL", "Excel"]


def test_a_title_nobody_holds_falls_back_to_the_most_followed(analysts: dict) -> None:
    empty_title = JobTitleFactory(name="Astronaut")

    names = [s.name for s in skills_suggested_for_title(title=empty_title, limit=3)]

    # Follows only: Triage 5, SQL 3, then Python and R with 1 each (tie by name).
    assert names == ["Triage", "SQL", "Python"]


def test_no_title_falls_back_to_the_most_followed(analysts: dict) -> None:
    names = [s.name for s in skills_suggested_for_title(title=None)]

    assert names == ["Triage", "SQL", "Python", "R"]


def test_suggestions_partial_follows_the_title_and_hides_ticked_skills(
    member_client: Client, analysts: dict
) -> None:
    sql_pk = analysts["analyst"].members.first().followed_skills.get(skill__name="SQL").skill_id

    response = member_client.get(
        reverse("members:title_suggestions"),
        {"title": "analyst", "skills": [sql_pk]},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert [s.name for s in response.context["suggested_skills"]] == [
        "Excel",
        "Python",
        "R",
        "Zeta",
    ]
    html = response.content.decode()
    assert "Skills for Analyst" in html
    assert "<html" not in html


def test_suggestions_partial_keeps_the_old_block_while_a_title_is_half_typed(
    member_client: Client, analysts: dict
) -> None:
    response = member_client.get(reverse("members:title_suggestions"), {"title": "Analy"})

    assert response.status_code == 204


def test_suggestions_partial_without_title_shows_popular_skills(
    member_client: Client, analysts: dict
) -> None:
    response = member_client.get(reverse("members:title_suggestions"), {"title": ""})

    assert response.status_code == 200
    assert [s.name for s in response.context["suggested_skills"]] == [
        "Triage",
        "SQL",
        "Python",
        "R",
    ]
    assert "Popular on SkillPath" in response.content.decode()


def test_onboarding_page_shows_suggestions_for_the_current_title(
    client: Client, analysts: dict
) -> None:
    analyst = analysts["analyst"].members.order_by("pk").first()
    client.force_login(analyst.user)

    response = client.get(URL)

    # SQL and Python are already followed by this analyst, so they are not suggested again.
    assert [s.name for s in response.context["selected_skills"]] == ["Python", "SQL"]
    assert [s.name for s in response.context["suggested_skills"]] == ["Excel", "R", "Zeta"]


# Title search and the selected-skills mirror


def test_title_search_puts_prefix_matches_first(member_client: Client) -> None:
    for name in ("Senior Data Analyst", "Data Analyst", "Database Administrator", "Nurse"):
        JobTitleFactory(name=name)

    response = member_client.get(
        reverse("members:title_search"), {"title": "data"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert [m.job_title.name for m in response.context["titles"]] == [
        "Data Analyst",
        "Database Administrator",
        "Senior Data Analyst",
    ]
    assert '<option value="Data Analyst"></option>' in response.content.decode()


def test_title_search_with_empty_query_is_empty() -> None:
    JobTitleFactory(name="Nurse")

    assert job_titles_search(query="  ") == []


def test_selected_skills_partial_lists_ticked_skills_by_name(member_client: Client) -> None:
    b, a = SkillFactory(name="Beta"), SkillFactory(name="Alpha")

    response = member_client.get(
        reverse("members:selected_skills"), {"skills": [b.pk, a.pk, 999_999]}
    )

    assert response.status_code == 200
    assert [s.name for s in response.context["selected_skills"]] == ["Alpha", "Beta"]


@pytest.mark.parametrize("name", ["members:selected_skills", "members:title_suggestions"])
@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("junk", "junk"),
        ("²", "²"),
        ("٣", "٣"),
        ("-3", "-3"),
        ("9" * 20, "9" * 20),
        ("9" * 5000, "9" * 24 + "…"),
        ("0", "0"),
    ],
)
def test_partials_refuse_a_skill_id_that_is_not_an_id(
    member_client: Client, name: str, value: str, shown: str
) -> None:
    skill = SkillFactory(name="Alpha")

    response = member_client.get(reverse(name), {"skills": [skill.pk, value]})

    assert response.status_code == 400
    assert response.content.decode() == f"* skills\n  * “{shown}” is not a skill id."


def test_partials_take_ids_up_to_the_largest_64_bit_integer(member_client: Client) -> None:
    url = reverse("members:selected_skills")

    largest = member_client.get(url, {"skills": [str(2**63 - 1)]})
    too_large = member_client.get(url, {"skills": [str(2**63)]})

    assert largest.status_code == 200
    assert largest.context["selected_skills"] == []
    assert too_large.status_code == 400


@pytest.mark.parametrize(
    ("skills", "industry", "skill_error", "industry_error"),
    [
        (["²"], "٣", "“²” is not a skill we know.", True),
        (["9" * 5000], "9" * 5000, f"“{'9' * 24}…” is not a skill we know.", True),
        (["9" * 20], "9" * 20, f"“{'9' * 20}” is not a skill we know.", True),
        (["1\x00"], "", "“1\\x00” is not a skill we know.", False),
    ],
)
def test_onboarding_form_names_a_skill_or_industry_that_is_not_an_id(
    member_client: Client, skills, industry, skill_error, industry_error
) -> None:
    JobTitleFactory(name="Nurse")

    response = member_client.post(
        reverse("members:onboarding"),
        {"title": "Nurse", "industry": industry, "skills": skills},
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["skills"] == [skill_error]
    assert ("industry" in form.errors) is industry_error
    assert not FollowedSkill.objects.exists()


def test_partials_require_login(client: Client) -> None:
    for name in ("members:title_search", "members:title_suggestions", "members:selected_skills"):
        response = client.get(reverse(name))
        assert response.status_code == 302, name


def test_onboarding_post_requires_csrf(member: Member) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(member.user)
    skill = SkillFactory()

    response = client.post(URL, {"title": member.title.name, "skills": [skill.pk]})

    assert response.status_code == 403
    assert not FollowedSkill.objects.filter(member=member).exists()


def test_the_questions_are_labelled_alike_without_a_colon(
    member_client: Client, newcomer: Member
) -> None:
    page = member_client.get(URL).content.decode()

    assert '<label for="id_industry">Industry</label>' in page
    assert '<label for="id_seniority">Seniority</label>' in page
    assert '<label for="id_title">Job title</label>' in page


@pytest.mark.parametrize(
    ("name", "field", "limit"),
    [
        ("members:title_search", "title", 150),
        ("members:title_suggestions", "title", 150),
        ("members:skill_options", "skill", 120),
    ],
)
def test_partials_refuse_typed_text_with_nul_or_too_long(
    member_client: Client, name: str, field: str, limit: int
) -> None:
    nul = member_client.get(reverse(name), {field: "Nur\x00se"})
    long = member_client.get(reverse(name), {field: "x" * 10_000})

    assert nul.status_code == 400
    assert nul.content.decode() == f"* {field}\n  * Null characters are not allowed."
    assert long.status_code == 400
    assert f"Ensure this value has at most {limit} characters (it has 10000)." in (
        long.content.decode()
    )


def test_onboarding_refresh_names_a_bad_search_or_title_and_saves_nothing(
    member_client: Client,
) -> None:
    JobTitleFactory(name="Nurse")
    skill = SkillFactory(name="Python")
    url = reverse("members:onboarding")

    bad_search = member_client.post(
        url, {"title": "Nurse", "skills": [skill.pk], "q": "py\x00", "action": "refresh"}
    )
    bad_title = member_client.post(
        url, {"title": "Nur\x00se", "skills": [skill.pk], "q": "py", "action": "refresh"}
    )

    assert bad_search.status_code == 200
    assert bad_search.context["query_errors"] == ["Null characters are not allowed."]
    assert "Null characters are not allowed." in bad_search.content.decode()
    assert bad_title.status_code == 200
    assert bad_title.context["form"].errors["title"] == ["Null characters are not allowed."]
    assert not FollowedSkill.objects.exists()
