"""The ranker's features: member, course, interaction, position and channel columns, shared by
the training examples and the scoring of a page so both see exactly the same numbers."""

from __future__ import annotations

import numpy as np

from catalog.models import Course
from recommendations import engine
from recommendations.engine.positions import positions_of
from recommendations.models import PageView

HASH_BUCKETS = 8
SENIORITY_ORDER = {"entry": 0, "mid": 1, "senior": 2, "lead": 3, "executive": 4}
LEVELS = ("beginner", "intermediate", "advanced")
CTR_PRIOR_STRENGTH = 20.0
MEMBER_FEATURES = (
    "seniority",
    "activity",
    *(f"industry_{b}" for b in range(HASH_BUCKETS)),
    *(f"title_{b}" for b in range(HASH_BUCKETS)),
)


COURSE_FEATURES = (
    *(f"level_{level}" for level in LEVELS),
    "log_duration",
    "log_age_days",
    "log_popularity",
    "ctr",
    *(f"category_{b}" for b in range(HASH_BUCKETS)),
)


INTERACTION_FEATURES = (
    "affinity",
    "idf_overlap",
    "als",
    "skill_history",
    "dow_sin",
    "dow_cos",
)


# Where on the page an impression was: it explains part of every click (people look at the top
# first), so the model learns it and serving sets it to the same value for every card.
POSITION_FEATURES = ("position", "carousel_position")


# The surface an impression was on (`PageView.Channel`): a digest's reader clicks otherwise than
# a visitor of the site, so the model learns each channel's offset instead of blending the
# behaviours. Web is the reference (every column 0); an impression without a channel (events
# stored before channels were kept) counts as web. Serving sets the channel of the page it
# composes, the same for every card.
CHANNELS = (PageView.Channel.WEB, PageView.Channel.EMAIL, PageView.Channel.API)
CHANNEL_FEATURES = tuple(f"channel_{channel}" for channel in CHANNELS[1:])
FEATURES = (
    MEMBER_FEATURES + COURSE_FEATURES + INTERACTION_FEATURES + POSITION_FEATURES + CHANNEL_FEATURES
)
MEMBER_COLUMNS = np.arange(len(MEMBER_FEATURES))
COURSE_COLUMNS = np.arange(len(COURSE_FEATURES)) + len(MEMBER_FEATURES)
# Course columns stored per course at training time; age and popularity are read live.
STORED_COURSE_FEATURES = [
    i for i, name in enumerate(COURSE_FEATURES) if name not in ("log_age_days",)
]


def member_block(
    *, title_id: np.ndarray, industry_id: np.ndarray, seniority: np.ndarray, activity: np.ndarray
) -> np.ndarray:
    return np.column_stack(
        [
            seniority / 4.0,
            np.log1p(activity),
            engine.hashed_one_hot(industry_id, buckets=HASH_BUCKETS),
            engine.hashed_one_hot(title_id, buckets=HASH_BUCKETS),
        ]
    )


def course_table_build(
    *, course_ids: np.ndarray, popularity: np.ndarray, ctr: np.ndarray
) -> np.ndarray:
    """Per-course features in `course_ids` order; the age column is left at 0 (live)."""
    level = np.zeros(course_ids.size, dtype=np.int64)
    duration = np.zeros(course_ids.size)
    for pk, course_level, minutes in Course.objects.values_list("pk", "level", "duration_minutes"):
        position = int(positions_of(course_ids, np.array([pk]))[0])
        if position >= 0:
            level[position] = LEVELS.index(course_level) if course_level in LEVELS else 0
            duration[position] = minutes
    category = np.full(course_ids.size, -1, dtype=np.int64)
    for pk, category_id in Course.categories.through.objects.order_by(
        "course_id", "-category_id"
    ).values_list("course_id", "category_id"):
        position = int(positions_of(course_ids, np.array([pk]))[0])
        if position >= 0:
            category[position] = category_id  # ordered so the lowest id is written last
    return np.column_stack(
        [
            np.eye(len(LEVELS))[level],
            np.log1p(duration),
            np.zeros(course_ids.size),
            np.log1p(popularity),
            ctr,
            engine.hashed_one_hot(category, buckets=HASH_BUCKETS),
        ]
    )


def course_block(
    table_rows: np.ndarray, *, published: np.ndarray, at: np.ndarray, popularity: np.ndarray
) -> np.ndarray:
    block = table_rows.copy()
    age_days = np.maximum(at - published, 0.0) / 86400.0
    block[:, COURSE_FEATURES.index("log_age_days")] = np.log1p(age_days)
    block[:, COURSE_FEATURES.index("log_popularity")] = np.log1p(popularity)
    return block


def position_block(position: np.ndarray, carousel_position: np.ndarray) -> np.ndarray:
    return np.column_stack([1.0 / (1.0 + position), 1.0 / (1.0 + carousel_position)])


def channel_code(channel: str) -> int:
    """The channel's index in CHANNELS; anything else (the empty channel) is web's, 0."""
    return CHANNELS.index(channel) if channel in CHANNELS else 0


def channel_block(code: np.ndarray) -> np.ndarray:
    """One indicator column per channel but web, from `channel_code` values."""
    return np.eye(len(CHANNELS))[np.asarray(code, dtype=np.int64)][:, 1:]
