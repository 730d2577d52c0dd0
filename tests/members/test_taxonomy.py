"""`load_taxonomy` and what a fresh install gets from it: typed titles and day-one suggestions."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from catalog.models import Category, Skill, SkillSynonym
from members.models import AlternateTitle, JobTitle, Member, OccupationSkill
from members.onet import onet_subset_read
from members.selectors import job_title_match
from tests.helpers import token_client

# Skills that fit a data analyst's work, among the vendored O*NET skills.
DATA_SKILLS = {
    "Structured query language SQL",
    "Python",
    "R",
    "SAS",
    "IBM SPSS Statistics",
    "Tableau",
    "Microsoft Excel",
    "Microsoft Power BI",
    "StataCorp Stata",
    "The MathWorks MATLAB",
    "Microsoft SQL Server",
    "Microsoft Access",
    "Oracle Database",
}


def _load() -> str:
    out = StringIO()
    call_command("load_taxonomy", stdout=out)
    return out.getvalue()


@pytest.fixture
def taxonomy(db):
    _load()


def test_load_taxonomy_loads_everything_and_a_second_run_creates_nothing(db):
    subset = onet_subset_read()

    first = _load()

    assert Skill.objects.count() == len(subset.skills) == 350
    assert Category.objects.count() == len({s.category for s in subset.skills})
    assert SkillSynonym.objects.count() == sum(len(v) for v in subset.synonyms.values())
    assert JobTitle.objects.count() == len(subset.job_titles) > 1000
    assert AlternateTitle.objects.count() == len(subset.alternate_titles) > 50_000
    assert OccupationSkill.objects.count() == sum(len(v) for v in subset.occupation_skills.values())
    assert "alternate titles created      59,999" in first
    counts = (
        Skill.objects.count(),
        SkillSynonym.objects.count(),
        JobTitle.objects.count(),
        AlternateTitle.objects.count(),
        OccupationSkill.objects.count(),
        Skill.related.through.objects.count(),
    )

    second = _load()

    assert counts == (
        Skill.objects.count(),
        SkillSynonym.objects.count(),
        JobTitle.objects.count(),
        AlternateTitle.objects.count(),
        OccupationSkill.objects.count(),
        Skill.related.through.objects.count(),
    )
    assert all(line.split()[-1] == "0" for line in second.splitlines()[:-1])


def test_load_taxonomy_updates_what_changed_and_keeps_curated_text(db):
    _load()
    nurse = JobTitle.objects.get(onet_code="29-1141.00")
    JobTitle.objects.filter(pk=nurse.pk).update(onet_title="Old title")
    excel = Skill.objects.get(name="Microsoft Excel")
    Skill.objects.filter(pk=excel.pk).update(description="Curated.")
    OccupationSkill.objects.filter(job_title=nurse).update(weight=0.5, hot=False)

    _load()

    nurse.refresh_from_db()
    excel.refresh_from_db()
    assert nurse.onet_title == "Registered Nurses"
    assert excel.description == "Curated."
    assert OccupationSkill.objects.filter(job_title=nurse, hot=True).exists()


def test_done_when_a_fresh_install_accepts_data_analyst_with_fitting_suggestions(taxonomy):
    """Only migrations and load_taxonomy: no course, no member with a title, no follow."""
    member = Member.objects.create(user=_user("newcomer"))
    api = token_client(member.user)
    skills = list(Skill.objects.filter(name__in=DATA_SKILLS).values_list("pk", flat=True))

    response = api.put(
        "/api/v1/me/onboarding/",
        {"title": "Data Analyst", "seniority": "", "skills": skills[:1]},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "Data Analyst"
    assert body["occupation"]["onet_code"]
    suggested = [s["name"] for s in body["suggested_skills"]]
    assert len(set(suggested) & DATA_SKILLS) >= 5, suggested

    titles = api.get("/api/v1/titles/", {"q": "data analyst"})

    assert titles.status_code == 200
    first = titles.json()[0]
    assert (first["name"], first["score"]) == ("Data Analyst", 100.0)
    names = [s["name"] for s in first["suggested_skills"]]
    assert len(names) == 10
    assert len(set(names) & DATA_SKILLS) >= 5, names


def test_typed_titles_match_exactly_by_alternate_title_then_fuzzily(taxonomy):
    exact = job_title_match(text="registered nurse")
    alternate = job_title_match(text="Reporting Analyst")
    fuzzy = job_title_match(text="Sr. Data Analyst")
    typo = job_title_match(text="data analist")

    assert (exact.job_title.onet_code, exact.alternate_title) == ("29-1141.00", None)
    assert (alternate.job_title.onet_code, alternate.alternate_title) == (
        "15-2051.01",
        "Reporting Analyst",
    )
    assert fuzzy.job_title.name == typo.job_title.name == "Data Analyst"
    assert fuzzy.score < 100 and typo.score < 100
    assert job_title_match(text="xyzzy plover") is None


def test_the_titles_api_refuses_an_empty_query(taxonomy):
    member = Member.objects.create(user=_user("asker"))

    response = token_client(member.user).get("/api/v1/titles/", {"q": ""})

    assert response.status_code == 400
    assert '"q"' in response.content.decode()


def _user(username: str):
    return get_user_model().objects.create_user(username=username, password="x-password-1")
