"""Writes a view hands over to run once its response has gone out.

A homepage or recommendations response logs its page view: close to a hundred impressions, in
one row, with the counts they add to. The member does not wait for that write, so it runs from
the response's close(), which the WSGI server calls after sending the last byte (and Django's
test client calls before returning). The worker is busy until it is done, so the site serves no
more requests per second; each response arrives that much sooner. Clicks on the page wait for
the write (`pending`); on SQLite, where they cannot, the write happens before the response.

After the impressions, the member's next homepage is composed and stored (`stored_pages`),
so their next page view, if nothing else changes meanwhile, need not compose it; a page composed
for this view is stored as it is instead (`next_page_compose_after_response`).
"""

import logging
import uuid
from collections.abc import Sequence

from django.http import HttpResponseBase
from django.utils import timezone

from members.models import Member
from recommendations.data import HomePage, ShownCourse
from recommendations.feedback.services import impressions_log
from recommendations.refresh_queue import member_refresh_pending
from recommendations.serving.home_page import home_page_compose_next, home_page_store
from recommendations.serving.pending import (
    impressions_deferrable,
    page_view_pending_clear,
    page_view_pending_mark,
)
from recommendations.serving.stored_pages import (
    composed_page_max_age,
    composed_page_steady_seconds,
)

logger = logging.getLogger(__name__)


def impressions_log_after_response(
    response: HttpResponseBase,
    *,
    member: Member,
    page_view_id: uuid.UUID,
    shown: Sequence[ShownCourse],
    channel: str,
) -> None:
    """Log `shown` as the page view `page_view_id` (`PageView`, on `channel`) once `response`
    is sent.

    If the write fails the member already has the page: the error is logged (Django ignores
    errors raised while closing a response) and that page's impressions are lost, as they would
    be if the worker died after sending it. A click on such a page is refused like any click
    without its impression (see `click_log`).

    Until they commit, the page view is marked pending (`pending`), so a click sent at once
    to another worker waits for them. Where readers cannot wait (SQLite), they are written now.
    """
    if not impressions_deferrable():
        _log(member=member, page_view_id=page_view_id, shown=shown, channel=channel)
        return
    page_view_pending_mark(page_view_id)

    def log() -> None:
        try:
            _log(member=member, page_view_id=page_view_id, shown=shown, channel=channel)
        finally:
            # If this fails the connection is broken, and Django closes it at the end of the
            # request: the lock ends with its session.
            page_view_pending_clear(page_view_id)

    # Django's own hook for work at close(): it runs before request_finished, whose handler
    # returns the database connection, so the write still has it.
    response._resource_closers.append(log)


def _log(
    *, member: Member, page_view_id: uuid.UUID, shown: Sequence[ShownCourse], channel: str
) -> None:
    try:
        impressions_log(member=member, page_view_id=page_view_id, shown=shown, channel=channel)
    except Exception:
        logger.exception("impressions of page view %s were not logged", page_view_id)


def next_page_compose_after_response(
    response: HttpResponseBase,
    *,
    member: Member,
    only_if_stored: bool = False,
    served: HomePage | None = None,
) -> None:
    """Compose and store the member's next homepage once `response` is sent; a page view calls
    it after `impressions_log_after_response`, so the page is composed from its impressions.
    `only_if_stored`: see `home_page_compose_next` (for writes, which need not come from a
    member who is browsing). A write that asked for a refresh of the member's row composes
    nothing either: the refresh task composes the page once the new row is in
    (`recommendations.tasks.member_refresh`), and a page composed before that would be
    replaced unseen. That is asked here, once the write has committed, not after the
    response: a refresh that finished meanwhile (the task worker is often that quick) would
    otherwise leave two compositions of the same page, the task's and this one.

    A page view that was `served` a stored page composed less than half of
    `COMPOSED_PAGE_STEADY_SECONDS` ago composes nothing: its impressions do not change the
    member's page within those seconds, so the stored one serves their next view too. In the
    second half a new one is composed ahead, and the views after it get the impressions' effect.
    A page view whose page was composed for it (the member did something since their stored
    page, or had none) stores that page as it is, and its steady seconds start: composing
    another at once would give the page just served, as the impressions it adds do not count
    within those seconds (without steady seconds they do, and the next page is composed).
    `served` is the whole page, not the part of it a response showed.

    Only where impressions are written after the response: elsewhere (SQLite) the member would
    wait for it. A failure is logged; the next page view then composes its page itself.
    """
    if not impressions_deferrable() or composed_page_max_age() <= 0:
        return
    steady_seconds = composed_page_steady_seconds()
    if (
        served is not None
        and served.stored_composed_at is None
        and served.digest is not None
        and steady_seconds > 0
    ):
        _served_page_store_after_response(response, member=member, page=served)
        return
    if served is not None and served.stored_composed_at is not None:
        age = (timezone.now() - served.stored_composed_at).total_seconds()
        if 0 <= age < steady_seconds / 2:
            return
    if only_if_stored and member_refresh_pending(member_id=member.pk):
        return

    def compose() -> None:
        try:
            home_page_compose_next(member=member, only_if_stored=only_if_stored)
        except Exception:
            logger.exception("the next homepage of member %s was not composed", member.pk)

    response._resource_closers.append(compose)


def _served_page_store_after_response(
    response: HttpResponseBase, *, member: Member, page: HomePage
) -> None:
    """Store `page`, composed for this page view, as the member's next page once `response` is
    sent; a failure is logged, and the next page view composes its page itself."""
    composed_at = timezone.now()

    def store() -> None:
        try:
            home_page_store(member_id=member.pk, page=page, composed_at=composed_at)
        except Exception:
            logger.exception("the homepage of member %s was not stored", member.pk)

    response._resource_closers.append(store)
