"""A stored page's carousels, built once per process and served to every view of it.

A member who is browsing is served the same stored page view after view (`stored_pages`: at
least through its steady seconds, until they act or a next page is composed), on the site and
through the API alike. Each of those views built the page's cards again from the card cache:
close to a hundred `Card`s with their courses, a fifth of a recommendations answer's time.

The carousels are a function of the layout's bytes (course ids, scores, labels and each card's
line), the strategy and variant the cards are logged under, and the catalog (its revision: the
card data). The clock enters only through courses the layout names but which are not
published yet (left out until they are). So the carousels are kept per process under that key
until the first such publication, and every later view of the page takes them as they are.

Kept carousels are shared by the requests that serve them, on every thread: nothing may change
them (a copy, as `dataclasses.replace` makes, may be changed). Each view gets a list of its own,
and the kept page's `renditions`: a dict where the homepage keeps the carousels' markup and the
API their JSON (`HomePage.renditions`), so the views after the first render neither.

A layout stored without its cards' lines (written for the member at serving time) is built
for each view, not kept. So is everything when the card cache is off
(`settings.CATALOG_CARD_CACHE`): the cards then come from the database on each view.
"""

import datetime as dt
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

from django.conf import settings

from core.bounded_caches import older_half_drop
from recommendations.data import Carousel
from recommendations.serving.carousels import BuiltCarousels, carousels_built
from recommendations.serving.explanations import ExplanationContext
from recommendations.serving.stored_pages import layout_loads

# A page's cards, with the homepage's markup and the API's JSON derived from them (about
# 200 KB in all): the pages of the members one process serves at a time, with room to spare.
# When full, the older half is dropped.
STORED_CAROUSELS_KEPT = 128


@dataclass(frozen=True)
class StoredCarousels:
    carousels: list[Carousel]
    # Shared by every view served these carousels (`HomePage.renditions`); None: not kept.
    renditions: dict | None


@dataclass(frozen=True)
class _Kept:
    # Built again from its next publication on.
    built: BuiltCarousels
    renditions: dict = field(default_factory=dict)


# What renderers keep for one page (`page_rendition`): the homepage's markup and the API's JSON
# for the few trims clients use. A client asking for every trim in turn gets the others made
# for each answer instead of filling the process.
RENDITIONS_KEPT = 8

T = TypeVar("T")

# (layout, strategy, variant, catalog revision): the carousels.
_kept: dict[tuple[bytes, str, int | None, int], _Kept] = {}


def stored_page_carousels(
    *,
    layout: bytes,
    strategy: str,
    variant_id: int | None,
    catalog_revision: int | None,
    context: Callable[[], ExplanationContext],
    now: dt.datetime,
) -> StoredCarousels:
    """The carousels of a stored page's `layout` (`stored_pages.layout_dumps`) as of `now`
    (`carousels_from_layout`), each view with a list of its own. `context` gives the member's
    explanation context; it is called only for a layout stored without its cards' lines.
    `StoredRowInvalid` for a layout that is not one."""
    keep = settings.CATALOG_CARD_CACHE and catalog_revision is not None
    key = (layout, strategy, variant_id, catalog_revision)
    if keep:
        kept = _kept.get(key)
        if kept is not None and (
            kept.built.next_publication is None or now < kept.built.next_publication
        ):
            return StoredCarousels(list(kept.built.carousels), kept.renditions)
    rows = layout_loads(layout)
    lines_stored = all(row[5] is not None for row in rows)
    built = carousels_built(
        rows,
        strategy=strategy,
        variant_id=variant_id,
        catalog_revision=catalog_revision,
        context=None if lines_stored else context(),
        now=now,
    )
    if not (keep and lines_stored):
        return StoredCarousels(built.carousels, None)
    kept = _Kept(built)
    if len(_kept) >= STORED_CAROUSELS_KEPT:
        older_half_drop(_kept)
    _kept[key] = kept
    return StoredCarousels(list(built.carousels), kept.renditions)


def page_rendition(renditions: dict, key: Hashable, build: Callable[[], T]) -> T:
    """What `build` makes from a kept page's carousels alone, made once under `key` in the
    page's `renditions` (`HomePage.renditions`), at most `RENDITIONS_KEPT` of them."""
    found = renditions.get(key)
    if found is None:
        found = build()
        if len(renditions) < RENDITIONS_KEPT:
            renditions[key] = found
    return found


def stored_carousels_clear() -> None:
    """Forget every kept page (tests)."""
    _kept.clear()
