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
them (a copy, as `dataclasses.replace` makes, may be changed). Each view gets a list of its own.

A layout stored without its cards' lines (written for the member at serving time) is built
for each view, not kept. So is everything when the card cache is off
(`settings.CATALOG_CARD_CACHE`): the cards then come from the database on each view.
"""

import datetime as dt
from collections.abc import Callable

from django.conf import settings

from core.bounded_caches import older_half_drop
from recommendations.data import Carousel
from recommendations.serving.carousels import BuiltCarousels, carousels_built
from recommendations.serving.explanations import ExplanationContext
from recommendations.serving.stored_pages import layout_loads

# About 35 KB each (a hundred cards, the layout): the pages of the members one process serves
# at a time, with room to spare. When full, the older half is dropped. Kept small because every
# card is a handful of objects the garbage collector walks on a full collection.
STORED_CAROUSELS_KEPT = 128

# (layout, strategy, variant, catalog revision): the carousels and their next publication.
_kept: dict[tuple[bytes, str, int | None, int], BuiltCarousels] = {}


def stored_page_carousels(
    *,
    layout: bytes,
    strategy: str,
    variant_id: int | None,
    catalog_revision: int | None,
    context: Callable[[], ExplanationContext],
    now: dt.datetime,
) -> list[Carousel]:
    """The carousels of a stored page's `layout` (`stored_pages.layout_dumps`) as of `now`
    (`carousels_from_layout`). `context` gives the member's explanation context; it is called
    only for a layout stored without its cards' lines. `StoredRowInvalid` for a layout that is
    not one."""
    keep = settings.CATALOG_CARD_CACHE and catalog_revision is not None
    key = (layout, strategy, variant_id, catalog_revision)
    if keep:
        kept = _kept.get(key)
        if kept is not None and (kept.next_publication is None or now < kept.next_publication):
            return list(kept.carousels)
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
    if keep and lines_stored:
        if len(_kept) >= STORED_CAROUSELS_KEPT:
            older_half_drop(_kept)
        _kept[key] = built
    return list(built.carousels)


def stored_carousels_clear() -> None:
    """Forget every kept page (tests)."""
    _kept.clear()
