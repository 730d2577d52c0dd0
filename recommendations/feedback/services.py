"""Writes of the recommendations app: homepage feedback (impressions, clicks, dismissals)."""

import datetime as dt
import functools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q, Value
from django.db.models.functions import TruncDate
from django.utils import timezone

from catalog.models import Course
from core.prepared_statements import prepared_cursor
from members.models import Member
from members.signals import member_activity_announce
from recommendations.data import ShownCourse
from recommendations.feedback.page_views import PackedPage, page_view_cards, page_view_pack
from recommendations.models import (
    CourseFeedbackDay,
    Dismissal,
    Experiment,
    FeedbackEvent,
    PageView,
    ReasonFeedback,
)
from recommendations.serving.pending import SlotRefused, page_view_card

# The email's impressions and clicks add to none of the counts above: they are what the
# homepage reads (a course shown often on the site without a click is discounted there; the
# carousels are ordered by the member's click-through on the site's pages), and a weekly email,
# read or not (opens are not tracked), with its own click-through, would change what both mean.
# The email's click-through is measured from its page views and click events (`channel`).
COUNTED_CHANNELS = (PageView.Channel.WEB, PageView.Channel.API)


def impressions_log(
    *,
    member: Member,
    page_view_id: uuid.UUID,
    shown: Sequence[ShownCourse],
    channel: str = PageView.Channel.WEB,
    now: dt.datetime | None = None,
) -> int:
    """Record one page view (`PageView`: every card it showed, in one row) and the counts its
    cards add to; returns how many cards were counted.

    `channel`: `PageView.Channel` (web for the site's pages, the default; api for API
    answers; email for a digest, whose cards add to no count: see `COUNTED_CHANNELS`, and
    `email_page_views_log` writes a batch of digests at once). Nothing is
    stored for a member deleted meanwhile, and cards of courses deleted since the page was
    composed add to no count: the tables have no foreign-key constraints to refuse them (see
    `FeedbackEvent.member`). The page view keeps every card it showed.
    """
    if not shown:
        return 0
    now = now or timezone.now()
    packed = page_view_pack(shown)
    if connection.vendor == "postgresql":
        # One statement is its own transaction: no BEGIN, SET or COMMIT round trips.
        return _page_view_insert_postgresql(
            member_id=member.pk,
            page_view_id=page_view_id,
            channel=channel,
            shown=shown,
            packed=packed,
            now=now,
        )
    with transaction.atomic():
        # One query: the shown courses that still exist, and 0 if the member does (no course
        # has id 0).
        found = set(
            Course.objects.filter(pk__in={card.course_id for card in shown})
            .order_by()
            .values_list("pk", flat=True)
            .union(
                Member.objects.filter(pk=member.pk)
                .order_by()
                .annotate(found=Value(0))
                .values_list("found", flat=True)
            )
        )
        if 0 not in found:
            return 0
        existing = found - {0}
        PageView.objects.create(
            id=page_view_id,
            member_id=member.pk,
            created_at=now,
            channel=channel,
            variant_id=packed.variant_id,
            courses=packed.courses,
            slots=packed.slots,
            labels=packed.labels,
            recommended=packed.recommended,
        )
        if channel not in COUNTED_CHANNELS:
            return 0
        kept = [card for card in shown if card.course_id in existing]
        day = timezone.localdate(now)
        feedback_counts_add(
            deltas=[
                FeedbackDelta(member.pk, card.course_id, card.reason, day, impressions=1)
                for card in kept
            ]
        )
    return len(kept)


