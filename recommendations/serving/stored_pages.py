"""A member's next homepage, composed once the last one is sent, and served while nothing it
was composed from has changed.

Composing a homepage (scoring each reason's candidates, diversity, the ranker, the cards) is
most of a page view's time. It cannot be stored for long: impression discounting and the
carousel order by click-through read every earlier page view's impressions, so each page view
changes the next page. What can be done is to compose that next page right after the response,
once this page's impressions are written (`deferred`), and store it with a digest of
everything it was composed from. The next page view reads the member's inputs as it always
does (one statement, which also returns the stored page); when their digest is the stored one,
it serves the stored carousels: the page it would have composed, without composing it.

The digest covers the member's inputs (skills, enrolments and their progress, dismissals,
learned candidates, discounted courses and per-reason counts, catalog revision), what the page
reads of the member row (title, industry, seniority, goal, and the names its labels show), the
role's skills for the goal, the active
run (snapshot and ranker), the strategy, variant and carousel limit, the first day of the
discount window, and the recommendation settings. Only the clock is left out: a stored page is
served within `COMPOSED_PAGE_MAX_AGE_SECONDS` of its composition or not at all (its recency
scores are then minutes old, against a half-life of days). Pages with exploration, random per
page view, and pages without an active run (a snapshot built in each process) are never stored.

A second digest leaves out the impressions (the discounted courses and the per-reason
impression counts; per-reason clicks stay in). For `COMPOSED_PAGE_STEADY_SECONDS` (60) after its
composition a stored page whose second digest still matches is served: a member who comes back
within a minute sees the page they saw, and only what they do (a follow, an enrolment, a click,
a dismissal...) changes it meanwhile. In the first half of those seconds a page view composes no
next page (`deferred`); in the second half it does, so the impressions take effect on the views
after it. A page view that composed its page (none was servable) stores that page as it is, and
its seconds start. The work this saves is most of a page view's: under `make loadtest` every
member views a page every second or two. Within those seconds the member's inputs are read
without the discounted courses (`member_serving_inputs`' `stored_steady_between`), whose sum
over the window grows with every page the member sees: the second digest does not need them,
and a page that is composed after all reads them then.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson
from django.conf import settings
from django.db import connection

from core.prepared_statements import prepared_cursor
from members.models import Member
from recommendations.models import ComposedPage
from recommendations.serving.repairs import StoredRowInvalid

if TYPE_CHECKING:
    from recommendations.data import Carousel
    from recommendations.serving.inputs import MemberServingInputs

# One carousel of a page: reason family, reason key, label, course ids and scores in the order
# shown, and each card's explanation line. A stored page keeps the lines it was served with
# (they derive from what its digest covers: the member's skills, progress and goal, and the
# catalog), so serving it builds none; a row being composed has None there, and gets its lines
# from the member's `ExplanationContext`.
LayoutRow = tuple[str, str, str, list[int], list[float], list[str] | None]


@dataclass(frozen=True)
class StoredPage:
    digest: bytes
    composed_at: dt.datetime
    layout: bytes
    digest_without_impressions: bytes = b""


@dataclass(frozen=True)
class PageDigests:
    """What a page was composed from: everything (`full`), and everything but the impressions
    (`without_impressions`: the discounted courses, and the per-reason impression counts).
    `full` is None for inputs read without their discounted courses."""

    full: bytes | None
    without_impressions: bytes


def composed_page_max_age() -> int:
    """Seconds a stored page stays servable; 0 turns storing and serving them off."""
    return settings.RECOMMENDATIONS["COMPOSED_PAGE_MAX_AGE_SECONDS"]


def composed_page_steady_seconds() -> int:
    """Seconds after its composition a stored page is served whatever the impressions since
    (never more than the page's max age)."""
    return min(settings.RECOMMENDATIONS["COMPOSED_PAGE_STEADY_SECONDS"], composed_page_max_age())


def page_digest(
    *,
    inputs: MemberServingInputs,
    member: Member,
    run_id: int,
    strategy: str,
    variant_id: int | None,
    max_carousels: int | None,
    window_start: dt.date,
) -> PageDigests:
    """16 bytes each that change whenever anything a composed page depends on (but the clock)
    does: everything (None when `inputs` were read without their discounted courses), and
    everything but the impressions."""
    described = [
        inputs.followed,
        inputs.profile,
        inputs.enrolled,
        inputs.in_progress,
        inputs.dismissed,
        inputs.catalog_revision,
        member.title_id,
        member.title.name if member.title_id else None,
        member.industry_id,
        member.industry.name if member.industry_id else None,
        member.seniority,
        member.goal_id,
        member.goal_text,
        inputs.goal_skills,
        run_id,
        strategy,
        variant_id,
        max_carousels,
        window_start,
        settings.RECOMMENDATIONS,
    ]
    # A reason's row appears with its first impression: only its clicks are the member's doing.
    clicks = sorted(
        (reason, clicked) for reason, (_, clicked) in inputs.reason_feedback.items() if clicked
    )
    impressions = [inputs.discounted, sorted(inputs.reason_feedback.items())]
    return PageDigests(
        full=_digest([*described, *impressions], inputs.learned_payload)
        if inputs.discounted is not None
        else None,
        without_impressions=_digest([*described, clicks], inputs.learned_payload),
    )


def _digest(described: list, learned_payload: bytes | None) -> bytes:
    text = orjson.dumps(
        described, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=repr
    )
    digest = hashlib.blake2b(text, digest_size=16)
    digest.update(learned_payload or b"")
    return digest.digest()


def stored_page_servable(
    *,
    stored: StoredPage | None,
    digests: PageDigests,
    now: dt.datetime,
    max_age: int,
    steady_seconds: int = 0,
) -> bool:
    """Whether `stored` is served: the page composing now would give (same digest, composed
    at most `max_age` seconds ago), or a page at most `steady_seconds` old composed from what
    the member has done since (same digest without the impressions). Never one composed after
    `now`."""
    if stored is None:
        return False
    if digests.full is not None and stored.digest == digests.full:
        return _young_enough(stored.composed_at, now=now, max_age=max_age)
    if stored.digest_without_impressions == digests.without_impressions:
        return _young_enough(stored.composed_at, now=now, max_age=steady_seconds)
    return False


def composed_page_servable_exists(*, member_id: int, now: dt.datetime) -> bool:
    """Whether the member has a stored page young enough to be served at `now`."""
    max_age = composed_page_max_age()
    if max_age <= 0:
        return False
    if connection.vendor == "postgresql":
        # Prepared: the task worker asks this after nearly every event batch's refresh, and
        # the ORM's query cost three times as much to build and plan as to run.
        with prepared_cursor() as cursor:
            cursor.execute(_COMPOSED_AT_SQL, [member_id])
            row = cursor.fetchone()
        composed_at = None if row is None else row[0]
    else:
        composed_at = (
            ComposedPage.objects.filter(member_id=member_id)
            .values_list("composed_at", flat=True)
            .first()
        )
    return composed_at is not None and _young_enough(composed_at, now=now, max_age=max_age)


_COMPOSED_AT_SQL = f"SELECT composed_at FROM {ComposedPage._meta.db_table} WHERE member_id = %s"


def _young_enough(composed_at: dt.datetime, *, now: dt.datetime, max_age: int) -> bool:
    age = (now - composed_at).total_seconds()
    return 0 <= age <= max_age


def layout_dumps(carousels: Sequence[Carousel]) -> bytes:
    return orjson.dumps(
        [
            (
                carousel.reason,
                carousel.key,
                carousel.label,
                [card.shown.course_id for card in carousel.cards],
                [card.score for card in carousel.cards],
                [card.explanation for card in carousel.cards],
            )
            for carousel in carousels
        ]
    )


def layout_loads(layout: bytes) -> list[LayoutRow]:
    """The carousels `layout_dumps` stored; `StoredRowInvalid` for anything else. A row stored
    without its explanations (five fields) has None for them."""
    try:
        rows = [_layout_row(*row) for row in orjson.loads(layout)]
    except (orjson.JSONDecodeError, TypeError, ValueError) as error:
        raise StoredRowInvalid(f"not a stored layout: {error}") from error
    for reason, key, label, course_ids, scores, explanations in rows:
        if not (
            all(isinstance(text, str) for text in (reason, key, label))
            and isinstance(course_ids, list)
            and isinstance(scores, list)
            and len(course_ids) == len(scores)
            and all(type(course_id) is int for course_id in course_ids)
            and all(isinstance(score, int | float) for score in scores)
            and (
                explanations is None
                or (
                    isinstance(explanations, list)
                    and len(explanations) == len(course_ids)
                    and all(isinstance(text, str) for text in explanations)
                )
            )
        ):
            raise StoredRowInvalid("not a stored layout: a carousel of the wrong shape")
    return rows


def _layout_row(reason, key, label, course_ids, scores, explanations=None) -> LayoutRow:
    return (reason, key, label, course_ids, scores, explanations)


# One statement; the member may have been deleted since the page was sent (no foreign key in
# the database, see ComposedPage).
_STORE_SQL = f"""
INSERT INTO {ComposedPage._meta.db_table} AS page
    (member_id, digest, digest_without_impressions, composed_at, layout)
SELECT %(member)s, %(digest)s, %(digest_without_impressions)s, %(composed_at)s, %(layout)s
WHERE EXISTS (SELECT FROM {Member._meta.db_table} WHERE id = %(member)s)
ON CONFLICT (member_id) DO UPDATE SET
    digest = excluded.digest, digest_without_impressions = excluded.digest_without_impressions,
    composed_at = excluded.composed_at, layout = excluded.layout
"""


def composed_page_store(
    *,
    member_id: int,
    digest: bytes,
    composed_at: dt.datetime,
    carousels: Sequence[Carousel],
    digest_without_impressions: bytes = b"",
) -> None:
    """Keep `carousels` as the member's next page, replacing the one stored before.

    Two page views of one member finishing together each store their own page with its own
    digest; whichever is written last stays, and is served only if its digest still matches.
    Without `digest_without_impressions` it is never served for its steady seconds alone.
    """
    layout = layout_dumps(carousels)
    if connection.vendor == "postgresql":
        with prepared_cursor() as cursor:
            cursor.execute(
                _STORE_SQL,
                {
                    "member": member_id,
                    "digest": digest,
                    "digest_without_impressions": digest_without_impressions,
                    "composed_at": composed_at,
                    "layout": layout,
                },
            )
        return
    if Member.objects.filter(pk=member_id).exists():
        ComposedPage.objects.update_or_create(
            member_id=member_id,
            defaults={
                "digest": digest,
                "digest_without_impressions": digest_without_impressions,
                "composed_at": composed_at,
                "layout": layout,
            },
        )
