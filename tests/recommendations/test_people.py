"""People to learn with: the retrain's stored rows, the page, the API, discoverability and
hiding. Nobody who is not discoverable ever appears anywhere."""

import itertools
import json
from datetime import timedelta

import numpy as np
import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import Course
from members.models import Enrolment, FollowedSkill, Member
from members.services import member_people_settings_set
from recommendations.models import PeoplePageView, PersonClick, PersonHidden, PersonSuggestion
from recommendations.people.serving import (
    _people_read_portable,
    _people_read_postgresql,
    people_for_member,
    shown_ids_unpack,
)
from recommendations.people.training import (
    PeopleRows,
    people_features_read,
    people_learned_first,
    people_measurement_due,
    people_rows_store,
)
from recommendations.tasks import people_refresh
from recommendations.training.runs import training_run_execute
from tests.factories import PASSWORD, FollowedSkillFactory


def _discoverable(member, name):
    member_people_settings_set(
        member=member,
        discoverable=True,
        display_name=name,
        shows_title=True,
        shows_skills=True,
        shows_courses=True,
    )


@pytest.fixture
def people_world(world, django_capture_on_commit_callbacks):
    """Eight analysts and three designers discoverable, four analysts not (they follow SQL
    like the others: they would match, and must never be shown)."""
    skills = world["skills"]
    for index, analyst in enumerate(world["analysts"]):
        FollowedSkillFactory(member=analyst, skill=skills["SQL"])
        if index % 2 == 0:
            FollowedSkillFactory(member=analyst, skill=skills["Tableau"])
        if index < 8:
            _discoverable(analyst, f"Analyst {index}")
    for index, designer in enumerate(world["designers"][:3]):
        FollowedSkillFactory(member=designer, skill=skills["Photoshop"])
        _discoverable(designer, f"Designer {index}")
    run = training_run_execute(trigger="test")
    assert run.status == "succeeded", run.message
    return {**world, "run": run, "hidden": world["analysts"][8:]}


def _client(member):
    client = APIClient()
    assert client.login(username=member.user.username, password=PASSWORD)
    return client


def _assert_only_discoverable_stored():
    for row in PersonSuggestion.objects.select_related("member", "person"):
        assert row.member.discoverable and row.person.discoverable, row


def test_below_the_threshold_the_rules_give_each_discoverable_member_people(people_world):
    people = people_world["run"].metrics["people"]
    assert people["mode"] == "rules" and people["discoverable_members"] == 11
    analyst = people_world["analysts"][0]
    rows = PersonSuggestion.objects.filter(member=analyst)
    assert rows.count() >= 3
    assert set(rows.values_list("family", flat=True)) == {PersonSuggestion.Family.RULES}
    _assert_only_discoverable_stored()
    never = {member.pk for member in people_world["hidden"]}
    assert not PersonSuggestion.objects.filter(person_id__in=never).exists()
    assert not PersonSuggestion.objects.filter(member_id__in=never).exists()


def test_the_api_gives_people_with_reasons_and_never_a_username_or_email(people_world):
    analyst = people_world["analysts"][0]
    response = _client(analyst).get("/api/v1/people/")
    assert response.status_code == 200
    body = response.json()
    assert len(body["people"]) >= 3
    discoverable = {m.pk for m in people_world["analysts"][:8] + people_world["designers"][:3]}
    for person in body["people"]:
        assert person["id"] in discoverable and person["reasons"]
        assert set(person) == {
            "id",
            "display_name",
            "title",
            "skills",
            "courses_in_progress",
            "reasons",
            "family",
        }
    # The strongest reason first: four courses both have in progress (4 × 1.5) beat the
    # shared skills, the same occupation (1) and the same industry (0.3).
    texts = [reason["text"] for reason in body["people"][0]["reasons"]]
    assert texts[0].startswith("Also taking SQL Essential Training")
    assert texts[-2:] == ["Data Analyst like you", "Also works in Finance"]
    assert any(text.startswith("You both follow") for text in texts)
    text = json.dumps(body)
    for member in people_world["analysts"] + people_world["designers"]:
        assert member.user.username not in text and member.user.email not in text
    page_view = PeoplePageView.objects.get(pk=body["page_view_id"])
    assert shown_ids_unpack(page_view.shown) == [p["id"] for p in body["people"]]
    assert page_view.surface == "api"


