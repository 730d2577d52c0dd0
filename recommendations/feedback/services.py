"""Writes of the recommendations app: homepage feedback (impressions, clicks, dismissals)."""

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from catalog.models import Course
from core.prepared_statements import prepared_cursor
from members.models import Member
from members.signals import member_activity_announce
from recommendations.data import ShownCourse
from recommendations.models import (
    CourseFeedbackDay,
    Dismissal,
    Experiment,
    FeedbackEvent,
    ReasonFeedback,
)
from recommendations.serving.pending import impression_of_page_view


def shown_course_of_impression(*, impression: FeedbackEvent | None) -> ShownCourse | None:
    """The card an impression logged (for the events that follow it: click, dismiss, undo);
    None without one, or for one that carries no position (an imported impression)."""
    if impression is None or impression.carousel_position is None or impression.position is None:
        return None
    return ShownCourse(
        course_id=impression.course_id,
        reason=impression.reason,
        reason_key=impression.reason_key,
        strategy=impression.strategy,
        carousel_position=impression.carousel_position,
        position=impression.position,
        variant_id=impression.variant_id,
    )


def impressions_log(
    *,
    member: Member,
    page_view_id: uuid.UUID,
    shown: Sequence[ShownCourse],
    now: dt.datetime | None = None,
) -> int:
    """Record every card of one page view, with the counts they add to; returns how many.

    Cards of courses deleted since the page was composed are left out, and nothing is stored
    for a member deleted meanwhile: the tables have no foreign-key constraints to refuse them
    (see `FeedbackEvent.member`).
    """
    if not shown:
        return 0
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        # One statement is its own transaction: no BEGIN, SET or COMMIT round trips.
        return _impressions_insert_postgresql(
            member_id=member.pk, page_view_id=page_view_id, shown=shown, now=now
        )
    with transaction.atomic():
        existing = set(
            Course.objects.filter(
                Exists(Member.objects.filter(pk=member.pk)),
                pk__in={card.course_id for card in shown},
            ).values_list("pk", flat=True)
        )
        kept = [card for card in shown if card.course_id in existing]
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
                for card in kept
            ]
        )
        day = timezone.localdate(now)
        feedback_counts_add(
            deltas=[
                FeedbackDelta(member.pk, card.course_id, card.reason, day, impressions=1)
                for card in kept
            ]
        )
    return len(kept)


# One statement: the events, then the per-day course counts and per-reason counts they add to
# (`feedback_counts_add`'s upserts, fed by what was inserted). Each of the three would
# otherwise cost a round trip and, for the counts, arrays built again in Python.
#
# Impressions are telemetry written on every page view, so the transaction does not wait for
# its WAL flush (`commit_mode`, local to the transaction: the statement's own one when it runs
# alone). A server crash can lose the last moments of impressions, whole pages at a time (the
# statement stays atomic), never a click: a click's commit flushes the WAL written before it,
# its page's impressions included.
_IMPRESSIONS_INSERT = f"""
WITH card AS (
    SELECT card.*
    FROM json_to_recordset(%(cards)s::json) AS card(
        course_id bigint, reason text, reason_key text, strategy text,
        carousel_position smallint, position smallint, variant_id bigint
    )
    JOIN {Course._meta.db_table} course ON course.id = card.course_id
    WHERE EXISTS (SELECT FROM {Member._meta.db_table} WHERE id = %(member)s)
), inserted AS (
    INSERT INTO {FeedbackEvent._meta.db_table} (
        event_id, kind, member_id, course_id, page_view_id, reason, reason_key, strategy,
        carousel_position, position, variant_id, created_at
    )
    SELECT gen_random_uuid(), %(kind)s, %(member)s, course_id, %(page_view)s, reason,
        reason_key, strategy, carousel_position, position, variant_id, %(now)s
    FROM card
    RETURNING course_id, reason
), per_course AS (
    INSERT INTO {CourseFeedbackDay._meta.db_table} AS counts
        (member_id, course_id, day, impressions, clicks)
    SELECT %(member)s, course_id, %(day)s, count(*), 0 FROM inserted GROUP BY course_id
    ON CONFLICT (member_id, course_id, day)
        DO UPDATE SET impressions = counts.impressions + excluded.impressions
), per_reason AS (
    INSERT INTO {ReasonFeedback._meta.db_table} AS counts
        (member_id, reason, impressions, clicks)
    SELECT %(member)s, reason, count(*), 0 FROM inserted GROUP BY reason
    ON CONFLICT (member_id, reason)
        DO UPDATE SET impressions = counts.impressions + excluded.impressions
), commit_mode AS (
    SELECT set_config('synchronous_commit', 'off', true)
)
SELECT count(*) FROM inserted WHERE EXISTS (SELECT FROM commit_mode)
"""


