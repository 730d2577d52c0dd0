"""Reads of recorded feedback: where a page view showed a course, what a member was shown
recently, a member's dismissals, and click-through per channel and week (the admin's)."""

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.db.models import Count, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from catalog.selectors import course_published_q
from members.models import Member
from recommendations.data import REASON_CONTINUE, ShownCourse
from recommendations.feedback.page_views import page_view_courses
from recommendations.models import Dismissal, FeedbackEvent, PageView
from recommendations.serving.pending import page_view_card


def shown_course_of_page_view(
    *, member: Member, page_view_id: uuid.UUID | None, course_id: int
) -> ShownCourse | None:
    """Where the member's page view showed the course (reason, carousel, position, strategy,
    variant), read from its `PageView`; None when it showed none (no page view, or a forged or
    stale one). Dismiss and undo record this context, so a card's form carries only the page
    view's id and no one can credit a reason that never showed the course. Waits for the page
    view if it is still being written."""
    return page_view_card(member=member, page_view_id=page_view_id, course_id=course_id)


def courses_shown_since(*, member: Member, since: dt.datetime) -> set[int]:
    """The courses the member's page views showed since `since`.

    On PostgreSQL an index-only scan of `page_view_member_time`, which holds each page view's
    course ids: the page views' rows (their slots and labels) are not read.
    """
    return {
        course_id
        for courses in PageView.objects.filter(member=member, created_at__gte=since)
        .order_by()
        .values_list("courses", flat=True)
        for course_id in page_view_courses(courses).tolist()
    }


def dismissal_of_member(*, member: Member, dismissal_id: int) -> Dismissal | None:
    """The member's dismissal with that id; None for an unknown id or another member's."""
    return Dismissal.objects.filter(pk=dismissal_id, member=member).first()


def dismissals_for_member(*, member: Member) -> list[Dismissal]:
    """The member's dismissals of published courses, newest first (a course unpublished since
    has nothing to come back to)."""
    return list(
        Dismissal.objects.filter(course_published_q(prefix="course__"), member=member)
        .select_related("course")
        .order_by("-created_at")
    )


@dataclass(frozen=True)
class ShownClicks:
    """Recommended cards shown and the clicks on them (a channel's, a reason's, a week's)."""

    shown: int
    clicks: int

    @property
    def ctr(self) -> float | None:
        return self.clicks / self.shown if self.shown else None


@dataclass
class ChannelWeek:
    week: dt.date  # Monday of the ISO week
    # `PageView.Channel` value → recommended cards shown and clicks on them.
    channels: dict[str, ShownClicks] = field(default_factory=dict)


def channel_weeks(*, weeks: int = 12, now: dt.datetime | None = None) -> list[ChannelWeek]:
    """Click-through per channel (web, api, email) over the last `weeks` ISO weeks, oldest
    first, weeks without traffic included: shown = the recommended cards of the channel's page
    views (not the Continue learning row), clicks = click events on that channel (each carries
    its page view's channel), by the week they happened. Two queries. Page views are pruned
    after IMPRESSIONS_KEPT_DAYS; clicks stay, so keep `weeks` within it."""
    now = now or timezone.now()
    last = timezone.localdate(now)
    last -= dt.timedelta(days=last.weekday())
    first = last - dt.timedelta(weeks=weeks - 1)
    since = timezone.make_aware(dt.datetime.combine(first, dt.time()))
    by_week = {
        first + dt.timedelta(weeks=i): ChannelWeek(week=first + dt.timedelta(weeks=i))
        for i in range(weeks)
    }
    totals: dict[tuple[dt.date, str], list[int]] = {}
    shown = (
        PageView.objects.filter(created_at__gte=since, created_at__lte=now)
        .annotate(week=TruncWeek("created_at"))
        .values_list("week", "channel")
        .annotate(n=Sum("recommended"))
        .order_by()
    )
    for week, channel, n in shown:
        totals.setdefault((_day(week), channel), [0, 0])[0] += n or 0
    clicks = (
        FeedbackEvent.objects.filter(
            kind=FeedbackEvent.Kind.CLICK, created_at__gte=since, created_at__lte=now
        )
        .exclude(channel="")
        .exclude(reason=REASON_CONTINUE)
        .annotate(week=TruncWeek("created_at"))
        .values_list("week", "channel")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for week, channel, n in clicks:
        totals.setdefault((_day(week), channel), [0, 0])[1] += n
    for (week, channel), (n_shown, n_clicks) in sorted(totals.items()):
        if week in by_week:
            by_week[week].channels[channel] = ShownClicks(shown=n_shown, clicks=n_clicks)
    return list(by_week.values())


def _day(moment: dt.datetime | dt.date) -> dt.date:
    return moment.date() if isinstance(moment, dt.datetime) else moment
