"""Ingestion of client-reported events (the API's `POST /api/v1/events/`).

Each event carries a client-generated UUID. Ingestion is idempotent: an event id is stored at
most once, as the `event_id` of one `FeedbackEvent`, and sending it again (a retried request,
the same batch posted twice, two identical batches racing) answers `duplicate` without applying
the event's effect again. Every accepted event is stored as a `FeedbackEvent` of its kind, and
its effect goes through the owning app's services (enrolment, watch progress, completion,
bookmarks, dismissals), so the API and the site change the same rows by the same rules.

Batches of one member are serialised by locking the member's row for the batch's transaction:
two identical batches racing cannot both see an event id as new, and two batches touching the
same enrolment cannot deadlock. Each event runs in its own savepoint, so a refused event leaves
no partial effect and does not undo the events before it.
"""

import datetime as dt
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Course
from catalog.selectors import courses_in_bulk
from members import services as member_services
from members.models import Member
from members.selectors import course_activity_for_member
from recommendations.feedback.services import (
    FeedbackDelta,
    course_dismiss,
    dismissal_undo,
    feedback_counts_add,
    shown_course_of_impression,
)
from recommendations.models import Dismissal, FeedbackEvent
from recommendations.serving.pending import impression_of_page_view, page_view_written_wait

Kind = FeedbackEvent.Kind
MAX_BATCH = 500

ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"


@dataclass(frozen=True)
class EventInput:
    """One parsed event. `value` is the watch progress in percent (watch events only)."""

    event_id: uuid.UUID
    kind: str
    course_id: int
    page_view_id: uuid.UUID | None = None
    value: float | None = None


@dataclass(frozen=True)
class EventResult:
    event_id: uuid.UUID | None
    status: str  # accepted, duplicate or rejected
    reason: str = ""  # a code, for rejected events
    message: str = ""