def _impressions_insert_postgresql(
    *, member_id: int, page_view_id: uuid.UUID, shown: Sequence[ShownCourse], now: dt.datetime
) -> int:
    """The page's cards as one JSON document (ShownCourse's fields are the columns), turned
    into rows by PostgreSQL.

    Every page view writes close to a hundred rows; `bulk_create` spends three times as long
    building model instances and a thousand-parameter statement as the database spends storing
    them, and psycopg's array dumpers (one array per column) take 0.5 ms in Python where orjson
    writes the document in 0.03 ms. Event ids come from `gen_random_uuid()` (PostgreSQL 13+),
    like the model's default.
    """
    with prepared_cursor() as cursor:
        cursor.execute(
            _IMPRESSIONS_INSERT,
            {
                "kind": FeedbackEvent.Kind.IMPRESSION.value,
                "member": member_id,
                "page_view": page_view_id,
                "now": now,
                "day": timezone.localdate(now),
                "cards": orjson.dumps(list(shown)).decode(),
            },
        )
        (stored,) = cursor.fetchone()
    return stored


@dataclass(frozen=True)
class FeedbackDelta:
    """Impressions and clicks to add to a member's counts (see `feedback_counts_add`)."""

    member_id: int
    course_id: int
    reason: str
    day: dt.date
    impressions: int = 0
    clicks: int = 0


def feedback_counts_add(*, deltas: Iterable[FeedbackDelta]) -> None:
    """Add impressions and clicks to the per-day course counts and per-reason counts that the
    homepage reads (impression discounting, carousel click-through).

    Every writer of impression and click events calls this in the same transaction, so the
    counts always equal what the events say (`feedback_counts_rebuild` recomputes them).
    """
    by_course: dict[tuple[int, int, dt.date], list[int]] = {}
    by_reason: dict[tuple[int, str], list[int]] = {}
    for delta in deltas:
        for totals in (
            by_course.setdefault((delta.member_id, delta.course_id, delta.day), [0, 0]),
            by_reason.setdefault((delta.member_id, delta.reason), [0, 0]),
        ):
            totals[0] += delta.impressions
            totals[1] += delta.clicks
    if not by_course:
        return
    adapt_day = connection.ops.adapt_datefield_value
    _counts_upsert(
        table=CourseFeedbackDay._meta.db_table,
        keys=("member_id", "course_id", "day"),
        key_types=("bigint", "bigint", "date"),
        rows=[
            (member_id, course_id, adapt_day(day), impressions, clicks)
            for (member_id, course_id, day), (impressions, clicks) in by_course.items()
        ],
    )
    _counts_upsert(
        table=ReasonFeedback._meta.db_table,
        keys=("member_id", "reason"),
        key_types=("bigint", "text"),
        rows=[
            (member_id, reason, impressions, clicks)
            for (member_id, reason), (impressions, clicks) in by_reason.items()
        ],
    )


def _counts_upsert(
    *, table: str, keys: tuple[str, ...], key_types: tuple[str, ...], rows: list[tuple]
) -> None:
    """INSERT ... ON CONFLICT DO UPDATE adding to the stored counts (PostgreSQL and SQLite).

    PostgreSQL gets one array per column (`unnest`): a statement with a parameter per value
    costs more to build than to run at a hundred rows.
    """
    columns = (*keys, "impressions", "clicks")
    update = (
        f"impressions = {table}.impressions + excluded.impressions, "
        f"clicks = {table}.clicks + excluded.clicks"
    )
    conflict = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {update}"
    with prepared_cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{kind}[]" for kind in (*key_types, "bigint", "bigint"))
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"SELECT * FROM unnest({arrays}) {conflict}",
                [list(column) for column in zip(*rows, strict=True)],
            )
            return
        # Chunks keep each statement under SQLite's limit on parameters (32766).
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES {', '.join([placeholder] * len(chunk))} {conflict}",
                [value for row in chunk for value in row],
            )