def test_the_people_page_shows_people_with_reasons(people_world, client):
    analyst = people_world["analysts"][0]
    client.login(username=analyst.user.username, password=PASSWORD)
    response = client.get(reverse("people:people"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="card person-card"') >= 3
    assert "You both follow" in html and "Analyst 2" in html
    for member in people_world["hidden"]:
        assert member.display_name == "" and member.user.username not in html
    home = client.get(reverse("home")).content.decode()
    assert 'id="people-heading"' in home


def test_a_member_who_is_not_discoverable_gets_nobody_and_is_invited(people_world, client):
    outsider = people_world["hidden"][0]
    assert _client(outsider).get("/api/v1/people/").json() == {
        "page_view_id": None,
        "people": [],
    }
    client.login(username=outsider.user.username, password=PASSWORD)
    page = client.get(reverse("people:people")).content.decode()
    assert "Become discoverable" in page
    assert 'id="people-heading"' not in client.get(reverse("home")).content.decode()


def test_switching_off_removes_the_member_everywhere_at_once(
    people_world, django_capture_on_commit_callbacks
):
    leaving = people_world["analysts"][2]
    assert PersonSuggestion.objects.filter(person=leaving).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(leaving).patch("/api/v1/me/", {"discoverable": False}, format="json")
    assert response.status_code == 200 and response.json()["people"]["discoverable"] is False
    assert not PersonSuggestion.objects.filter(person=leaving).exists()
    assert not PersonSuggestion.objects.filter(member=leaving).exists()
    _assert_only_discoverable_stored()
    for member in people_world["analysts"][:8]:
        ids = [p["id"] for p in _client(member).get("/api/v1/people/").json()["people"]]
        assert leaving.pk not in ids


def test_serving_never_reads_a_person_no_longer_discoverable_whatever_the_rows(people_world):
    # Switched off without the purge (as if its callback were lost): the read filters them.
    leaving = people_world["analysts"][2]
    type(leaving).objects.filter(pk=leaving.pk).update(discoverable=False)
    ids = [
        p["id"]
        for p in _client(people_world["analysts"][0]).get("/api/v1/people/").json()["people"]
    ]
    assert leaving.pk not in ids


def test_switching_on_computes_the_members_people_at_once(
    people_world, django_capture_on_commit_callbacks
):
    joining = people_world["hidden"][0]
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(joining).patch(
            "/api/v1/me/", {"discoverable": True, "display_name": "New analyst"}, format="json"
        )
    assert response.status_code == 200
    # The queued task (the test broker does not run it): run it as the worker would.
    assert people_refresh(joining.pk) >= 3
    people = _client(joining).get("/api/v1/people/").json()["people"]
    assert len(people) >= 3 and all(person["reasons"] for person in people)
    _assert_only_discoverable_stored()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"discoverable": True}, "display_name"),
        ({"discoverable": True, "display_name": "x@example.com"}, "display_name"),
        ({"discoverable": "perhaps"}, "discoverable"),
        ({"display_name": "y" * 61}, "display_name"),
    ],
)
def test_patch_me_refuses_bad_settings_with_a_field_error_and_saves_nothing(member, body, field):
    client = _client(member)
    response = client.patch("/api/v1/me/", body, format="json")
    assert response.status_code == 400 and field in response.json()["error"]["fields"]
    member.refresh_from_db()
    assert member.discoverable is False and member.display_name == ""


def test_the_username_is_refused_as_display_name(member):
    response = _client(member).patch(
        "/api/v1/me/",
        {"discoverable": True, "display_name": member.user.username.upper()},
        format="json",
    )
    assert response.status_code == 400 and "display_name" in response.json()["error"]["fields"]


def test_a_hidden_person_is_never_shown_again_even_after_a_retrain(people_world):
    analyst = people_world["analysts"][0]
    client = _client(analyst)
    body = client.get("/api/v1/people/").json()
    person = body["people"][0]["id"]
    response = client.post(
        f"/api/v1/people/{person}/hide/", {"page_view_id": body["page_view_id"]}, format="json"
    )
    assert response.status_code == 204
    hidden = PersonHidden.objects.get(member=analyst, person_id=person)
    assert str(hidden.page_view_id) == body["page_view_id"]
    assert person not in [p["id"] for p in client.get("/api/v1/people/").json()["people"]]
    training_run_execute(trigger="test")
    assert not PersonSuggestion.objects.filter(member=analyst, person_id=person).exists()
    # Someone never suggested cannot be hidden (nor probed): 404.
    outsider = people_world["hidden"][0]
    assert client.post(f"/api/v1/people/{outsider.pk}/hide/", {}, format="json").status_code == 404


