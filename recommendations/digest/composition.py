"""What a member's digest shows: the first `DIGEST["CAROUSELS"]` carousels of the homepage they
would get now (their variant of a running experiment that targets the email, without
"Continue learning"), each cut to its first `DIGEST["COURSES_PER_CAROUSEL"]` courses that
the member's last digest did not show. The headings are the carousels' labels and each course
keeps its card's explanation, so the email says exactly what the site says. Dismissed, started
and finished courses never reach it: the homepage leaves them out already (`serving/reasons.py`,
the valid courses). Nothing here is a second recommender: the page comes from
`serving.home_page.home_page_serve`.

Per member the composition costs what a homepage costs (the member's inputs: one statement on
PostgreSQL); what the digests of a batch of members read besides (the members with their
accounts, the courses of their last digests) is one query each for the whole batch.
"""

import dataclasses
import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from members.models import Member
from recommendations.data import STRATEGY_EXPLORE, Card, ShownCourse
from recommendations.models import DigestItem, DigestSend, Experiment, PageView
from recommendations.serving.home_page import home_page_serve


@dataclass(frozen=True)
class DigestCarousel:
    reason: str
    key: str
    label: str
    cards: list[Card]


@dataclass(frozen=True)
class Digest:
    member: Member
    carousels: list[DigestCarousel]
    # What served the page it was built from (the logged strategy) and the experiment variant.
    strategy: str
    variant_id: int | None
    # The id its impression is logged under (`PageView`, channel email): the page's own.
    page_view_id: uuid.UUID | None = None

    @property
    def empty(self) -> bool:
        return not self.carousels

    def shown(self) -> list[ShownCourse]:
        """The cards as the email shows them, for its page view: slot = position in the email,
        carousel and position in the carousel the email's; reason, strategy and variant the
        page's."""
        shown = []
        for carousel_position, carousel in enumerate(self.carousels):
            for position, card in enumerate(carousel.cards):
                shown.append(
                    dataclasses.replace(
                        card.shown, carousel_position=carousel_position, position=position
                    )
                )
        return shown

    def placed(self) -> list[tuple[int, int, Card]]:
        """(position in the email, carousel position, card), in the email's order."""
        placed, position = [], 0
        for carousel_position, carousel in enumerate(self.carousels):
            for card in carousel.cards:
                placed.append((position, carousel_position, card))
                position += 1
        return placed


def week_start(moment: dt.datetime | dt.date) -> dt.date:
    """Monday of the ISO week of `moment` (in the site's time zone when it is a datetime)."""
    day = timezone.localdate(moment) if isinstance(moment, dt.datetime) else moment
    return day - dt.timedelta(days=day.weekday())


def last_digest_courses(*, member_ids: Sequence[int], before_week: dt.date) -> dict[int, set[int]]:
    """The courses each member's latest digest before `before_week` showed (one query for the
    batch: a digest that found nothing new showed nothing and does not count)."""
    latest = (
        DigestSend.objects.filter(member_id=OuterRef("send__member_id"), week__lt=before_week)
        .exclude(state=DigestSend.State.EMPTY)
        .order_by("-week")
        .values("pk")[:1]
    )
    shown: dict[int, set[int]] = defaultdict(set)
    rows = DigestItem.objects.filter(
        send__member_id__in=list(member_ids), send_id=Subquery(latest)
    ).values_list("send__member_id", "course_id")
    for member_id, course_id in rows:
        shown[member_id].add(course_id)
    return shown


def digest_compose(
    *,
    member: Member,
    already_shown: Iterable[int] = (),
    now: dt.datetime | None = None,
    page_view_id: uuid.UUID | None = None,
) -> Digest:
    """The member's digest as of `now`, leaving out `already_shown` (their last digest's
    courses). An empty digest: nothing new to recommend. `page_view_id`: its impression's id
    (a new one by default; the simulation draws it from its seeded generator)."""
    config = settings.DIGEST
    page = home_page_serve(
        member=member,
        now=now,
        page_view_id=page_view_id,
        with_continue=False,
        experiment_channel=Experiment.Channel.EMAIL,
        # The ranker orders the cards for a reader of the email, as it learned from digests.
        channel=PageView.Channel.EMAIL,
    )
    seen = set(already_shown)
    carousels: list[DigestCarousel] = []
    for carousel in page.carousels:
        if len(carousels) == config["CAROUSELS"]:
            break
        cards = [card for card in carousel.cards if card.course.pk not in seen]
        if cards:
            cards = cards[: config["COURSES_PER_CAROUSEL"]]
            carousels.append(DigestCarousel(carousel.reason, carousel.key, carousel.label, cards))
    shown = [card.shown for carousel in carousels for card in carousel.cards]
    strategies = [item.strategy for item in shown if item.strategy != STRATEGY_EXPLORE]
    return Digest(
        member=member,
        carousels=carousels,
        strategy=strategies[0] if strategies else (shown[0].strategy if shown else ""),
        variant_id=next((item.variant_id for item in shown if item.variant_id), None),
        page_view_id=page.page_view_id,
    )


def digest_preview(*, member: Member, now: dt.datetime) -> Digest:
    """The member's next digest as it would be composed now: after this week's, when that one
    was sent, so it leaves out what the latest digest showed."""
    latest = last_digest_courses(
        member_ids=[member.pk], before_week=week_start(now) + dt.timedelta(days=7)
    )
    return digest_compose(member=member, already_shown=latest.get(member.pk, ()), now=now)
