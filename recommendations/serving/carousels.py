"""The homepage's third stage: each course under its best reason, reasons grouped into
carousels (small skill carousels folded together), ordered by click-through, each diversified
over skill-set buckets, and the cards built from the card cache."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.utils import timezone

from catalog.selectors import course_cards_by_id
from recommendations import engine
from recommendations.data import (
    REASON_CONTINUE,
    STRATEGY_RULES,
    Card,
    Carousel,
    RulesSnapshot,
    ShownCourse,
)
from recommendations.serving.explanations import ExplanationContext, card_explanation
from recommendations.serving.goal import REASON_GOAL
from recommendations.serving.reasons import MemberScoring, Reason
from recommendations.serving.stored_pages import (
    LayoutRow,
)

# A visitor's explanations: no skills of their own, nothing in progress.
VISITOR = ExplanationContext()


@dataclass
class ReasonGroup:
    reason: str
    key: str
    label: str
    # Course positions best first, and their rank-scaled scores.
    positions: np.ndarray
    scores: np.ndarray


def reason_groups(
    best_reason: np.ndarray, best_score: np.ndarray, reasons: Sequence[tuple[str, str, str]]
) -> list[ReasonGroup]:
    """One group per reason (family, key, label) with the courses it won, best score first
    (ties to the lower position)."""
    assigned = np.flatnonzero(best_reason >= 0)
    ranked = assigned[np.lexsort((assigned, -best_score[assigned]))]
    # A stable sort by reason keeps each reason's courses in score order.
    by_reason = ranked[np.argsort(best_reason[ranked], kind="stable")]
    bounds = np.concatenate(
        ([0], np.cumsum(np.bincount(best_reason[ranked], minlength=len(reasons))))
    )
    groups = []
    for index, (reason, key, label) in enumerate(reasons):
        positions = by_reason[bounds[index] : bounds[index + 1]]
        groups.append(ReasonGroup(reason, key, label, positions, best_score[positions]))
    return groups


def _diversified(snapshot: RulesSnapshot, positions: np.ndarray, recency: np.ndarray) -> np.ndarray:
    """Indices into `positions` (best first) in the order to show them."""
    indices = np.arange(positions.size)
    if positions.size <= 1:
        return indices
    return engine.round_robin_by_bucket(
        indices, bucket_key=snapshot.course_bucket[positions], recency=recency[positions]
    )


def carousels_from_groups(
    groups: Sequence[ReasonGroup],
    *,
    snapshot: RulesSnapshot,
    recency: np.ndarray,
    order: Sequence[int],
    strategy: str = STRATEGY_RULES,
    variant_id: int | None = None,
    max_carousels: int | None = None,
    catalog_revision: int | None = None,
    leading: Sequence[LayoutRow] = (),
    context: ExplanationContext = VISITOR,
) -> list[Carousel]:
    """The carousels of `groups` in `order` (those too small left out, at most `max_carousels`),
    each diversified and cut to `CAROUSEL_SIZE`, after the `leading` rows (the "Continue
    learning" row), which the limit does not count."""
    config = settings.RECOMMENDATIONS
    # A followed skill's carousel and the goal's are shown however few courses they have: the
    # member asked for the skill or the role, and on a small catalog every other carousel may
    # be short too.
    wanted = [
        groups[index]
        for index in order
        if groups[index].positions.size >= config["CAROUSEL_MIN_SIZE"]
        or groups[index].reason in ("follow", REASON_GOAL)
    ][: config["MAX_CAROUSELS"] if max_carousels is None else max_carousels]
    layout: list[LayoutRow] = list(leading)
    for group in wanted:
        chosen = _diversified(snapshot, group.positions, recency)[: config["CAROUSEL_SIZE"]]
        course_ids = snapshot.course_ids[group.positions[chosen]].tolist()
        layout.append(
            (
                group.reason,
                group.key,
                group.label,
                course_ids,
                group.scores[chosen].tolist(),
                None,
            )
        )
    return carousels_from_layout(
        layout,
        strategy=strategy,
        variant_id=variant_id,
        catalog_revision=catalog_revision,
        context=context,
    )


def carousels_from_layout(
    layout: Sequence[LayoutRow],
    *,
    strategy: str,
    variant_id: int | None,
    catalog_revision: int | None,
    context: ExplanationContext | None = VISITOR,
) -> list[Carousel]:
    """The carousels of `layout`, in its order, with each course's card and its explanation:
    the row's own (a stored page's), else written for the member of `context` (None only for a
    layout whose rows all carry theirs). The "Continue learning" row's cards carry no
    experiment variant: it is the same in every variant, so it says nothing about them."""
    return carousels_built(
        layout,
        strategy=strategy,
        variant_id=variant_id,
        catalog_revision=catalog_revision,
        context=context,
        now=timezone.now(),
    ).carousels


@dataclass(frozen=True)
class BuiltCarousels:
    carousels: list[Carousel]
    # The earliest publication, after `now`, of a course the layout names and the carousels
    # leave out (None: no such course). From then on the same layout gives other carousels.
    next_publication: dt.datetime | None


def carousels_built(
    layout: Sequence[LayoutRow],
    *,
    strategy: str,
    variant_id: int | None,
    catalog_revision: int | None,
    context: ExplanationContext | None,
    now: dt.datetime,
) -> BuiltCarousels:
    """`carousels_from_layout` as of `now`, with when its answer changes without the catalog
    changing: a course left out as not published yet, once it is."""
    courses = course_cards_by_id(
        course_ids=[course_id for row in layout for course_id in row[3]],
        catalog_revision=catalog_revision,
    )
    carousels = []
    next_publication = None
    # Every homepage and recommendations answer builds close to a hundred cards here, so the
    # loop passes arguments by position and looks each name up once.
    course_of = courses.get
    for carousel_position, (reason, key, label, course_ids, scores, explanations) in enumerate(
        layout
    ):
        card_variant = None if reason == REASON_CONTINUE else variant_id
        if explanations is None and context is None:
            raise ValueError(f"the {key!r} row has no explanations and no context to write them")
        cards: list[Card] = []
        append = cards.append
        for index, (course_id, score) in enumerate(zip(course_ids, scores, strict=True)):
            course = course_of(course_id)
            # Deleted, or unpublished (published_at moved to the future), since the snapshot.
            if course is None:
                continue
            if course.published_at > now:
                if next_publication is None or course.published_at < next_publication:
                    next_publication = course.published_at
                continue
            append(
                Card(
                    course,
                    score,
                    # course id, reason, reason key, strategy, carousel position, position,
                    # variant: ShownCourse's field order.
                    ShownCourse(
                        course_id,
                        reason,
                        key,
                        strategy,
                        carousel_position,
                        len(cards),
                        card_variant,
                    ),
                    card_explanation(
                        reason=reason,
                        label=label,
                        strategy=strategy,
                        course_id=course_id,
                        course_skills=course.card_skills,
                        context=context,
                    )
                    if explanations is None
                    else explanations[index],
                )
            )
        carousels.append(Carousel(reason, key, label, cards))
    return BuiltCarousels(carousels, next_publication)


def small_skill_groups_merged(
    groups: list[ReasonGroup], *, skill_names: dict[int, str]
) -> list[ReasonGroup]:
    """Fold too-small per-skill carousels of one family into a single carousel.

    Following five skills with two matching courses each would otherwise hide all ten courses,
    since carousels under CAROUSEL_MIN_SIZE are not shown.
    """
    minimum = settings.RECOMMENDATIONS["CAROUSEL_MIN_SIZE"]
    kept: list[ReasonGroup] = []
    merged: dict[str, list[ReasonGroup]] = {}
    for group in groups:
        if group.reason not in ("follow", "profile") or group.positions.size >= minimum:
            kept.append(group)
        else:
            merged.setdefault(group.reason, []).append(group)
    for reason, small in merged.items():
        positions = np.concatenate([group.positions for group in small])
        scores = np.concatenate([group.scores for group in small])
        ranked = np.lexsort((positions, -scores))
        names = [skill_names.get(int(group.key.split(":")[1]), "this skill") for group in small]
        verb = "follow" if reason == "follow" else "have"
        kept.append(
            ReasonGroup(
                reason,
                reason,
                f"Because you {verb} {names_joined(names)}",
                positions[ranked],
                scores[ranked],
            )
        )
    return kept


def names_joined(names: list[str]) -> str:
    if len(names) > 3:
        names = [*names[:2], f"{len(names) - 2} more skills"]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def carousels_for_member(
    *,
    reasons: Sequence[Reason],
    scoring: MemberScoring,
    reason_feedback: dict[str, tuple[int, int]],
    snapshot: RulesSnapshot,
    strategy: str,
    variant_id: int | None,
    max_carousels: int | None,
    catalog_revision: int | None,
    leading: Sequence[LayoutRow] = (),
    context: ExplanationContext = VISITOR,
) -> list[Carousel]:
    """The homepage's third stage: each course under its best reason (scores discounted for
    courses shown often without a click, rank-scaled within each reason, argmax), small skill
    carousels folded together, carousels ordered by the member's own smoothed click-through per
    reason, and each one's cards diversified over skill-set buckets."""
    config = settings.RECOMMENDATIONS
    best_reason, best_score = engine.best_reason_among_candidates(
        [(r.courses, r.scores * scoring.discount[r.courses]) for r in reasons],
        valid=scoring.valid,
        limit=config["CANDIDATES_PER_REASON"],
    )
    groups = reason_groups(best_reason, best_score, [reason[:3] for reason in reasons])
    groups = [group for group in groups if group.positions.size]
    groups = small_skill_groups_merged(groups, skill_names=scoring.skill_names)
    families = [group.reason for group in groups]
    priors = config["CTR_PRIOR"]
    order = engine.order_by_ctr(
        np.array([reason_feedback.get(f, (0, 0))[1] for f in families], dtype=np.float64),
        np.array([reason_feedback.get(f, (0, 0))[0] for f in families], dtype=np.float64),
        prior_ctr=np.array([priors.get(f, 0.0) for f in families], dtype=np.float64),
        prior_strength=config["CTR_PRIOR_STRENGTH"],
    )
    # Within a skill-set bucket courses go newest first; a course the member keeps ignoring
    # counts as older, so it sinks behind its siblings as well as losing reason rank.
    return carousels_from_groups(
        groups,
        snapshot=snapshot,
        recency=scoring.recency * scoring.discount,
        order=order,
        strategy=strategy,
        variant_id=variant_id,
        max_carousels=max_carousels,
        catalog_revision=catalog_revision,
        leading=leading,
        context=context,
    )
