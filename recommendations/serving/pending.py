"""A page view between the response and its commit.

Pages write their page view (every card they showed, `PageView`) after the response has gone
out (see `deferred`). A client can act on the page before that write commits: the
recommendations API returns the `page_view_id`, and a click event sent at once may reach
another worker (gunicorn's sync workers take each request on a new connection) while the first
is still writing. Without a wait, that click finds no page view and is refused.

On PostgreSQL the serving worker holds a session advisory lock on the page view from before the
response until the impressions are committed; a reader that finds no impression takes the same
lock in shared mode, waiting at most `IMPRESSIONS_WAIT_SECONDS`, and looks again. The lock dies
with the worker's database session, so a killed worker never leaves readers waiting. The
homepage and the recommendations API take it in the statement that reads the member's inputs
(`member_serving_inputs`), which saves a round trip of its own; a request that fails before its
impressions are handed over releases it when its response is closed
(`page_views_pending_middleware`), before its connection can go back to a pool. Elsewhere
(SQLite: the demo and local tests) impressions are written before the response, and nothing is
ever in flight.
"""

import dataclasses
import uuid
from collections.abc import Callable

import orjson
from asgiref.local import Local
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponseBase

from core.prepared_statements import prepared_cursor
from members.models import Member
from recommendations.data import ShownCourse
from recommendations.feedback.page_views import (
    page_view_card_at,
    page_view_first_slot,
    page_view_slot_count,
)
from recommendations.models import PageView


def impressions_deferrable() -> bool:
    """Whether impressions may be written after the response (readers can wait for them)."""
    return connection.vendor == "postgresql"


# The page views this request holds pending: their lock keys, each cleared after its
# impressions or released when the request finishes. Local as Django's database connections
# are: per thread, and per request context under ASGI.
_held = Local()


def _held_keys() -> set[int]:
    keys = getattr(_held, "keys", None)
    if keys is None:
        keys = _held.keys = set()
    return keys


def page_view_pending_mark(page_view_id: uuid.UUID) -> None:
    """Hold the page view's lock until `page_view_pending_clear`; call before the response.
    Nothing to do when this request holds it already (`page_view_pending_lock_key`)."""
    key = _lock_key(page_view_id)
    if key in _held_keys():
        return
    with prepared_cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    _held_keys().add(key)


def page_view_pending_lock_key(page_view_id: uuid.UUID) -> int:
    """The lock key for a statement that takes the page view's lock itself (`SELECT
    pg_advisory_lock(key)`, session level). It counts as held from now on, even if that
    statement fails (a session lock taken by a statement that then fails stays taken): run
    the statement next, then hand the page view to `page_view_pending_mark` and
    `page_view_pending_clear` as usual."""
    key = _lock_key(page_view_id)
    _held_keys().add(key)
    return key


def page_view_pending_clear(page_view_id: uuid.UUID) -> None:
    key = _lock_key(page_view_id)
    _held_keys().discard(key)
    with prepared_cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def page_views_pending_middleware(get_response: Callable[[HttpRequest], HttpResponseBase]):
    """Release what the request still holds when its response is closed (first in MIDDLEWARE).

    `request_finished` comes too late with a connection pool: its first receiver, Django's
    `close_old_connections`, gives the connection back to the pool, and a session lock held on
    it would stay held for whichever request takes it next. A response's closers run before
    that signal, after the view's own (the impressions' write, `deferred`).
    """

    def middleware(request: HttpRequest) -> HttpResponseBase:
        response = get_response(request)
        response._resource_closers.append(page_views_pending_release)
        return response

    return middleware


def page_views_pending_release(**kwargs) -> None:
    """`request_finished`: release what the request still holds. A page view the request
    marked but never handed to its impressions' write (the view failed after reading the
    member's inputs) would otherwise stay locked as long as the connection lives."""
    keys = _held_keys()
    if not keys:
        return
    held = sorted(keys)
    keys.clear()
    # Closed (an error, or its age): the locks ended with the session; do not open a new one.
    if connection.connection is None:
        return
    try:
        with connection.cursor() as cursor:
            for key in held:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    except DatabaseError:
        # A broken connection is closed at the end of the request; the locks end with it.
        pass