# One statement: the page view, then the per-day course counts and per-reason counts its cards
# add to (`feedback_counts_add`'s upserts). Each of the three would otherwise cost a round trip.
#
# Impressions are telemetry written on every page view, so the transaction does not wait for
# its WAL flush (`commit_mode`, local to the transaction: the statement's own one when it runs
# alone). A server crash can lose the last moments of page views, whole pages at a time (the
# statement stays atomic), never a click: a click's commit flushes the WAL written before it,
# its page view included.
#
# The member's row is locked first, as an event batch and a click lock it before adding to the
# same counts: each count writer then has the member's counts to itself. Without it two writers
# of one member (a page view and an event batch, or two page views) took the count rows in
# different orders (the upserts below run in no set order) and PostgreSQL broke the deadlock by
# failing one of them: under `make loadtest` at saturation, an event batch answered 500 or a
# page view's impressions were lost, about once a run.
_PAGE_VIEW_INSERT = f"""
WITH owner AS (
    SELECT id FROM {Member._meta.db_table} WHERE id = %(member)s::bigint FOR NO KEY UPDATE
), page AS (
    INSERT INTO {PageView._meta.db_table} (
        id, member_id, created_at, channel, variant_id, courses, slots, labels, recommended
    )
    SELECT %(page_view)s::uuid, %(member)s::bigint, %(now)s::timestamptz, %(channel)s::text,
        %(variant)s::bigint, %(courses)s::bytea, %(slots)s::bytea, %(labels)s::jsonb,
        %(recommended)s::smallint
    WHERE EXISTS (SELECT FROM owner)
    RETURNING id
), card AS (
    SELECT card.course_id, card.reason
    FROM json_to_recordset(%(cards)s::json) AS card(course_id bigint, reason text)
    JOIN {Course._meta.db_table} course ON course.id = card.course_id
    WHERE EXISTS (SELECT FROM page)
), per_course AS (
    INSERT INTO {CourseFeedbackDay._meta.db_table} AS counts
        (member_id, course_id, day, impressions, clicks)
    SELECT %(member)s::bigint, course_id, %(day)s::date, count(*), 0 FROM card GROUP BY course_id
    ON CONFLICT (member_id, course_id, day)
        DO UPDATE SET impressions = counts.impressions + excluded.impressions
), per_reason AS (
    INSERT INTO {ReasonFeedback._meta.db_table} AS counts
        (member_id, reason, impressions, clicks)
    SELECT %(member)s::bigint, reason, count(*), 0 FROM card GROUP BY reason
    ON CONFLICT (member_id, reason)
        DO UPDATE SET impressions = counts.impressions + excluded.impressions
), commit_mode AS (
    SELECT set_config('synchronous_commit', 'off', true)
)
SELECT count(*) FROM card WHERE EXISTS (SELECT FROM commit_mode)
"""


def _page_view_insert_postgresql(
    *,
    member_id: int,
    page_view_id: uuid.UUID,
    channel: str,
    shown: Sequence[ShownCourse],
    packed: PackedPage,
    now: dt.datetime,
) -> int:
    """The page view's row, and its cards (course and reason, for the counts) as one JSON
    document turned into rows by PostgreSQL: psycopg's array dumpers take 0.5 ms in Python for
    a hundred cards where orjson writes the document in 0.03 ms."""
    with prepared_cursor() as cursor:
        cursor.execute(
            _PAGE_VIEW_INSERT,
            {
                "page_view": page_view_id,
                "member": member_id,
                "now": now,
                "channel": channel,
                "variant": packed.variant_id,
                "courses": packed.courses,
                "slots": packed.slots,
                "labels": orjson.dumps(packed.labels).decode(),
                "recommended": packed.recommended,
                "day": timezone.localdate(now),
                "cards": orjson.dumps(
                    [{"course_id": card.course_id, "reason": card.reason} for card in shown]
                    if channel in COUNTED_CHANNELS
                    else []
                ).decode(),
            },
        )
        (stored,) = cursor.fetchone()
    return stored


def email_page_views_log(
    *, pages: Sequence[tuple[int, uuid.UUID, Sequence[ShownCourse]]], now: dt.datetime
) -> None:
    """Record a batch of digests' impressions: per (member id, page view id, cards in the
    email's order) one page view on the email channel, in one INSERT. Called inside the
    digests' claim (`digest/sending.py`), so a digest and its page view commit together; the
    members and courses exist there (the digests were just composed from them). They add to
    no count (`COUNTED_CHANNELS`)."""
    rows = []
    for member_id, page_view_id, shown in pages:
        packed = page_view_pack(shown)
        rows.append(
            PageView(
                id=page_view_id,
                member_id=member_id,
                created_at=now,
                channel=PageView.Channel.EMAIL,
                variant_id=packed.variant_id,
                courses=packed.courses,
                slots=packed.slots,
                labels=packed.labels,
                recommended=packed.recommended,
            )
        )
    PageView.objects.bulk_create(rows)