def test_clicks_are_recorded_only_from_a_page_view_that_showed_the_person(people_world):
    analyst = people_world["analysts"][0]
    client = _client(analyst)
    body = client.get("/api/v1/people/").json()
    person = body["people"][0]["id"]
    url = f"/api/v1/people/{person}/click/"
    assert (
        client.post(url, {"page_view_id": body["page_view_id"]}, format="json").status_code == 204
    )
    assert PersonClick.objects.filter(member=analyst, person_id=person).count() == 1
    other = people_world["hidden"][0].pk
    assert (
        client.post(
            f"/api/v1/people/{other}/click/", {"page_view_id": body["page_view_id"]}, format="json"
        ).status_code
        == 404
    )
    assert client.post(url, {}, format="json").status_code == 400


def test_the_site_hide_swaps_the_card_with_htmx(people_world, client):
    analyst = people_world["analysts"][0]
    client.login(username=analyst.user.username, password=PASSWORD)
    client.get(reverse("people:people"))
    page_view = PeoplePageView.objects.filter(member=analyst).latest("created_at")
    person = shown_ids_unpack(page_view.shown)[0]
    response = client.post(
        reverse("people:hide", args=[person]),
        {"page_view_id": str(page_view.pk)},
        HTTP_HX_REQUEST="true",
    )
    assert (
        response.status_code == 200
        and "You won't see this person again" in response.content.decode()
    )
    assert client.get(reverse("people:person", args=[person])).status_code == 404


def test_with_enough_interactions_people_are_learned_from_co_enrolment(world):
    skills = world["skills"]
    for index, analyst in enumerate(world["analysts"]):
        FollowedSkillFactory(member=analyst, skill=skills["SQL"])
        _discoverable(analyst, f"Analyst {index}")
    with override_settings(
        RECOMMENDATIONS={
            **__import__("django.conf").conf.settings.RECOMMENDATIONS,
            "PEOPLE_LEARNED_MIN_INTERACTIONS": 1,
        }
    ):
        run = training_run_execute(trigger="test")
    people = run.metrics["people"]
    assert people["mode"] == "learned"
    assert PersonSuggestion.objects.filter(family=PersonSuggestion.Family.LEARNED).exists()
    evaluation = people["evaluation"]
    assert evaluation["members_evaluated"] > 0
    assert set(evaluation["hit_rate"]) == {"learned", "rules", "random"}


@pytest.mark.parametrize(
    ("evaluation", "expected"),
    [
        (None, True),  # nothing measured yet
        ({}, True),
        ({"hit_rate": {"learned": 0.3, "rules": 0.2, "random": 0.1}}, True),
        ({"hit_rate": {"learned": 0.2, "rules": 0.2, "random": 0.1}}, True),
        ({"hit_rate": {"learned": 0.1, "rules": 0.4, "random": 0.1}}, False),
        ({"hit_rate": {"rules": 0.4}}, True),  # no learned figure to compare
    ],
)
def test_the_learned_people_lead_unless_the_measurement_found_the_rules_better(
    evaluation, expected
):
    assert people_learned_first(evaluation) is expected


def test_a_site_where_the_rules_measured_better_gets_the_rule_picks_first(world):
    skills = world["skills"]
    for index, analyst in enumerate(world["analysts"]):
        FollowedSkillFactory(member=analyst, skill=skills["SQL"])
        _discoverable(analyst, f"Analyst {index}")
    learned_settings = {**settings.RECOMMENDATIONS, "PEOPLE_LEARNED_MIN_INTERACTIONS": 1}
    with override_settings(RECOMMENDATIONS=learned_settings):
        first = training_run_execute(trigger="test")
        assert first.metrics["people"]["learned_first"] is True
        first.metrics["people"]["evaluation"]["hit_rate"] = {
            "learned": 0.1,
            "rules": 0.5,
            "random": 0.0,
        }
        first.save(update_fields=["metrics"])
        second = training_run_execute(trigger="test")
    assert second.metrics["people"]["mode"] == "learned"
    assert second.metrics["people"]["learned_first"] is False
    leaders = PersonSuggestion.objects.filter(rank=0)
    assert leaders.exists()
    assert set(leaders.values_list("family", flat=True)) == {PersonSuggestion.Family.RULES}


