import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.card_cache import card_cache
from members.models import Enrolment, FollowedSkill, MemberSkill
from recommendations.data import ShownCourse
from recommendations.feedback.services import click_log, impressions_log
from recommendations.models import Dismissal, FeedbackEvent, PageView
from recommendations.serving.home_page import home_page_for_member, home_page_for_visitor
from tests.factories import PASSWORD, MemberFactory
from tests.helpers import new_analyst, shown_cards


def _labels(page) -> list[str]:
    return [carousel.label for carousel in page.carousels]


def _titles(carousel) -> list[str]:
    return [card.course.title for card in carousel.cards]


def _carousel(page, label):
    return next(carousel for carousel in page.carousels if carousel.label == label)


def test_visitor_sees_popular_and_new_diversified_by_skill_set(world):
    page = home_page_for_visitor()
    assert _labels(page) == ["Popular", "New"]
    # Distinct members: SQL Essential 12, Advanced SQL 8, Photoshop Essential 6, Python for Data
    # Analysis 5, Tableau 4. Both SQL courses share one skill set: one bucket, newest first.
    assert _titles(page.carousels[0]) == [
        "Advanced SQL for Analysts",
        "Photoshop Essential Training",
        "Python for Data Analysis",
        "Tableau Dashboards",
        "SQL Essential Training",
    ]
    # Each course under its better reason (Tableau, Photoshop Essential and the popular data
    # courses stay in Popular); newest first, one course per skill set per round, cut at 12.
    assert _titles(page.carousels[1]) == [
        "Photoshop and Illustrator Together",
        "Illustrator Advanced",
        "Photoshop for Designers",
        "SQL for Beginners",
        "Python and SQL in Practice",
        "Python Scripting",
        "Illustrator Basics",
        "Photoshop Compositing",
        "SQL Performance Tuning",
        "Python Testing",
        "Photoshop Retouching",
        "SQL Window Functions",
    ]
    shown = [card.course.pk for carousel in page.carousels for card in carousel.cards]
    assert len(shown) == len(set(shown))


def test_member_homepage_on_an_empty_catalog_shows_no_carousels(db):
    member = MemberFactory()
    assert home_page_for_member(member=member).carousels == []
    assert home_page_for_visitor().carousels == []


def test_new_member_following_two_data_skills_sees_data_courses_first(world):
    member = new_analyst(world, "SQL", "Python")
    page = home_page_for_member(member=member)
    assert _labels(page) == ["Because you follow Python", "Because you follow SQL", "New"]
    assert [carousel.key for carousel in page.carousels] == [
        f"follow:{world['skills']['Python'].pk}",
        f"follow:{world['skills']['SQL'].pk}",
        "new",
    ]
    # The course teaching both skills goes to the first followed skill (ties: earlier reason).
    assert _titles(page.carousels[0]) == [
        "Python and SQL in Practice",
        "Python Scripting",
        "Python Testing",
        "Learning Python",
        "Python for Data Analysis",
    ]
    # One bucket (skill set {SQL}), newest first.
    assert _titles(page.carousels[1]) == [
        "SQL for Beginners",
        "SQL Performance Tuning",
        "SQL Window Functions",
        "Advanced SQL for Analysts",
        "SQL Essential Training",
    ]


def test_one_followed_skill_gets_its_own_carousel(world):
    member = new_analyst(world, "Photoshop")
    page = home_page_for_member(member=member)
    assert page.carousels[0].label == "Because you follow Photoshop"
    assert page.carousels[0].key == f"follow:{world['skills']['Photoshop'].pk}"
    assert _titles(page.carousels[0]) == [
        "Photoshop for Designers",
        "Photoshop Essential Training",
        "Photoshop Compositing",
        "Photoshop Retouching",
    ]


def test_common_title_shows_popular_with_title(world):
    member = new_analyst(world, "Photoshop")
    carousel = _carousel(home_page_for_member(member=member), "Popular with Data Analysts")
    assert _titles(carousel) == [
        "Advanced SQL for Analysts",
        "Python for Data Analysis",
        "Tableau Dashboards",
        "SQL Essential Training",
    ]