class EventRejected(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def events_ingest(
    *, member: Member, events: Sequence[EventInput], now: dt.datetime | None = None
) -> list[EventResult]:
    """Store and apply `events` in order; one result per event, in the same order."""
    if len(events) > MAX_BATCH:
        raise ValueError(f"A batch holds at most {MAX_BATCH} events.")
    now = now or timezone.now()
    with transaction.atomic():
        # Before any lock or write: the pages' impressions may still be committing, and their
        # transaction needs the member's rows this one is about to lock (see serving/pending.py).
        for page_view_id in sorted({e.page_view_id for e in events if e.page_view_id}):
            page_view_written_wait(page_view_id)
        # The lock that serialises this member's batches (see the module docstring). NO KEY
        # UPDATE: it leaves the member row to other transactions' foreign-key checks.
        Member.objects.select_for_update(no_key=True).filter(pk=member.pk).values_list("pk").get()
        owners = dict(
            FeedbackEvent.objects.filter(
                event_id__in={event.event_id for event in events}
            ).values_list("event_id", "member_id")
        )
        courses = {
            course.pk: course
            for course in courses_in_bulk(course_ids={event.course_id for event in events})
        }
        results = []
        for event in events:
            result = _ingest_one(
                member=member,
                event=event,
                course=courses.get(event.course_id),
                owners=owners,
                now=now,
            )
            if result.status == ACCEPTED:
                owners[event.event_id] = member.pk
            results.append(result)
    return results


def _known(event: EventInput, owner: int, member: Member) -> EventResult:
    if owner == member.pk:
        return EventResult(event.event_id, DUPLICATE)
    # Another member's event: saying "duplicate" would let this member think it was recorded.
    return EventResult(
        event.event_id,
        REJECTED,
        "event_id_taken",
        "This event id is already used by another event; generate a new UUID.",
    )


def _ingest_one(
    *,
    member: Member,
    event: EventInput,
    course: Course | None,
    owners: dict[uuid.UUID, int],
    now: dt.datetime,
) -> EventResult:
    if event.event_id in owners:
        return _known(event, owners[event.event_id], member)
    if course is None:
        return EventResult(
            event.event_id, REJECTED, "unknown_course", "No published course has this id."
        )
    try:
        with transaction.atomic():
            _APPLY[event.kind](member=member, event=event, course=course, now=now)
    except EventRejected as refused:
        return EventResult(event.event_id, REJECTED, refused.reason, refused.message)
    except IntegrityError:
        # Same-member batches are serialised, so only another member's batch can have stored
        # this id since the look-up above.
        owner = (
            FeedbackEvent.objects.filter(event_id=event.event_id)
            .values_list("member_id", flat=True)
            .first()
        )
        if owner is None:
            raise
        return _known(event, owner, member)
    return EventResult(event.event_id, ACCEPTED)


# Effects, one per kind --------------------------------------------------------------------------


def _impression_of(
    *, member: Member, course: Course, page_view_id: uuid.UUID | None
) -> FeedbackEvent | None:
    # events_ingest waited for the batch's pages before locking the member; waiting here, under
    # that lock and after the batch's first writes, could deadlock with a slow page's write.
    return impression_of_page_view(
        member=member, page_view_id=page_view_id, course_id=course.pk, wait=False
    )


def _store(
    *,
    member: Member,
    event: EventInput,
    course: Course,
    now: dt.datetime,
    impression: FeedbackEvent | None = None,
) -> FeedbackEvent:
    """The event's row. Context (reason, positions) comes from the impression the server logged,
    never from the client, so a client cannot credit a reason that showed nothing. Activity
    events (enrol, watch, finish, bookmarks) keep their page_view_id but credit no reason: the
    click that led to the course does."""
    return FeedbackEvent.objects.create(
        event_id=event.event_id,
        kind=event.kind,
        member=member,
        course=course,
        page_view_id=event.page_view_id,
        reason=impression.reason if impression else "",
        reason_key=impression.reason_key if impression else "",
        strategy=impression.strategy if impression else "",
        carousel_position=impression.carousel_position if impression else None,
        position=impression.position if impression else None,
        variant_id=impression.variant_id if impression else None,
        value=event.value,
        created_at=now,
    )


def _apply_impression(
    *, member: Member, event: EventInput, course: Course, now: dt.datetime
) -> None:
    if _impression_of(member=member, course=course, page_view_id=event.page_view_id):
        raise EventRejected(
            "already_logged",
            "The server logged this impression when it served that page view.",
        )
    _store(member=member, event=event, course=course, now=now)
    feedback_counts_add(
        deltas=[FeedbackDelta(member.pk, course.pk, "", timezone.localdate(now), impressions=1)]
    )


def _apply_click(*, member: Member, event: EventInput, course: Course, now: dt.datetime) -> None:
    impression = _impression_of(member=member, course=course, page_view_id=event.page_view_id)
    if impression is None:
        raise EventRejected(
            "no_impression",
            "A click needs the page_view_id of a page that showed this course to this member.",
        )
    _store(member=member, event=event, course=course, now=now, impression=impression)
    feedback_counts_add(
        deltas=[
            FeedbackDelta(
                member.pk, course.pk, impression.reason, timezone.localdate(now), clicks=1
            )
        ]
    )


def _apply_enrol(*, member: Member, event: EventInput, course: Course, now: dt.datetime) -> None:
    member_services.enrolment_start(member=member, course=course, now=now)
    _store(member=member, event=event, course=course, now=now)


def _apply_watch(*, member: Member, event: EventInput, course: Course, now: dt.datetime) -> None:
    """`value` is the furthest point reached, in percent: progress only ever moves forward, so
    a late or replayed report of an earlier point changes nothing."""
    activity = course_activity_for_member(member=member, course=course)
    current = activity.enrolment.progress_percent if activity.enrolment else 0
    target = min(100, math.floor(event.value or 0))
    if target > current:
        # enrolment_watch advances by round(seconds / duration) points; this many seconds
        # advances by exactly target - current for any course of two minutes or more.
        seconds = max(1, round((target - current) * course.duration_minutes * 60 / 100))
        member_services.enrolment_watch(member=member, course=course, seconds=seconds, now=now)
    _store(member=member, event=event, course=course, now=now)


def _apply_finish(*, member: Member, event: EventInput, course: Course, now: dt.datetime) -> None:
    member_services.enrolment_finish(member=member, course=course, now=now)
    _store(member=member, event=event, course=course, now=now)


def _bookmark_set(*, member: Member, course: Course, saved: bool, now: dt.datetime) -> None:
    # Toggling is not idempotent; setting is, so a replayed "bookmark" never unsaves.
    if course_activity_for_member(member=member, course=course).bookmarked != saved:
        member_services.bookmark_toggle(member=member, course=course, now=now)


def _apply_bookmark(*, member: Member, event: EventInput, course: Course, now: dt.datetime) -> None:
    _bookmark_set(member=member, course=course, saved=True, now=now)
    _store(member=member, event=event, course=course, now=now)


def _apply_unbookmark(
    *, member: Member, event: EventInput, course: Course, now: dt.datetime
) -> None:
    _bookmark_set(member=member, course=course, saved=False, now=now)
    _store(member=member, event=event, course=course, now=now)


def _apply_dismiss(*, member: Member, event: EventInput, course: Course, now: dt.datetime) -> None:
    impression = _impression_of(member=member, course=course, page_view_id=event.page_view_id)
    if Dismissal.objects.filter(member=member, course=course).exists():
        # Already out of the lists: nothing to change, but the event is still recorded.
        _store(member=member, event=event, course=course, now=now, impression=impression)
        return
    course_dismiss(
        member=member,
        course=course,
        context=shown_course_of_impression(impression=impression),
        page_view_id=event.page_view_id,
        now=now,
        event_id=event.event_id,
    )


def _apply_undo_dismiss(
    *, member: Member, event: EventInput, course: Course, now: dt.datetime
) -> None:
    dismissal_id = (
        Dismissal.objects.filter(member=member, course=course).values_list("pk", flat=True).first()
    )
    if dismissal_id is None:
        raise EventRejected("not_dismissed", "This member has not dismissed this course.")
    impression = _impression_of(member=member, course=course, page_view_id=event.page_view_id)
    dismissal_undo(
        member=member,
        dismissal_id=dismissal_id,
        context=shown_course_of_impression(impression=impression),
        page_view_id=event.page_view_id,
        now=now,
        event_id=event.event_id,
    )


_APPLY = {
    Kind.IMPRESSION: _apply_impression,
    Kind.CLICK: _apply_click,
    Kind.ENROL: _apply_enrol,
    Kind.WATCH: _apply_watch,
    Kind.FINISH: _apply_finish,
    Kind.BOOKMARK: _apply_bookmark,
    Kind.UNBOOKMARK: _apply_unbookmark,
    Kind.DISMISS: _apply_dismiss,
    Kind.UNDO_DISMISS: _apply_undo_dismiss,
}

EVENT_KINDS = [str(kind) for kind in _APPLY]
