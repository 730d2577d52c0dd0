"""A member's next homepage is composed after each page view and served to the next one only
while everything it was composed from is unchanged (recommendations/serving/stored_pages.py)."""

import dataclasses
import datetime as dt
import functools
import logging
import re
import uuid

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIRequestFactory, force_authenticate

from catalog.card_cache import card_cache
from catalog.models import Course
from members.models import Enrolment, FollowedSkill, Member
from recommendations import refresh_queue, tasks
from recommendations.api import EventsView, RecommendationsView
from recommendations.feedback.page_views import page_view_courses
from recommendations.feedback.services import click_log, impressions_log
from recommendations.models import (
    ComposedPage,
    Dismissal,
    ExperimentAssignment,
    MemberRecommendations,
    PageView,
    TrainingRun,
)
from recommendations.serving import deferred
from recommendations.serving.home_page import (
    home_page_compose_next,
    home_page_for_member,
    home_page_for_visitor,
    home_page_serve,
)
from recommendations.serving.inputs import member_discounted_read, member_serving_inputs
from recommendations.serving.state import snapshot_forget
from recommendations.serving.stored_pages import (
    composed_page_steady_seconds,
    composed_page_store,
    layout_dumps,
    layout_loads,
    page_digest,
)
from recommendations.training.runs import training_run_execute
from tests.factories import EnrolmentFactory
from tests.helpers import (
    experiment_create,
    new_analyst,
    recommendations_served,
    response_close,
)

NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def served(world):
    """The world with an active run: pages are stored only with one."""
    run = training_run_execute(trigger="test")
    assert run.is_active
    snapshot_forget()
    return world


def _keys(page) -> list[str]:
    return [carousel.key for carousel in page.carousels]


def _store_reversed(member, *, now):
    """Store the member's page of `now`, carousels in reverse order, under its true digest: a
    page served in that order can only have come from the store."""
    page = home_page_for_member(member=member, now=now)
    assert len(page.carousels) >= 2 and page.digest is not None
    composed_page_store(
        member_id=member.pk,
        digest=page.digest,
        digest_without_impressions=page.digest_without_impressions,
        composed_at=now,
        carousels=page.carousels[::-1],
    )
    return page


def test_the_stored_page_is_served_while_its_inputs_are_unchanged(served):
    member = new_analyst(served, "SQL", "Python")
    live = _store_reversed(member, now=NOW)

    page = home_page_for_member(
        member=member, now=NOW + dt.timedelta(minutes=9), reuse_composed=True
    )

    assert _keys(page) == _keys(live)[::-1]
    assert page.digest == live.digest
    assert page.page_view_id != live.page_view_id
    # Cards carry their own positions, as the composed page's do.
    assert [(s.carousel_position, s.position) for s in page.shown] == [
        (k, i) for k, carousel in enumerate(page.carousels) for i in range(len(carousel.cards))
    ]
    assert [[card.course.pk for card in c.cards] for c in page.carousels] == [
        [card.course.pk for card in c.cards] for c in live.carousels[::-1]
    ]
    assert {s.strategy for s in page.shown} == {s.strategy for s in live.shown}


def _follow_python(member, world):
    FollowedSkill.objects.create(member=member, skill=world["skills"]["Python"])


def _dismiss_one(member, world):
    Dismissal.objects.create(member=member, course=world["courses"]["Advanced SQL for Analysts"])


def _enrol_one(member, world):
    EnrolmentFactory(member=member, course=world["courses"]["Advanced SQL for Analysts"])


def _see_the_page(member, world):
    page = home_page_for_member(member=member, now=NOW)
    impressions_log(member=member, page_view_id=uuid.uuid4(), shown=page.shown, now=NOW)


def _click_one(member, world):
    page = home_page_for_member(member=member, now=NOW)
    page_view_id = uuid.uuid4()
    impressions_log(member=member, page_view_id=page_view_id, shown=page.shown, now=NOW)
    shown = page.shown[0]
    click_log(
        member=member,
        course=Course.objects.get(pk=shown.course_id),
        page_view_id=page_view_id,
        now=NOW,
    )


def _change_title(member, world):
    member.title = world["designer"]
    member.save()


def _rename_the_industry(member, world):
    member.industry.name = "Banking"
    member.industry.save()


