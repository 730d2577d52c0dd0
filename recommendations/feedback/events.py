"""Ingestion of client-reported events (the API's `POST /api/v1/events/`).

Each event carries a client-generated UUID. Ingestion is idempotent: an event id is stored at
most once, as the `event_id` of one `FeedbackEvent`, and sending it again (a retried request,
the same batch posted twice, two identical batches racing) answers `duplicate` without applying
the event's effect again. Every accepted event is stored as a `FeedbackEvent` of its kind, and
its effect goes through the owning app's services (enrolment, watch progress, completion,
bookmarks, dismissals), so the API and the site change the same rows by the same rules.

Batches of one member are serialised by locking the member's row for the batch's transaction:
two identical batches racing cannot both see an event id as new, and two batches touching the
same enrolment cannot deadlock. Events are applied in order; every refusal is decided before
the event writes anything, so a refused event leaves no partial effect and does not undo the
events before it. The accepted events' rows are stored at the end in one multi-row INSERT, and
their click and impression counts in one upsert each. The only way that INSERT can meet an
event id it did not see at the start is another member's batch storing the same id meanwhile
(the unique constraint on `event_id` then refuses it, after that batch commits): the whole
batch is rolled back and applied again, and this time answers that event `event_id_taken`.
"""

import datetime as dt
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalog.models import Course
from catalog.selectors import courses_published_by_id
from core.prepared_statements import prepared_cursor
from members import services as member_services
from members.models import Member
from recommendations.data import ShownCourse
from recommendations.feedback.services import (
    COUNTED_CHANNELS,
    FeedbackDelta,
    course_dismiss,
    dismissal_undo,
    feedback_counts_add,
    feedback_event_fields,
    member_counts_lock,
)
from recommendations.models import Dismissal, FeedbackEvent
from recommendations.serving.pending import SlotRefused, page_view_card, page_view_written_wait

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
    # The card's slot on that page view (the recommendations API's `slot`): attributes a click,
    # dismissal or undo to exactly that card; without it, the course's first slot.
    slot: int | None = None
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


@dataclass
class _Writes:
    """What a batch's accepted events store, written together at its end."""

    rows: list[FeedbackEvent] = field(default_factory=list)
    counts: list[FeedbackDelta] = field(default_factory=list)


class _EventIdRaced(Exception):
    """Another member's batch stored one of this batch's event ids since it looked them up."""


# Each attempt after the first has seen every id a racing batch committed before it: a second
# race needs yet another member reusing one of this batch's ids in that instant.
_ATTEMPTS = 3


def events_ingest(
    *, member: Member, events: Sequence[EventInput], now: dt.datetime | None = None
) -> list[EventResult]:
    """Store and apply `events` in order; one result per event, in the same order."""
    if len(events) > MAX_BATCH:
        raise ValueError(f"A batch holds at most {MAX_BATCH} events.")
    now = now or timezone.now()
    for attempt in range(_ATTEMPTS):
        try:
            return _batch_ingest(member=member, events=events, now=now)
        except _EventIdRaced:
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _batch_ingest(
    *, member: Member, events: Sequence[EventInput], now: dt.datetime
) -> list[EventResult]:
    with transaction.atomic():
        # Before any lock or write: the pages' views may still be committing, and their
        # transaction needs the member's rows this one is about to lock (see serving/pending.py).
        for page_view_id in sorted({e.page_view_id for e in events if e.page_view_id}):
            page_view_written_wait(page_view_id)
        # The lock that serialises this member's batches (see the module docstring), and their
        # count writes with the member's other count writers.
        member_counts_lock(member_id=member.pk)
        owners = _event_owners(event_ids={event.event_id for event in events})
        courses = courses_published_by_id(course_ids={event.course_id for event in events})
        writes = _Writes()
        results = []
        for event in events:
            result = _ingest_one(
                member=member,
                event=event,
                course=courses.get(event.course_id),
                owners=owners,
                writes=writes,
                now=now,
            )
            if result.status == ACCEPTED:
                owners[event.event_id] = member.pk
            results.append(result)
        if writes.rows:
            try:
                FeedbackEvent.objects.bulk_create(writes.rows)
            except IntegrityError as error:
                # Rolls the whole batch back (the exception leaves the outer block), so no
                # savepoint is needed to keep the transaction usable after the error.
                raise _EventIdRaced from error
        feedback_counts_add(deltas=writes.counts)
    return results


