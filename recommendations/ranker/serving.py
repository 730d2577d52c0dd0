"""The active run's ranker as a web process holds it (`ActiveRanker`), its storage format,
and the scores of one page's cards."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import numpy as np

from members.models import Member
from recommendations import engine
from recommendations.engine.positions import positions_of
from recommendations.ranker.features import (
    COURSE_FEATURES,
    FEATURES,
    SENIORITY_ORDER,
    channel_block,
    channel_code,
    course_block,
    member_block,
    position_block,
)
from recommendations.training.artifacts import artifact_dumps, artifact_loads

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActiveRanker:
    """What serving needs: the model, its entity index maps and the per-course features."""

    model: engine.RankerModel
    member_ids: np.ndarray
    course_ids: np.ndarray
    course_table: np.ndarray  # courses × COURSE_FEATURES (age column unused: computed live)
    used: bool  # serve it on the default homepage (it beat the unranked order offline)
    mixed: bool  # add per-member and per-course effects (they beat the global model offline)


def ranker_dumps(ranker: ActiveRanker) -> bytes:
    model = ranker.model
    return artifact_dumps(
        {
            "mean": model.mean,
            "scale": model.scale,
            "coef": model.coef,
            "intercept": np.array([model.intercept]),
            "course_columns": model.course_columns,
            "member_columns": model.member_columns,
            "member_effects": model.member_effects,
            "course_effects": model.course_effects,
            "member_ids": ranker.member_ids,
            "course_ids": ranker.course_ids,
            "course_table": ranker.course_table,
            "flags": np.array([ranker.used, ranker.mixed]),
            "features": np.array(FEATURES),
        }
    )


def ranker_loads(payload: bytes) -> ActiveRanker | None:
    values = artifact_loads(payload)
    if tuple(values["features"].tolist()) != FEATURES:
        # Trained with another feature layout (an older release, e.g. one without the channel
        # columns): it cannot score this one. Serving then has no ranker until the next retrain
        # stores one: the default homepage serves the rules order, a "ranked" variant the ALS
        # order (`serving.home_page`), and both log that strategy.
        logger.warning("stored ranker has a different feature layout; not serving it")
        return None
    used, mixed = values["flags"].astype(bool).tolist()
    return ActiveRanker(
        model=engine.RankerModel(
            mean=values["mean"],
            scale=values["scale"],
            coef=values["coef"],
            intercept=float(values["intercept"][0]),
            course_columns=values["course_columns"],
            member_columns=values["member_columns"],
            member_effects=values["member_effects"],
            course_effects=values["course_effects"],
        ),
        member_ids=values["member_ids"],
        course_ids=values["course_ids"],
        course_table=values["course_table"],
        used=bool(used),
        mixed=bool(mixed),
    )


def ranker_page_scores(
    *,
    ranker: ActiveRanker,
    snapshot,
    member: Member,
    positions: np.ndarray,
    relevance: np.ndarray,
    held_skills: np.ndarray,
    enrolled_positions: np.ndarray,
    learned: dict[int, np.ndarray],
    now: dt.datetime,
    channel: str,
) -> np.ndarray:
    """Ranker logits for the cards at course `positions` (snapshot order) of one page composed
    for `channel` (`PageView.Channel`: web for the site and the API, email for a digest).

    Everything comes from what the homepage already holds: the member's blended relevance,
    held skills (snapshot skill positions, weight per skill), enrolled courses and learned
    rows, so scoring costs no query.
    """
    n = positions.size
    ranker_course = positions_of(ranker.course_ids, snapshot.course_ids[positions])
    table = np.zeros((n, len(COURSE_FEATURES)))
    known = ranker_course >= 0
    table[known] = ranker.course_table[ranker_course[known]]
    now_s = now.timestamp()
    courses = course_block(
        table,
        published=snapshot.course_published[positions],
        at=np.full(n, now_s),
        popularity=snapshot.popularity[positions],
    )
    members = member_block(
        title_id=np.full(n, member.title_id or -1),
        industry_id=np.full(n, member.industry_id or -1),
        seniority=np.full(n, SENIORITY_ORDER.get(member.seniority, 0), dtype=np.float64),
        activity=np.full(n, float(enrolled_positions.size)),
    )
    binary = snapshot.course_skill_presence
    idf_overlap = binary[positions] @ (held_skills * snapshot.idf)
    history_vector = np.asarray(binary[enrolled_positions].sum(axis=0)).ravel()
    history = binary[positions] @ history_vector
    interactions = np.column_stack(
        [
            relevance[positions],
            idf_overlap,
            learned.get(engine.FAMILY_ALS, np.zeros(snapshot.course_ids.size))[positions],
            np.log1p(history),
            engine.day_of_week_features(np.full(n, now_s)),
        ]
    )
    features = np.column_stack(
        [
            members,
            courses,
            interactions,
            position_block(np.zeros(n), np.zeros(n)),
            channel_block(np.full(n, channel_code(channel))),
        ]
    )
    member_index = positions_of(ranker.member_ids, np.full(n, member.pk))
    return engine.ranker_scores(
        ranker.model, features, member_index, ranker_course, mixed=ranker.mixed
    )