def _retrain(member, world):
    training_run_execute(trigger="test")
    snapshot_forget()


@pytest.mark.parametrize(
    "change",
    [
        _follow_python,
        _dismiss_one,
        _enrol_one,
        _click_one,
        _change_title,
        _rename_the_industry,
        _retrain,
    ],
)
def test_a_stored_page_is_not_served_once_what_it_was_composed_from_changes(served, change):
    member = new_analyst(served, "SQL")
    _store_reversed(member, now=NOW)

    change(member, served)
    later = NOW + dt.timedelta(minutes=1)
    page = home_page_for_member(member=member, now=later, reuse_composed=True)

    assert _keys(page) == _keys(home_page_for_member(member=member, now=later))
    assert page.digest != ComposedPage.objects.get(member=member).digest


def test_within_the_steady_seconds_impressions_leave_the_page_as_it_was(served):
    member = new_analyst(served, "SQL")
    live = _store_reversed(member, now=NOW)
    _see_the_page(member, served)

    page = home_page_for_member(
        member=member, now=NOW + dt.timedelta(seconds=60), reuse_composed=True
    )

    assert _keys(page) == _keys(live)[::-1]
    assert page.stored_composed_at == NOW
    # The page served carries what it was composed from: the stored page's digests. What
    # changed since is only the impressions: the full digest of a page composed now moved,
    # the other did not.
    stored = ComposedPage.objects.get(member=member)
    assert (page.digest, page.digest_without_impressions) == (
        bytes(stored.digest),
        bytes(stored.digest_without_impressions),
    )
    now = home_page_for_member(member=member, now=NOW + dt.timedelta(seconds=60))
    assert now.digest != bytes(stored.digest)
    assert now.digest_without_impressions == bytes(stored.digest_without_impressions)


def test_a_steady_page_that_a_change_unserves_is_composed_from_the_impressions_too(served):
    """Within the steady seconds the inputs are read without the discounted courses (on
    PostgreSQL); when the member has changed something meanwhile, the page composed then still
    discounts what they saw, exactly as a page composed from a full read."""
    member = new_analyst(served, "SQL")
    _store_reversed(member, now=NOW)
    for _ in range(4):  # past the discount threshold (3)
        _see_the_page(member, served)
    assert member_discounted_read(
        member_id=member.pk, window_start=NOW.date() - dt.timedelta(days=30), discount_threshold=3
    )
    _enrol_one(member, served)
    later = NOW + dt.timedelta(seconds=30)

    page = home_page_for_member(member=member, now=later, reuse_composed=True)
    fresh = home_page_for_member(member=member, now=later)

    assert page.stored_composed_at is None
    assert [[c.course.pk for c in carousel.cards] for carousel in page.carousels] == [
        [c.course.pk for c in carousel.cards] for carousel in fresh.carousels
    ]
    assert (page.digest, page.digest_without_impressions) == (
        fresh.digest,
        fresh.digest_without_impressions,
    )


@pytest.mark.parametrize("steady", [60, 0])
def test_after_the_steady_seconds_the_impressions_change_the_page(served, settings, steady):
    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "COMPOSED_PAGE_STEADY_SECONDS": steady}
    member = new_analyst(served, "SQL")
    _store_reversed(member, now=NOW)
    _see_the_page(member, served)
    later = NOW + dt.timedelta(seconds=steady + 1)

    page = home_page_for_member(member=member, now=later, reuse_composed=True)

    assert page.stored_composed_at is None
    assert _keys(page) == _keys(home_page_for_member(member=member, now=later))


def test_a_changed_setting_changes_the_digest(served, settings):
    member = new_analyst(served, "SQL", "Python")
    live = _store_reversed(member, now=NOW)
    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "CAROUSEL_SIZE": 4}

    page = home_page_for_member(member=member, now=NOW, reuse_composed=True)

    assert page.digest != live.digest
    assert _keys(page) != _keys(live)[::-1]
    assert max(len(c.cards) for c in page.carousels) == 4