def _event_owners(*, event_ids: set[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The member of each of these event ids already stored."""
    if connection.vendor == "postgresql":
        # Prepared: the ORM's query cost more to build and plan than to run.
        with prepared_cursor() as cursor:
            cursor.execute(_EVENT_OWNERS_SQL, [list(event_ids)])
            return dict(cursor.fetchall())
    return dict(
        FeedbackEvent.objects.filter(event_id__in=event_ids).values_list("event_id", "member_id")
    )


_EVENT_OWNERS_SQL = (
    f"SELECT event_id, member_id FROM {FeedbackEvent._meta.db_table} "
    "WHERE event_id = ANY(%s::uuid[])"
)


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
    writes: _Writes,
    now: dt.datetime,
) -> EventResult:
    if event.event_id in owners:
        return _known(event, owners[event.event_id], member)
    if course is None:
        return EventResult(
            event.event_id, REJECTED, "unknown_course", "No published course has this id."
        )
    try:
        _APPLY[event.kind](member=member, event=event, course=course, writes=writes, now=now)
    except EventRejected as refused:
        return EventResult(event.event_id, REJECTED, refused.reason, refused.message)
    return EventResult(event.event_id, ACCEPTED)


# Effects, one per kind --------------------------------------------------------------------------


def _card_of(*, member: Member, course: Course, event: EventInput) -> ShownCourse | None:
    """The card the event acts on, from its page view; refused when it names a slot that page
    view cannot give it."""
    # events_ingest waited for the batch's pages before locking the member; waiting here, under
    # that lock and after the batch's first writes, could deadlock with a slow page's write.
    try:
        return page_view_card(
            member=member,
            page_view_id=event.page_view_id,
            course_id=course.pk,
            slot=event.slot,
            wait=False,
        )
    except SlotRefused as refused:
        raise EventRejected(refused.reason, refused.message) from refused


def _store(
    *,
    member: Member,
    event: EventInput,
    course: Course,
    now: dt.datetime,
    writes: _Writes,
    card: ShownCourse | None = None,
) -> None:
    """The event's row, stored with the batch's. Context (reason, slot) comes from the page
    view the server logged, never from the client, so a client cannot credit a reason that
    showed nothing. Activity events (enrol, watch, finish, bookmarks) keep their page_view_id
    but credit no reason: the click that led to the course does."""
    writes.rows.append(
        FeedbackEvent(
            **feedback_event_fields(
                kind=event.kind,
                member=member,
                course=course,
                page_view_id=event.page_view_id,
                context=card,
                now=now,
                event_id=event.event_id,
                value=event.value,
            )
        )
    )


def _apply_impression(
    *, member: Member, event: EventInput, course: Course, writes: _Writes, now: dt.datetime
) -> None:
    if _card_of(member=member, course=course, event=event):
        raise EventRejected(
            "already_logged",
            "The server logged this impression when it served that page view.",
        )
    _store(member=member, event=event, course=course, now=now, writes=writes)
    writes.counts.append(
        FeedbackDelta(member.pk, course.pk, "", timezone.localdate(now), impressions=1)
    )


def _apply_click(
    *, member: Member, event: EventInput, course: Course, writes: _Writes, now: dt.datetime
) -> None:
    card = _card_of(member=member, course=course, event=event)
    if card is None:
        raise EventRejected(
            "no_impression",
            "A click needs the page_view_id of a page that showed this course to this member.",
        )
    _store(member=member, event=event, course=course, now=now, writes=writes, card=card)
    if card.channel in COUNTED_CHANNELS:
        writes.counts.append(
            FeedbackDelta(member.pk, course.pk, card.reason, timezone.localdate(now), clicks=1)
        )


def _apply_enrol(
    *, member: Member, event: EventInput, course: Course, writes: _Writes, now: dt.datetime
) -> None:
    member_services.enrolment_start(member=member, course=course, now=now)
    _store(member=member, event=event, course=course, now=now, writes=writes)


def _apply_watch(
    *, member: Member, event: EventInput, course: Course, writes: _Writes, now: dt.datetime
) -> None:
    """`value` is the furthest point reached, in percent: progress only ever moves forward, so
    a late or replayed report of an earlier point changes nothing."""
    member_services.enrolment_progress_reach(
        member=member, course=course, percent=math.floor(event.value or 0), now=now
    )
    _store(member=member, event=event, course=course, now=now, writes=writes)


def _apply_finish(
    *, member: Member, event: EventInput, course: Course, writes: _Writes, now: dt.datetime
) -> None:
    member_services.enrolment_finish(member=member, course=course, now=now)
    _store(member=member, event=event, course=course, now=now, writes=writes)


def _apply_bookmark(
    *, member: Member, event: EventInput, course: Course, writes: _Writes, now: dt.datetime
) -> None:
    # Setting, not toggling: a replayed "bookmark" never unsaves.
    member_services.bookmark_set(member=member, course=course, saved=True, now=now)
    _store(member=member, event=event, course=course, now=now, writes=writes)


def _apply_unbookmark(
    *, member: Member, event: EventInput, course: Course, writes: _Writes, now: dt.datetime
) -> None:
    member_services.bookmark_set(member=member, course=course, saved=False, now=now)
    _store(member=member, event=event, course=course, now=now, writes=writes)


def _apply_dismiss(
    *, member: Member, event: EventInput, course: Course, writes: _Writes, now: dt.datetime
) -> None:
    card = _card_of(member=member, course=course, event=event)
    if Dismissal.objects.filter(member=member, course=course).exists():
        # Already out of the lists: nothing to change, but the event is still recorded.
        _store(member=member, event=event, course=course, now=now, writes=writes, card=card)
        return
    course_dismiss(
        member=member,
        course=course,
        context=card,
        page_view_id=event.page_view_id,
        now=now,
        event_id=event.event_id,
        event_rows=writes.rows,
    )


def _apply_undo_dismiss(
    *, member: Member, event: EventInput, course: Course, writes: _Writes, now: dt.datetime
) -> None:
    dismissal_id = (
        Dismissal.objects.filter(member=member, course=course).values_list("pk", flat=True).first()
    )
    if dismissal_id is None:
        raise EventRejected("not_dismissed", "This member has not dismissed this course.")
    card = _card_of(member=member, course=course, event=event)
    dismissal_undo(
        member=member,
        dismissal_id=dismissal_id,
        context=card,
        page_view_id=event.page_view_id,
        now=now,
        event_id=event.event_id,
        event_rows=writes.rows,
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
