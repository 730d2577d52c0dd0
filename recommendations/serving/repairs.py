"""A stored row or page that cannot be read: logged, deleted, and the page served without it.

The member's precomputed row (`MemberRecommendations.payload`) and their stored next page
(`ComposedPage.layout`) are bytes written by this project, but a truncated write, a manual edit
or a format change could still leave one unreadable. Either would then fail every homepage and
API request of that member until rewritten. Instead the serving code catches the decoding error
here: the bad row is logged with the member id and deleted, so it fails only once; the page is
served without it (rule-based reasons only, or composed afresh); and a deleted precomputed row
is queued for a refresh, which writes a new one from the active run.
"""

import logging

from recommendations.models import ComposedPage, MemberRecommendations
from recommendations.refresh_queue import member_refresh_request

logger = logging.getLogger(__name__)


class StoredRowInvalid(ValueError):
    """A stored precomputed row or page whose bytes cannot be decoded."""


def member_row_discard(*, member_id: int, error: Exception) -> None:
    """Delete the member's unreadable precomputed row and queue a refresh that rewrites it."""
    logger.error(
        "member %s: unreadable recommendations row deleted, page served with rule-based "
        "reasons, refresh queued: %s",
        member_id,
        error,
    )
    MemberRecommendations.objects.filter(member_id=member_id).delete()
    member_refresh_request(member_id=member_id)


def composed_page_discard(*, member_id: int, error: Exception) -> None:
    """Delete the member's unreadable stored page (the page is composed afresh)."""
    logger.error(
        "member %s: unreadable stored homepage deleted, page composed afresh: %s",
        member_id,
        error,
    )
    ComposedPage.objects.filter(member_id=member_id).delete()
