"""The dataclasses the recommendations subpackages share: the rules snapshot a retrain builds
and serving reads, a homepage's carousels and cards, a shown card's context, and the strategy
names a page is logged under."""

import datetime as dt
import functools
import uuid
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from catalog.models import Course
from recommendations import engine
from recommendations.engine.positions import positions_of

# What FeedbackEvent.strategy records for a card. The default homepage logs "rules" (or
# "ranked" once a ranker is active); experiment variants log their strategy.
STRATEGY_RULES = "rules"
STRATEGY_DEFAULT = "default"
STRATEGY_RECENCY = "recency"
STRATEGY_AFFINITY = "affinity"
STRATEGY_ALS = "als"
STRATEGY_RANKED = "ranked"
STRATEGY_EXPLORE = "explore"
STRATEGIES = (
    STRATEGY_DEFAULT,
    STRATEGY_RECENCY,
    STRATEGY_AFFINITY,
    STRATEGY_ALS,
    STRATEGY_RANKED,
)

# The homepage's "Continue learning" row (`serving/continuing.py`): the member's own unfinished
# courses, logged like any carousel but not a recommendation.
REASON_CONTINUE = "continue"


@dataclass(frozen=True)
class ShownCourse:
    """One card on a rendered page: enough to log its impression and attribute its click."""

    course_id: int
    reason: str
    reason_key: str
    strategy: str
    carousel_position: int
    position: int
    # The experiment variant that served the page (None outside experiments).
    variant_id: int | None = None
    # The channel of the page view it was read back from (`PageView.Channel`), which events
    # acting on the card copy; empty while serving: the page's channel is given when it is
    # logged (`impressions_log`).
    channel: str = ""


@dataclass(frozen=True)
class Card:
    course: Course
    score: float
    shown: ShownCourse
    # Why the card is shown, in one short line (`serving/explanations.card_explanation`): the
    # site and the API show the same text.
    explanation: str = ""


@dataclass(frozen=True)
class Carousel:
    reason: str
    key: str
    label: str
    cards: list[Card] = field(default_factory=list)


@dataclass(frozen=True)
class HomePage:
    page_view_id: uuid.UUID
    carousels: list[Carousel]
    # What the page was composed from (`stored_pages.page_digest`); None: not storable.
    digest: bytes | None = None
    # The same without the impressions (`stored_pages.page_digest`).
    digest_without_impressions: bytes | None = None
    # When the stored page served here was composed; None: composed for this request.
    stored_composed_at: dt.datetime | None = None
    # Carousels kept per process (`serving/stored_carousels.py`) come with a dict shared by
    # every view served them, where renderers keep what they derive from the carousels alone,
    # each under its own key (a page trimmed for the API keeps it: keys name the trim). None:
    # the carousels are this page's own.
    renditions: dict | None = field(default=None, compare=False, repr=False)

    @property
    def shown(self) -> list[ShownCourse]:
        return [card.shown for carousel in self.carousels for card in carousel.cards]


@dataclass(frozen=True)
class RulesSnapshot:
    """Arrays indexed by position; `*_ids` map positions back to database ids (sorted)."""

    built_at: float
    course_ids: np.ndarray
    course_published: np.ndarray
    skill_ids: np.ndarray
    course_skill: sp.csr_array
    idf: np.ndarray
    title_ids: np.ndarray
    industry_ids: np.ndarray
    pair_title: np.ndarray
    pair_industry: np.ndarray
    pair_profiles: sp.csr_array
    title_profiles: sp.csr_array
    industry_profiles: sp.csr_array
    popularity: np.ndarray
    title_trending: sp.csr_array
    industry_trending: sp.csr_array
    course_similarity: sp.csr_array
    # "Similar courses" on the course page: ALS item-item where the course has activity, else
    # shared skills.
    similar_courses: sp.csr_array
    course_bucket: np.ndarray
    # Per course: its level, `engine.LEVEL_BEGINNER` / `_INTERMEDIATE` / `_ADVANCED` (the goal
    # path's order within a skill).
    course_level: np.ndarray

    @functools.cached_property
    def course_skill_by_column(self) -> sp.csc_array:
        """The course skill matrix in column form, for cheap per-skill course lists."""
        return sp.csc_array(self.course_skill)

    @functools.cached_property
    def course_skill_presence(self) -> sp.csr_array:
        """`course_skill` as 0/1 (the ranker's skill-overlap features): built once per snapshot,
        not on every page view a ranker re-orders."""
        return engine.presence(self.course_skill)

    @functools.cached_property
    def _cohort_vectors(self) -> dict[tuple[int | None, int | None], np.ndarray]:
        return {}

    def cohort_vector(self, title_id: int | None, industry_id: int | None) -> np.ndarray:
        """The inferred skill vector (skills,) of members with this title and industry: the
        title+industry profile, else the title's, else the industry's (read-only).

        Kept per (title, industry) for the snapshot's lifetime: every page view needs it, and
        there are at most a few thousand such pairs.
        """
        key = (title_id, industry_id)
        vector = self._cohort_vectors.get(key)
        if vector is None:
            vector = engine.member_cohort_vectors(
                [
                    ([self.pair_position(title_id, industry_id)], self.pair_profiles),
                    ([self.title_position(title_id)], self.title_profiles),
                    ([self.industry_position(industry_id)], self.industry_profiles),
                ]
            ).toarray()[0]
            vector.flags.writeable = False
            self._cohort_vectors[key] = vector
        return vector

    def skill_positions(self, skill_ids: np.ndarray) -> np.ndarray:
        return positions_of(self.skill_ids, skill_ids)

    def course_positions(self, course_ids: np.ndarray) -> np.ndarray:
        return positions_of(self.course_ids, course_ids)

    def title_position(self, title_id: int | None) -> int:
        return int(positions_of(self.title_ids, np.array([title_id or -1]))[0])

    def industry_position(self, industry_id: int | None) -> int:
        return int(positions_of(self.industry_ids, np.array([industry_id or -1]))[0])

    def pair_position(self, title_id: int | None, industry_id: int | None) -> int:
        if title_id is None or industry_id is None:
            return -1
        hits = np.flatnonzero((self.pair_title == title_id) & (self.pair_industry == industry_id))
        return int(hits[0]) if hits.size else -1