def email_click_log(
    *, member: Member, page_view_id: uuid.UUID, slot: int, course: Course, now: dt.datetime
) -> FeedbackEvent | None:
    """Record a followed digest link as a click citing (the digest's page view, `slot`), with
    the card's reason, strategy, variant and channel (email) from that page view, as the events
    API stores a click. None, recording nothing, when the page view is gone (pruned after
    IMPRESSIONS_KEPT_DAYS) or its slot showed another course. No count (`COUNTED_CHANNELS`).
    The caller makes it once per digest and position."""
    try:
        shown = page_view_card(
            member=member, page_view_id=page_view_id, course_id=course.pk, slot=slot, wait=False
        )
    except SlotRefused:
        return None
    if shown is None:
        return None
    return _click_event_create(
        member=member, course=course, page_view_id=page_view_id, shown=shown, now=now
    )


def _click_event_create(
    *,
    member: Member,
    course: Course,
    page_view_id: uuid.UUID,
    shown: ShownCourse,
    now: dt.datetime,
) -> FeedbackEvent:
    """The click's event row, with the reason, strategy, variant and channel of the card the
    page view showed."""
    return FeedbackEvent.objects.create(
        **feedback_event_fields(
            kind=FeedbackEvent.Kind.CLICK,
            member=member,
            course=course,
            page_view_id=page_view_id,
            context=shown,
            now=now,
        )
    )


@dataclass(frozen=True)
class FeedbackDelta:
    """Impressions and clicks to add to a member's counts (see `feedback_counts_add`)."""

    member_id: int
    course_id: int
    reason: str
    day: dt.date
    impressions: int = 0
    clicks: int = 0


def member_counts_lock(*, member_id: int) -> None:
    """Lock the member's row for the rest of the transaction, before adding to their counts:
    every writer of a member's counts (an event batch, a click, the page view's statement in
    `_PAGE_VIEW_INSERT`) takes it first, so two of them never take the count rows in opposite
    orders. NO KEY UPDATE leaves the row to other transactions' foreign-key checks. Raises
    `Member.DoesNotExist` for a member deleted meanwhile."""
    # A prepared statement: every event batch and click takes this lock, and the ORM's query
    # cost three times as much to build and plan as to run.
    with prepared_cursor() as cursor:
        cursor.execute(_member_lock_sql(connection.vendor), [member_id])
        if cursor.fetchone() is None:
            raise Member.DoesNotExist(f"No member {member_id} to lock.")


@functools.cache
def _member_lock_sql(vendor: str) -> str:
    """`vendor` keys the cache: the quoting and the lock clause are the database's (SQLite
    has none, and locks the whole database for a write transaction)."""
    quote = connection.ops.quote_name
    lock = (
        " " + connection.ops.for_update_sql(no_key=True)
        if connection.features.has_select_for_update
        else ""
    )
    return (
        f"SELECT {quote(Member._meta.pk.column)} FROM {quote(Member._meta.db_table)} "
        f"WHERE {quote(Member._meta.pk.column)} = %s{lock}"
    )


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
    upserts = [
        _CountsUpsert(
            table=CourseFeedbackDay._meta.db_table,
            keys=("member_id", "course_id", "day"),
            key_types=("bigint", "bigint", "date"),
            rows=[
                (member_id, course_id, adapt_day(day), impressions, clicks)
                for (member_id, course_id, day), (impressions, clicks) in by_course.items()
            ],
        ),
        _CountsUpsert(
            table=ReasonFeedback._meta.db_table,
            keys=("member_id", "reason"),
            key_types=("bigint", "text"),
            rows=[
                (member_id, reason, impressions, clicks)
                for (member_id, reason), (impressions, clicks) in by_reason.items()
            ],
        ),
    ]
    with prepared_cursor() as cursor:
        if connection.vendor == "postgresql":
            # Both tables in one statement (the first upsert as a data-modifying WITH): an
            # event batch's and a click's last round trip but one.
            first, second = (upsert.from_arrays() for upsert in upserts)
            cursor.execute(f"WITH course_counts AS ({first[0]}) {second[0]}", first[1] + second[1])
            return
        for upsert in upserts:
            # Chunks keep each statement under SQLite's limit on parameters (32766).
            for start in range(0, len(upsert.rows), 1000):
                cursor.execute(*upsert.from_values(upsert.rows[start : start + 1000]))


