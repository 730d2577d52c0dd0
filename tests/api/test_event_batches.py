"""Event batches cite a card by (page view, slot), and store their events in one INSERT, with
idempotency as exact as before."""

import threading
import uuid

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from members.models import Bookmark, Enrolment
from recommendations.feedback import events as event_ingestion
from recommendations.models import Dismissal, FeedbackEvent, ReasonFeedback
from tests.factories import CourseFactory, MemberFactory
from tests.helpers import token_client

URL = "/api/v1/events/"


def _post(client, events):
    return client.post(URL, {"events": events}, format="json")


def _statuses(response) -> list[tuple[str, str | None]]:
    return [(r["status"], r["reason"]) for r in response.json()["results"]]


def _event(kind: str, course_id: int, **extra) -> dict:
    return {"event_id": str(uuid.uuid4()), "type": kind, "course_id": course_id, **extra}


def _cards(page: dict) -> list[tuple[int, dict, dict]]:
    return [
        (card["slot"], carousel, card)
        for carousel in page["carousels"]
        for card in carousel["courses"]
    ]


def test_a_click_cites_its_card_by_page_view_and_slot(analyst_api, analyst):
    page = analyst_api.get("/api/v1/recommendations/").json()
    slot, carousel, card = _cards(page)[5]
    click = _event("click", card["course"]["id"], page_view_id=page["page_view_id"], slot=slot)
    assert _statuses(_post(analyst_api, [click])) == [("accepted", None)]
    stored = FeedbackEvent.objects.get(kind="click")
    assert (
        str(stored.event_id),
        str(stored.page_view_id),
        stored.reason,
        stored.reason_key,
        stored.carousel_position,
        stored.position,
    ) == (
        click["event_id"],
        page["page_view_id"],
        carousel["reason"],
        carousel["key"],
        carousel["position"],
        card["position"],
    )
    assert ReasonFeedback.objects.get(member=analyst, reason=carousel["reason"]).clicks == 1


def test_refused_slots_say_why_and_the_rest_of_the_batch_stands(
    analyst_api, analyst, api, member, world
):
    page = analyst_api.get("/api/v1/recommendations/").json()
    cards = _cards(page)
    slot, _, card = cards[3]
    course_id = card["course"]["id"]
    view = page["page_view_id"]
    others_page = api.get("/api/v1/recommendations/").json()
    batch = [
        _event("click", course_id, page_view_id=view, slot=len(cards)),
        _event("click", course_id, page_view_id=view, slot=slot + 1),
        _event("click", course_id, page_view_id=str(uuid.uuid4()), slot=slot),
        _event("click", course_id, page_view_id=others_page["page_view_id"], slot=slot),
        _event("dismiss", course_id, page_view_id=view, slot=len(cards) + 7),
        _event("bookmark", course_id),
        _event("click", course_id, page_view_id=view, slot=slot),
    ]
    response = _post(analyst_api, batch)
    assert _statuses(response) == [
        ("rejected", "unknown_slot"),
        ("rejected", "slot_mismatch"),
        ("rejected", "no_impression"),
        ("rejected", "no_impression"),
        ("rejected", "unknown_slot"),
        ("accepted", None),
        ("accepted", None),
    ]
    results = response.json()["results"]
    assert results[0]["message"] == (
        f"This page view showed {len(cards)} cards: slot must be below that."
    )
    assert results[1]["message"] == f"Slot {slot + 1} of this page view showed another course."
    # Refused events leave nothing: no row, no dismissal; the accepted ones are all there.
    assert sorted(FeedbackEvent.objects.values_list("kind", flat=True)) == ["bookmark", "click"]
    assert not Dismissal.objects.exists()
    assert Bookmark.objects.filter(member=analyst, course_id=course_id).exists()


def test_a_slot_needs_its_page_view(api, member, world):
    course = world["courses"]["Learning Python"]
    response = _post(api, [_event("click", course.pk, slot=0)])
    [result] = response.json()["results"]
    assert (result["status"], result["reason"], result["fields"]) == (
        "rejected",
        "invalid",
        {"slot": ["A slot needs the page_view_id it is on."]},
    )