def test_the_people_api_costs_a_fixed_number_of_queries(people_world, django_assert_num_queries):
    client = _client(people_world["analysts"][0])
    client.get("/api/v1/people/")  # loads the serving snapshot once per process
    # session, user with member, the people (on PostgreSQL one statement; elsewhere the
    # suggestions with people, follows, enrolments), page view
    with django_assert_num_queries(4 if connection.vendor == "postgresql" else 6):
        assert client.get("/api/v1/people/").status_code == 200


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL statement")
def test_the_people_statement_reads_exactly_what_the_portable_reads_do(people_world):
    analyst = people_world["analysts"][0]
    rows = list(PersonSuggestion.objects.filter(member=analyst).order_by("rank"))
    assert len(rows) >= 6
    # Every case the reads filter or shape: a hidden person, one no longer discoverable, one
    # showing nothing but their name, one with neither title nor industry, one with a typed
    # title, a whole-number score, a tie in rank, a course in progress not yet published,
    # follows and enrolments tied in time.
    PersonHidden.objects.create(
        member=analyst, person_id=rows[0].person_id, created_at=timezone.now()
    )
    Member.objects.filter(pk=rows[1].person_id).update(discoverable=False)
    Member.objects.filter(pk=rows[2].person_id).update(
        shows_title=False, shows_skills=False, shows_courses=False
    )
    Member.objects.filter(pk=rows[3].person_id).update(title=None, industry=None)
    Member.objects.filter(pk=rows[4].person_id).update(title_text="Data wrangler")
    PersonSuggestion.objects.filter(pk=rows[4].pk).update(score=2.0, rank=rows[5].rank)
    future = Course.objects.first()
    Course.objects.filter(pk=future.pk).update(published_at=timezone.now() + timedelta(days=3))
    Enrolment.objects.update_or_create(
        member_id=rows[3].person_id,
        course=future,
        defaults={"enrolled_at": timezone.now(), "completed_at": None},
    )
    FollowedSkill.objects.filter(member_id__in=[analyst.pk, rows[5].person_id]).update(
        followed_at=timezone.now()
    )
    # A course in progress that the analyst shares with one person and not another.
    shared = Course.objects.exclude(pk=future.pk).order_by("pk")[1]
    for member_id in (analyst.pk, rows[5].person_id):
        Enrolment.objects.update_or_create(
            member_id=member_id,
            course=shared,
            defaults={"enrolled_at": timezone.now(), "completed_at": None},
        )
    # And one that person has in progress and the analyst has not.
    not_shared = Course.objects.exclude(pk__in=[future.pk, shared.pk]).exclude(
        enrolments__member=analyst
    )[0]
    Enrolment.objects.update_or_create(
        member_id=rows[5].person_id,
        course=not_shared,
        defaults={"enrolled_at": timezone.now(), "completed_at": None},
    )
    now = timezone.now()
    for (member_id, limit, person_id), shared_only in itertools.product(
        [
            (analyst.pk, 12, None),
            (analyst.pk, 2, None),
            (analyst.pk, 12, rows[3].person_id),
            (analyst.pk, 12, rows[0].person_id),  # hidden: nobody
            (people_world["designers"][0].pk, 12, None),
            (people_world["hidden"][0].pk, 12, None),  # not discoverable: no rows
        ],
        (False, True),
    ):
        arguments = {
            "member_id": member_id,
            "limit": limit,
            "person_id": person_id,
            "now": now,
            "shared_only": shared_only,
        }
        statement, portable = (
            _people_read_postgresql(**arguments),
            _people_read_portable(**arguments),
        )
        assert statement == portable
        # Dicts compare without their order, which the cards and reasons show.
        for field in ("skills", "courses"):
            ours, theirs = getattr(statement, field), getattr(portable, field)
            assert [(k, list(v.items())) for k, v in ours.items()] == [
                (k, list(v.items())) for k, v in theirs.items()
            ]
        assert [type(row.score) for row in statement.rows] == [float] * len(statement.rows)
    read = _people_read_postgresql(member_id=analyst.pk, limit=12, person_id=None, now=now)
    by_id = {row.person_id: row for row in read.rows}
    assert rows[0].person_id not in by_id and rows[1].person_id not in by_id
    assert by_id[rows[3].person_id].title_name == "" and by_id[rows[3].person_id].title_id is None
    assert by_id[rows[4].person_id].title_text == "Data wrangler"
    assert by_id[rows[4].person_id].score == 2.0 and rows[2].person_id in by_id
    assert len(read.skills[analyst.pk]) >= 2 and read.courses[analyst.pk]
    assert future.pk not in read.courses.get(rows[3].person_id, {})
    # Shared only: the member's own follows and courses whole, the people's only where shared.
    own_skills, own_courses = set(read.skills[analyst.pk]), set(read.courses[analyst.pk])
    assert shared.pk in own_courses and shared.pk in read.courses[rows[5].person_id]
    slim = _people_read_postgresql(
        member_id=analyst.pk, limit=12, person_id=None, now=now, shared_only=True
    )
    assert slim.rows == read.rows
    for field, own in (("skills", own_skills), ("courses", own_courses)):
        whole, kept = getattr(read, field), getattr(slim, field)
        assert kept[analyst.pk] == whole[analyst.pk]
        for person, items in whole.items():
            if person != analyst.pk:
                assert kept.get(person, {}) == {k: v for k, v in items.items() if k in own}
    assert not_shared.pk in read.courses[rows[5].person_id]
    assert not_shared.pk not in slim.courses[rows[5].person_id]