def test_small_cohort_gets_no_title_carousel(world):
    member = MemberFactory(industry=world["finance"])  # a title nobody else has
    FollowedSkill.objects.create(member=member, skill=world["skills"]["Photoshop"])
    labels = _labels(home_page_for_member(member=member))
    assert labels == ["Because you follow Photoshop", "Trending in Finance", "New"]


def test_a_followed_skill_with_one_course_still_gets_its_carousel(world):
    # Tableau has one course, and only this member holds it (too rare for an IDF on its own):
    # following it still shows its carousel, one card under the minimum of 3.
    member = new_analyst(world, "Tableau")
    page = home_page_for_member(member=member)
    assert _labels(page) == ["Because you follow Tableau", "New"]
    assert _titles(page.carousels[0]) == ["Tableau Dashboards"]


def test_tiny_carousels_other_than_followed_skills_are_not_shown(world):
    # A profile skill with one course would make a carousel of one card, under the minimum of 3.
    member = new_analyst(world)
    MemberSkill.objects.create(member=member, skill=world["skills"]["Tableau"], weight=1.0)
    for _ in range(3):  # held by enough members for an IDF
        MemberSkill.objects.create(
            member=MemberFactory(), skill=world["skills"]["Tableau"], weight=1.0
        )
    labels = _labels(home_page_for_member(member=member))
    assert "Because you have Tableau" not in labels
    assert labels[-1] == "New"


def test_followed_skills_take_effect_on_next_page_load(world):
    member = new_analyst(world, "SQL")
    assert _labels(home_page_for_member(member=member)) == ["Because you follow SQL", "New"]
    FollowedSkill.objects.create(member=member, skill=world["skills"]["Photoshop"])
    assert _labels(home_page_for_member(member=member)) == [
        "Because you follow Photoshop",
        "Because you follow SQL",
        "New",
    ]


def test_finished_and_dismissed_courses_are_never_recommended(world):
    member = new_analyst(world, "SQL", "Python")
    courses = world["courses"]
    now = timezone.now()
    Enrolment.objects.create(
        member=member,
        course=courses["SQL Window Functions"],
        enrolled_at=now - dt.timedelta(days=3),
        progress_percent=100,
        completed_at=now,
    )
    Dismissal.objects.create(member=member, course=courses["Learning Python"])
    page = home_page_for_member(member=member)
    shown = {card.course.title for carousel in page.carousels for card in carousel.cards}
    assert "SQL Window Functions" not in shown
    assert "Learning Python" not in shown


def test_because_you_watched_shows_courses_sharing_skills(world):
    member = new_analyst(world, "Tableau")
    Enrolment.objects.create(
        member=member,
        course=world["courses"]["Photoshop Essential Training"],
        enrolled_at=timezone.now(),
        progress_percent=30,
    )
    page = home_page_for_member(member=member)
    carousel = _carousel(page, "Because you watched Photoshop Essential Training")
    assert carousel.key == f"watched:{world['courses']['Photoshop Essential Training'].pk}"
    assert _titles(carousel) == [
        "Photoshop for Designers",
        "Photoshop Compositing",
        "Photoshop Retouching",
    ]


def _log_unclicked(member, page, carousel, course, times):
    """`times` page views showing `course`; returns the last one's id."""
    for _ in range(times):
        page_view_id = uuid.uuid4()
        impressions_log(
            member=member,
            page_view_id=page_view_id,
            shown=[ShownCourse(course.pk, carousel.reason, carousel.key, "rules", 0, 0)],
        )
    return page_view_id


def test_impression_discounting_demotes_a_course_shown_often_without_click(world, settings):
    member = new_analyst(world, "SQL")
    page = home_page_for_member(member=member)
    carousel = _carousel(page, "Because you follow SQL")
    assert _titles(carousel) == [
        "SQL for Beginners",
        "Python and SQL in Practice",
        "SQL Performance Tuning",
        "SQL Window Functions",
        "Advanced SQL for Analysts",
        "SQL Essential Training",
    ]
    beginners = carousel.cards[0].course
    threshold = settings.RECOMMENDATIONS["DISCOUNT_THRESHOLD"]
    _log_unclicked(member, page, carousel, beginners, threshold)
    at_threshold = _carousel(home_page_for_member(member=member), "Because you follow SQL")
    assert _titles(at_threshold) == _titles(carousel)
    _log_unclicked(member, page, carousel, beginners, 3)
    demoted = _carousel(home_page_for_member(member=member), "Because you follow SQL")
    # Three unclicked impressions past the threshold multiply its score and recency by 0.6^3:
    # it falls behind the other SQL-only courses newer than about 300 days.
    assert _titles(demoted) == [
        "SQL Performance Tuning",
        "Python and SQL in Practice",
        "SQL Window Functions",
        "SQL for Beginners",
        "Advanced SQL for Analysts",
        "SQL Essential Training",
    ]


