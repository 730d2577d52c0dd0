"""A page view's cards packed into one `PageView` row, and back.

A page shows close to a hundred cards; one row per card made every page view write a hundred
rows (and update every index for each). A `PageView` holds them all, packed as the member's
precomputed row is (`engine/candidates.py`): fixed-size records in a byte string, numpy reads
them without parsing.

- `courses`: the course ids in page order (slot 0, 1, ...), big-endian int32.
- `slots`: per slot, (label, carousel position, position in the carousel), big-endian int16.
- `labels`: the page's distinct [reason, reason key, strategy] triples, which `label` indexes.
  Reasons and strategies are the strings serving gives them (`follow`, `follow:42`, `rules`,
  `explore`, ...): no closed set, so a new reason needs nothing here.

The variant is the page's (`PageView.variant`), except on the Continue learning row, which is
the same in every variant and carries none (as `carousels_from_layout` gives it).

Big-endian because PostgreSQL's `int4send` and `int2send` write that order: the migration that
turned the per-card rows into page views packs them in SQL.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from recommendations.data import REASON_CONTINUE, ShownCourse

COURSE = np.dtype(">i4")
SLOT = np.dtype([("label", ">i2"), ("carousel", ">i2"), ("position", ">i2")])
_INT16_MAX = np.iinfo(np.int16).max
_INT32_MAX = np.iinfo(np.int32).max


@dataclass(frozen=True)
class PackedPage:
    """The `PageView` columns that hold a page's cards."""

    courses: bytes
    slots: bytes
    labels: list[list[str]]
    variant_id: int | None
    recommended: int


def page_view_pack(shown: Sequence[ShownCourse]) -> PackedPage:
    """`shown` (in page order) as `PageView` columns.

    Raises ValueError for what the packing cannot hold: a course id beyond int32, a position
    beyond int16, two variants on one page, or a Continue learning card with a variant.
    """
    # Plain lists packed once by `struct` (every page view runs this): filling numpy arrays
    # element by element cost ten times as much for a hundred cards.
    label_index: dict[tuple[str, str, str], int] = {}
    courses = []
    slots = []
    variants = set()
    recommended = 0
    for card in shown:
        label = (card.reason, card.reason_key, card.strategy)
        index = label_index.setdefault(label, len(label_index))
        courses.append(card.course_id)
        slots += (index, card.carousel_position, card.position)
        if card.reason == REASON_CONTINUE:
            if card.variant_id is not None:
                raise ValueError("a Continue learning card carries no experiment variant")
        else:
            recommended += 1
            variants.add(card.variant_id)
    if len(variants) > 1:
        raise ValueError(f"one page view shows one experiment variant, not {sorted(variants)}")
    if courses and not (min(courses) > 0 and max(courses) <= _INT32_MAX):
        raise ValueError("course ids are packed as int32")
    if slots and not (min(slots) >= 0 and max(slots) <= _INT16_MAX):
        raise ValueError("labels and positions are packed as int16")
    return PackedPage(
        courses=struct.pack(f">{len(courses)}i", *courses),
        # Each slot's (label, carousel, position): SLOT's three big-endian int16 fields.
        slots=struct.pack(f">{len(slots)}h", *slots),
        labels=[list(label) for label in label_index],
        variant_id=variants.pop() if variants else None,
        recommended=recommended,
    )


def page_view_courses(courses: bytes | memoryview) -> NDArray[np.int64]:
    """The course id of each slot."""
    return np.frombuffer(courses, dtype=COURSE).astype(np.int64)


def page_view_slots(slots: bytes | memoryview) -> NDArray:
    """The (label, carousel, position) record of each slot."""
    return np.frombuffer(slots, dtype=SLOT)


def page_view_cards(
    *,
    courses: bytes | memoryview,
    slots: bytes | memoryview,
    labels: Sequence[Sequence[str]],
    variant_id: int | None,
) -> list[ShownCourse]:
    """The page's cards in page order, as serving gave them (`page_view_pack` reversed)."""
    records = page_view_slots(slots)
    return [
        ShownCourse(
            course_id=course_id,
            reason=labels[label][0],
            reason_key=labels[label][1],
            strategy=labels[label][2],
            carousel_position=carousel,
            position=position,
            variant_id=None if labels[label][0] == REASON_CONTINUE else variant_id,
        )
        for course_id, (label, carousel, position) in zip(
            page_view_courses(courses).tolist(), records.tolist(), strict=True
        )
    ]


def page_view_slot_count(courses: bytes | memoryview) -> int:
    """How many cards the page showed."""
    return len(courses) // COURSE.itemsize


def page_view_first_slot(courses: bytes | memoryview, course_id: int) -> int | None:
    """The first slot that showed `course_id`; None if none did."""
    found = np.flatnonzero(np.frombuffer(courses, dtype=COURSE) == course_id)
    return int(found[0]) if found.size else None


def page_view_card_at(
    *,
    courses: bytes | memoryview,
    slots: bytes | memoryview,
    labels: Sequence[Sequence[str]],
    variant_id: int | None,
    slot: int,
) -> ShownCourse:
    """The card at `slot` (below `page_view_slot_count`), as `page_view_cards` gives it: an
    event acts on one card, and reading all hundred to find it cost a click most of its read."""
    (course_id,) = struct.unpack_from(">i", courses, slot * COURSE.itemsize)
    label, carousel, position = struct.unpack_from(">3h", slots, slot * SLOT.itemsize)
    reason, reason_key, strategy = labels[label]
    return ShownCourse(
        course_id=course_id,
        reason=reason,
        reason_key=reason_key,
        strategy=strategy,
        carousel_position=carousel,
        position=position,
        variant_id=None if reason == REASON_CONTINUE else variant_id,
    )


def page_view_continue_mask(*, slots: bytes | memoryview, labels: Sequence[Sequence[str]]):
    """True for each slot of the Continue learning row (the member's own courses, which
    recommend nothing: the ranker and experiments leave them out)."""
    continuing = np.array([label[0] == REASON_CONTINUE for label in labels] or [False])
    return continuing[page_view_slots(slots)["label"].astype(np.int64)]
