"""The homepage's second stage: what the member's inputs mean over the catalog (`MemberScoring`),
and every reason a course could be shown for, each with its candidates and scores.

A reason is its candidates only, (course positions, scores): most reasons hold a few dozen of
the catalog's courses (a skill's courses, a cohort's trending ones, an anchor's similar courses,
the row's learned picks), so a page costs work in proportion to those, not to the catalog.
Popular and New score every course.
"""

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from django.conf import settings

from members.models import Member
from recommendations import engine
from recommendations.data import RulesSnapshot
from recommendations.serving.inputs import MemberServingInputs
from recommendations.serving.repairs import StoredRowInvalid, member_row_discard

# (family, anchor) -> (course positions ascending, scores) of the member's precomputed row.
LearnedRows = dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]
# The weight of a followed skill too rare for an IDF: that of a skill every member holds.
FOLLOWED_IDF_FLOOR = float(np.log(2.0))
_FAMILIES = np.array([engine.FAMILY_ALS, engine.FAMILY_WATCHED, engine.FAMILY_TEXT])


class Reason(NamedTuple):
    """One reason a course could be shown for: its family ("follow", "watched", "popular", ...),
    its key (one carousel per key), the carousel's label, and its candidates with their scores."""

    reason: str
    key: str
    label: str
    courses: np.ndarray
    scores: np.ndarray


@dataclass(frozen=True)
class MemberScoring:
    """The member's inputs as arrays over the snapshot's positions, for every later stage."""

    followed: np.ndarray  # per skill: 1 where followed
    profile: np.ndarray  # per skill: the profile weight
    skill_names: dict[int, str]
    skill_position: dict[int, int]  # skill id -> position (-1: not in the snapshot)
    relevance: np.ndarray  # per course: blended skill affinity, best course = 1
    personal: np.ndarray  # per course: 1 + relevance
    popular_share: np.ndarray  # per course: popularity, most popular = 1
    valid: np.ndarray  # per course: not finished, in progress or dismissed
    discount: np.ndarray  # per course: the impression discount (1: none)
    recency: np.ndarray  # per course: newness
    enrolled_positions: np.ndarray  # the member's courses, most recent first (-1: unknown)
    learned: LearnedRows


def dense(size: int, positions: np.ndarray, values: np.ndarray) -> np.ndarray:
    """A vector of `size` with `values` added at `positions`; negative positions are skipped."""
    vector = np.zeros(size)
    keep = positions >= 0
    np.add.at(vector, positions[keep], values[keep])
    return vector


def recency_scores(snapshot: RulesSnapshot, now: dt.datetime) -> np.ndarray:
    return np.asarray(
        engine.recency_scores(
            snapshot.course_published,
            now=now.timestamp(),
            half_life_days=settings.RECOMMENDATIONS["NEW_HALF_LIFE_DAYS"],
        ),
        dtype=np.float64,
    )


def learned_rows(payload: bytes | None, *, snapshot: RulesSnapshot) -> LearnedRows:
    """The member's precomputed candidates as (family, anchor): (course positions ascending,
    scores), in the order the payload first names each (family, anchor); courses the snapshot
    no longer holds are left out, and a course named twice keeps its last score. Raises
    `StoredRowInvalid` for bytes that are not candidate records."""
    if payload is None:
        return {}
    try:
        records = engine.candidates_decode(payload)
    except ValueError as error:
        raise StoredRowInvalid(f"{len(payload)} bytes: {error}") from error
    if not np.isin(records["family"], _FAMILIES).all() or not np.isfinite(records["score"]).all():
        raise StoredRowInvalid("unknown candidate family or non-finite score")
    positions = snapshot.course_positions(records["course"].astype(np.int64))
    known = positions >= 0
    positions, records = positions[known], records[known]
    groups: dict[tuple[int, int], list[int]] = {}
    for index, key in enumerate(
        zip(records["family"].tolist(), records["anchor"].tolist(), strict=True)
    ):
        groups.setdefault(key, []).append(index)
    scores = records["score"].astype(np.float64)
    rows = {}
    for key, indices in groups.items():
        # Reversed, np.unique's first occurrence is the last one named.
        mine = np.array(indices[::-1], dtype=np.int64)
        courses, first = np.unique(positions[mine], return_index=True)
        rows[key] = (courses, scores[mine[first]])
    return rows