def test_a_click_lifts_the_discount(world, settings):
    member = new_analyst(world, "SQL")
    page = home_page_for_member(member=member)
    carousel = _carousel(page, "Because you follow SQL")
    beginners = carousel.cards[0].course
    threshold = settings.RECOMMENDATIONS["DISCOUNT_THRESHOLD"]
    last = _log_unclicked(member, page, carousel, beginners, threshold + 3)
    click_log(member=member, page_view_id=last, course=beginners)
    again = _carousel(home_page_for_member(member=member), "Because you follow SQL")
    assert _titles(again)[0] == "SQL for Beginners"


def test_new_member_gets_the_prior_carousel_order(world):
    member = new_analyst(world, "Photoshop")
    page = home_page_for_member(member=member)
    assert [carousel.reason for carousel in page.carousels] == ["follow", "title", "new"]


def test_carousels_follow_the_members_own_click_through(world):
    member = new_analyst(world, "Photoshop")
    page = home_page_for_member(member=member)
    new = _carousel(page, "New")
    # This member ignores everything but "New", and clicks there a lot.
    for _ in range(5):
        page_view_id = uuid.uuid4()
        impressions_log(member=member, page_view_id=page_view_id, shown=page.shown)
        for card in new.cards:
            click_log(member=member, page_view_id=page_view_id, course=card.course)
    reordered = home_page_for_member(member=member)
    assert [carousel.reason for carousel in reordered.carousels] == ["new", "follow", "title"]


def test_homepage_logs_one_page_view_with_every_card_its_carousel_and_position(world, client):
    member = new_analyst(world, "SQL", "Python")
    client.login(username=member.user.username, password=PASSWORD)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    page = response.context["page"]
    expected = [
        (page.page_view_id, card.course.pk, carousel.reason, carousel.key, index, position)
        for index, carousel in enumerate(page.carousels)
        for position, card in enumerate(carousel.cards)
    ]
    assert [card[:4] + card[5:7] for card in shown_cards(member=member)] == expected
    assert PageView.objects.get().channel == "web"
    assert not FeedbackEvent.objects.exists()


def test_click_is_logged_with_its_impression_context_and_redirects(world, client):
    member = new_analyst(world, "SQL")
    client.login(username=member.user.username, password=PASSWORD)
    page = client.get(reverse("home")).context["page"]
    carousel = page.carousels[1]
    card = carousel.cards[2]
    response = client.get(
        reverse("recommendations:click", args=[page.page_view_id, card.course.pk])
    )
    assert response.status_code == 302
    assert response.url == reverse("web:course_detail", args=[card.course.slug])
    click = FeedbackEvent.objects.get(member=member, kind="click")
    assert (click.course_id, click.reason_key, click.carousel_position, click.position) == (
        card.course.pk,
        carousel.key,
        1,
        2,
    )


def test_click_without_matching_impression_is_not_logged(world, client):
    member = new_analyst(world, "SQL")
    client.login(username=member.user.username, password=PASSWORD)
    course = world["courses"]["Illustrator Basics"]
    response = client.get(
        reverse("recommendations:click", args=["6f1c1a8e-0000-4000-8000-000000000000", course.pk])
    )
    assert response.status_code == 302
    assert not FeedbackEvent.objects.filter(kind="click").exists()


