"""CSV import of members' interactions: enrolments, watches, finishes, bookmarks, dismissals,
impressions and clicks, in one file (`manage.py import_interactions`).

Built for files of millions of rows: the file is streamed and validated whole (row errors with
their line numbers), each valid row is reduced to a few integers in a temporary spool file, ids
are resolved through dictionaries loaded once, and the writes are set-based in one transaction
(COPY into a temporary table and INSERT ... ON CONFLICT on PostgreSQL; batched
bulk_create/bulk_update elsewhere). Imported impressions and clicks are added to the feedback
counts the homepage reads, in the same transaction. `--create-missing` creates placeholder
members and courses for unknown ids. Re-importing a file changes nothing.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from catalog.imports import (
    UNKNOWN_DURATION_MINUTES,
    UNKNOWN_TEACHER,
)
from catalog.models import Course
from core.csv_import import (
    CsvHeader,
    ImportOutcome,
    RowError,
    csv_open,
    csv_read_header,
    csv_records,
    slug_unique,
    timestamp_read,
    width_error,
)
from core.inputs import whole_number_parse
from members.imports import username_derive, usernames_taken
from members.models import Bookmark, Enrolment, Member
from recommendations.feedback.services import FeedbackDelta, feedback_counts_add
from recommendations.models import Dismissal, FeedbackEvent

# --- Interactions ---------------------------------------------------------------------------

INTERACTION_REQUIRED = ("member_id", "course_id")
INTERACTION_OPTIONAL = ("event", "timestamp", "value")

# Stable small codes for the spool and the staging table.
ENROL, WATCH, FINISH, BOOKMARK, DISMISS, IMPRESSION, CLICK = range(7)
EVENTS = {
    "enrol": ENROL,
    "watch": WATCH,
    "finish": FINISH,
    "bookmark": BOOKMARK,
    "dismiss": DISMISS,
    "impression": IMPRESSION,
    "click": CLICK,
}
FEEDBACK_KINDS = {
    IMPRESSION: FeedbackEvent.Kind.IMPRESSION.value,
    CLICK: FeedbackEvent.Kind.CLICK.value,
}
ENROLMENT_EVENTS = frozenset({ENROL, WATCH, FINISH})

# Namespace of the ids of imported impressions and clicks: the same member, course, event and
# time always give the same event_id, which is what makes re-importing a file a no-op.
FEEDBACK_NAMESPACE = uuid.UUID("4f3c2b9e-6a1d-5e8f-9b7c-2d4e6f8a0b1c")

PLACEHOLDER_DESCRIPTION = "Placeholder created by an interactions import; details to follow."

# Rows per bulk statement and per spool read on the portable path; small enough for SQLite's
# parameter limit with room to spare, large enough that the per-statement cost vanishes.
BATCH_SIZE = 2000


@dataclass
class InteractionImportResult(ImportOutcome):
    rows: int = 0
    members_created: int = 0
    courses_created: int = 0
    enrolments_created: int = 0
    enrolments_updated: int = 0
    bookmarks_created: int = 0
    bookmarks_updated: int = 0
    dismissals_created: int = 0
    dismissals_updated: int = 0
    feedback_events_created: int = 0

    @property
    def created(self) -> int:
        return (
            self.enrolments_created
            + self.bookmarks_created
            + self.dismissals_created
            + self.feedback_events_created
        )

    @property
    def updated(self) -> int:
        return self.enrolments_updated + self.bookmarks_updated + self.dismissals_updated


@dataclass
class _IdMap:
    """external id -> pk, with ids to create (`--create-missing`) given negative stand-ins."""

    pks: dict[str, int]
    missing: dict[str, int] = field(default_factory=dict)

    def get(self, external_id: str, *, create: bool) -> int | None:
        pk = self.pks.get(external_id)
        if pk is None and create:
            pk = self.missing.setdefault(external_id, -(len(self.missing) + 1))
        return pk


@dataclass
class _Validation:
    result: InteractionImportResult
    spool: IO[str]
    members: _IdMap
    courses: _IdMap


def _interaction_row(
    fields: list[str],
    header: CsvHeader,
    members: _IdMap,
    courses: _IdMap,
    create_missing: bool,
    now: dt.datetime,
) -> tuple[str | None, list[str]]:
    """One spool line ("kind member course timestamp value event_id") or the reasons why not."""
    reasons = []
    member_ext = fields[header.columns["member_id"]].strip()
    course_ext = fields[header.columns["course_id"]].strip()
    member_pk = course_pk = None
    if not member_ext:
        reasons.append("member_id is empty")
    else:
        member_pk = members.get(member_ext, create=create_missing and len(member_ext) <= 64)
        if member_pk is None:
            reasons.append(
                "member_id is longer than 64 characters"
                if len(member_ext) > 64
                else f"member_id '{member_ext}' is not a known member"
            )
    if not course_ext:
        reasons.append("course_id is empty")
    else:
        course_pk = courses.get(course_ext, create=create_missing and len(course_ext) <= 64)
        if course_pk is None:
            reasons.append(
                "course_id is longer than 64 characters"
                if len(course_ext) > 64
                else f"course_id '{course_ext}' is not a known course"
            )

    index = header.index("event")
    raw_event = fields[index].strip().lower() if index is not None else ""
    kind = EVENTS.get(raw_event or "enrol")
    if kind is None:
        reasons.append(f"event '{raw_event}' is not one of {', '.join(EVENTS)}")

    index = header.index("timestamp")
    raw_time = fields[index].strip() if index is not None else ""
    timestamp: dt.datetime | None = now
    if raw_time:
        timestamp, reason = timestamp_read(raw_time, column="timestamp", now=now)
        if reason:
            reasons.append(reason)

    index = header.index("value")
    raw_value = fields[index].strip() if index is not None else ""
    value = 0
    if kind == WATCH:
        if not raw_value:
            reasons.append("value is empty; a watch needs its progress percent (1-100)")
        elif (percent := whole_number_parse(raw_value, min_value=1, max_value=100)) is not None:
            value = percent
        else:
            reasons.append(f"value '{raw_value}' is not a progress percent from 1 to 100")
    elif raw_value and kind is not None:
        reasons.append(
            f"value '{raw_value}' is only used with event watch, not {raw_event or 'enrol'}"
        )

    if reasons:
        return None, reasons
    assert timestamp is not None and kind is not None
    stamp = timestamp.isoformat()
    event_id = ""
    if kind in FEEDBACK_KINDS:
        event_id = uuid.uuid5(
            FEEDBACK_NAMESPACE, f"{kind}\x1f{member_ext}\x1f{course_ext}\x1f{stamp}"
        ).hex
    return f"{kind}\t{member_pk}\t{course_pk}\t{stamp}\t{value}\t{event_id}\n", []


def _interactions_validate(
    *,
    path: Path,
    create_missing: bool,
    now: dt.datetime,
    on_rows: Callable[[int], None] | None,
) -> _Validation:
    members = _IdMap(
        dict(Member.objects.filter(external_id__isnull=False).values_list("external_id", "pk"))
    )
    courses = _IdMap(
        dict(Course.objects.filter(external_id__isnull=False).values_list("external_id", "pk"))
    )
    result = InteractionImportResult()
    spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n")  # noqa: SIM115
    try:
        with csv_open(path=path) as handle:
            records = csv_records(handle=handle)
            header = csv_read_header(
                records=records, required=INTERACTION_REQUIRED, optional=INTERACTION_OPTIONAL
            )
            errors, write, pending = result.errors, spool.write, 0
            for line, fields in records:
                if len(fields) != header.width:
                    errors.append(width_error(line=line, fields=fields, header=header))
                else:
                    spooled, reasons = _interaction_row(
                        fields, header, members, courses, create_missing, now
                    )
                    if spooled is None:
                        errors.extend(RowError(line, reason) for reason in reasons)
                    else:
                        write(spooled)
                        result.rows += 1
                pending += 1
                if on_rows and pending == 10_000:
                    on_rows(pending)
                    pending = 0
            if on_rows and pending:
                on_rows(pending)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return _Validation(result=result, spool=spool, members=members, courses=courses)


def _missing_members_create(*, missing: dict[str, int]) -> dict[int, int]:
    """Bare members for unknown ids: an account nobody can sign in to, no profile yet."""
    User = get_user_model()
    taken = usernames_taken()
    users = []
    for external_id in missing:
        user = User(username=username_derive(external_id=external_id, taken=taken))
        # make_password(None) is what set_unusable_password stores, without a save per user.
        user.password = make_password(None)
        users.append(user)
    # PostgreSQL and SQLite (3.35+) set the new ids on the objects bulk_create inserts.
    User.objects.bulk_create(users, batch_size=BATCH_SIZE)
    members = Member.objects.bulk_create(
        [
            Member(user_id=user.pk, external_id=external_id)
            for user, external_id in zip(users, missing, strict=True)
        ],
        batch_size=BATCH_SIZE,
    )
    return {stand_in: member.pk for member, stand_in in zip(members, missing.values(), strict=True)}


def _missing_courses_create(*, missing: dict[str, int], now: dt.datetime) -> dict[int, int]:
    """Bare courses for unknown ids, to be completed by a later catalog import."""
    slugs = set(Course.objects.values_list("slug", flat=True))
    courses = Course.objects.bulk_create(
        [
            Course(
                external_id=external_id,
                title=external_id,
                slug=slug_unique(text=external_id, taken=slugs, fallback="course", max_length=220),
                description=PLACEHOLDER_DESCRIPTION,
                duration_minutes=UNKNOWN_DURATION_MINUTES,
                teacher=UNKNOWN_TEACHER,
                published_at=now,
            )
            for external_id in missing
        ],
        batch_size=BATCH_SIZE,
    )
    return {stand_in: course.pk for course, stand_in in zip(courses, missing.values(), strict=True)}


def _spool_lines(
    spool: IO[str], member_pks: dict[int, int], course_pks: dict[int, int]
) -> Iterator[str]:
    """The spool's lines with stand-in ids replaced by the ids of the records just created."""
    if not member_pks and not course_pks:
        yield from spool
        return
    for line in spool:
        kind, member, course, rest = line.split("\t", 3)
        if member[0] == "-":
            member = str(member_pks[int(member)])
        if course[0] == "-":
            course = str(course_pks[int(course)])
        yield f"{kind}\t{member}\t{course}\t{rest}"