def member_scoring_build(
    *, inputs: MemberServingInputs, member: Member, snapshot: RulesSnapshot, now: dt.datetime
) -> MemberScoring:
    config = settings.RECOMMENDATIONS
    n_courses, n_skills = snapshot.course_ids.size, snapshot.skill_ids.size
    followed_rows, profile_rows = inputs.followed, inputs.profile
    skill_names = {skill_id: name for skill_id, name in followed_rows}
    skill_names.update({skill_id: name for skill_id, _, name in profile_rows})

    # Member skill sources as dense vectors over the snapshot's skill positions.
    followed_ids = np.array([row[0] for row in followed_rows], dtype=np.int64)
    followed_positions = snapshot.skill_positions(followed_ids)
    followed = dense(n_skills, followed_positions, np.ones(followed_ids.size))
    profile_ids = np.array([row[0] for row in profile_rows], dtype=np.int64)
    profile_positions = snapshot.skill_positions(profile_ids)
    profile = dense(
        n_skills,
        profile_positions,
        np.array([row[1] for row in profile_rows], dtype=np.float64),
    )
    skill_position = dict(zip(followed_ids.tolist(), followed_positions.tolist(), strict=True))
    skill_position.update(zip(profile_ids.tolist(), profile_positions.tolist(), strict=True))
    weights = config["BLEND_WEIGHTS"]
    blend = engine.member_skill_vector(
        followed=followed,
        profile=profile,
        cohort=snapshot.cohort_vector(member.title_id, member.industry_id),
        weights=(weights["follow"], weights["profile"], weights["cohort"]),
    )
    blended = engine.member_affinity(blend, snapshot.course_skill, snapshot.idf)
    # An empty catalog (fresh install) has nothing to normalise.
    top_match = blended.max() if blended.size else 0.0
    relevance = blended / top_match if top_match > 0 else blended
    peak = snapshot.popularity.max() if snapshot.popularity.size else 0.0

    # Courses not published yet, and finished, in-progress and dismissed ones, are not
    # recommended.
    valid = snapshot.course_published <= now.timestamp()
    enrolled_positions = snapshot.course_positions(
        np.array([row[0] for row in inputs.enrolled], dtype=np.int64)
    )
    valid[enrolled_positions[enrolled_positions >= 0]] = False
    dismissed_positions = snapshot.course_positions(np.array(inputs.dismissed, dtype=np.int64))
    valid[dismissed_positions[dismissed_positions >= 0]] = False

    # Courses below the threshold keep a multiplier of exactly 1 (the discount of 0 excess).
    discount = np.ones(n_courses)
    if inputs.discounted:
        feedback = np.array(inputs.discounted, dtype=np.int64)
        positions = snapshot.course_positions(feedback[:, 0])
        keep = positions >= 0
        discount[positions[keep]] = engine.impression_discount(
            feedback[keep, 1],
            threshold=config["DISCOUNT_THRESHOLD"],
            decay=config["DISCOUNT_DECAY"],
            floor=config["DISCOUNT_FLOOR"],
        )
    return MemberScoring(
        followed=followed,
        profile=profile,
        skill_names=skill_names,
        skill_position=skill_position,
        relevance=relevance,
        # Within one reason, courses matching more of the member's whole skill vector go first,
        # and among equally matching courses the more popular ones.
        personal=1.0 + relevance,
        popular_share=snapshot.popularity / peak if peak > 0 else snapshot.popularity,
        valid=valid,
        discount=discount,
        recency=recency_scores(snapshot, now),
        enrolled_positions=enrolled_positions,
        learned=_learned_rows_served(inputs.learned_payload, member=member, snapshot=snapshot),
    )


def _learned_rows_served(
    payload: bytes | None, *, member: Member, snapshot: RulesSnapshot
) -> LearnedRows:
    """`learned_rows`, or none when the stored row is unreadable (deleted and queued for a
    refresh, see repairs.py): the page then has its rule-based reasons only."""
    try:
        return learned_rows(payload, snapshot=snapshot)
    except StoredRowInvalid as error:
        member_row_discard(member_id=member.pk, error=error)
        return {}


def reasons_for_member(
    *,
    inputs: MemberServingInputs,
    scoring: MemberScoring,
    member: Member,
    snapshot: RulesSnapshot,
    personalised: bool,
    goal: Reason | None = None,
) -> list[Reason]:
    """Every reason, in the order that breaks ties: on equal rank-scaled scores the earlier
    reason wins the course. The member's goal path (`goal`, built by `goal.goal_reason`), one
    reason per followed skill, per anchor course and per profile skill, the learned ones, then
    the cohort and global reasons. Without `personalised`, only New and Popular, unweighted."""
    every_course = np.arange(snapshot.course_ids.size, dtype=np.int64)
    reasons: list[Reason] = [goal] if goal is not None and personalised else []
    if not personalised:
        reasons.append(Reason("new", "new", "New", every_course, scoring.recency))
        reasons.append(Reason("popular", "popular", "Popular", every_course, snapshot.popularity))
    followed_set = set()
    for skill_id, _ in inputs.followed if personalised else []:
        followed_set.add(skill_id)
        reasons.extend(_skill_reason("follow", "follow", skill_id, 1.0, scoring, snapshot))
    reasons.extend(_watched_reasons(inputs, scoring, snapshot, personalised=personalised))
    learned = scoring.learned
    if (engine.FAMILY_ALS, -1) in learned:
        reasons.append(
            Reason("als", "als", "Learners like you also took", *learned[(engine.FAMILY_ALS, -1)])
        )
    for skill_id, weight, _ in inputs.profile:
        if skill_id not in followed_set and personalised:
            reasons.extend(_skill_reason("profile", "have", skill_id, weight, scoring, snapshot))
    if (engine.FAMILY_TEXT, -1) in learned:
        reasons.append(
            Reason(
                "text",
                "text",
                "New courses close to what you learn",
                *learned[(engine.FAMILY_TEXT, -1)],
            )
        )
    if personalised:
        reasons.extend(_cohort_reasons(member, scoring, snapshot))
        reasons.append(
            Reason(
                "popular",
                "popular",
                "Popular",
                every_course,
                snapshot.popularity * scoring.personal,
            )
        )
        # "New" stays about newness: relevance only breaks near-ties between fresh courses.
        reasons.append(
            Reason(
                "new",
                "new",
                "New",
                every_course,
                scoring.recency * (1.0 + 0.25 * scoring.relevance),
            )
        )
    return reasons


