"""Reads of the recommendations app: the homepage's carousels for a member or a visitor.

Per page view: a constant number of queries (the member's skills, activity, dismissals and
feedback counts, then the shown courses), and numpy work over the cached rules snapshot.
"""

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from catalog.card_cache import catalog_revision_current
from catalog.models import Course
from catalog.selectors import course_cards_by_id, courses_in_bulk
from core.prepared_statements import prepared_cursor
from members.models import Enrolment, FollowedSkill, Member, MemberSkill
from recommendations import engine
from recommendations.composed_pages import (
    LayoutRow,
    StoredPage,
    composed_page_max_age,
    layout_loads,
    page_digest,
    stored_page_servable,
)
from recommendations.models import (
    ComposedPage,
    CourseFeedbackDay,
    Dismissal,
    MemberRecommendations,
    ReasonFeedback,
)
from recommendations.page_views import impression_of_page_view, page_view_pending_lock_key
from recommendations.pipeline import RulesSnapshot
from recommendations.ranking import ActiveRanker, ranker_page_scores
from recommendations.services import ShownCourse, shown_course_of_impression
from recommendations.snapshots import serving_state, snapshot_active

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


@dataclass(frozen=True)
class Card:
    course: Course
    score: float
    shown: ShownCourse


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
    # What the page was composed from (`composed_pages.page_digest`); None: not storable.
    digest: bytes | None = None

    @property
    def shown(self) -> list[ShownCourse]:
        return [card.shown for carousel in self.carousels for card in carousel.cards]


@dataclass
class _Group:
    reason: str
    key: str
    label: str
    # Course positions best first, and their rank-scaled scores.
    positions: np.ndarray
    scores: np.ndarray


def _grouped(
    best_reason: np.ndarray, best_score: np.ndarray, reasons: Sequence[tuple[str, str, str]]
) -> list[_Group]:
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
        groups.append(_Group(reason, key, label, positions, best_score[positions]))
    return groups


def _config() -> dict:
    return settings.RECOMMENDATIONS


def _dense(size: int, positions: np.ndarray, values: np.ndarray) -> np.ndarray:
    vector = np.zeros(size)
    keep = positions >= 0
    np.add.at(vector, positions[keep], values[keep])
    return vector


def _learned_rows(
    payload: bytes | None, *, snapshot: RulesSnapshot
) -> dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]:
    """The member's precomputed candidates as (family, anchor): (course positions ascending,
    scores), in the order the payload first names each (family, anchor); courses the snapshot
    no longer holds are left out, and a course named twice keeps its last score."""
    if payload is None:
        return {}
    records = engine.candidates_decode(payload)
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


def _recency(snapshot: RulesSnapshot, now: dt.datetime) -> np.ndarray:
    return np.asarray(
        engine.recency_scores(
            snapshot.course_published,
            now=now.timestamp(),
            half_life_days=_config()["NEW_HALF_LIFE_DAYS"],
        ),
        dtype=np.float64,
    )


def _diversified(snapshot: RulesSnapshot, positions: np.ndarray, recency: np.ndarray) -> np.ndarray:
    """Indices into `positions` (best first) in the order to show them."""
    indices = np.arange(positions.size)
    if positions.size <= 1:
        return indices
    return engine.round_robin_by_bucket(
        indices, bucket_key=snapshot.course_bucket[positions], recency=recency[positions]
    )


def _cards(
    groups: Sequence[_Group],
    *,
    snapshot: RulesSnapshot,
    recency: np.ndarray,
    order: Sequence[int],
    strategy: str = STRATEGY_RULES,
    variant_id: int | None = None,
    max_carousels: int | None = None,
    catalog_revision: int | None = None,
) -> list[Carousel]:
    config = _config()
    wanted = [
        groups[index]
        for index in order
        if groups[index].positions.size >= config["CAROUSEL_MIN_SIZE"]
    ][: config["MAX_CAROUSELS"] if max_carousels is None else max_carousels]
    layout: list[LayoutRow] = []
    for group in wanted:
        chosen = _diversified(snapshot, group.positions, recency)[: config["CAROUSEL_SIZE"]]
        course_ids = snapshot.course_ids[group.positions[chosen]].tolist()
        layout.append(
            (group.reason, group.key, group.label, course_ids, group.scores[chosen].tolist())
        )
    return _carousels_built(
        layout, strategy=strategy, variant_id=variant_id, catalog_revision=catalog_revision
    )


