"""The homepage's last stage: the learned ranker re-orders each carousel's cards, and an
experiment's exploration gives a share of the slots to random eligible courses."""

import dataclasses
import datetime as dt

import numpy as np

from catalog.selectors import course_cards_by_id
from members.models import Member
from recommendations import engine
from recommendations.data import STRATEGY_EXPLORE, Card, Carousel, RulesSnapshot
from recommendations.ranker.serving import ActiveRanker, ranker_page_scores
from recommendations.serving.explanations import ExplanationContext, card_explanation
from recommendations.serving.reasons import MemberScoring, dense


def carousels_reranked(
    carousels: list[Carousel],
    *,
    ranker: ActiveRanker,
    scoring: MemberScoring,
    member: Member,
    snapshot: RulesSnapshot,
    now: dt.datetime,
    channel: str,
) -> list[Carousel]:
    """Each carousel's cards re-ordered by the ranker (best first), scored for the page's
    `channel` (`PageView.Channel`); carousels keep their order and their courses, so reasons
    and diversity are untouched."""
    course_ids = np.array([c.course.pk for k in carousels for c in k.cards], dtype=np.int64)
    positions = snapshot.course_positions(course_ids)
    scores = ranker_page_scores(
        ranker=ranker,
        snapshot=snapshot,
        member=member,
        positions=np.maximum(positions, 0),
        relevance=scoring.relevance,
        held_skills=np.maximum(scoring.followed, scoring.profile),
        enrolled_positions=scoring.enrolled_positions[scoring.enrolled_positions >= 0],
        learned={
            family: dense(snapshot.course_ids.size, *scoring.learned[(family, -1)])
            for family in (engine.FAMILY_ALS, engine.FAMILY_TEXT)
            if (family, -1) in scoring.learned
        },
        now=now,
        channel=channel,
    )
    scores[positions < 0] = -np.inf
    result = []
    offset = 0
    for carousel in carousels:
        size = len(carousel.cards)
        mine = scores[offset : offset + size]
        offset += size
        order = np.lexsort((np.arange(size), -mine))
        cards = [
            dataclasses.replace(
                carousel.cards[index],
                shown=dataclasses.replace(carousel.cards[index].shown, position=rank),
            )
            for rank, index in enumerate(order.tolist())
        ]
        result.append(dataclasses.replace(carousel, cards=cards))
    return result


def carousels_explored(
    carousels: list[Carousel],
    *,
    snapshot: RulesSnapshot,
    valid: np.ndarray,
    share: float,
    rng: np.random.Generator,
) -> list[Carousel]:
    """Give `share` of the slots to random eligible courses not already on the page.

    The training data then holds courses the models would not have picked, so the next
    ranker does not only learn from its predecessors' choices.
    """
    shown = snapshot.course_positions(
        np.array([c.course.pk for k in carousels for c in k.cards], dtype=np.int64)
    )
    eligible = valid.copy()
    eligible[shown[shown >= 0]] = False
    slots = [(k, i) for k, carousel in enumerate(carousels) for i in range(len(carousel.cards))]
    picked = engine.exploration_slots(len(slots), share=share, rng=rng)
    pool = rng.permutation(np.flatnonzero(eligible))[: picked.size]
    if pool.size == 0:
        return carousels
    courses = course_cards_by_id(course_ids=[int(snapshot.course_ids[p]) for p in pool.tolist()])
    replaced = [list(carousel.cards) for carousel in carousels]
    for slot, position in zip(picked.tolist(), pool.tolist(), strict=False):
        course = courses.get(int(snapshot.course_ids[position]))
        if course is None:
            continue
        k, i = slots[slot]
        old = replaced[k][i]
        replaced[k][i] = Card(
            course=course,
            score=0.0,
            shown=dataclasses.replace(old.shown, course_id=course.pk, strategy=STRATEGY_EXPLORE),
            explanation=card_explanation(
                reason=old.shown.reason,
                label="",
                strategy=STRATEGY_EXPLORE,
                course_id=course.pk,
                course_skills=course.card_skills,
                context=ExplanationContext(),
            ),
        )
    return [
        dataclasses.replace(carousel, cards=cards)
        for carousel, cards in zip(carousels, replaced, strict=True)
    ]