@pytest.mark.parametrize(
    "served_at",
    [
        NOW + dt.timedelta(seconds=601),  # older than COMPOSED_PAGE_MAX_AGE_SECONDS (600)
        NOW - dt.timedelta(seconds=1),  # composed after the page asked for
    ],
)
def test_a_stored_page_is_served_only_within_its_age(served, served_at):
    member = new_analyst(served, "SQL", "Python")
    live = _store_reversed(member, now=NOW)

    page = home_page_for_member(member=member, now=served_at, reuse_composed=True)

    assert _keys(page) == _keys(live)
    assert page.digest == live.digest


def test_without_reuse_the_page_is_composed(served):
    member = new_analyst(served, "SQL", "Python")
    live = _store_reversed(member, now=NOW)

    assert _keys(home_page_for_member(member=member, now=NOW)) == _keys(live)


def test_pages_are_not_stored_without_an_active_run(world):
    member = new_analyst(world, "SQL", "Python")
    assert not TrainingRun.objects.exists()

    assert home_page_for_member(member=member, now=NOW).digest is None
    assert home_page_compose_next(member=member, now=NOW) is False
    assert not ComposedPage.objects.exists()


def test_pages_with_exploration_are_not_stored(served):
    member = new_analyst(served, "SQL", "Python")

    page = home_page_for_member(member=member, now=NOW, exploration_share=0.25)

    assert page.digest is None


def test_an_experiment_with_exploration_stores_no_page(served):
    member = new_analyst(served, "SQL", "Python")
    experiment_create(("a", "default", 1), ("b", "als", 1), exploration=0.1)
    snapshot_forget()

    assert home_page_serve(member=member).digest is None
    assert home_page_compose_next(member=member) is False
    assert not ComposedPage.objects.exists()


def test_an_experiment_variant_is_stored_and_served_as_its_own_page(served):
    member = new_analyst(served, "SQL", "Python")
    experiment_create(("a", "recency", 1), ("b", "recency", 1))
    snapshot_forget()
    now = timezone.now()

    assert home_page_compose_next(member=member, now=now) is True
    stored = ComposedPage.objects.get(member=member)
    page = home_page_serve(member=member, now=now, reuse_composed=True)

    assert page.digest == bytes(stored.digest)
    assert layout_dumps(page.carousels) == bytes(stored.layout)
    assert {s.strategy for s in page.shown} == {"recency"}
    assert {s.variant_id for s in page.shown} == {
        ExperimentAssignment.objects.get(member=member).variant_id
    }
    # The default page is another page: not the variant's digest.
    assert home_page_for_member(member=member, now=now).digest != page.digest


def test_a_max_age_of_zero_turns_storing_off(served, settings):
    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "COMPOSED_PAGE_MAX_AGE_SECONDS": 0}
    member = new_analyst(served, "SQL", "Python")

    assert home_page_for_member(member=member, now=NOW).digest is None
    response_close(recommendations_served(member))

    assert not ComposedPage.objects.exists()


def test_compose_next_stores_the_page_composing_would_give(served):
    member = new_analyst(served, "SQL", "Python")

    assert home_page_compose_next(member=member, now=NOW) is True

    stored = ComposedPage.objects.get(member=member)
    live = home_page_for_member(member=member, now=NOW)
    assert bytes(stored.digest) == live.digest
    assert stored.composed_at == NOW
    assert bytes(stored.layout) == layout_dumps(live.carousels)
    assert [row[1] for row in layout_loads(bytes(stored.layout))] == _keys(live)


def _explanations(page) -> list[list[str]]:
    return [[card.explanation for card in carousel.cards] for carousel in page.carousels]


def test_a_stored_page_is_served_with_the_explanations_it_was_stored_with(served):
    member = new_analyst(served, "SQL", "Python")
    assert home_page_compose_next(member=member, now=NOW) is True
    stored = ComposedPage.objects.get(member=member)
    live = home_page_for_member(member=member, now=NOW)
    assert [row[5] for row in layout_loads(bytes(stored.layout))] == _explanations(live)
    # Lines the member's inputs would never give: serving reads them, it does not write them.
    marked = [
        (*row[:5], [f"stored {index}" for index in range(len(row[3]))])
        for row in layout_loads(bytes(stored.layout))
    ]
    ComposedPage.objects.filter(member=member).update(layout=orjson.dumps(marked))

    page = home_page_for_member(member=member, now=NOW, reuse_composed=True)

    assert page.stored_composed_at == NOW
    assert _explanations(page) == [row[5] for row in marked]


