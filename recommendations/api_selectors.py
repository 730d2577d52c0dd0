"""Reads behind the recommendations API: a trimmed homepage, members in bulk, recent training
runs."""

from collections.abc import Iterable
from dataclasses import replace

from django.db.models import QuerySet

from members.models import Member
from recommendations.data import REASON_CONTINUE, HomePage
from recommendations.models import TrainingRun

REASON_FAMILIES = (
    REASON_CONTINUE,
    "goal",
    "follow",
    "watched",
    "profile",
    "title",
    "industry",
    "popular",
    "new",
)


def home_page_trim(*, page: HomePage, reason: str | None, limit: int) -> HomePage:
    """`page` with only the carousels of one reason family (all when None), each cut to `limit`
    cards (their courses carry their approved skills: see `course_cards_by_id`).

    Cards keep their carousel position and position from the full page, so impressions logged
    for the trimmed page attribute clicks exactly as the homepage would.
    """
    carousels = [
        replace(carousel, cards=carousel.cards[:limit])
        for carousel in page.carousels
        if reason is None or carousel.reason == reason
    ]
    return replace(page, carousels=carousels)


def members_in_bulk(*, member_ids: Iterable[int]) -> dict[int, Member]:
    """Members by id with what `home_page_for_member` reads of them (title, industry names)."""
    return Member.objects.select_related("title", "industry").in_bulk(list(member_ids))


def training_runs_recent() -> QuerySet[TrainingRun]:
    """Training runs, newest first, without their (large) model artifact."""
    return TrainingRun.objects.defer("artifact").order_by("-started_at", "-id")