def interactions_import(
    *,
    path: Path,
    skip_invalid: bool = False,
    create_missing: bool = False,
    now: dt.datetime | None = None,
    on_read: Callable[[int], None] | None = None,
    on_write: Callable[[int], None] | None = None,
    use_copy: bool | None = None,
) -> InteractionImportResult:
    """Validate the whole file, then write it (only the valid rows with `skip_invalid`).

    `on_read(n)` and `on_write(n)` report rows checked and rows written, for progress bars.
    `use_copy` picks the PostgreSQL COPY path (default: whenever the database is PostgreSQL).
    """
    now = now or timezone.now()
    if use_copy is None:
        use_copy = connection.vendor == "postgresql"
    validation = _interactions_validate(
        path=path, create_missing=create_missing, now=now, on_rows=on_read
    )
    result = validation.result
    with validation.spool as spool:
        if result.errors and not skip_invalid:
            return result
        with transaction.atomic():
            member_pks = course_pks = {}
            if validation.members.missing:
                member_pks = _missing_members_create(missing=validation.members.missing)
                result.members_created = len(member_pks)
            if validation.courses.missing:
                course_pks = _missing_courses_create(missing=validation.courses.missing, now=now)
                result.courses_created = len(course_pks)
            lines = _spool_lines(spool, member_pks, course_pks)
            if use_copy:
                _interactions_write_copy(lines=lines, result=result, on_rows=on_write)
            else:
                _interactions_write_orm(lines=lines, result=result, on_rows=on_write)
        result.written = True
    if use_copy:
        # Millions of new rows: refresh the planner's statistics now rather than whenever
        # autovacuum gets there, or per-member reads get sequential-scan plans meanwhile.
        with connection.cursor() as cursor:
            for model in (Enrolment, Bookmark, Dismissal, FeedbackEvent):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    return result


