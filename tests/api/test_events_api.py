import threading
import uuid
from unittest import mock

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from core.throttling import RowRateThrottle
from members.models import Bookmark, Enrolment
from recommendations.feedback.services import course_dismiss, feedback_counts_rebuild
from recommendations.models import Dismissal, FeedbackEvent
from tests.factories import EnrolmentFactory
from tests.helpers import feedback_counts_read, token_client

URL = "/api/v1/events/"


def event(kind: str, course, **extra) -> dict:
    return {"event_id": str(uuid.uuid4()), "type": kind, "course_id": course.pk, **extra}


def post(client, events):
    return client.post(URL, {"events": events}, format="json")


def statuses(response) -> list[tuple[str, str | None]]:
    return [(r["status"], r["reason"]) for r in response.json()["results"]]


def test_a_replayed_batch_is_stored_once_and_applied_once(api, member, world):
    course = world["courses"]["Learning Python"]
    batch = [
        event("enrol", course),
        event("watch", course, value=30),
        event("bookmark", course),
    ]
    first = post(api, batch)
    assert first.status_code == 200
    assert first.json()["accepted"] == 3
    again = post(api, batch)
    assert again.status_code == 200
    assert again.json() == {
        "accepted": 0,
        "duplicate": 3,
        "rejected": 0,
        "results": [
            {
                "index": index,
                "event_id": item["event_id"],
                "status": "duplicate",
                "reason": None,
                "message": None,
                "fields": {},
            }
            for index, item in enumerate(batch)
        ],
    }
    assert FeedbackEvent.objects.filter(member=member).count() == 3
    enrolment = Enrolment.objects.get(member=member, course=course)
    assert enrolment.progress_percent == 30
    assert Bookmark.objects.filter(member=member, course=course).count() == 1


def test_the_same_id_twice_in_one_batch_is_a_duplicate(api, member, world):
    course = world["courses"]["Learning Python"]
    bookmark = event("bookmark", course)
    response = post(api, [bookmark, bookmark])
    assert statuses(response) == [("accepted", None), ("duplicate", None)]
    assert Bookmark.objects.filter(member=member).count() == 1


def test_every_accepted_event_is_stored_with_its_kind_id_and_value(api, member, world):
    course = world["courses"]["Learning Python"]
    batch = [
        event("enrol", course),
        event("watch", course, value=25.5),
        event("finish", course),
        event("bookmark", course),
        event("unbookmark", course),
        event("dismiss", course),
        event("undo_dismiss", course),
        event("impression", course),
    ]
    response = post(api, batch)
    assert response.json()["accepted"] == len(batch)
    stored = {
        str(row.event_id): (row.kind, row.value)
        for row in FeedbackEvent.objects.filter(member=member)
    }
    assert stored == {item["event_id"]: (item["type"], item.get("value")) for item in batch}


def test_watch_moves_progress_to_the_reported_point_and_never_back(api, member, world):
    course = world["courses"]["Learning Python"]  # 60 minutes
    post(api, [event("watch", course, value=30)])
    enrolment = Enrolment.objects.get(member=member, course=course)
    assert (enrolment.progress_percent, enrolment.watched_seconds) == (30, 1080)
    post(api, [event("watch", course, value=12)])
    enrolment.refresh_from_db()
    assert (enrolment.progress_percent, enrolment.watched_seconds) == (30, 1080)
    post(api, [event("watch", course, value=100)])
    enrolment.refresh_from_db()
    assert enrolment.progress_percent == 100 and enrolment.completed_at is not None


def test_enrol_and_finish(api, member, world):
    course = world["courses"]["Tableau Dashboards"]
    post(api, [event("enrol", course)])
    enrolment = Enrolment.objects.get(member=member, course=course)
    assert (enrolment.progress_percent, enrolment.completed_at) == (0, None)
    post(api, [event("finish", course)])
    enrolment.refresh_from_db()
    assert enrolment.progress_percent == 100 and enrolment.completed_at is not None