@pytest.mark.parametrize("card_cache_on", [False, True], ids=["card-cache-off", "card-cache-on"])
def test_homepage_query_count_does_not_grow_with_carousels(world, client, settings, card_cache_on):
    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "SNAPSHOT_CHECK_SECONDS": 3600}
    settings.CATALOG_CARD_CACHE = card_cache_on
    card_cache.clear()
    small = new_analyst(world, "Tableau")
    large = new_analyst(world, "SQL", "Python", "Photoshop", "Illustrator", "Tableau")
    Enrolment.objects.create(
        member=large,
        course=world["courses"]["Photoshop Essential Training"],
        enrolled_at=timezone.now(),
        progress_percent=10,
    )
    home_page_for_visitor()  # warm the process's snapshot cache (and the card cache when on)
    counts = []
    for member in (small, large):
        client.login(username=member.user.username, password=PASSWORD)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("home"))
        assert response.status_code == 200
        counts.append((len(captured), len(response.context["page"].carousels)))
    card_cache.clear()
    (small_queries, small_carousels), (large_queries, large_carousels) = counts
    assert large_carousels > small_carousels
    # Session, then the user with its member (title and industry); the member's serving inputs
    # with the catalog revision and the stored page (one statement on PostgreSQL, eight ORM
    # queries elsewhere: follows, profile, enrolments, dismissals, two counts, revision, stored
    # page; no learned row, as no learned run is active); the cards and their skills, unless the
    # card cache holds them; then the page view (one row, every card) and its two counts: on
    # PostgreSQL one statement (its own transaction), with the page view's pending lock taken by
    # the inputs statement and released after the write (one more); elsewhere, in one
    # transaction (a savepoint here, inside the test's), the member and the shown courses that
    # still exist (one query), the page view and the two counts.
    expected = (7 if connection.vendor == "postgresql" else 18) - (2 if card_cache_on else 0)
    assert small_queries == large_queries == expected