def _carousels_built(
    layout: Sequence[LayoutRow],
    *,
    strategy: str,
    variant_id: int | None,
    catalog_revision: int | None,
) -> list[Carousel]:
    """The carousels of `layout`, in its order, with each course's card."""
    courses = course_cards_by_id(
        course_ids=[course_id for *_, ids, _ in layout for course_id in ids],
        catalog_revision=catalog_revision,
    )
    carousels = []
    for carousel_position, (reason, key, label, course_ids, scores) in enumerate(layout):
        cards = []
        for course_id, score in zip(course_ids, scores, strict=True):
            course = courses.get(course_id)
            if course is None:  # deleted since the snapshot was built
                continue
            cards.append(
                Card(
                    course=course,
                    score=score,
                    shown=ShownCourse(
                        course_id=course_id,
                        reason=reason,
                        reason_key=key,
                        strategy=strategy,
                        carousel_position=carousel_position,
                        position=len(cards),
                        variant_id=variant_id,
                    ),
                )
            )
        carousels.append(Carousel(reason=reason, key=key, label=label, cards=cards))
    return carousels


def home_page_for_visitor(*, now: dt.datetime | None = None) -> HomePage:
    """Non-personalised baseline: popular and new courses, each course under its better one."""
    now = now or timezone.now()
    snapshot = snapshot_active()
    recency = _recency(snapshot, now)
    reasons = [("popular", "Popular", snapshot.popularity), ("new", "New", recency)]
    best_reason, best_score = engine.best_reason_per_course(
        [scores for *_, scores in reasons],
        valid=np.ones(snapshot.course_ids.size, dtype=bool),
        limit=_config()["CANDIDATES_PER_REASON"],
    )
    groups = _grouped(
        best_reason, best_score, [(reason, reason, label) for reason, label, _ in reasons]
    )
    carousels = _cards(groups, snapshot=snapshot, recency=recency, order=range(len(groups)))
    return HomePage(page_view_id=uuid.uuid4(), carousels=carousels)