def test_bookmark_and_unbookmark_set_rather_than_toggle(api, member, world):
    course = world["courses"]["Tableau Dashboards"]
    post(api, [event("bookmark", course), event("bookmark", course)])
    assert Bookmark.objects.filter(member=member, course=course).exists()
    post(api, [event("unbookmark", course), event("unbookmark", course)])
    assert not Bookmark.objects.filter(member=member, course=course).exists()


def test_dismiss_removes_the_course_from_recommendations_and_undo_brings_it_back(
    analyst_api, analyst
):
    page = analyst_api.get("/api/v1/recommendations/").json()
    top = page["carousels"][0]["courses"][0]["course"]
    dismiss = {
        "event_id": str(uuid.uuid4()),
        "type": "dismiss",
        "course_id": top["id"],
        "page_view_id": page["page_view_id"],
    }
    assert statuses(post(analyst_api, [dismiss])) == [("accepted", None)]
    assert Dismissal.objects.filter(member=analyst, course_id=top["id"]).exists()
    # One dismiss event, carrying the client's id and the carousel that showed the course.
    stored = FeedbackEvent.objects.get(member=analyst, kind="dismiss")
    assert str(stored.event_id) == dismiss["event_id"]
    assert (stored.reason, stored.carousel_position, stored.position) == (
        page["carousels"][0]["reason"],
        0,
        0,
    )
    after = analyst_api.get("/api/v1/recommendations/").json()
    shown = {item["course"]["id"] for c in after["carousels"] for item in c["courses"]}
    assert top["id"] not in shown

    undo = {"event_id": str(uuid.uuid4()), "type": "undo_dismiss", "course_id": top["id"]}
    assert statuses(post(analyst_api, [undo])) == [("accepted", None)]
    assert not Dismissal.objects.filter(member=analyst).exists()
    assert str(FeedbackEvent.objects.get(kind="undo_dismiss").event_id) == undo["event_id"]
    assert post(analyst_api, [dismiss]).json()["duplicate"] == 1
    assert not Dismissal.objects.filter(member=analyst).exists()


def test_a_click_is_attributed_to_the_impression_that_showed_the_course(analyst_api, analyst):
    page = analyst_api.get("/api/v1/recommendations/").json()
    carousel = page["carousels"][1]
    item = carousel["courses"][2]
    click = {
        "event_id": str(uuid.uuid4()),
        "type": "click",
        "course_id": item["course"]["id"],
        "page_view_id": page["page_view_id"],
    }
    assert statuses(post(analyst_api, [click])) == [("accepted", None)]
    stored = FeedbackEvent.objects.get(kind="click")
    assert (stored.reason, stored.reason_key, stored.carousel_position, stored.position) == (
        carousel["reason"],
        carousel["key"],
        carousel["position"],
        2,
    )


def test_refused_events_say_why_and_leave_no_trace(analyst_api, analyst, world, other_member):
    page = analyst_api.get("/api/v1/recommendations/").json()
    course = world["courses"]["Illustrator Basics"]
    shown_id = page["carousels"][0]["courses"][0]["course"]["id"]
    other_page = uuid.uuid4()
    response = post(
        analyst_api,
        [
            event("enrol", course, course_id=424242),
            event("click", course),
            event("click", course, page_view_id=str(other_page)),
            event("undo_dismiss", course),
            {
                "event_id": str(uuid.uuid4()),
                "type": "impression",
                "course_id": shown_id,
                "page_view_id": page["page_view_id"],
            },
        ],
    )
    assert statuses(response) == [
        ("rejected", "unknown_course"),
        ("rejected", "no_impression"),
        ("rejected", "no_impression"),
        ("rejected", "not_dismissed"),
        ("rejected", "already_logged"),
    ]
    assert response.json()["results"][1]["message"] == (
        "A click needs the page_view_id of a page that showed this course to this member."
    )
    assert not FeedbackEvent.objects.exclude(kind="impression").exists()
    assert not Enrolment.objects.filter(member=analyst).exists()