# PostgreSQL: COPY the spool into a temporary table, then one set-based upsert per target.

_STAGING_SQL = """
CREATE TEMPORARY TABLE import_interaction (
    kind smallint NOT NULL,
    member_id bigint NOT NULL,
    course_id bigint NOT NULL,
    ts timestamptz NOT NULL,
    value smallint NOT NULL,
    event_id uuid
) ON COMMIT DROP
"""

# Earliest enrolment, highest progress, earliest completion, latest watch: the same rule for
# rows of this file and the row already stored, so importing a file twice changes nothing.
# A completion is never before its enrolment: both come from the same rows, and the earliest
# enrolment is at or before every one of them.
_ENROLMENT_SQL = f"""
WITH upserted AS (
    INSERT INTO members_enrolment AS e (
        member_id, course_id, enrolled_at, progress_percent, watched_seconds,
        last_watched_at, completed_at
    )
    SELECT
        member_id, course_id, min(ts),
        max(CASE kind WHEN {FINISH} THEN 100 WHEN {WATCH} THEN value ELSE 0 END),
        0,
        max(ts) FILTER (WHERE kind = {WATCH}),
        min(ts) FILTER (WHERE kind = {FINISH} OR (kind = {WATCH} AND value = 100))
    FROM import_interaction
    WHERE kind IN ({ENROL}, {WATCH}, {FINISH})
    GROUP BY member_id, course_id
    ON CONFLICT (member_id, course_id) DO UPDATE SET
        enrolled_at = LEAST(e.enrolled_at, EXCLUDED.enrolled_at),
        progress_percent = GREATEST(e.progress_percent, EXCLUDED.progress_percent),
        last_watched_at = GREATEST(e.last_watched_at, EXCLUDED.last_watched_at),
        completed_at = LEAST(e.completed_at, EXCLUDED.completed_at)
    WHERE (e.enrolled_at, e.progress_percent, e.last_watched_at, e.completed_at)
        IS DISTINCT FROM (
            LEAST(e.enrolled_at, EXCLUDED.enrolled_at),
            GREATEST(e.progress_percent, EXCLUDED.progress_percent),
            GREATEST(e.last_watched_at, EXCLUDED.last_watched_at),
            LEAST(e.completed_at, EXCLUDED.completed_at)
        )
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted
"""