@dataclass(frozen=True)
class _CountsUpsert:
    """INSERT ... ON CONFLICT DO UPDATE adding `rows` (keys, then impressions and clicks) to
    the stored counts of `table`."""

    table: str
    keys: tuple[str, ...]
    key_types: tuple[str, ...]
    rows: list[tuple]

    def _insert(self) -> str:
        return f"INSERT INTO {self.table} ({', '.join((*self.keys, 'impressions', 'clicks'))}) "

    def _conflict(self) -> str:
        table = self.table
        return (
            f" ON CONFLICT ({', '.join(self.keys)}) DO UPDATE SET "
            f"impressions = {table}.impressions + excluded.impressions, "
            f"clicks = {table}.clicks + excluded.clicks"
        )

    def from_arrays(self) -> tuple[str, list]:
        """PostgreSQL's statement: one array per column (`unnest`), since a statement with a
        parameter per value costs more to build than to run at a hundred rows."""
        arrays = ", ".join(f"%s::{kind}[]" for kind in (*self.key_types, "bigint", "bigint"))
        return (
            f"{self._insert()}SELECT * FROM unnest({arrays}){self._conflict()}",
            [list(column) for column in zip(*self.rows, strict=True)],
        )

    def from_values(self, rows: list[tuple]) -> tuple[str, list]:
        """The statement for `rows` with a parameter per value (SQLite)."""
        placeholder = "(" + ", ".join(["%s"] * (len(self.keys) + 2)) + ")"
        return (
            f"{self._insert()}VALUES {', '.join([placeholder] * len(rows))}{self._conflict()}",
            [value for row in rows for value in row],
        )


def feedback_counts_rebuild(*, member_ids: Iterable[int] | None = None) -> None:
    """Recompute the counts from the page views, the reported impressions and the clicks, for
    some members or all; the email's page views and clicks count nowhere (`impressions_log`).

    For writes that bypass `feedback_counts_add` (bulk imports, the load test's clean-up) and
    for the migrations that introduced the counts and the page views.
    """
    events = FeedbackEvent.objects.filter(
        kind__in=[FeedbackEvent.Kind.IMPRESSION, FeedbackEvent.Kind.CLICK]
    ).exclude(channel=PageView.Channel.EMAIL)
    page_views = PageView.objects.exclude(channel=PageView.Channel.EMAIL)
    course_days = CourseFeedbackDay.objects.all()
    reasons = ReasonFeedback.objects.all()
    if member_ids is not None:
        member_ids = list(member_ids)
        events = events.filter(member_id__in=member_ids)
        page_views = page_views.filter(member_id__in=member_ids)
        course_days = course_days.filter(member_id__in=member_ids)
        reasons = reasons.filter(member_id__in=member_ids)
    with transaction.atomic():
        course_days.delete()
        reasons.delete()
        batch: list[FeedbackDelta] = []

        def add(delta: FeedbackDelta) -> None:
            nonlocal batch
            batch.append(delta)
            if len(batch) == 5000:
                feedback_counts_add(deltas=batch)
                batch = []

        rows = (
            events.annotate(day=TruncDate("created_at"))
            .values("member_id", "course_id", "reason", "day")
            .annotate(
                impressions=Count("pk", filter=Q(kind=FeedbackEvent.Kind.IMPRESSION)),
                clicks=Count("pk", filter=Q(kind=FeedbackEvent.Kind.CLICK)),
            )
            .order_by()
        )
        for row in rows.iterator(chunk_size=5000):
            add(FeedbackDelta(**row))
        # A page view keeps the courses deleted since; their counts went with them.
        existing = set(Course.objects.values_list("pk", flat=True))
        for member_id, created_at, courses, slots, labels in page_views.values_list(
            "member_id", "created_at", "courses", "slots", "labels"
        ).iterator(chunk_size=2000):
            day = timezone.localdate(created_at)
            for card in page_view_cards(
                courses=courses, slots=slots, labels=labels, variant_id=None
            ):
                if card.course_id in existing:
                    add(FeedbackDelta(member_id, card.course_id, card.reason, day, impressions=1))
        feedback_counts_add(deltas=batch)