def test_a_batch_stores_its_events_in_one_insert_and_a_replay_writes_nothing(
    analyst_api, analyst, world
):
    page = analyst_api.get("/api/v1/recommendations/").json()
    cards = _cards(page)[:4]
    courses = [world["courses"][name] for name in ("Learning Python", "Tableau Dashboards")]
    batch = (
        [
            _event("click", card["course"]["id"], page_view_id=page["page_view_id"], slot=slot)
            for slot, _, card in cards
        ]
        + [_event("enrol", course.pk) for course in courses]
        + [_event("dismiss", cards[0][2]["course"]["id"], page_view_id=page["page_view_id"])]
    )
    table = FeedbackEvent._meta.db_table
    with CaptureQueriesContext(connection) as captured:
        first = _post(analyst_api, batch)
    assert first.json()["accepted"] == len(batch)
    inserts = [q["sql"] for q in captured if q["sql"].startswith(f'INSERT INTO "{table}"')]
    assert len(inserts) == 1
    assert FeedbackEvent.objects.count() == len(batch)

    with CaptureQueriesContext(connection) as captured:
        again = _post(analyst_api, batch)
    assert again.json()["duplicate"] == len(batch)
    assert not [q for q in captured if q["sql"].startswith(f'INSERT INTO "{table}"')]
    assert FeedbackEvent.objects.count() == len(batch)
    assert Enrolment.objects.filter(member=analyst).count() == 2
    assert sum(ReasonFeedback.objects.filter(member=analyst).values_list("clicks", flat=True)) == 4


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a second session")
@pytest.mark.django_db(transaction=True)
def test_an_event_id_another_member_stores_meanwhile_reruns_the_batch_exactly(monkeypatch):
    """The one race the batch's single INSERT can lose: another member's batch stores one of its
    event ids after this batch looked its ids up. The batch is applied again from the start and
    answers that event `event_id_taken`, with none of its effects."""
    member, other = MemberFactory(), MemberFactory()
    taken, kept = CourseFactory(), CourseFactory()
    batch = [_event("enrol", taken.pk), _event("bookmark", kept.pk)]
    real_lookup = event_ingestion.courses_published_by_id
    calls = []

    def other_member_stores(event_id):
        try:
            FeedbackEvent.objects.create(
                event_id=event_id,
                kind="enrol",
                member=other,
                course=taken,
                created_at=taken.published_at,
            )
        finally:
            connections.close_all()

    def lookup_then_race(**kwargs):
        # After this batch read which of its ids exist: the other member's row is committed
        # by another session now.
        calls.append(1)
        if len(calls) == 1:
            racer = threading.Thread(target=other_member_stores, args=(batch[0]["event_id"],))
            racer.start()
            racer.join(10)
        return real_lookup(**kwargs)

    monkeypatch.setattr(event_ingestion, "courses_published_by_id", lookup_then_race)
    response = _post(token_client(member.user), batch)

    assert len(calls) == 2
    assert _statuses(response) == [("rejected", "event_id_taken"), ("accepted", None)]
    assert list(FeedbackEvent.objects.filter(member=member).values_list("kind", flat=True)) == [
        "bookmark"
    ]
    assert FeedbackEvent.objects.get(event_id=batch[0]["event_id"]).member_id == other.pk
    # The first attempt's enrolment went with its rollback.
    assert not Enrolment.objects.filter(member=member).exists()
    assert Bookmark.objects.filter(member=member, course=kept).exists()


def test_a_batch_of_one_card_s_activity_costs_a_fixed_number_of_statements(
    analyst_api, analyst, world, django_assert_num_queries
):
    """The load test's batch (`make loadtest`): a click, then enrolling, watching and saving
    and unsaving another card's course. Each event reads and writes its own rows once; the
    batch's events are stored in one insert."""
    page = analyst_api.get("/api/v1/recommendations/").json()
    (slot, _, clicked), (_, _, started) = _cards(page)[:2]
    clicked, started = clicked["course"]["id"], started["course"]["id"]
    batch = [
        _event("click", clicked, page_view_id=page["page_view_id"], slot=slot),
        _event("enrol", started, page_view_id=page["page_view_id"]),
        _event("watch", started, value=30),
        _event("bookmark", clicked),
        _event("unbookmark", clicked),
    ]
    # Token and member; the member's lock, the event ids, the courses; the page view's cards;
    # the enrolment's insert unless present (a new one: no read); its locked read and update (no
    # savepoint of their own); the bookmark's insert unless present; its delete; the events'
    # insert and the count upserts (one statement for both tables on PostgreSQL, two on
    # SQLite); the batch's own savepoint in the test's transaction. On PostgreSQL also the check
    # that nobody is still writing the page view, and after the response whether the member has
    # a stored page to compose again (here no refresh is pending: the test's transaction never
    # commits).
    statements = 16 if connection.vendor == "postgresql" else 15
    with django_assert_num_queries(statements):
        response = _post(analyst_api, batch)
    assert response.json()["accepted"] == len(batch)