def _skill_reason(
    reason: str,
    verb: str,
    skill_id: int,
    weight: float,
    scoring: MemberScoring,
    snapshot: RulesSnapshot,
) -> list[Reason]:
    """The skill's courses, IDF-weighted, for a followed or profile skill; none for a skill the
    snapshot does not know.

    A profile skill too rare to trust (IDF 0: held by fewer members than the cutoff) gets no
    carousel. A followed one always does, weighted as the commonest skill could be (log 2, a
    skill every member holds): the member asked for it, and on a small site, or for a skill
    followed since the last retrain, most skills are that rare.
    """
    position = scoring.skill_position[skill_id]
    if position < 0:
        return []
    idf = float(snapshot.idf[position])
    if idf == 0:
        if reason != "follow":
            return []
        idf = FOLLOWED_IDF_FLOOR
    courses, values = engine.sparse_column(snapshot.course_skill_by_column, position)
    scores = (
        values
        * idf
        * weight
        * scoring.personal[courses]
        * (1.0 + 0.5 * scoring.popular_share[courses])
    )
    label = f"Because you {verb} {scoring.skill_names[skill_id]}"
    return [Reason(reason, f"{reason}:{skill_id}", label, courses, scores)]


def _watched_reasons(
    inputs: MemberServingInputs,
    scoring: MemberScoring,
    snapshot: RulesSnapshot,
    *,
    personalised: bool,
) -> list[Reason]:
    """ "Because you watched": the most recent engaged courses are anchors. Learned similarity
    (precomputed from the active run's item-item scores) replaces skill similarity for an anchor
    once it exists. Learned scores are raw; rank scaling makes them comparable with the rest."""
    course_titles = dict(inputs.enrolled)
    learned_anchors = {
        anchor for family, anchor in scoring.learned if family == engine.FAMILY_WATCHED
    }
    reasons = [
        Reason(
            "watched",
            f"watched:{anchor}",
            f"Because you watched {course_titles[anchor]}",
            courses,
            scores,
        )
        for (family, anchor), (courses, scores) in scoring.learned.items()
        if family == engine.FAMILY_WATCHED and anchor in course_titles
    ]
    anchors = inputs.enrolled[: settings.RECOMMENDATIONS["WATCHED_ANCHORS"]] if personalised else []
    for (course_id, title), position in zip(
        anchors, scoring.enrolled_positions.tolist(), strict=False
    ):
        if position >= 0 and course_id not in learned_anchors:
            reasons.append(
                Reason(
                    "watched",
                    f"watched:{course_id}",
                    f"Because you watched {title}",
                    *engine.sparse_row(snapshot.course_similarity, position),
                )
            )
    return reasons


def _cohort_reasons(
    member: Member, scoring: MemberScoring, snapshot: RulesSnapshot
) -> list[Reason]:
    """Trending among the member's job title, then in their industry."""
    reasons = []
    title_row = snapshot.title_position(member.title_id)
    if title_row >= 0:
        courses, values = engine.sparse_row(snapshot.title_trending, title_row)
        reasons.append(
            Reason(
                "title",
                f"title:{member.title_id}",
                f"Popular with {plural(member.title.name)}",
                courses,
                values * scoring.personal[courses],
            )
        )
    industry_row = snapshot.industry_position(member.industry_id)
    if industry_row >= 0:
        courses, values = engine.sparse_row(snapshot.industry_trending, industry_row)
        reasons.append(
            Reason(
                "industry",
                f"industry:{member.industry_id}",
                f"Trending in {member.industry.name}",
                courses,
                values * scoring.personal[courses],
            )
        )
    return reasons


def plural(title: str) -> str:
    """English plural of a job title's last word, good enough for 'Popular with Analysts'."""
    lowered = title.lower()
    if lowered.endswith(("s", "x", "ch", "sh")):
        return f"{title}es"
    if lowered.endswith("y") and not lowered.endswith(("ay", "ey", "oy", "uy")):
        return f"{title[:-1]}ies"
    return f"{title}s"
