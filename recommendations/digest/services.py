"""The digest's writes outside sending: a followed course link, and pruning old digests."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.models import Course
from catalog.selectors import course_published_get
from recommendations.digest.composition import week_start
from recommendations.feedback.services import email_click_log
from recommendations.models import DigestItem, DigestSend


def digest_click_record(
    *, send_id: int, position: int, now: dt.datetime | None = None
) -> Course | None:
    """Record that the course at `position` of digest `send_id` was followed and return the
    course to land on; None, recording nothing, for a digest or position that does not exist
    (pruned, the account deleted) or a course no longer published.

    Only the first follow of a position is recorded (CTR counts courses clicked, not clicks):
    it sets the item's `clicked_at` and, in the same transaction, stores the click event on the
    email channel citing (the digest's page view, `position`), with the card's reason,
    strategy and variant from that page view (`feedback.services.email_click_log`). A digest
    sent before digests had page views, or whose page view was pruned, records `clicked_at`
    alone."""
    item = (
        DigestItem.objects.filter(send_id=send_id, position=position)
        .select_related("send__member")
        .first()
    )
    if item is None:
        return None
    course = course_published_get(course_id=item.course_id)
    if course is None:
        return None
    if item.clicked_at is not None:
        return course
    now = now or timezone.now()
    with transaction.atomic():
        first = DigestItem.objects.filter(pk=item.pk, clicked_at__isnull=True).update(
            clicked_at=now
        )
        if first and item.send.page_view_id is not None:
            email_click_log(
                member=item.send.member,
                page_view_id=item.send.page_view_id,
                slot=position,
                course=course,
                now=now,
            )
    return course


def digests_prune(*, now: dt.datetime | None = None, kept_weeks: int | None = None) -> int:
    """Delete the digests (what they showed and its clicks) of weeks more than `kept_weeks`
    (`DIGEST["KEPT_WEEKS"]`) before this one (the daily `data_retention` task); returns how
    many digests went. Last week's stays whatever the setting: the next digest reads it."""
    kept_weeks = settings.DIGEST["KEPT_WEEKS"] if kept_weeks is None else kept_weeks
    cutoff = week_start(now or timezone.now()) - dt.timedelta(weeks=max(kept_weeks, 1))
    DigestItem.objects.filter(send__week__lt=cutoff).delete()
    deleted, _ = DigestSend.objects.filter(week__lt=cutoff).delete()
    return deleted