# Bookmarks and dismissals keep the earliest time they were made.
_EARLIEST_SQL = """
WITH upserted AS (
    INSERT INTO {table} AS t (member_id, course_id, created_at)
    SELECT member_id, course_id, min(ts) FROM import_interaction
    WHERE kind = {kind}
    GROUP BY member_id, course_id
    ON CONFLICT (member_id, course_id) DO UPDATE SET created_at = EXCLUDED.created_at
    WHERE EXCLUDED.created_at < t.created_at
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted
"""

# New impressions and clicks, and the same added to the counts the homepage reads
# (recommendations.services.feedback_counts_add), days taken in the site's time zone (%s).
_FEEDBACK_SQL = f"""
WITH inserted AS (
    INSERT INTO recommendations_feedbackevent (
        event_id, kind, member_id, course_id, reason, reason_key, strategy, created_at
    )
    SELECT
        event_id,
        CASE kind WHEN {IMPRESSION} THEN '{FEEDBACK_KINDS[IMPRESSION]}'
            ELSE '{FEEDBACK_KINDS[CLICK]}' END,
        member_id, course_id, '', '', '', ts
    FROM import_interaction
    WHERE kind IN ({IMPRESSION}, {CLICK})
    ON CONFLICT (event_id) DO NOTHING
    RETURNING member_id, course_id, kind, created_at
), by_day AS (
    INSERT INTO recommendations_coursefeedbackday AS t (
        member_id, course_id, day, impressions, clicks
    )
    SELECT member_id, course_id, timezone(%s, created_at)::date,
        count(*) FILTER (WHERE kind = '{FEEDBACK_KINDS[IMPRESSION]}'),
        count(*) FILTER (WHERE kind = '{FEEDBACK_KINDS[CLICK]}')
    FROM inserted GROUP BY 1, 2, 3
    ON CONFLICT (member_id, course_id, day) DO UPDATE SET
        impressions = t.impressions + EXCLUDED.impressions, clicks = t.clicks + EXCLUDED.clicks
), by_reason AS (
    INSERT INTO recommendations_reasonfeedback AS t (member_id, reason, impressions, clicks)
    SELECT member_id, '',
        count(*) FILTER (WHERE kind = '{FEEDBACK_KINDS[IMPRESSION]}'),
        count(*) FILTER (WHERE kind = '{FEEDBACK_KINDS[CLICK]}')
    FROM inserted GROUP BY 1
    ON CONFLICT (member_id, reason) DO UPDATE SET
        impressions = t.impressions + EXCLUDED.impressions, clicks = t.clicks + EXCLUDED.clicks
)
SELECT count(*) FROM inserted
"""


