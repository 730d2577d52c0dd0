"""TODO docstring."""

import datetime as dt
import uuid

import numpy as np
from django.conf import settings
from django.utils import timezone

from members.models import Member
from recommendations import engine
from recommendations.data import (
    STRATEGIES,
    STRATEGY_ALS,
    STRATEGY_DEFAULT,
    STRATEGY_RANKED,
    STRATEGY_RECENCY,
    STRATEGY_RULES,
    HomePage,
    RulesSnapshot,
)
from recommendations.experiments.assignment import (
    experiment_running,
    experiment_variant_assign,
)
from recommendations.ranker.serving import ActiveRanker
from recommendations.serving.carousels import (
    carousels_from_groups,
    carousels_from_layout,
    reason_groups,
    serving_config,
    small_skill_groups_merged,
)
from recommendations.serving.inputs import member_serving_inputs
from recommendations.serving.rerank import carousels_explored, carousels_reranked
from recommendations.serving.state import serving_state, snapshot_active
from recommendations.serving.stored_pages import (
    composed_page_max_age,
    composed_page_servable_exists,
    composed_page_store,
    layout_loads,
    page_digest,
    stored_page_servable,
)


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
            half_life_days=serving_config()["NEW_HALF_LIFE_DAYS"],
        ),
        dtype=np.float64,
    )


def home_page_for_visitor(*, now: dt.datetime | None = None) -> HomePage:
    """Non-personalised baseline: popular and new courses, each course under its better one."""
    now = now or timezone.now()
    snapshot = snapshot_active()
    recency = _recency(snapshot, now)
    reasons = [("popular", "Popular", snapshot.popularity), ("new", "New", recency)]
    best_reason, best_score = engine.best_reason_per_course(
        [scores for *_, scores in reasons],
        valid=np.ones(snapshot.course_ids.size, dtype=bool),
        limit=serving_config()["CANDIDATES_PER_REASON"],
    )
    groups = reason_groups(
        best_reason, best_score, [(reason, reason, label) for reason, label, _ in reasons]
    )
    carousels = carousels_from_groups(
        groups, snapshot=snapshot, recency=recency, order=range(len(groups))
    )
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
    config = serving_config()
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
            carousels = carousels_from_layout(
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

    groups = reason_groups(best_reason, best_score, [reason[:3] for reason in reasons])
    groups = [group for group in groups if group.positions.size]

    group_list = small_skill_groups_merged(groups, skill_names=skill_names)
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
    carousels = carousels_from_groups(
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
        carousels = carousels_reranked(
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
        carousels = carousels_explored(
            carousels,
            snapshot=snapshot,
            valid=valid,
            share=exploration_share,
            rng=np.random.default_rng(page_view_id.int % 2**63),
        )
    return HomePage(page_view_id=page_view_id, carousels=carousels, digest=digest)


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


def _plural(title: str) -> str:
    """English plural of a job title's last word, good enough for 'Popular with Analysts'."""
    lowered = title.lower()
    if lowered.endswith(("s", "x", "ch", "sh")):
        return f"{title}es"
    if lowered.endswith("y") and not lowered.endswith(("ay", "ey", "oy", "uy")):
        return f"{title[:-1]}ies"
    return f"{title}s"


def home_page_serve(
    *,
    member: Member,
    now: dt.datetime | None = None,
    page_view_id: uuid.UUID | None = None,
    reuse_composed: bool = False,
    mark_pending: bool = False,
) -> HomePage:
    """The homepage a member gets: their variant's, inside a running experiment, else the
    default one (exactly `home_page_for_member(member=member)`). `reuse_composed` and
    `mark_pending`: see `home_page_for_member`."""
    now = now or timezone.now()
    experiment = experiment_running(experiments=serving_state().experiments, now=now)
    if experiment is None:
        return home_page_for_member(
            member=member,
            now=now,
            page_view_id=page_view_id,
            reuse_composed=reuse_composed,
            mark_pending=mark_pending,
        )
    variant = experiment_variant_assign(experiment=experiment, member=member, now=now)
    return home_page_for_member(
        member=member,
        now=now,
        strategy=variant.strategy,
        variant_id=variant.id,
        exploration_share=experiment.exploration_share,
        max_carousels=settings.EXPERIMENTS["MAX_CAROUSELS"],
        page_view_id=page_view_id,
        reuse_composed=reuse_composed,
        mark_pending=mark_pending,
    )


def home_page_compose_next(
    *, member: Member, now: dt.datetime | None = None, only_if_stored: bool = False
) -> bool:
    """Compose the member's homepage as of now and store it for their next page view
    (`composed_pages`); False when nothing was stored: such a page is never stored (no active
    run, or exploration in their variant), or, with `only_if_stored`, the member has no stored
    page young enough to be served (they are not browsing: composing would be for nothing)."""
    now = now or timezone.now()
    # First: a worker that has not loaded the serving state (a qcluster worker refreshing the
    # row of a member who is not browsing) need not load it.
    if only_if_stored and not composed_page_servable_exists(member_id=member.pk, now=now):
        return False
    # The pages `home_page_for_member` gives no digest, known before composing one for nothing.
    state = serving_state()
    experiment = experiment_running(experiments=state.experiments, now=now)
    if state.run_id is None or (experiment is not None and experiment.exploration_share > 0):
        return False
    page = home_page_serve(member=member, now=now)
    if page.digest is None:
        return False
    composed_page_store(
        member_id=member.pk, digest=page.digest, composed_at=now, carousels=page.carousels
    )
    return True
