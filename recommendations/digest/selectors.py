"""The digest's reads for the admin: sends and email click-through per week and reason."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from recommendations.digest.composition import week_start
from recommendations.feedback.selectors import ShownClicks
from recommendations.models import DigestItem, DigestSend


@dataclass
class DigestWeek:
    week: dt.date
    # Digests per state (sent, claimed, empty) and courses shown and clicked per reason family.
    sends: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, ShownClicks] = field(default_factory=dict)

    @property
    def total(self) -> ShownClicks:
        return ShownClicks(
            shown=sum(r.shown for r in self.reasons.values()),
            clicks=sum(r.clicks for r in self.reasons.values()),
        )


def digest_weeks(*, weeks: int = 12, now: dt.datetime | None = None) -> list[DigestWeek]:
    """The last `weeks` ISO weeks (oldest first, weeks without digests included): digests per
    state and the email's click-through (courses whose link was followed / courses shown) per
    reason family. Two queries."""
    last = week_start(now or timezone.now())
    first = last - dt.timedelta(weeks=weeks - 1)
    by_week = {
        first + dt.timedelta(weeks=i): DigestWeek(week=first + dt.timedelta(weeks=i))
        for i in range(weeks)
    }
    sends = (
        DigestSend.objects.filter(week__gte=first, week__lte=last)
        .values_list("week", "state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for week, state, count in sends:
        by_week[week].sends[state] = count
    items = (
        DigestItem.objects.filter(send__week__gte=first, send__week__lte=last)
        .values_list("send__week", "reason")
        .annotate(shown=Count("pk"), clicks=Count("pk", filter=Q(clicked_at__isnull=False)))
        .order_by()
    )
    reasons: dict[dt.date, dict[str, ShownClicks]] = defaultdict(dict)
    for week, reason, shown, clicks in items:
        reasons[week][reason] = ShownClicks(shown=shown, clicks=clicks)
    for week, row in reasons.items():
        by_week[week].reasons = dict(sorted(row.items()))
    return list(by_week.values())