def _interactions_write_copy(
    *,
    lines: Iterator[str],
    result: InteractionImportResult,
    on_rows: Callable[[int], None] | None,
) -> None:
    assert Enrolment._meta.db_table == "members_enrolment"
    assert FeedbackEvent._meta.db_table == "recommendations_feedbackevent"
    with connection.cursor() as cursor:
        # ON COMMIT DROP alone is not enough when the caller's transaction is still open (a second
        # import in the same transaction would find the table there).
        cursor.execute("DROP TABLE IF EXISTS pg_temp.import_interaction")
        cursor.execute(_STAGING_SQL)
        with cursor.cursor.copy("COPY import_interaction FROM STDIN") as copy:
            buffer: list[str] = []
            for line in lines:
                # The spool writes no event id as "", which COPY must read as NULL.
                buffer.append(line if line[-2] != "\t" else line[:-1] + "\\N\n")
                if len(buffer) == 50_000:
                    copy.write("".join(buffer))
                    if on_rows:
                        on_rows(len(buffer))
                    buffer.clear()
            copy.write("".join(buffer))
            if on_rows:
                on_rows(len(buffer))
        cursor.execute("ANALYZE import_interaction")
        cursor.execute(_ENROLMENT_SQL)
        result.enrolments_created, result.enrolments_updated = cursor.fetchone()
        cursor.execute(_EARLIEST_SQL.format(table=Bookmark._meta.db_table, kind=BOOKMARK))
        result.bookmarks_created, result.bookmarks_updated = cursor.fetchone()
        cursor.execute(_EARLIEST_SQL.format(table=Dismissal._meta.db_table, kind=DISMISS))
        result.dismissals_created, result.dismissals_updated = cursor.fetchone()
        cursor.execute(_FEEDBACK_SQL, [timezone.get_current_timezone_name()])
        (result.feedback_events_created,) = cursor.fetchone()
        cursor.execute("DROP TABLE import_interaction")


# Portable path: the same rules, applied one batch at a time against the stored rows.


@dataclass
class _EnrolmentDelta:
    enrolled_at: dt.datetime
    progress: int = 0
    completed_at: dt.datetime | None = None
    last_watched_at: dt.datetime | None = None