def test_a_page_stored_without_explanations_is_served_with_the_ones_composing_writes(served):
    member = new_analyst(served, "SQL", "Python")
    assert home_page_compose_next(member=member, now=NOW) is True
    stored = ComposedPage.objects.get(member=member)
    without = [row[:5] for row in layout_loads(bytes(stored.layout))]
    ComposedPage.objects.filter(member=member).update(layout=orjson.dumps(without))

    page = home_page_for_member(member=member, now=NOW, reuse_composed=True)

    assert page.stored_composed_at == NOW
    live = home_page_for_member(member=member, now=NOW)
    assert _keys(page) == _keys(live)
    assert _explanations(page) == _explanations(live)
    lines = [line for row in _explanations(page) for line in row]
    assert any(line.startswith("Matches your skills: ") for line in lines)


def test_a_page_for_a_deleted_member_is_not_stored(served):
    member = new_analyst(served, "SQL", "Python")
    page = home_page_for_member(member=member, now=NOW)
    member_id = member.pk
    member.delete()

    composed_page_store(
        member_id=member_id, digest=page.digest, composed_at=NOW, carousels=page.carousels
    )

    assert not ComposedPage.objects.filter(member_id=member_id).exists()


def test_deleting_a_member_deletes_their_stored_page(served):
    member = new_analyst(served, "SQL", "Python")
    home_page_compose_next(member=member, now=NOW)
    assert ComposedPage.objects.filter(member=member).exists()

    member.delete()

    assert not ComposedPage.objects.exists()


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="stored after the response on PostgreSQL only"
)


@postgresql_only
def test_a_page_view_stores_the_next_page_after_its_impressions(served):
    member = new_analyst(served, "SQL", "Python")

    response = recommendations_served(member)
    assert not ComposedPage.objects.exists()
    response_close(response)

    stored = ComposedPage.objects.get(member=member)
    # Composed after this page's impressions were written: the next page view, reading the
    # same inputs, serves it.
    assert PageView.objects.filter(member=member).exists()
    page = home_page_for_member(member=member, now=stored.composed_at, reuse_composed=True)
    assert page.digest == bytes(stored.digest)
    assert layout_dumps(page.carousels) == bytes(stored.layout)

    second = recommendations_served(member)
    assert [c["key"] for c in second.data["carousels"]] == [
        row[1] for row in layout_loads(bytes(stored.layout))
    ]
    response_close(second)
    # In the first half of the steady seconds nothing is composed: the stored page serves the
    # next view too, whatever this one's impressions.
    assert ComposedPage.objects.get(member=member).composed_at == stored.composed_at


@postgresql_only
def test_a_page_view_composes_the_next_page_in_the_second_half_of_the_steady_seconds(served):
    member = new_analyst(served, "SQL", "Python")
    _stored_page_half_steady_old(member)
    stored = ComposedPage.objects.get(member=member)

    response_close(recommendations_served(member))

    assert ComposedPage.objects.get(member=member).composed_at > stored.composed_at


@postgresql_only
def test_nothing_is_stored_before_the_response_is_closed(served):
    member = new_analyst(served, "SQL", "Python")
    recommendations_served(member)
    assert not ComposedPage.objects.exists()


@postgresql_only
def test_a_page_composed_for_a_view_is_stored_as_served_without_composing_another(
    served, monkeypatch
):
    member = new_analyst(served, "SQL", "Python")
    composed = []
    monkeypatch.setattr(
        deferred, "home_page_compose_next", lambda **kwargs: composed.append(kwargs)
    )
    # The API's answer shows one card a carousel; the page stored is the whole page.
    request = APIRequestFactory().get("/api/v1/recommendations/", {"limit": 1})
    force_authenticate(request, user=member.user)
    response = RecommendationsView.as_view()(request)
    response.render()
    whole = home_page_for_member(member=member)
    assert [len(c["courses"]) for c in response.data["carousels"]] == [1] * len(whole.carousels)

    response_close(response)

    assert composed == []
    stored = ComposedPage.objects.get(member=member)
    assert layout_dumps(whole.carousels) == bytes(stored.layout)
    assert bytes(stored.digest) == whole.digest
    # Within its steady seconds the next view is served it, whatever this view's impressions.
    second = recommendations_served(member)
    assert [c["key"] for c in second.data["carousels"]] == _keys(whole)
    response_close(second)
    assert ComposedPage.objects.get(member=member).composed_at == stored.composed_at
    assert composed == []