def home_page_for_member(
    *,
    member: Member,
    now: dt.datetime | None = None,
    strategy: str = STRATEGY_DEFAULT,
    variant_id: int | None = None,
    exploration_share: float = 0.0,
    max_carousels: int | None = None,
    page_view_id: uuid.UUID | None = None,
    reuse_composed: bool = False,
    mark_pending: bool = False,
) -> HomePage:
    """The member's carousels, one per reason, each course under its best (argmax) reason.

    `strategy` picks what serves the page (experiments pass their variant's; see
    recommendations/README.md): `default` is the site's homepage (learned candidates, and the
    ranker inside each carousel when the active run's ranker beat the unranked order),
    `recency` new and popular courses without personalisation, `affinity` the rule-based
    reasons only (the learned row is not read), `als` rule-based and learned candidates
    without the ranker, `ranked` the same re-ordered by the active run's ranker whatever its
    offline verdict. `exploration_share` of the slots go to random eligible courses, drawn
    from a generator seeded by the page view id (a new random one unless given).

    With `reuse_composed`, the member's stored next page (`composed_pages`) is served when it
    was composed from exactly what this page would be. The page's `digest` says what it was
    composed from (None: a page that is never stored).

    `mark_pending`: the page view is marked pending (`page_views`) in the statement that reads
    the member's inputs, for a view that writes its impressions after the response
    (`impressions_log_after_response`): one round trip fewer before the response.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown homepage strategy {strategy!r}")
    config = _config()
    now = now or timezone.now()
    state = serving_state()
    snapshot = state.snapshot
    ranker = _ranker_for(strategy, state.ranker)
    logged = _logged_strategy(strategy, ranker)
    n_courses, n_skills = snapshot.course_ids.size, snapshot.skill_ids.size
    uses_learned = strategy in (STRATEGY_DEFAULT, STRATEGY_ALS, STRATEGY_RANKED)
    personalised = strategy != STRATEGY_RECENCY

    # Whole days: the counts are kept per day (see CourseFeedbackDay).
    window_start = timezone.localdate(now) - dt.timedelta(days=config["DISCOUNT_WINDOW_DAYS"])
    page_view_id = page_view_id or uuid.uuid4()
    inputs = member_serving_inputs(
        member_id=member.pk,
        window_start=window_start,
        discount_threshold=config["DISCOUNT_THRESHOLD"],
        with_learned=uses_learned,
        pending_page_view_id=page_view_id if mark_pending else None,
    )
    followed_rows, profile_rows = inputs.followed, inputs.profile
    enrolment_rows, dismissed_ids = inputs.enrolled, inputs.dismissed
    learned_payload, course_feedback = inputs.learned_payload, inputs.discounted
    reason_feedback = inputs.reason_feedback

    digest = None
    max_age = composed_page_max_age()
    if max_age > 0 and state.run_id is not None and exploration_share == 0:
        digest = page_digest(
            inputs=inputs,
            member=member,
            run_id=state.run_id,
            strategy=strategy,
            variant_id=variant_id,
            max_carousels=max_carousels,
            window_start=window_start,
        )
        if reuse_composed and stored_page_servable(
            stored=inputs.composed, digest=digest, now=now, max_age=max_age
        ):
            carousels = _carousels_built(
                layout_loads(inputs.composed.layout),
                strategy=logged,
                variant_id=variant_id,
                catalog_revision=inputs.catalog_revision,
            )
            return HomePage(page_view_id=page_view_id, carousels=carousels, digest=digest)

    skill_names = {skill_id: name for skill_id, name in followed_rows}
    skill_names.update({skill_id: name for skill_id, _, name in profile_rows})

    # Member skill sources as dense vectors over the snapshot's skill positions.
    followed_ids = np.array([row[0] for row in followed_rows], dtype=np.int64)
    followed_positions = snapshot.skill_positions(followed_ids)
    followed = _dense(n_skills, followed_positions, np.ones(followed_ids.size))
    profile_ids = np.array([row[0] for row in profile_rows], dtype=np.int64)
    profile_positions = snapshot.skill_positions(profile_ids)
    profile = _dense(
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
    # Within one reason, courses matching more of the member's whole skill vector go first, and
    # among equally matching courses the more popular ones.
    personal = 1.0 + relevance
    peak = snapshot.popularity.max() if snapshot.popularity.size else 0.0
    popular_share = snapshot.popularity / peak if peak > 0 else snapshot.popularity

    # Finished, in-progress and dismissed courses are not recommended.
    valid = np.ones(n_courses, dtype=bool)
    enrolled_positions = snapshot.course_positions(
        np.array([row[0] for row in enrolment_rows], dtype=np.int64)
    )
    valid[enrolled_positions[enrolled_positions >= 0]] = False
    dismissed_positions = snapshot.course_positions(np.array(dismissed_ids, dtype=np.int64))
    valid[dismissed_positions[dismissed_positions >= 0]] = False

    # Courses below the threshold keep a multiplier of exactly 1 (the discount of 0 excess).
    discount = np.ones(n_courses)
    if course_feedback:
        feedback = np.array(course_feedback, dtype=np.int64)
        positions = snapshot.course_positions(feedback[:, 0])
        keep = positions >= 0
        discount[positions[keep]] = engine.impression_discount(
            feedback[keep, 1],
            threshold=config["DISCOUNT_THRESHOLD"],
            decay=config["DISCOUNT_DECAY"],
            floor=config["DISCOUNT_FLOOR"],
        )
    recency = _recency(snapshot, now)

    # One reason per followed skill, per anchor course and per profile skill, then the cohort
    # and global reasons. On equal rank-scaled scores the earlier row wins the course. Each
    # reason is its candidates only, (course positions, scores): most reasons hold a few dozen
    # of the catalog's courses, and the page costs work in proportion to those, not to the
    # catalog. Popular and New score every course.
    every_course = np.arange(n_courses, dtype=np.int64)
    reasons: list[tuple[str, str, str, np.ndarray, np.ndarray]] = []
    if not personalised:
        reasons.append(("new", "new", "New", every_course, recency))
        reasons.append(("popular", "popular", "Popular", every_course, snapshot.popularity))
    course_skill = snapshot.course_skill_by_column

    def skill_reason(reason: str, verb: str, skill_id: int, weight: float) -> None:
        position = skill_position[skill_id]
        if position < 0 or snapshot.idf[position] == 0:
            return
        courses, values = engine.sparse_column(course_skill, position)
        reasons.append(
            (
                reason,
                f"{reason}:{skill_id}",
                f"Because you {verb} {skill_names[skill_id]}",
                courses,
                values
                * snapshot.idf[position]
                * weight
                * personal[courses]
                * (1.0 + 0.5 * popular_share[courses]),
            )
        )

    followed_set = set()
    for skill_id, _ in followed_rows if personalised else []:
        followed_set.add(skill_id)
        skill_reason("follow", "follow", skill_id, 1.0)
    # Learned candidates precomputed by the active run: ALS picks, ALS item-item "Because you
    # watched" and text similarity for courses too new for ALS. Scores are raw; rank scaling
    # below makes them comparable with the live reasons.
    course_titles = dict(enrolment_rows)
    learned = _learned_rows(learned_payload, snapshot=snapshot)
    # "Because you watched": the most recent engaged courses are anchors. Learned similarity
    # (ALS item factors) replaces skill similarity for an anchor once it exists.
    learned_anchors = {anchor for family, anchor in learned if family == engine.FAMILY_WATCHED}
    for (family, anchor), (courses, scores) in learned.items():
        if family == engine.FAMILY_WATCHED and anchor in course_titles:
            reasons.append(
                (
                    "watched",
                    f"watched:{anchor}",
                    f"Because you watched {course_titles[anchor]}",
                    courses,
                    scores,
                )
            )
    anchors = enrolment_rows[: config["WATCHED_ANCHORS"]] if personalised else []
    for (course_id, title), position in zip(anchors, enrolled_positions.tolist(), strict=False):
        if position >= 0 and course_id not in learned_anchors:
            reasons.append(
                (
                    "watched",
                    f"watched:{course_id}",
                    f"Because you watched {title}",
                    *engine.sparse_row(snapshot.course_similarity, position),
                )
            )
    if (engine.FAMILY_ALS, -1) in learned:
        reasons.append(
            ("als", "als", "Learners like you also took", *learned[(engine.FAMILY_ALS, -1)])
        )
    for skill_id, weight, _ in profile_rows:
        if skill_id not in followed_set and personalised:
            skill_reason("profile", "have", skill_id, weight)
    if (engine.FAMILY_TEXT, -1) in learned:
        reasons.append(
            (
                "text",
                "text",
                "New courses close to what you learn",
                *learned[(engine.FAMILY_TEXT, -1)],
            )
        )
    title_row = snapshot.title_position(member.title_id)
    if title_row >= 0 and personalised:
        courses, values = engine.sparse_row(snapshot.title_trending, title_row)
        reasons.append(
            (
                "title",
                f"title:{member.title_id}",
                f"Popular with {_plural(member.title.name)}",
                courses,
                values * personal[courses],
            )
        )
    industry_row = snapshot.industry_position(member.industry_id)
    if industry_row >= 0 and personalised:
        courses, values = engine.sparse_row(snapshot.industry_trending, industry_row)
        reasons.append(
            (
                "industry",
                f"industry:{member.industry_id}",
                f"Trending in {member.industry.name}",
                courses,
                values * personal[courses],
            )
        )
    if personalised:
        reasons.append(
            ("popular", "popular", "Popular", every_course, snapshot.popularity * personal)
        )
        # "New" stays about newness: relevance only breaks near-ties between fresh courses.
        reasons.append(("new", "new", "New", every_course, recency * (1.0 + 0.25 * relevance)))

    best_reason, best_score = engine.best_reason_among_candidates(
        [(courses, scores * discount[courses]) for *_, courses, scores in reasons],
        valid=valid,
        limit=config["CANDIDATES_PER_REASON"],
    )

    groups = _grouped(best_reason, best_score, [reason[:3] for reason in reasons])
    groups = [group for group in groups if group.positions.size]

    group_list = _merge_small_skill_groups(groups, skill_names=skill_names)
    families = [group.reason for group in group_list]
    priors = config["CTR_PRIOR"]
    carousel_order = engine.order_by_ctr(
        np.array([reason_feedback.get(f, (0, 0))[1] for f in families], dtype=np.float64),
        np.array([reason_feedback.get(f, (0, 0))[0] for f in families], dtype=np.float64),
        prior_ctr=np.array([priors.get(f, 0.0) for f in families], dtype=np.float64),
        prior_strength=config["CTR_PRIOR_STRENGTH"],
    )
    # Within a skill-set bucket courses go newest first; a course the member keeps ignoring
    # counts as older, so it sinks behind its siblings as well as losing reason rank.
    carousels = _cards(
        group_list,
        snapshot=snapshot,
        recency=recency * discount,
        order=carousel_order,
        strategy=logged,
        variant_id=variant_id,
        max_carousels=max_carousels,
        catalog_revision=inputs.catalog_revision,
    )
    if ranker is not None and carousels:
        carousels = _reranked(
            carousels,
            ranker=ranker,
            snapshot=snapshot,
            member=member,
            relevance=relevance,
            held_skills=np.maximum(followed, profile),
            enrolled_positions=enrolled_positions[enrolled_positions >= 0],
            learned={
                family: _dense(n_courses, *learned[(family, -1)])
                for family in (engine.FAMILY_ALS, engine.FAMILY_TEXT)
                if (family, -1) in learned
            },
            now=now,
        )
    if exploration_share > 0 and carousels:
        carousels = _explored(
            carousels,
            snapshot=snapshot,
            valid=valid,
            share=exploration_share,
            rng=np.random.default_rng(page_view_id.int % 2**63),
        )
    return HomePage(page_view_id=page_view_id, carousels=carousels, digest=digest)


@dataclass(frozen=True)
class MemberServingInputs:
    """What one page view reads of a member besides the member row itself."""

    # (skill id, name), newest follow first.
    followed: list[tuple[int, str]]
    # (skill id, weight, name), heaviest first.
    profile: list[tuple[int, float, str]]
    # (course id, title) of enrolled courses (in progress or finished), newest first.
    enrolled: list[tuple[int, str]]
    dismissed: list[int]
    # The precomputed learned candidates (None when not asked for or not computed yet).
    learned_payload: bytes | None
    # (course id, impressions) of the courses the impression discount applies to: shown more
    # than the threshold within the window and never clicked in it.
    discounted: list[tuple[int, int]]
    # Reason family: (impressions, clicks), all time.
    reason_feedback: dict[str, tuple[int, int]]
    # The catalog's revision (see `CatalogRevision`), for the card cache: read here, it costs
    # no round trip of its own. None: no revision row.
    catalog_revision: int | None
    # The member's stored next page (`composed_pages`), if any.
    composed: StoredPage | None = None


def member_serving_inputs(
    *,
    member_id: int,
    window_start: dt.date,
    discount_threshold: int,
    with_learned: bool,
    pending_page_view_id: uuid.UUID | None = None,
) -> MemberServingInputs:
    """The member's skills, courses, precomputed row and feedback counts for one page view.

    Ties in every ordering go to the lower id, so both database paths agree row for row. Only
    discounted courses come back: a member who visits often has thousands of shown courses,
    and the others would multiply their scores by 1.

    `pending_page_view_id`: on PostgreSQL the same statement marks that page view pending
    (`page_views`), as `page_view_pending_mark` would with a round trip of its own. Elsewhere
    impressions are written before the response and nothing is marked.
    """
    if connection.vendor == "postgresql":
        return _member_serving_inputs_postgresql(
            member_id=member_id,
            window_start=window_start,
            discount_threshold=discount_threshold,
            with_learned=with_learned,
            pending_page_view_id=pending_page_view_id,
        )
    return _member_serving_inputs_portable(
        member_id=member_id,
        window_start=window_start,
        discount_threshold=discount_threshold,
        with_learned=with_learned,
    )


# One statement, one row: nine reads on every page view (the catalog revision is the card
# cache's, the stored page `composed_pages`'), where each ORM query would cost a round trip
# plus building its SQL and converting its rows in Python. Lists come back as JSON or arrays,
# which psycopg decodes in C. Skill names are looked up per skill: as a join, the prepared
# (generic) plan hashes the whole skills table for a member's handful of skills.
_MEMBER_INPUTS_COLUMNS = """\
    (SELECT json_agg(
            json_build_array(f.skill_id, (SELECT name FROM catalog_skill WHERE id = f.skill_id))
            ORDER BY f.followed_at DESC, f.skill_id)
        FROM members_followedskill f WHERE f.member_id = %(member)s),
    (SELECT json_agg(
            json_build_array(
                p.skill_id, p.weight, (SELECT name FROM catalog_skill WHERE id = p.skill_id)
            )
            ORDER BY p.weight DESC, p.skill_id)
        FROM members_memberskill p WHERE p.member_id = %(member)s),
    (SELECT json_agg(json_build_array(e.course_id, c.title)
            ORDER BY e.enrolled_at DESC, e.course_id)
        FROM members_enrolment e JOIN catalog_course c ON c.id = e.course_id
        WHERE e.member_id = %(member)s),
    ARRAY(SELECT course_id FROM recommendations_dismissal
        WHERE member_id = %(member)s ORDER BY course_id),
    CASE WHEN %(learned)s THEN (SELECT payload FROM recommendations_memberrecommendations
        WHERE member_id = %(member)s) END,
    discounted.ids,
    discounted.impressions,
    (SELECT json_agg(json_build_array(reason, impressions, clicks) ORDER BY reason)
        FROM recommendations_reasonfeedback WHERE member_id = %(member)s),
    (SELECT revision FROM catalog_catalogrevision WHERE id = 1),
    page.digest,
    page.composed_at,
    page.layout"""
_MEMBER_INPUTS_FROM = """
FROM (
    SELECT array_agg(course_id ORDER BY course_id) AS ids,
        array_agg(impressions ORDER BY course_id) AS impressions
    FROM (
        SELECT course_id, SUM(impressions) AS impressions
        FROM recommendations_coursefeedbackday
        WHERE member_id = %(member)s AND day > %(window_start)s
        GROUP BY course_id
        HAVING SUM(clicks) = 0 AND SUM(impressions) > %(threshold)s
    ) AS per_course
) AS discounted
LEFT JOIN recommendations_composedpage page ON page.member_id = %(member)s
"""
_MEMBER_INPUTS_SQL = f"SELECT\n{_MEMBER_INPUTS_COLUMNS},\n    NULL{_MEMBER_INPUTS_FROM}"
# The same, marking a page view pending (`page_views`): its lock is taken with the reads.
_MEMBER_INPUTS_MARKING_SQL = (
    f"SELECT\n{_MEMBER_INPUTS_COLUMNS},\n    pg_advisory_lock(%(pending)s){_MEMBER_INPUTS_FROM}"
)


def _member_serving_inputs_postgresql(
    *,
    member_id: int,
    window_start: dt.date,
    discount_threshold: int,
    with_learned: bool,
    pending_page_view_id: uuid.UUID | None = None,
) -> MemberServingInputs:
    params = {
        "member": member_id,
        "window_start": window_start,
        "threshold": discount_threshold,
        "learned": with_learned,
    }
    statement = _MEMBER_INPUTS_SQL
    if pending_page_view_id is not None:
        params["pending"] = page_view_pending_lock_key(pending_page_view_id)
        statement = _MEMBER_INPUTS_MARKING_SQL
    with prepared_cursor() as cursor:
        cursor.execute(statement, params)
        (
            followed,
            profile,
            enrolled,
            dismissed,
            payload,
            ids,
            counts,
            reasons,
            catalog_revision,
            composed_digest,
            composed_at,
            composed_layout,
            _,  # the lock's (void) result, or NULL
        ) = cursor.fetchone()
    return MemberServingInputs(
        followed=[(skill_id, name) for skill_id, name in followed or []],
        profile=[(skill_id, float(weight), name) for skill_id, weight, name in profile or []],
        enrolled=[(course_id, title) for course_id, title in enrolled or []],
        dismissed=list(dismissed),
        learned_payload=bytes(payload) if payload is not None else None,
        discounted=list(zip(ids or [], counts or [], strict=True)),
        reason_feedback={reason: (shown, clicks) for reason, shown, clicks in reasons or []},
        catalog_revision=catalog_revision,
        composed=(
            StoredPage(bytes(composed_digest), composed_at, bytes(composed_layout))
            if composed_digest is not None
            else None
        ),
    )


def _member_serving_inputs_portable(
    *, member_id: int, window_start: dt.date, discount_threshold: int, with_learned: bool
) -> MemberServingInputs:
    """The same reads through the ORM, one query each (SQLite: the demo and local tests)."""
    learned_payload = None
    if with_learned:
        learned_payload = (
            MemberRecommendations.objects.filter(member_id=member_id)
            .values_list("payload", flat=True)
            .first()
        )
    return MemberServingInputs(
        followed=list(
            FollowedSkill.objects.filter(member_id=member_id)
            .order_by("-followed_at", "skill_id")
            .values_list("skill_id", "skill__name")
        ),
        profile=[
            (skill_id, float(weight), name)
            for skill_id, weight, name in MemberSkill.objects.filter(member_id=member_id)
            .order_by("-weight", "skill_id")
            .values_list("skill_id", "weight", "skill__name")
        ],
        enrolled=list(
            Enrolment.objects.filter(member_id=member_id)
            .order_by("-enrolled_at", "course_id")
            .values_list("course_id", "course__title")
        ),
        dismissed=list(
            Dismissal.objects.filter(member_id=member_id)
            .order_by("course_id")
            .values_list("course_id", flat=True)
        ),
        learned_payload=bytes(learned_payload) if learned_payload is not None else None,
        discounted=list(
            CourseFeedbackDay.objects.filter(member_id=member_id, day__gt=window_start)
            .values("course_id")
            .annotate(impressions=Sum("impressions"), clicks=Sum("clicks"))
            .filter(clicks=0, impressions__gt=discount_threshold)
            .order_by("course_id")
            .values_list("course_id", "impressions")
        ),
        reason_feedback={
            reason: (impressions, clicks)
            for reason, impressions, clicks in ReasonFeedback.objects.filter(member_id=member_id)
            .order_by("reason")
            .values_list("reason", "impressions", "clicks")
        },
        catalog_revision=catalog_revision_current(),
        composed=_stored_page_portable(member_id),
    )


def _stored_page_portable(member_id: int) -> StoredPage | None:
    row = (
        ComposedPage.objects.filter(member_id=member_id)
        .values_list("digest", "composed_at", "layout")
        .first()
    )
    return None if row is None else StoredPage(bytes(row[0]), row[1], bytes(row[2]))


def _ranker_for(strategy: str, ranker: ActiveRanker | None) -> ActiveRanker | None:
    if strategy == STRATEGY_RANKED:
        return ranker
    if strategy == STRATEGY_DEFAULT and ranker is not None and ranker.used:
        return ranker
    return None


def _logged_strategy(strategy: str, ranker: ActiveRanker | None) -> str:
    if ranker is not None:
        return STRATEGY_RANKED
    if strategy == STRATEGY_DEFAULT:
        return STRATEGY_RULES
    # A "ranked" variant without a stored ranker serves (and logs) the ALS order.
    return STRATEGY_ALS if strategy == STRATEGY_RANKED else strategy


def _reranked(
    carousels: list[Carousel],
    *,
    ranker: ActiveRanker,
    snapshot: RulesSnapshot,
    member: Member,
    relevance: np.ndarray,
    held_skills: np.ndarray,
    enrolled_positions: np.ndarray,
    learned: dict[int, np.ndarray],
    now: dt.datetime,
) -> list[Carousel]:
    """Each carousel's cards re-ordered by the ranker (best first); carousels keep their
    order and their courses, so reasons and diversity are untouched."""
    course_ids = np.array([c.course.pk for k in carousels for c in k.cards], dtype=np.int64)
    positions = snapshot.course_positions(course_ids)
    scores = ranker_page_scores(
        ranker=ranker,
        snapshot=snapshot,
        member=member,
        positions=np.maximum(positions, 0),
        relevance=relevance,
        held_skills=held_skills,
        enrolled_positions=enrolled_positions,
        learned=learned,
        now=now,
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


def _explored(
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
        )
    return [
        dataclasses.replace(carousel, cards=cards)
        for carousel, cards in zip(carousels, replaced, strict=True)
    ]


def _merge_small_skill_groups(groups: list[_Group], *, skill_names: dict[int, str]) -> list[_Group]:
    """Fold too-small per-skill carousels of one family into a single carousel.

    Following five skills with two matching courses each would otherwise hide all ten courses,
    since carousels under CAROUSEL_MIN_SIZE are not shown.
    """
    minimum = _config()["CAROUSEL_MIN_SIZE"]
    kept: list[_Group] = []
    merged: dict[str, list[_Group]] = {}
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
            _Group(
                reason,
                reason,
                f"Because you {verb} {_join_names(names)}",
                positions[ranked],
                scores[ranked],
            )
        )
    return kept


def _join_names(names: list[str]) -> str:
    if len(names) > 3:
        names = [*names[:2], f"{len(names) - 2} more skills"]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


@dataclass(frozen=True)
class SimilarCourse:
    course: Course
    score: float


def courses_similar(*, course: Course, limit: int) -> list[SimilarCourse]:
    """Published courses most like `course`, best first: by what the same learners took (ALS
    item factors) where the course has activity, else by shared (IDF-weighted) skills.

    Read from the active snapshot, so a course added since the last retrain has no neighbours
    yet (and is no one's neighbour). Ties go to the lower course id.
    """
    if limit <= 0:
        return []
    snapshot = snapshot_active()
    position = int(snapshot.course_positions(np.array([course.pk], dtype=np.int64))[0])
    if position < 0:
        return []
    row = snapshot.similar_courses[[position], :].tocsr()
    neighbours, scores = row.indices, row.data
    keep = (scores > 0) & (neighbours != position)
    neighbours, scores = neighbours[keep], scores[keep]
    ids = snapshot.course_ids[neighbours]
    order = np.lexsort((ids, -scores))
    ranked = [(int(ids[i]), float(scores[i])) for i in order]
    found: list[SimilarCourse] = []
    # Courses unpublished or deleted since the snapshot drop out; read in chunks so a few such
    # courses do not shorten the list, without loading every neighbour of a dense row.
    for start in range(0, len(ranked), limit * 2):
        chunk = ranked[start : start + limit * 2]
        score_of = dict(chunk)
        for item in courses_in_bulk(course_ids=[course_id for course_id, _ in chunk]):
            found.append(SimilarCourse(course=item, score=score_of[item.pk]))
            if len(found) == limit:
                return found
    return found


def shown_course_of_page_view(
    *, member: Member, page_view_id: uuid.UUID | None, course_id: int
) -> ShownCourse | None:
    """Where the member's page view showed the course (reason, carousel, position, strategy,
    variant), read from its logged impression; None when it logged none (no page view, or a
    forged or stale one). Dismiss and undo record this context, so a card's form carries only
    the page view's id and no one can credit a reason that never showed the course. Waits for
    the page's impressions if they are still being written."""
    return shown_course_of_impression(
        impression=impression_of_page_view(
            member=member, page_view_id=page_view_id, course_id=course_id
        )
    )


def dismissal_of_member(*, member: Member, dismissal_id: int) -> Dismissal | None:
    """The member's dismissal with that id; None for an unknown id or another member's."""
    return Dismissal.objects.filter(pk=dismissal_id, member=member).first()


def dismissals_for_member(*, member: Member) -> list[Dismissal]:
    return list(
        Dismissal.objects.filter(member=member).select_related("course").order_by("-created_at")
    )


def _plural(title: str) -> str:
    """English plural of a job title's last word, good enough for 'Popular with Analysts'."""
    lowered = title.lower()
    if lowered.endswith(("s", "x", "ch", "sh")):
        return f"{title}es"
    if lowered.endswith("y") and not lowered.endswith(("ay", "ey", "oy", "uy")):
        return f"{title[:-1]}ies"
    return f"{title}s"