def test_cards_get_the_same_people_and_reasons_without_their_skills_and_courses(people_world):
    analyst = people_world["analysts"][0]
    shared = Course.objects.order_by("pk").first()
    for member in (analyst, people_world["analysts"][2]):
        Enrolment.objects.update_or_create(
            member=member,
            course=shared,
            defaults={"enrolled_at": timezone.now(), "completed_at": None},
        )
    whole = people_for_member(member=analyst, limit=12)
    cards = people_for_member(member=analyst, limit=12, details=False)
    assert [(p.member_id, p.reasons, p.score, p.title) for p in cards] == [
        (p.member_id, p.reasons, p.score, p.title) for p in whole
    ]
    assert any(p.skills for p in whole) and any(p.courses for p in whole)
    assert all(p.skills == [] and p.courses == [] for p in cards)
    assert any(reason.kind == "courses" for p in cards for reason in p.reasons)


def test_people_endpoints_are_throttled(people_world):
    from unittest import mock

    from rest_framework.throttling import ScopedRateThrottle

    client = _client(people_world["analysts"][0])
    with mock.patch.dict(ScopedRateThrottle.THROTTLE_RATES, {"people": "2/min"}):
        codes = [client.get("/api/v1/people/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def _people_rows(features, pairs):
    """`PeopleRows` for (member, [people]) pairs of member ids, padded to three."""
    at = {int(pk): position for position, pk in enumerate(features.member_ids.tolist())}
    members = np.array([at[member] for member, _ in pairs])
    people = np.full((len(pairs), 3), -1)
    for row, (_, persons) in enumerate(pairs):
        people[row, : len(persons)] = [at[person] for person in persons]
    return PeopleRows(
        members=members,
        people=people,
        scores=np.where(people >= 0, 1.0 / (1 + np.arange(3)), -np.inf),
        families=np.where(people >= 0, PersonSuggestion.Family.RULES, -1),
    )


def test_the_store_never_writes_a_pair_not_discoverable_or_hidden(people_world):
    shown = people_world["analysts"][:3]
    outsider = people_world["hidden"][0]  # not discoverable
    PersonHidden.objects.create(member=shown[0], person=shown[2], created_at=timezone.now())
    ids = np.array(sorted([m.pk for m in shown] + [outsider.pk]))
    features = people_features_read(
        skill_ids=np.zeros(0, dtype=np.int64),
        course_ids=np.zeros(0, dtype=np.int64),
        member_ids=ids,
    )
    rows = _people_rows(
        features,
        [
            (shown[0].pk, [shown[1].pk, outsider.pk, shown[2].pk]),  # outsider, a hidden pair
            (outsider.pk, [shown[0].pk]),  # a member not discoverable
            (shown[1].pk, [shown[2].pk, shown[0].pk]),
        ],
    )
    stored = people_rows_store(features=features, rows=rows, now=timezone.now())
    pairs = set(PersonSuggestion.objects.values_list("member_id", "person_id", "rank"))
    assert pairs == {
        (shown[0].pk, shown[1].pk, 0),
        (shown[1].pk, shown[2].pk, 0),
        (shown[1].pk, shown[0].pk, 1),
    }
    assert stored == 3
    # One member's refresh replaces only their rows, and leaves out their hidden pair too.
    alone = _people_rows(features, [(shown[0].pk, [shown[2].pk, shown[1].pk])])
    stored = people_rows_store(
        features=features, rows=alone, now=timezone.now(), only_member_id=shown[0].pk
    )
    assert stored == 1
    assert set(PersonSuggestion.objects.values_list("member_id", "person_id", "rank")) == {
        (shown[0].pk, shown[1].pk, 1),
        (shown[1].pk, shown[2].pk, 0),
        (shown[1].pk, shown[0].pk, 1),
    }


def test_features_are_read_for_the_discoverable_members_only(people_world):
    none = np.zeros(0, dtype=np.int64)
    discoverable = set(Member.objects.filter(discoverable=True).values_list("pk", flat=True))
    features = people_features_read(skill_ids=none, course_ids=none)
    assert set(features.member_ids.tolist()) == discoverable and features.discoverable.all()
    joining = people_world["hidden"][0]
    features = people_features_read(skill_ids=none, course_ids=none, also_member_id=joining.pk)
    assert set(features.member_ids.tolist()) == discoverable | {joining.pk}


def test_a_retrain_that_does_not_search_reports_the_stored_people_measurement(people_world):
    first = people_world["run"].metrics["people"]
    assert first["evaluation_why"] == "no earlier measurement"
    assert first["evaluation"]["measured_at"] and "interactions" in first["evaluation"]
    second = training_run_execute(trigger="test").metrics["people"]
    assert second["evaluation_why"] is None
    assert second["evaluation"] == first["evaluation"]
    searched = training_run_execute(trigger="test", search=True).metrics["people"]
    assert searched["evaluation_why"] == "a search retrain"
    assert searched["evaluation"]["measured_at"] != first["evaluation"]["measured_at"]


@pytest.mark.parametrize(
    ("stored", "interactions", "requested", "why"),
    [
        (None, 100, False, "no earlier measurement"),
        ({"members_evaluated": 0, "interactions": 100}, 100, False, "evaluated nobody"),
        ({"members_evaluated": 5, "interactions": 100}, 100, True, "a search retrain"),
        ({"members_evaluated": 5, "interactions": 100}, 200, False, "interactions grew"),
        ({"members_evaluated": 5, "interactions": 100}, 101, False, None),
    ],
)
def test_the_people_measurement_is_due_only_when_it_can_have_changed(
    stored, interactions, requested, why
):
    got = people_measurement_due(stored=stored, interactions=interactions, requested=requested)
    assert got == why or (why is not None and got is not None and why in got)


def test_the_evaluation_never_measures_more_members_than_its_bounds(world):
    skills = world["skills"]
    for index, analyst in enumerate(world["analysts"]):
        FollowedSkillFactory(member=analyst, skill=skills["SQL"])
        _discoverable(analyst, f"Analyst {index}")
    config = {
        **settings.RECOMMENDATIONS,
        "PEOPLE_EVALUATION_MEMBERS": 3,
        "PEOPLE_EVALUATION_CANDIDATES": 5,
    }
    with override_settings(RECOMMENDATIONS=config):
        run = training_run_execute(trigger="test")
    evaluation = run.metrics["people"]["evaluation"]
    assert evaluation["members_evaluated"] == 3 and evaluation["candidates"] == 5


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics")
def test_a_full_rewrite_leaves_the_table_analysed(people_world):
    # The retrain replaces every row; without fresh statistics (autovacuum may be off, or not
    # yet run) PostgreSQL read a member's people by scanning every discoverable member.
    table = PersonSuggestion._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        (estimated,) = cursor.fetchone()
    assert estimated == PersonSuggestion.objects.count() > 0