def _stored_page_half_steady_old(member):
    """A stored page of `member`, composed over half its steady seconds ago: the next view
    composes the page after it."""
    response_close(recommendations_served(member))
    half = dt.timedelta(seconds=composed_page_steady_seconds() / 2 + 1)
    ComposedPage.objects.filter(member=member).update(composed_at=timezone.now() - half)


@postgresql_only
@pytest.mark.parametrize(
    ("failing", "message"),
    [
        ("home_page_compose_next", "the next homepage of member {} was not composed"),
        ("home_page_store", "the homepage of member {} was not stored"),
    ],
)
def test_a_failed_composition_or_store_is_logged_and_the_impressions_stand(
    served, monkeypatch, caplog, failing, message
):
    member = new_analyst(served, "SQL")
    if failing == "home_page_compose_next":
        _stored_page_half_steady_old(member)
    stored = list(ComposedPage.objects.values_list("composed_at", flat=True))

    def refuse(**kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(deferred, failing, refuse)
    with caplog.at_level(logging.ERROR, logger="recommendations.serving.deferred"):
        response = recommendations_served(member)
        response_close(response)

    assert response.status_code == 200
    cards = sum(len(c["courses"]) for c in response.data["carousels"])
    shown = PageView.objects.get(id=response.data["page_view_id"])
    assert len(page_view_courses(bytes(shown.courses))) == cards
    assert list(ComposedPage.objects.values_list("composed_at", flat=True)) == stored
    [record] = [r for r in caplog.records if r.name == "recommendations.serving.deferred"]
    assert record.getMessage() == message.format(member.pk)
    assert record.exc_info[1].args == ("out of memory",)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="an UNLOGGED table")
def test_the_table_is_unlogged(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relpersistence FROM pg_class WHERE relname = %s",
            [ComposedPage._meta.db_table],
        )
        assert cursor.fetchone() == ("u",)


@pytest.mark.parametrize(
    "changed",
    [
        {"followed": [(1, "SQL")]},
        {"profile": [(1, 0.5, "SQL")]},
        {"enrolled": [(1, "SQL Essential Training")]},
        {"dismissed": [1]},
        {"learned_payload": b"\x00"},
        {"discounted": [(1, 4)]},
        {"reason_feedback": {"follow": (10, 1)}},
        {"catalog_revision": 12345},
    ],
    ids=lambda changed: next(iter(changed)),
)
def test_the_digest_covers_each_of_the_member_inputs(served, changed):
    member = new_analyst(served, "SQL", "Python")
    inputs = member_serving_inputs(
        member_id=member.pk,
        window_start=NOW.date(),
        discount_threshold=3,
        with_learned=True,
    )
    digest = functools.partial(
        page_digest,
        member=member,
        run_id=1,
        strategy="default",
        variant_id=None,
        max_carousels=None,
        window_start=NOW.date(),
    )

    assert digest(inputs=inputs) == digest(inputs=dataclasses.replace(inputs))
    assert digest(inputs=inputs) != digest(inputs=dataclasses.replace(inputs, **changed))


@pytest.mark.parametrize(
    "changed",
    [
        {"run_id": 2},
        {"strategy": "als"},
        {"variant_id": 7},
        {"max_carousels": 3},
        {"window_start": NOW.date() - dt.timedelta(days=1)},
    ],
    ids=lambda changed: next(iter(changed)),
)
def test_the_digest_covers_the_run_the_variant_and_the_window(served, changed):
    member = new_analyst(served, "SQL", "Python")
    inputs = member_serving_inputs(
        member_id=member.pk, window_start=NOW.date(), discount_threshold=3, with_learned=True
    )
    given = {
        "run_id": 1,
        "strategy": "default",
        "variant_id": None,
        "max_carousels": None,
        "window_start": NOW.date(),
    }

    assert page_digest(inputs=inputs, member=member, **given) != page_digest(
        inputs=inputs, member=member, **{**given, **changed}
    )