def test_malformed_events_are_rejected_one_by_one(api, member, world):
    course = world["courses"]["Learning Python"]
    good = event("bookmark", course)
    bad_value = event("watch", course, value=120)
    response = post(
        api,
        [
            {"type": "enrol", "course_id": course.pk},
            {"event_id": "not-a-uuid", "type": "enrol", "course_id": course.pk},
            event("rate", course),
            event("watch", course),
            event("finish", course, value=50),
            bad_value,
            event("enrol", course, course_id="seven"),
            42,
            good,
        ],
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["status"], r["reason"]) for r in results] == [("rejected", "invalid")] * 8 + [
        ("accepted", None)
    ]
    assert [r["fields"] for r in results[:8]] == [
        {"event_id": ["This field is required."]},
        {"event_id": ["Must be a valid UUID."]},
        {"type": ['"rate" is not a valid choice.']},
        {"value": ["A watch event needs its progress."]},
        {"value": ["Only watch events carry a value."]},
        {"value": ["Ensure this value is less than or equal to 100."]},
        {"course_id": ["A valid integer is required."]},
        {"non_field_errors": ["Invalid data. Expected a dictionary, but got int."]},
    ]
    assert results[5]["event_id"] == bad_value["event_id"]
    assert results[0]["event_id"] is None
    assert FeedbackEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"events": []}, "Ensure this field has at least 1 elements."),
        ({"events": {"a": 1}}, 'Expected a list of items but got type "dict".'),
        ({}, "This field is required."),
    ],
)
def test_a_wrong_envelope_fails_the_request(api, db, body, message):
    response = api.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"events": [message]}


def test_an_oversized_batch_is_refused_whole(api, member, world):
    course = world["courses"]["Learning Python"]
    response = post(api, [event("impression", course) for _ in range(501)])
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "events": ["Ensure this field has no more than 500 elements."]
    }
    assert not FeedbackEvent.objects.exists()


def test_a_full_batch_of_500_is_accepted(api, member, world):
    course = world["courses"]["Learning Python"]
    response = post(api, [event("impression", course) for _ in range(500)])
    assert response.json()["accepted"] == 500
    assert FeedbackEvent.objects.filter(member=member).count() == 500


def test_a_member_cannot_reuse_or_see_another_members_events(api, member, other_member, world):
    course = world["courses"]["Learning Python"]
    theirs = event("bookmark", course)
    assert statuses(post(token_client(other_member.user), [theirs])) == [("accepted", None)]
    response = post(api, [theirs])
    assert statuses(response) == [("rejected", "event_id_taken")]
    assert not Bookmark.objects.filter(member=member).exists()
    assert Bookmark.objects.filter(member=other_member).count() == 1


def test_a_member_cannot_undo_another_members_dismissal(api, member, other_member, world):
    course = world["courses"]["Learning Python"]
    course_dismiss(member=other_member, course=course)
    response = post(api, [event("undo_dismiss", course)])
    assert statuses(response) == [("rejected", "not_dismissed")]
    assert Dismissal.objects.filter(member=other_member, course=course).exists()


def test_a_member_cannot_click_on_another_members_page_view(analyst_api, api, world):
    page = analyst_api.get("/api/v1/recommendations/").json()
    item = page["carousels"][0]["courses"][0]
    click = {
        "event_id": str(uuid.uuid4()),
        "type": "click",
        "course_id": item["course"]["id"],
        "page_view_id": page["page_view_id"],
    }
    assert statuses(post(api, [click])) == [("rejected", "no_impression")]


def test_events_need_authentication(anon, db):
    assert anon.post(URL, {"events": []}, format="json").status_code == 401


def test_events_are_throttled_per_member(api, member, world, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"events": "2/min"})
    course = world["courses"]["Learning Python"]
    codes = [post(api, [event("impression", course)]).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert FeedbackEvent.objects.count() == 2


def test_the_default_event_rows_rate_fits_a_full_batch(settings):
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["event_rows"]
    assert rate == "1000/min"
    assert int(rate.split("/")[0]) >= 500


def _rows_rate(settings, rate: str) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "event_rows": rate,
        },
    }