class SlotRefused(Exception):
    """An event named a slot its page view cannot give it: `reason` is the events API's code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def page_view_card(
    *,
    member: Member,
    page_view_id: uuid.UUID | None,
    course_id: int,
    slot: int | None = None,
    wait: bool = True,
) -> ShownCourse | None:
    """The card of the course on the member's page view: at `slot` when given, else its first
    slot; None when that page view of this member did not show the course (no page view, an
    unknown one, another member's: the same answer, so no one probes others' page views).
    Waits for the page view if it is still being written. Callers that already waited
    (`page_view_written_wait`) pass `wait=False`.

    Raises SlotRefused for a slot beyond the page's cards (`unknown_slot`) or one that showed
    another course (`slot_mismatch`).
    """
    if page_view_id is None:
        return None
    page = _page_view_read(member=member, page_view_id=page_view_id)
    if page is None and wait and page_view_written_wait(page_view_id):
        page = _page_view_read(member=member, page_view_id=page_view_id)
    if page is None:
        return None
    channel = page.pop("channel")
    count = page_view_slot_count(page["courses"])
    if slot is None:
        slot = page_view_first_slot(page["courses"], course_id)
        if slot is None:
            return None
    elif not 0 <= slot < count:
        raise SlotRefused(
            "unknown_slot", f"This page view showed {count} cards: slot must be below that."
        )
    card = page_view_card_at(**page, slot=slot)
    if card.course_id != course_id:
        raise SlotRefused("slot_mismatch", f"Slot {slot} of this page view showed another course.")
    return dataclasses.replace(card, channel=channel)


def _page_view_read(*, member: Member, page_view_id: uuid.UUID) -> dict | None:
    if connection.vendor != "postgresql":
        return (
            PageView.objects.filter(pk=page_view_id, member=member)
            .values(*_PAGE_VIEW_FIELDS)
            .first()
        )
    # Prepared: every click reads its page view, and the ORM's query cost about three times as
    # much to build and plan as to run.
    with prepared_cursor() as cursor:
        cursor.execute(_PAGE_VIEW_SQL, [page_view_id, member.pk])
        row = cursor.fetchone()
    if row is None:
        return None
    page = dict(zip(_PAGE_VIEW_FIELDS, row, strict=True))
    page["labels"] = orjson.loads(page["labels"])
    return page


_PAGE_VIEW_FIELDS = ("courses", "slots", "labels", "variant_id", "channel")
_PAGE_VIEW_SQL = (
    "SELECT courses, slots, labels::text, variant_id, channel "
    f"FROM {PageView._meta.db_table} WHERE id = %s AND member_id = %s"
)


def page_view_written_wait(page_view_id: uuid.UUID) -> bool:
    """Wait until no worker is writing the page view's impressions; False if that took longer
    than the limit. Returns at once for a page view nobody is writing (forged or old).

    Call it before the transaction writes or locks anything the impressions' transaction needs
    (the member's count rows, the member row itself for their foreign keys): that transaction
    would then wait for this one, while this one waits for it.
    """
    if not impressions_deferrable():
        return True
    key = _lock_key(page_view_id)
    # Nearly always nobody is writing it any more: one statement says so, without the
    # savepoint and lock timeout a wait needs.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock_shared(%s)", [key])
        if cursor.fetchone()[0]:
            return True
    milliseconds = int(1000 * settings.RECOMMENDATIONS["IMPRESSIONS_WAIT_SECONDS"])
    try:
        # A savepoint, so a timed-out wait leaves the caller's transaction usable; the lock
        # timeout is set for this transaction only, and the shared lock ends with it.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, true)",
                [f"{max(milliseconds, 1)}ms"],
            )
            (previous, _) = cursor.fetchone()
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [key])
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
    except DatabaseError:
        return False
    return True


def _lock_key(page_view_id: uuid.UUID) -> int:
    # 63 random bits of the id, as a signed bigint: collisions only cost a needless short wait.
    return page_view_id.int & (2**63 - 1)