def test_the_seniority_is_in_the_digest(served):
    member = new_analyst(served, "SQL", "Python")
    before = home_page_for_member(member=member, now=NOW).digest
    member.seniority = "senior" if member.seniority != "senior" else "entry"

    assert home_page_for_member(member=member, now=NOW).digest != before


def test_now_is_left_out_of_the_digest(served):
    member = new_analyst(served, "SQL", "Python")
    first = home_page_for_member(member=member, now=NOW)
    later = home_page_for_member(member=member, now=NOW + dt.timedelta(hours=1))
    assert first.digest == later.digest
    # The discount window starts a day later from the next day on.
    assert home_page_for_member(member=member, now=NOW + dt.timedelta(days=1)).digest != (
        first.digest
    )
    assert timezone.localdate(NOW) != timezone.localdate(NOW + dt.timedelta(days=1))


@postgresql_only
def test_a_page_view_runs_one_statement_before_its_response_and_four_after(served, settings):
    # Every page view composes the next page here (no steady seconds).
    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "COMPOSED_PAGE_STEADY_SECONDS": 0}
    settings.CATALOG_CARD_CACHE = True
    card_cache.clear()
    member = new_analyst(served, "SQL", "Python")
    response_close(recommendations_served(member))  # the first page view stores the second's page
    home_page_for_visitor()  # and the card cache holds every course shown

    with CaptureQueriesContext(connection) as before:
        response = recommendations_served(member)
    with CaptureQueriesContext(connection) as after:
        response_close(response)
    card_cache.clear()

    def starts(captured) -> list[str]:
        # The first two words, without the advisory lock's key.
        return [
            re.sub(r"\d+\)$", "", " ".join(q["sql"].split()[:2])) for q in captured.captured_queries
        ]

    # Before the response: the member's inputs with the stored page, which also takes the page
    # view's pending lock. After: the page view (with its counts), the lock's release, then the
    # next page: the inputs again (without a lock) and the store.
    assert starts(before) == ["SELECT (SELECT"]
    assert "pg_advisory_lock(" in before.captured_queries[0]["sql"]
    assert "pg_advisory_lock(" not in after.captured_queries[2]["sql"]
    assert starts(after) == [
        "WITH owner",
        "SELECT pg_advisory_unlock(",
        "SELECT (SELECT",
        "INSERT INTO",
    ]
    assert "recommendations_composedpage" in after.captured_queries[3]["sql"]


def _events_posted(member, events):
    request = APIRequestFactory().post("/api/v1/events/", {"events": events}, format="json")
    force_authenticate(request, user=member.user)
    response = EventsView.as_view()(request)
    response.render()
    return response


@postgresql_only
def test_an_accepted_event_batch_composes_the_next_page_of_a_browsing_member(served):
    member = new_analyst(served, "SQL", "Python")
    shown = recommendations_served(member)
    response_close(shown)
    before = ComposedPage.objects.get(member=member)
    card = shown.data["carousels"][0]["courses"][0]["course"]["id"]

    response = _events_posted(
        member,
        [
            {
                "event_id": str(uuid.uuid4()),
                "type": "click",
                "course_id": card,
                "page_view_id": shown.data["page_view_id"],
            }
        ],
    )
    assert response.data["accepted"] == 1
    assert bytes(ComposedPage.objects.get(member=member).digest) == bytes(before.digest)
    response_close(response)

    after = ComposedPage.objects.get(member=member)
    # Composed from the click: the page the next page view composes.
    live = home_page_for_member(member=member, now=after.composed_at)
    assert bytes(after.digest) == live.digest != bytes(before.digest)
    assert bytes(after.layout) == layout_dumps(live.carousels)


@postgresql_only
def test_an_event_batch_composes_nothing_for_a_member_not_browsing(served):
    member = new_analyst(served, "SQL", "Python")
    course = served["courses"]["Advanced SQL for Analysts"]

    enrol = {"event_id": str(uuid.uuid4()), "type": "enrol", "course_id": course.pk}
    response_close(_events_posted(member, [enrol]))

    assert Enrolment.objects.filter(member=member, course=course).exists()
    assert not ComposedPage.objects.exists()