def _later(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _earlier(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _interactions_write_orm(
    *,
    lines: Iterator[str],
    result: InteractionImportResult,
    on_rows: Callable[[int], None] | None,
) -> None:
    batch: list[tuple[int, int, int, dt.datetime, int, str]] = []
    for line in lines:
        kind, member, course, stamp, value, event_id = line.rstrip("\n").split("\t")
        batch.append(
            (
                int(kind),
                int(member),
                int(course),
                dt.datetime.fromisoformat(stamp),
                int(value),
                event_id,
            )
        )
        if len(batch) == BATCH_SIZE:
            _batch_write(batch, result)
            if on_rows:
                on_rows(len(batch))
            batch = []
    if batch:
        _batch_write(batch, result)
        if on_rows:
            on_rows(len(batch))


def _batch_write(
    batch: list[tuple[int, int, int, dt.datetime, int, str]], result: InteractionImportResult
) -> None:
    enrolments: dict[tuple[int, int], _EnrolmentDelta] = {}
    earliest: dict[int, dict[tuple[int, int], dt.datetime]] = {BOOKMARK: {}, DISMISS: {}}
    events: dict[uuid.UUID, FeedbackEvent] = {}
    for kind, member, course, stamp, value, event_id in batch:
        pair = (member, course)
        if kind in ENROLMENT_EVENTS:
            delta = enrolments.get(pair)
            if delta is None:
                delta = enrolments[pair] = _EnrolmentDelta(enrolled_at=stamp)
            delta.enrolled_at = min(delta.enrolled_at, stamp)
            progress = 100 if kind == FINISH else value
            delta.progress = max(delta.progress, progress)
            if progress == 100:
                delta.completed_at = _earlier(delta.completed_at, stamp)
            if kind == WATCH:
                delta.last_watched_at = _later(delta.last_watched_at, stamp)
        elif kind in earliest:
            seen = earliest[kind].get(pair)
            earliest[kind][pair] = stamp if seen is None else min(seen, stamp)
        else:
            events[uuid.UUID(event_id)] = FeedbackEvent(
                event_id=uuid.UUID(event_id),
                kind=FEEDBACK_KINDS[kind],
                member_id=member,
                course_id=course,
                created_at=stamp,
            )
    if enrolments:
        _enrolments_merge(enrolments, result)
    for kind, model in ((BOOKMARK, Bookmark), (DISMISS, Dismissal)):
        if earliest[kind]:
            created, updated = _earliest_merge(model, earliest[kind])
            if kind == BOOKMARK:
                result.bookmarks_created += created
                result.bookmarks_updated += updated
            else:
                result.dismissals_created += created
                result.dismissals_updated += updated
    if events:
        known = set(
            FeedbackEvent.objects.filter(event_id__in=list(events)).values_list(
                "event_id", flat=True
            )
        )
        new = [event for event_id, event in events.items() if event_id not in known]
        FeedbackEvent.objects.bulk_create(new)
        feedback_counts_add(
            deltas=[
                FeedbackDelta(
                    event.member_id,
                    event.course_id,
                    "",
                    timezone.localdate(event.created_at),
                    impressions=int(event.kind == FeedbackEvent.Kind.IMPRESSION),
                    clicks=int(event.kind == FeedbackEvent.Kind.CLICK),
                )
                for event in new
            ]
        )
        result.feedback_events_created += len(new)


def _stored(model, pairs) -> dict[tuple[int, int], object]:
    members = {member for member, _ in pairs}
    courses = {course for _, course in pairs}
    return {
        (row.member_id, row.course_id): row
        for row in model.objects.filter(member_id__in=members, course_id__in=courses)
        if (row.member_id, row.course_id) in pairs
    }


def _enrolments_merge(
    enrolments: dict[tuple[int, int], _EnrolmentDelta], result: InteractionImportResult
) -> None:
    stored = _stored(Enrolment, enrolments)
    new, changed = [], []
    for (member, course), delta in enrolments.items():
        row = stored.get((member, course))
        if row is None:
            new.append(
                Enrolment(
                    member_id=member,
                    course_id=course,
                    enrolled_at=delta.enrolled_at,
                    progress_percent=delta.progress,
                    last_watched_at=delta.last_watched_at,
                    completed_at=delta.completed_at,
                )
            )
            continue
        before = (row.enrolled_at, row.progress_percent, row.last_watched_at, row.completed_at)
        row.enrolled_at = min(row.enrolled_at, delta.enrolled_at)
        row.progress_percent = max(row.progress_percent, delta.progress)
        row.last_watched_at = _later(row.last_watched_at, delta.last_watched_at)
        row.completed_at = _earlier(row.completed_at, delta.completed_at)
        if before != (row.enrolled_at, row.progress_percent, row.last_watched_at, row.completed_at):
            changed.append(row)
    Enrolment.objects.bulk_create(new)
    Enrolment.objects.bulk_update(
        changed, ["enrolled_at", "progress_percent", "last_watched_at", "completed_at"]
    )
    result.enrolments_created += len(new)
    result.enrolments_updated += len(changed)


def _earliest_merge(
    model: type[Bookmark] | type[Dismissal], earliest: dict[tuple[int, int], dt.datetime]
) -> tuple[int, int]:
    stored = _stored(model, earliest)
    new = [
        model(member_id=member, course_id=course, created_at=stamp)
        for (member, course), stamp in earliest.items()
        if (member, course) not in stored
    ]
    changed = []
    for pair, row in stored.items():
        if earliest[pair] < row.created_at:
            row.created_at = earliest[pair]
            changed.append(row)
    model.objects.bulk_create(new)
    if model is Dismissal:
        # Dismissal.created_at is auto_now_add, which bulk_create overwrote with the current
        # time; the update below writes the file's time back.
        for row in new:
            row.created_at = earliest[(row.member_id, row.course_id)]
        changed.extend(new)
    model.objects.bulk_update(changed, ["created_at"])
    return len(new), len(changed) - (len(new) if model is Dismissal else 0)