@pytest.mark.django_db
def test_visitor_homepage_renders_without_member_queries(world, client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert b"Popular" in response.content
    assert not FeedbackEvent.objects.exists()


def test_dismiss_via_htmx_replaces_card_with_undo_and_course_never_returns(world, client):
    member = new_analyst(world, "SQL")
    client.login(username=member.user.username, password=PASSWORD)
    page = client.get(reverse("home")).context["page"]
    card = page.carousels[0].cards[0]
    response = client.post(
        reverse("recommendations:dismiss", args=[card.course.pk]),
        {"page_view_id": str(page.page_view_id)},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    dismissal = Dismissal.objects.get(member=member, course=card.course)
    assert reverse("recommendations:undo_dismiss", args=[dismissal.pk]).encode() in response.content
    assert b"Undo" in response.content
    # Where the card was shown comes from the page view's impression.
    event = FeedbackEvent.objects.get(member=member, kind="dismiss")
    assert (
        event.course_id,
        event.page_view_id,
        event.reason,
        event.reason_key,
        event.strategy,
        event.carousel_position,
        event.position,
    ) == (
        card.course.pk,
        page.page_view_id,
        card.shown.reason,
        card.shown.reason_key,
        card.shown.strategy,
        0,
        0,
    )
    for _ in range(3):
        again = client.get(reverse("home")).context["page"]
        assert card.course.pk not in {
            c.course.pk for carousel in again.carousels for c in carousel.cards
        }

    undo = client.post(
        reverse("recommendations:undo_dismiss", args=[dismissal.pk]),
        {"page_view_id": str(page.page_view_id)},
        HTTP_HX_REQUEST="true",
    )
    assert undo.status_code == 200
    assert card.course.title.encode() in undo.content
    assert not Dismissal.objects.filter(pk=dismissal.pk).exists()
    undone = FeedbackEvent.objects.get(member=member, kind="undo_dismiss")
    assert (undone.page_view_id, undone.reason_key, undone.position) == (
        page.page_view_id,
        card.shown.reason_key,
        0,
    )
    restored = client.get(reverse("home")).context["page"]
    assert card.course.pk in {
        c.course.pk for carousel in restored.carousels for c in carousel.cards
    }


def test_dismiss_without_htmx_redirects_to_the_dismissed_list(world, client):
    member = new_analyst(world, "SQL")
    client.login(username=member.user.username, password=PASSWORD)
    course = world["courses"]["SQL Window Functions"]
    response = client.post(reverse("recommendations:dismiss", args=[course.pk]))
    assert response.status_code == 302
    assert response.url == reverse("recommendations:dismissed")
    listing = client.get(response.url)
    assert course.title.encode() in listing.content


def test_the_member_homepage_links_to_the_dismissed_list_and_the_visitors_does_not(world, client):
    link = f'<a href="{reverse("recommendations:dismissed")}">'

    assert link not in client.get(reverse("home")).content.decode()
    member = new_analyst(world, "SQL")
    client.login(username=member.user.username, password=PASSWORD)
    assert link in client.get(reverse("home")).content.decode()


def test_dismiss_twice_keeps_one_dismissal(world):
    from recommendations.feedback.services import course_dismiss

    member = new_analyst(world, "SQL")
    course = world["courses"]["SQL Window Functions"]
    first = course_dismiss(member=member, course=course)
    second = course_dismiss(member=member, course=course)
    assert first.pk == second.pk
    assert Dismissal.objects.count() == 1
    assert FeedbackEvent.objects.filter(kind="dismiss").count() == 1


def test_dismissing_an_unknown_course_is_404(world, client):
    member = new_analyst(world, "SQL")
    client.login(username=member.user.username, password=PASSWORD)
    response = client.post(reverse("recommendations:dismiss", args=[999_999]))
    assert response.status_code == 404
    assert not Dismissal.objects.exists()


def test_someone_elses_undo_is_404_and_keeps_their_dismissal(world, client):
    owner = new_analyst(world, "SQL")
    intruder = new_analyst(world, "SQL")
    dismissal = Dismissal.objects.create(member=owner, course=world["courses"]["Learning Python"])
    client.login(username=intruder.user.username, password=PASSWORD)
    response = client.post(reverse("recommendations:undo_dismiss", args=[dismissal.pk]))
    assert response.status_code == 404
    assert Dismissal.objects.filter(pk=dismissal.pk).exists()
    assert not FeedbackEvent.objects.filter(kind="undo_dismiss").exists()


def test_malformed_page_view_id_is_refused(world, client):
    member = new_analyst(world, "SQL")
    client.login(username=member.user.username, password=PASSWORD)
    course = world["courses"]["Learning Python"]
    response = client.post(
        reverse("recommendations:dismiss", args=[course.pk]), {"page_view_id": "not-a-uuid"}
    )
    assert response.status_code == 400
    assert not Dismissal.objects.exists()
    dismissal = Dismissal.objects.create(member=member, course=course)
    response = client.post(
        reverse("recommendations:undo_dismiss", args=[dismissal.pk]), {"page_view_id": "4"}
    )
    assert response.status_code == 400
    assert Dismissal.objects.filter(pk=dismissal.pk).exists()


def test_a_posted_context_is_ignored_and_a_page_view_without_the_course_records_none(world, client):
    member = new_analyst(world, "SQL")
    client.login(username=member.user.username, password=PASSWORD)
    page = client.get(reverse("home")).context["page"]
    shown = {card.course.pk for carousel in page.carousels for card in carousel.cards}
    course = next(c for c in world["courses"].values() if c.pk not in shown)
    response = client.post(
        reverse("recommendations:dismiss", args=[course.pk]),
        {
            "page_view_id": str(page.page_view_id),
            "reason": "follow",
            "reason_key": "follow:1",
            "carousel_position": "0",
            "position": "0",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert Dismissal.objects.filter(member=member, course=course).exists()
    event = FeedbackEvent.objects.get(member=member, kind="dismiss")
    assert (
        event.page_view_id,
        event.reason,
        event.reason_key,
        event.carousel_position,
        event.position,
    ) == (None, "", "", None, None)
    assert b'name="page_view_id"' not in response.content


def test_dismiss_requires_post_login_and_csrf(world):
    member = new_analyst(world, "SQL")
    course = world["courses"]["Learning Python"]
    url = reverse("recommendations:dismiss", args=[course.pk])
    anonymous = Client()
    assert anonymous.post(url).status_code == 302
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.login(username=member.user.username, password=PASSWORD)
    assert csrf_client.get(url).status_code == 405
    assert csrf_client.post(url).status_code == 403
    assert not Dismissal.objects.exists()