@postgresql_only
@pytest.mark.parametrize("refresh_finished_first", [False, True])
def test_a_batch_that_asks_for_a_refresh_leaves_composing_to_the_refresh(
    transactional_db, served, queued, refresh_finished_first
):
    """The refresh task composes the page once the member's new row is in; a page composed
    after the batch's response would be replaced before anyone saw it, or, when the task
    finished before the response was closed (it often does), be a second one of the same page.
    (Committed for real: the refresh is asked for as the batch commits, before its response.)"""
    member = new_analyst(served, "SQL", "Python")
    shown = recommendations_served(member)
    response_close(shown)
    before = ComposedPage.objects.get(member=member)
    course = served["courses"]["Advanced SQL for Analysts"]

    enrol = {"event_id": str(uuid.uuid4()), "type": "enrol", "course_id": course.pk}
    response = _events_posted(member, [enrol])
    assert response.data["accepted"] == 1
    assert len(queued.packs) == 1
    if refresh_finished_first:
        assert refresh_queue.member_refresh_run(member_id=member.pk, refresh=lambda: True)
        assert refresh_queue.member_refresh_pending(member_id=member.pk) is False
    response_close(response)

    assert ComposedPage.objects.get(member=member).composed_at == before.composed_at


@postgresql_only
def test_a_batch_with_nothing_accepted_composes_nothing(served):
    member = new_analyst(served, "SQL", "Python")
    response_close(recommendations_served(member))
    before = ComposedPage.objects.get(member=member)

    response = _events_posted(
        member, [{"event_id": str(uuid.uuid4()), "type": "enrol", "course_id": 10**9}]
    )
    assert response.data["rejected"] == 1
    response_close(response)

    assert ComposedPage.objects.get(member=member).composed_at == before.composed_at


def test_a_stored_page_older_than_its_age_is_not_recomposed(served):
    member = new_analyst(served, "SQL", "Python")
    home_page_compose_next(member=member, now=NOW)

    assert not home_page_compose_next(
        member=member, now=NOW + dt.timedelta(seconds=601), only_if_stored=True
    )
    assert home_page_compose_next(
        member=member, now=NOW + dt.timedelta(seconds=600), only_if_stored=True
    )
    assert ComposedPage.objects.get(member=member).composed_at == NOW + dt.timedelta(seconds=600)


@pytest.fixture
def learned(demo):
    """The demo data with an active learned run: member rows are refreshed by a task."""
    run = training_run_execute(trigger="test")
    assert run.kind == TrainingRun.Kind.LEARNED
    snapshot_forget()
    return Member.objects.filter(enrolments__isnull=False).distinct().order_by("pk")


def _enrol_in_a_new_course(member) -> None:
    taken = member.enrolments.values_list("course_id", flat=True)
    course = Course.objects.exclude(pk__in=taken).order_by("pk").first()
    Enrolment.objects.create(member=member, course=course, enrolled_at=timezone.now())


def test_a_refreshed_row_composes_the_next_page_of_a_browsing_member(learned):
    member = learned.select_related("title", "industry").first()
    home_page_compose_next(member=member)
    before = ComposedPage.objects.get(member=member)
    _enrol_in_a_new_course(member)

    assert tasks.member_refresh(member.pk) is True

    after = ComposedPage.objects.get(member=member)
    live = home_page_for_member(member=member, now=after.composed_at)
    assert bytes(after.digest) == live.digest != bytes(before.digest)
    assert bytes(after.layout) == layout_dumps(live.carousels)


def test_a_refreshed_row_composes_nothing_for_a_member_not_browsing(learned):
    member = learned.first()
    _enrol_in_a_new_course(member)

    assert tasks.member_refresh(member.pk) is True

    assert not ComposedPage.objects.exists()


def test_a_failed_composition_after_a_refresh_is_logged_and_the_row_stands(
    learned, monkeypatch, caplog
):
    member = learned.first()
    home_page_compose_next(member=member)
    _enrol_in_a_new_course(member)

    def refuse(**kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(tasks, "home_page_compose_next", refuse)
    with caplog.at_level(logging.ERROR, logger="recommendations.tasks"):
        assert tasks.member_refresh(member.pk) is True

    [record] = [r for r in caplog.records if r.name == "recommendations.tasks"]
    assert record.getMessage() == f"the next homepage of member {member.pk} was not composed"
    assert MemberRecommendations.objects.get(member=member).computed_at > (
        ComposedPage.objects.get(member=member).composed_at
    )