def impressions_prune(*, now: dt.datetime | None = None, kept_days: int | None = None) -> int:
    """Delete page views and reported impression events older than `kept_days` (default
    `IMPRESSIONS_KEPT_DAYS`); how many rows.

    They are already rolled up: every writer of impressions adds them to the per-member counts
    in the same transaction (`feedback_counts_add`: impressions and clicks per course and day,
    and per reason family), which is all that serving reads of them. Clicks, dismissals and
    activity events stay. Page views of an experiment still running (or ended after the
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
    old_pages = PageView.objects.filter(created_at__lt=cutoff).exclude(
        variant__experiment__in=experiments_counting
    )
    old_reported = FeedbackEvent.objects.filter(
        kind=FeedbackEvent.Kind.IMPRESSION, created_at__lt=cutoff
    ).exclude(variant__experiment__in=experiments_counting)
    # One statement each (no rows depend on them); the cutoff moves a day per run, so after
    # the first run each deletes about a day's rows.
    return old_pages.delete()[0] + old_reported.delete()[0]


def click_log(
    *, member: Member, page_view_id: uuid.UUID, course: Course, now: dt.datetime | None = None
) -> FeedbackEvent | None:
    """Record a click on a card, attributed to the slot of the page view that showed it.

    A click that matches no card of this member's page view (a forged or stale link) is not
    recorded: it would credit a reason that never showed the course.
    """
    shown = page_view_card(member=member, page_view_id=page_view_id, course_id=course.pk)
    if shown is None:
        return None
    now = now or timezone.now()
    with transaction.atomic():
        if shown.channel in COUNTED_CHANNELS:
            member_counts_lock(member_id=member.pk)
            feedback_counts_add(
                deltas=[
                    FeedbackDelta(
                        member.pk, course.pk, shown.reason, timezone.localdate(now), clicks=1
                    )
                ]
            )
        return _click_event_create(
            member=member, course=course, page_view_id=page_view_id, shown=shown, now=now
        )


def feedback_event_fields(
    *,
    kind: str,
    member: Member,
    course: Course,
    page_view_id: uuid.UUID | None,
    context: ShownCourse | None,
    now: dt.datetime,
    event_id: uuid.UUID | None = None,
    value: float | None = None,
) -> dict:
    """A `FeedbackEvent`'s fields. The card's context (reason, slot, strategy, variant, the page
    view's channel) comes from the page view that showed it, never from a client (see
    `serving.pending.page_view_card`)."""
    return {
        "event_id": event_id or uuid.uuid4(),
        "kind": kind,
        "member": member,
        "course": course,
        "page_view_id": page_view_id,
        "reason": context.reason if context else "",
        "reason_key": context.reason_key if context else "",
        "strategy": context.strategy if context else "",
        "carousel_position": context.carousel_position if context else None,
        "position": context.position if context else None,
        "variant_id": context.variant_id if context else None,
        "channel": context.channel if context else "",
        "value": value,
        "created_at": now,
    }


def course_dismiss(
    *,
    member: Member,
    course: Course,
    context: ShownCourse | None = None,
    page_view_id: uuid.UUID | None = None,
    now: dt.datetime | None = None,
    event_id: uuid.UUID | None = None,
    event_rows: list[FeedbackEvent] | None = None,
) -> Dismissal:
    """'Not interested': idempotent; the course leaves every list of this member until undone.

    `event_rows`: where the events API collects its batch's rows, to store them in one
    statement (`feedback/events.py`); without it the event is stored here."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                dismissal = Dismissal.objects.create(member=member, course=course)
        except IntegrityError:
            return Dismissal.objects.get(member=member, course=course)
        member_activity_announce(member_id=member.pk)
        event = FeedbackEvent(
            **feedback_event_fields(
                kind=FeedbackEvent.Kind.DISMISS,
                member=member,
                course=course,
                context=context,
                page_view_id=page_view_id,
                now=now,
                event_id=event_id,
            )
        )
        _event_keep(event, event_rows)
    return dismissal


def _event_keep(event: FeedbackEvent, event_rows: list[FeedbackEvent] | None) -> None:
    """Save the event now, or add it to the caller's batch (`event_rows`, inserted together)."""
    if event_rows is None:
        event.save(force_insert=True)
    else:
        event_rows.append(event)


def dismissal_undo(
    *,
    member: Member,
    dismissal_id: int,
    context: ShownCourse | None = None,
    page_view_id: uuid.UUID | None = None,
    now: dt.datetime | None = None,
    event_id: uuid.UUID | None = None,
    event_rows: list[FeedbackEvent] | None = None,
) -> Course:
    """Bring a dismissed course back. Only the member who dismissed it can undo it.
    `event_rows`: as for `course_dismiss`.

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
        event = FeedbackEvent(
            **feedback_event_fields(
                kind=FeedbackEvent.Kind.UNDO_DISMISS,
                member=member,
                course=course,
                context=context,
                page_view_id=page_view_id,
                now=now,
                event_id=event_id,
            )
        )
        _event_keep(event, event_rows)
    return course
