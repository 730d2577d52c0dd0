"""The homepage's "Continue learning" row and the line every card says why it is shown, on the
site and in the recommendations API."""

import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from members.models import Enrolment
from recommendations.data import ShownCourse
from recommendations.feedback.services import impressions_log
from recommendations.models import ExperimentVariant
from recommendations.ranker.examples import _impressions_read
from recommendations.serving.explanations import ExplanationContext, card_explanation
from recommendations.serving.home_page import (
    home_page_for_member,
    home_page_for_visitor,
    home_page_serve,
)
from tests.factories import PASSWORD
from tests.helpers import experiment_create, new_analyst, shown_cards, token_client


def _enrol(member, course, *, days_ago, progress=0, watched_days_ago=None, finished=False):
    now = timezone.now()
    return Enrolment.objects.create(
        member=member,
        course=course,
        enrolled_at=now - dt.timedelta(days=days_ago),
        progress_percent=100 if finished else progress,
        last_watched_at=(
            None if watched_days_ago is None else now - dt.timedelta(days=watched_days_ago)
        ),
        completed_at=now if finished else None,
    )


@pytest.fixture
def learner(world):
    """An analyst following SQL with two courses in progress and one finished: Learning
    Python enrolled first but watched yesterday, Tableau Dashboards enrolled two days ago and
    never opened, SQL Window Functions finished."""
    member = new_analyst(world, "SQL")
    courses = world["courses"]
    _enrol(member, courses["Learning Python"], days_ago=5, progress=40, watched_days_ago=1)
    _enrol(member, courses["Tableau Dashboards"], days_ago=2)
    _enrol(member, courses["SQL Window Functions"], days_ago=9, finished=True)
    return member


def _row(page):
    return [(card.course.title, card.explanation) for card in page.carousels[0].cards]


def test_continue_learning_comes_first_with_unfinished_courses_most_recently_active_first(
    learner,
):
    page = home_page_for_member(member=learner)
    first = page.carousels[0]
    assert (first.reason, first.key, first.label) == ("continue", "continue", "Continue learning")
    assert _row(page) == [
        ("Learning Python", "40% done"),
        ("Tableau Dashboards", "Enrolled, not started yet"),
    ]
    assert [card.score for card in first.cards] == [1.0, 0.5]
    assert [(c.shown.carousel_position, c.shown.position) for c in first.cards] == [(0, 0), (0, 1)]
    # The recommendations follow, numbered after it, and never repeat the member's courses.
    assert [c.cards[0].shown.carousel_position for c in page.carousels[1:]] == list(
        range(1, len(page.carousels))
    )
    recommended = {card.course.title for c in page.carousels[1:] for card in c.cards}
    assert not recommended & {"Learning Python", "Tableau Dashboards", "SQL Window Functions"}


def test_no_row_without_a_course_in_progress(world):
    member = new_analyst(world, "SQL")
    _enrol(member, world["courses"]["SQL Window Functions"], days_ago=3, finished=True)
    assert "continue" not in [c.reason for c in home_page_for_member(member=member).carousels]


def test_a_single_course_in_progress_is_a_row_and_does_not_count_against_the_limit(world, settings):
    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "MAX_CAROUSELS": 1}
    member = new_analyst(world, "SQL")
    _enrol(member, world["courses"]["Learning Python"], days_ago=1, progress=5)
    page = home_page_for_member(member=member)
    assert [c.label for c in page.carousels] == ["Continue learning", "Because you follow SQL"]
    assert _row(page) == [("Learning Python", "5% done")]


def test_without_continue_the_page_is_the_recommendations_only(learner):
    full = home_page_for_member(member=learner)
    bare = home_page_for_member(member=learner, with_continue=False)
    assert [c.key for c in bare.carousels] == [c.key for c in full.carousels[1:]]
    assert bare.carousels[0].cards[0].shown.carousel_position == 0


def test_inside_an_experiment_the_row_carries_no_variant(learner):
    experiment_create(("only", "affinity", 1))
    variant = ExperimentVariant.objects.get()
    page = home_page_serve(member=learner)
    assert page.carousels[0].reason == "continue"
    assert {card.shown.variant_id for card in page.carousels[0].cards} == {None}
    assert {card.shown.variant_id for c in page.carousels[1:] for card in c.cards} == {variant.pk}


def _explanations(page):
    return {
        c.label: {card.course.title: card.explanation for card in c.cards} for c in page.carousels
    }


def test_every_card_says_why(world):
    follower = new_analyst(world, "SQL")
    by_label = _explanations(home_page_for_member(member=follower))
    assert by_label["Because you follow SQL"]["SQL for Beginners"] == "Matches your skills: SQL"
    assert by_label["Because you follow SQL"]["Python and SQL in Practice"] == (
        "Matches your skills: SQL"
    )
    watcher = new_analyst(world, "Tableau")
    _enrol(watcher, world["courses"]["Photoshop Essential Training"], days_ago=1, progress=30)
    page = home_page_for_member(member=watcher)
    by_label = _explanations(page)
    assert list(by_label) == [
        "Continue learning",
        # A followed skill always gets its carousel, however few members hold it.
        "Because you follow Tableau",
        "Because you watched Photoshop Essential Training",
        "Popular with Data Analysts",
        "New",
    ]
    watched = by_label["Because you watched Photoshop Essential Training"]
    assert set(watched.values()) == {"Because you watched Photoshop Essential Training"}
    assert by_label["Popular with Data Analysts"] == {
        "Advanced SQL for Analysts": "Popular with Data Analysts",
        "Python for Data Analysis": "Popular with Data Analysts",
        "SQL Essential Training": "Popular with Data Analysts",
    }
    assert by_label["Because you follow Tableau"] == {
        "Tableau Dashboards": "Matches your skills: Tableau"
    }
    assert all(card.explanation for c in page.carousels for card in c.cards)