def test_events_are_counted_by_rows_per_member_and_a_batch_that_does_not_fit_is_refused_whole(
    api, member, other_member, world, settings
):
    _rows_rate(settings, "10/min")
    course = world["courses"]["Learning Python"]
    start = 1_000_000.0

    def send(client, size: int, at: float):
        with mock.patch.object(RowRateThrottle, "now", return_value=at):
            return post(client, [event("impression", course) for _ in range(size)])

    assert send(api, 6, start).status_code == 200
    refused = send(api, 5, start + 10)  # 6 + 5 > 10
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    # The oldest 6 rows leave the window 60 s after they came.
    assert refused["Retry-After"] == "50"
    assert FeedbackEvent.objects.filter(member=member).count() == 6
    assert send(api, 4, start + 20).status_code == 200  # exactly 10
    assert send(api, 1, start + 30).status_code == 429
    # Another member has rows of their own.
    assert send(token_client(other_member.user), 10, start + 30).status_code == 200
    # Once the first batch has left the window, 6 rows fit again, 7 do not.
    assert send(api, 7, start + 61).status_code == 429
    assert send(api, 6, start + 61).status_code == 200
    assert FeedbackEvent.objects.filter(member=member).count() == 16


def test_a_batch_larger_than_the_rows_rate_is_refused_with_the_whole_period(api, world, settings):
    _rows_rate(settings, "3/min")
    course = world["courses"]["Learning Python"]
    refused = post(api, [event("impression", course) for _ in range(4)])
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert not FeedbackEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's test database serialises connections; the race needs PostgreSQL",
)
def test_two_identical_batches_racing_are_stored_once(member, world):
    course = world["courses"]["Learning Python"]
    EnrolmentFactory(member=member, course=course)
    batch = [event("watch", course, value=10 * (i + 1)) for i in range(5)]
    batch += [event("bookmark", course), event("dismiss", course)]
    token = token_client(member.user)._credentials
    barrier = threading.Barrier(2)
    responses = []

    def send() -> None:
        client = APIClient()
        client.credentials(**token)
        barrier.wait()
        try:
            responses.append(post(client, batch))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted((r.json()["accepted"], r.json()["duplicate"]) for r in responses) == [
        (0, 7),
        (7, 0),
    ]
    assert FeedbackEvent.objects.filter(member=member).count() == 7
    assert Enrolment.objects.get(member=member, course=course).progress_percent == 50
    assert Dismissal.objects.filter(member=member).count() == 1


def test_api_impressions_and_clicks_count_once_for_the_homepage(analyst_api, analyst, world):
    page = analyst_api.get("/api/v1/recommendations/").json()
    carousel = page["carousels"][0]
    shown_id = carousel["courses"][0]["course"]["id"]
    unseen = world["courses"]["Illustrator Basics"]
    batch = [
        {
            "event_id": str(uuid.uuid4()),
            "type": "click",
            "course_id": shown_id,
            "page_view_id": page["page_view_id"],
        },
        # An impression the client saw in a page the server did not log (e.g. a cached list).
        event("impression", unseen),
    ]
    assert statuses(post(analyst_api, batch)) == [("accepted", None), ("accepted", None)]
    assert statuses(post(analyst_api, batch)) == [("duplicate", None), ("duplicate", None)]

    counts = feedback_counts_read()
    reasons = {reason: (shown, clicked) for _, reason, shown, clicked in counts["reasons"]}
    shown_cards = sum(
        len(c["courses"]) for c in page["carousels"] if c["reason"] == carousel["reason"]
    )
    assert reasons[carousel["reason"]] == (shown_cards, 1)
    assert reasons[""] == (1, 0)
    feedback_counts_rebuild(member_ids=[analyst.pk])
    assert feedback_counts_read() == counts