def feedback_counts_rebuild(*, member_ids: Iterable[int] | None = None) -> None:
    """Recompute the counts from the impression and click events, for some members or all.

    For writes that bypass `feedback_counts_add` (bulk imports, the load test's clean-up) and
    for the migration that introduced the counts.
    """
    events = FeedbackEvent.objects.filter(
        kind__in=[FeedbackEvent.Kind.IMPRESSION, FeedbackEvent.Kind.CLICK]
    )
    course_days = CourseFeedbackDay.objects.all()
    reasons = ReasonFeedback.objects.all()
    if member_ids is not None:
        member_ids = list(member_ids)
        events = events.filter(member_id__in=member_ids)
        course_days = course_days.filter(member_id__in=member_ids)
        reasons = reasons.filter(member_id__in=member_ids)
    with transaction.atomic():
        course_days.delete()
        reasons.delete()
        rows = (
            events.annotate(day=TruncDate("created_at"))
            .values("member_id", "course_id", "reason", "day")
            .annotate(
                impressions=Count("pk", filter=Q(kind=FeedbackEvent.Kind.IMPRESSION)),
                clicks=Count("pk", filter=Q(kind=FeedbackEvent.Kind.CLICK)),
            )
            .order_by()
        )
        batch: list[FeedbackDelta] = []
        for row in rows.iterator(chunk_size=5000):
            batch.append(FeedbackDelta(**row))
            if len(batch) == 5000:
                feedback_counts_add(deltas=batch)
                batch = []
        feedback_counts_add(deltas=batch)


def impressions_prune(*, now: dt.datetime | None = None, kept_days: int | None = None) -> int:
    """Delete impression events older than `kept_days` (default `IMPRESSIONS_KEPT_DAYS`); how
    many.

    They are already rolled up: every writer of impressions adds them to the per-member counts
    in the same transaction (`feedback_counts_add`: impressions and clicks per course and day,
    and per reason family), which is all that serving reads of them. Clicks, dismissals and
    activity events stay. Impressions of an experiment still running (or ended after the
    cutoff) stay too: its results count them.
    """
    config = settings.RECOMMENDATIONS
    if kept_days is None:
        kept_days = config["IMPRESSIONS_KEPT_DAYS"]
    if kept_days < config["RANKER_WINDOW_DAYS"]:
        raise ValueError("keep impressions at least RANKER_WINDOW_DAYS: the ranker trains on them")
    cutoff = (now or timezone.now()) - dt.timedelta(days=kept_days)
    experiments_counting = Experiment.objects.filter(
        Q(ends_at__isnull=True) | Q(ends_at__gte=cutoff)
    ).values("pk")
    old = FeedbackEvent.objects.filter(
        kind=FeedbackEvent.Kind.IMPRESSION, created_at__lt=cutoff
    ).exclude(variant__experiment__in=experiments_counting)
    # One statement (the table has no rows depending on it); the cutoff moves a day per run,
    # so after the first run each deletes about a day's impressions.
    return old.delete()[0]


def click_log(
    *, member: Member, page_view_id: uuid.UUID, course: Course, now: dt.datetime | None = None
) -> FeedbackEvent | None:
    """Record a click on a card, attributed to the impression it came from.

    A click that matches no impression of this member on that page (a forged or stale link) is
    not recorded: it would credit a reason that never showed the course.
    """
    impression = impression_of_page_view(
        member=member, page_view_id=page_view_id, course_id=course.pk
    )
    if impression is None:
        return None
    now = now or timezone.now()
    with transaction.atomic():
        feedback_counts_add(
            deltas=[
                FeedbackDelta(
                    member.pk, course.pk, impression.reason, timezone.localdate(now), clicks=1
                )
            ]
        )
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
            created_at=now,
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
