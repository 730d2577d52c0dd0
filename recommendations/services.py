"""Writes of the recommendations app: homepage feedback (impressions, clicks, dismissals)."""

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalog.models import Course
from members.models import Member
from members.signals import member_activity_announce
from recommendations.models import Dismissal, FeedbackEvent


@dataclass(frozen=True)
class ShownCourse:
    """One card on a rendered page: enough to log its impression and attribute its click."""

    course_id: int
    reason: str
    reason_key: str
    strategy: str
    carousel_position: int
    position: int
    # The experiment variant that served the page (None outside experiments).
    variant_id: int | None = None


def impressions_log(
    *,
    member: Member,
    page_view_id: uuid.UUID,
    shown: Sequence[ShownCourse],
    now: dt.datetime | None = None,
) -> int:
    """Record every card of one page view in a single insert; returns how many."""
    if not shown:
        return 0
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        _impressions_insert_postgresql(
            member_id=member.pk, page_view_id=page_view_id, shown=shown, now=now
        )
        return len(shown)
    FeedbackEvent.objects.bulk_create(
        [
            FeedbackEvent(
                kind=FeedbackEvent.Kind.IMPRESSION,
                member=member,
                course_id=card.course_id,
                page_view_id=page_view_id,
                reason=card.reason,
                reason_key=card.reason_key,
                strategy=card.strategy,
                carousel_position=card.carousel_position,
                position=card.position,
                variant_id=card.variant_id,
                created_at=now,
            )
            for card in shown
        ]
    )
    return len(shown)


_IMPRESSIONS_INSERT = """
    INSERT INTO recommendations_feedbackevent (
        event_id, kind, member_id, course_id, page_view_id, reason, reason_key, strategy,
        carousel_position, position, variant_id, created_at
    )
    SELECT gen_random_uuid(), %s, %s, card.course_id, %s, card.reason, card.reason_key,
        card.strategy, card.carousel_position, card.position, card.variant_id, %s
    FROM unnest(
        %s::bigint[], %s::text[], %s::text[], %s::text[], %s::smallint[], %s::smallint[],
        %s::bigint[]
    ) AS card(course_id, reason, reason_key, strategy, carousel_position, position, variant_id)
"""


def _impressions_insert_postgresql(
    *, member_id: int, page_view_id: uuid.UUID, shown: Sequence[ShownCourse], now: dt.datetime
) -> None:
    """The page's impressions as one array per column, unnested by PostgreSQL.

    Every page view writes close to a hundred rows; `bulk_create` spends three times as long
    building model instances and a thousand-parameter statement as the database spends storing
    them. Event ids come from `gen_random_uuid()` (PostgreSQL 13+), like the model's default.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _IMPRESSIONS_INSERT,
            [
                FeedbackEvent.Kind.IMPRESSION.value,
                member_id,
                page_view_id,
                now,
                [card.course_id for card in shown],
                [card.reason for card in shown],
                [card.reason_key for card in shown],
                [card.strategy for card in shown],
                [card.carousel_position for card in shown],
                [card.position for card in shown],
                [card.variant_id for card in shown],
            ],
        )


def click_log(
    *, member: Member, page_view_id: uuid.UUID, course: Course, now: dt.datetime | None = None
) -> FeedbackEvent | None:
    """Record a click on a card, attributed to the impression it came from.

    A click that matches no impression of this member on that page (a forged or stale link) is
    not recorded: it would credit a reason that never showed the course.
    """
    impression = (
        FeedbackEvent.objects.filter(
            member=member,
            page_view_id=page_view_id,
            course=course,
            kind=FeedbackEvent.Kind.IMPRESSION,
        )
        .order_by("carousel_position", "position")
        .first()
    )
    if impression is None:
        return None
    return FeedbackEvent.objects.create(
        kind=FeedbackEvent.Kind.CLICK,
        member=member,
        course=course,
        page_view_id=page_view_id,
        reason=impression.reason,
        reason_key=impression.reason_key,
        strategy=impression.strategy,
        carousel_position=impression.carousel_position,
        position=impression.position,
        variant_id=impression.variant_id,
        created_at=now or timezone.now(),
    )


def _context_event(
    *,
    kind: str,
    member: Member,
    course: Course,
    context: ShownCourse | None,
    page_view_id: uuid.UUID | None,
    now: dt.datetime,
    event_id: uuid.UUID | None,
) -> FeedbackEvent:
    return FeedbackEvent.objects.create(
        event_id=event_id or uuid.uuid4(),
        kind=kind,
        member=member,
        course=course,
        page_view_id=page_view_id,
        reason=context.reason if context else "",
        reason_key=context.reason_key if context else "",
        strategy=context.strategy if context else "",
        carousel_position=context.carousel_position if context else None,
        position=context.position if context else None,
        variant_id=context.variant_id if context else None,
        created_at=now,
    )


def course_dismiss(
    *,
    member: Member,
    course: Course,
    context: ShownCourse | None = None,
    page_view_id: uuid.UUID | None = None,
    now: dt.datetime | None = None,
    event_id: uuid.UUID | None = None,
) -> Dismissal:
    """'Not interested': idempotent; the course leaves every list of this member until undone."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                dismissal = Dismissal.objects.create(member=member, course=course)
        except IntegrityError:
            return Dismissal.objects.get(member=member, course=course)
        member_activity_announce(member_id=member.pk)
        _context_event(
            kind=FeedbackEvent.Kind.DISMISS,
            member=member,
            course=course,
            context=context,
            page_view_id=page_view_id,
            now=now,
            event_id=event_id,
        )
    return dismissal


def dismissal_undo(
    *,
    member: Member,
    dismissal_id: int,
    context: ShownCourse | None = None,
    page_view_id: uuid.UUID | None = None,
    now: dt.datetime | None = None,
    event_id: uuid.UUID | None = None,
) -> Course:
    """Bring a dismissed course back. Only the member who dismissed it can undo it.

    Raises Dismissal.DoesNotExist for an unknown id or another member's dismissal, so callers
    cannot tell the two apart (no probing of other members' dismissals).
    """
    now = now or timezone.now()
    with transaction.atomic():
        dismissal = (
            Dismissal.objects.select_for_update()
            .select_related("course")
            .get(pk=dismissal_id, member=member)
        )
        course = dismissal.course
        dismissal.delete()
        member_activity_announce(member_id=member.pk)
        _context_event(
            kind=FeedbackEvent.Kind.UNDO_DISMISS,
            member=member,
            course=course,
            context=context,
            page_view_id=page_view_id,
            now=now,
            event_id=event_id,
        )
    return course