def test_a_visitors_cards_say_popular_or_new():
    assert (
        card_explanation(
            reason="popular",
            label="Popular",
            strategy="rules",
            course_id=1,
            course_skills=[{"id": 7, "name": "SQL"}],
            context=ExplanationContext(),
        )
        == "Popular with learners"
    )


def test_visitor_page_explanations(world):
    page = home_page_for_visitor()
    assert {c.label: {card.explanation for card in c.cards} for c in page.carousels} == {
        "Popular": {"Popular with learners"},
        "New": {"New"},
    }


@pytest.mark.parametrize(
    ("reason", "label", "strategy", "skills", "expected"),
    [
        ("follow", "Because you follow SQL", "rules", [3, 1], "Matches your skills: SQL, Python"),
        (
            "profile",
            "Because you have SQL",
            "rules",
            [1, 2, 3, 4, 5],
            ("Matches your skills: Python, Excel, SQL and 2 more"),
        ),
        # A folded skill carousel whose course names none of the member's skills: its label.
        ("follow", "Because you follow A and B", "rules", [9], "Because you follow A and B"),
        (
            "watched",
            "Because you watched Intro to SQL",
            "rules",
            [1],
            ("Because you watched Intro to SQL"),
        ),
        ("title", "Popular with Data Analysts", "ranked", [1], "Popular with Data Analysts"),
        ("industry", "Trending in Finance", "rules", [], "Trending in Finance"),
        ("new", "New", "rules", [1, 3], "New, matches Python, SQL"),
        ("new", "New", "rules", [9], "New"),
        ("popular", "Popular", "rules", [3], "Popular with learners, matches SQL"),
        ("als", "Learners like you also took", "als", [], "Taken by learners with your history"),
        ("text", "New courses close to what you learn", "rules", [], "Close to what you learn"),
        ("follow", "Because you follow SQL", "explore", [3], "Something different to try"),
        ("continue", "Continue learning", "rules", [3], "Enrolled, not started yet"),
    ],
)
def test_card_explanation_per_reason(reason, label, strategy, skills, expected):
    names = {1: "Python", 2: "Excel", 3: "SQL", 4: "R", 5: "Stata", 9: "Photoshop"}
    context = ExplanationContext(skill_ids=frozenset({1, 2, 3, 4, 5}), progress={8: 60})
    assert (
        card_explanation(
            reason=reason,
            label=label,
            strategy=strategy,
            course_id=7,
            course_skills=[{"id": s, "name": names[s]} for s in skills],
            context=context,
        )
        == expected
    )


def test_continue_explanation_reads_the_courses_progress():
    context = ExplanationContext(progress={8: 60})
    assert (
        card_explanation(
            reason="continue",
            label="Continue learning",
            strategy="rules",
            course_id=8,
            course_skills=[],
            context=context,
        )
        == "60% done"
    )


def test_homepage_shows_the_row_first_with_why_lines_and_no_dismiss_on_it(learner, client, world):
    python, tableau = world["courses"]["Learning Python"], world["courses"]["Tableau Dashboards"]
    client.login(username=learner.user.username, password=PASSWORD)
    response = client.get(reverse("home"))
    html = response.content.decode()
    page = response.context["page"]
    assert html.index("Continue learning") < html.index(page.carousels[1].label)
    assert '<p class="card-why">40% done</p>' in html
    assert '<p class="card-why">Matches your skills: SQL</p>' in html
    # The member's own courses have no "Not interested"; recommendations keep it.
    assert 'aria-label="Not interested in Learning Python"' not in html
    recommended = page.carousels[1].cards[0].course
    assert f'aria-label="Not interested in {recommended.title}"' in html
    # Impressions of the row are logged like any carousel's, at carousel position 0.
    logged = {
        (course, key, carousel, position)
        for _, course, reason, key, _, carousel, position, _ in shown_cards(member=learner)
        if reason == "continue"
    }
    assert logged == {(python.pk, "continue", 0, 0), (tableau.pk, "continue", 0, 1)}


def test_the_api_gives_the_same_row_and_explanations(learner):
    api = token_client(learner.user)
    body = api.get("/api/v1/recommendations/").json()
    page = home_page_for_member(member=learner)
    assert [
        (c["reason"], [(i["course"]["id"], i["explanation"]) for i in c["courses"]])
        for c in body["carousels"]
    ] == [
        (c.reason, [(card.course.pk, card.explanation) for card in c.cards]) for c in page.carousels
    ]
    only = api.get("/api/v1/recommendations/", {"reason": "continue"}).json()
    assert [(c["label"], c["position"]) for c in only["carousels"]] == [("Continue learning", 0)]
    assert [i["explanation"] for i in only["carousels"][0]["courses"]] == [
        "40% done",
        "Enrolled, not started yet",
    ]


def test_the_ranker_does_not_learn_from_the_rows_impressions(learner, world):
    sql, python = world["courses"]["SQL for Beginners"], world["courses"]["Learning Python"]
    now = timezone.now()
    impressions_log(
        member=learner,
        page_view_id=uuid.uuid4(),
        shown=[
            ShownCourse(python.pk, "continue", "continue", "rules", 0, 0),
            ShownCourse(sql.pk, "follow", f"follow:{sql.pk}", "rules", 1, 0),
        ],
        now=now,
    )
    (members, courses, *_), _ = _impressions_read(
        since=now - dt.timedelta(days=1), now=now, limit=100
    )
    assert courses.tolist() == [sql.pk]
    assert members.tolist() == [learner.pk]
