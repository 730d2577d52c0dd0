"""The homepage's entry points: the page a member gets (their experiment variant's or the
default one), the page composed ahead for their next visit, and the visitor's page.

`home_page_for_member` runs the stages in order: the member's inputs in one read (`inputs`),
the stored page when nothing changed (`stored_pages`), the reasons (`reasons`, led by the goal
path's next steps, `goal`), the carousels
(`carousels`, after the "Continue learning" row of `continuing`), the ranker and exploration
(`rerank`), which leave that row alone. Every card says why it is shown (`explanations`).
"""

import dataclasses
import datetime as dt
import functools
import uuid

import numpy as np
from django.conf import settings
from django.utils import timezone

from catalog.card_cache import catalog_revision_current
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
from recommendations.models import Experiment, PageView
from recommendations.ranker.serving import ActiveRanker
from recommendations.serving.carousels import (
    carousels_for_member,
    carousels_from_groups,
    reason_groups,
)
from recommendations.serving.continuing import continue_learning_row
from recommendations.serving.explanations import explanation_context_build
from recommendations.serving.goal import GoalGap, goal_gap_build, goal_path_plan, goal_reason
from recommendations.serving.inputs import (
    MemberServingInputs,
    member_discounted_read,
    member_serving_inputs,
)
from recommendations.serving.new_courses import snapshot_with_new_courses
from recommendations.serving.reasons import member_scoring_build, reasons_for_member, recency_scores
from recommendations.serving.repairs import StoredRowInvalid, composed_page_discard
from recommendations.serving.rerank import carousels_explored, carousels_reranked
from recommendations.serving.state import serving_state, snapshot_active
from recommendations.serving.stored_carousels import stored_page_carousels
from recommendations.serving.stored_pages import (
    composed_page_max_age,
    composed_page_servable_exists,
    composed_page_steady_seconds,
    composed_page_store,
    page_digest,
    stored_page_servable,
)


def home_page_for_visitor(*, now: dt.datetime | None = None) -> HomePage:
    """Non-personalised baseline: popular and new courses, each course under its better one."""
    now = now or timezone.now()
    # Read here, the revision serves both the courses added since the snapshot and the card
    # cache, which would otherwise read it itself.
    revision = catalog_revision_current()
    snapshot = snapshot_with_new_courses(snapshot=snapshot_active(), catalog_revision=revision)
    recency = recency_scores(snapshot, now)
    reasons = [("popular", "Popular", snapshot.popularity), ("new", "New", recency)]
    best_reason, best_score = engine.best_reason_per_course(
        [scores for *_, scores in reasons],
        valid=np.ones(snapshot.course_ids.size, dtype=bool),
        limit=settings.RECOMMENDATIONS["CANDIDATES_PER_REASON"],
    )
    groups = reason_groups(
        best_reason, best_score, [(reason, reason, label) for reason, label, _ in reasons]
    )
    carousels = carousels_from_groups(
        groups,
        snapshot=snapshot,
        recency=recency,
        order=range(len(groups)),
        catalog_revision=revision,
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
    with_continue: bool = True,
    channel: str = PageView.Channel.WEB,
) -> HomePage:
    """The member's carousels, one per reason, each course under its best (argmax) reason,
    after the "Continue learning" row (`continuing`) unless `with_continue` is off.

    `channel` (`PageView.Channel`) is the surface the page is composed for, which the ranker
    scores with: web for the site and the API (they serve one page, and the API's reuses the
    site's stored one), email for a digest.

    `strategy` picks what serves the page (experiments pass their variant's; see
    recommendations/README.md): `default` is the site's homepage (learned candidates, and the
    ranker inside each carousel when the active run's ranker beat the unranked order),
    `recency` new and popular courses without personalisation, `affinity` the rule-based
    reasons only (the learned row is not read), `als` rule-based and learned candidates
    without the ranker, `ranked` the same re-ordered by the active run's ranker whatever its
    offline verdict. `exploration_share` of the slots go to random eligible courses, drawn
    from a generator seeded by the page view id (a new random one unless given).

    With `reuse_composed`, the member's stored next page (`stored_pages`) is served when it
    was composed from exactly what this page would be. The page's `digest` says what it was
    composed from (None: a page that is never stored).

    `mark_pending`: the page view is marked pending (`pending`) in the statement that reads
    the member's inputs, for a view that writes its impressions after the response
    (`impressions_log_after_response`): one round trip fewer before the response.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown homepage strategy {strategy!r}")
    config = settings.RECOMMENDATIONS
    now = now or timezone.now()
    state = serving_state()
    ranker = _ranker_for(strategy, state.ranker)
    logged = _logged_strategy(strategy, ranker)
    personalised = strategy != STRATEGY_RECENCY

    # Stage 1, inputs: one read of everything the page depends on. Whole days: the feedback
    # counts are kept per day (see CourseFeedbackDay).
    window_start = timezone.localdate(now) - dt.timedelta(days=config["DISCOUNT_WINDOW_DAYS"])
    page_view_id = page_view_id or uuid.uuid4()
    max_age = composed_page_max_age()
    # A page without the row, or composed for another channel than the site's, is never
    # stored: the stored page is the one the site serves.
    stored_kind = (
        max_age > 0
        and state.run_id is not None
        and exploration_share == 0
        and with_continue
        and channel == PageView.Channel.WEB
    )
    steady_seconds = composed_page_steady_seconds()
    inputs = member_serving_inputs(
        member_id=member.pk,
        window_start=window_start,
        discount_threshold=config["DISCOUNT_THRESHOLD"],
        with_learned=state.learned
        and strategy in (STRATEGY_DEFAULT, STRATEGY_ALS, STRATEGY_RANKED),
        pending_page_view_id=page_view_id if mark_pending else None,
        goal_id=member.goal_id if personalised else None,
        # A stored page this young is served whatever the impressions: until it turns out not
        # to be servable, the discounted courses need not be read.
        stored_steady_between=(now - dt.timedelta(seconds=steady_seconds), now)
        if reuse_composed and stored_kind and steady_seconds > 0
        else None,
    )
    # Courses created or imported since the snapshot, at once (read only when the catalog moved).
    snapshot = snapshot_with_new_courses(
        snapshot=state.snapshot, catalog_revision=inputs.catalog_revision
    )
    # What a stored page of these inputs would be composed from.
    digest_of = functools.partial(
        page_digest,
        member=member,
        run_id=state.run_id,
        strategy=strategy,
        variant_id=variant_id,
        max_carousels=max_carousels,
        window_start=window_start,
    )
    # Whether a stored page of those digests is served now.
    servable_now = functools.partial(
        stored_page_servable, now=now, max_age=max_age, steady_seconds=steady_seconds
    )
    digests = None
    if stored_kind:
        digests = digest_of(inputs=inputs)
        servable = reuse_composed and servable_now(stored=inputs.composed, digests=digests)
        if not servable and inputs.discounted is None:
            # Read without them for a page in its steady seconds that their digest does not
            # serve (the member did something since): with them, the full digest decides, and
            # a page composed now discounts what the member saw.
            inputs = _discounted_added(inputs, member=member, window_start=window_start)
            digests = digest_of(inputs=inputs)
            servable = servable_now(stored=inputs.composed, digests=digests)
        if servable:
            try:
                # The stored rows carry their cards' lines; a row stored without them gets
                # them written now.
                stored = stored_page_carousels(
                    layout=inputs.composed.layout,
                    strategy=logged,
                    variant_id=variant_id,
                    catalog_revision=inputs.catalog_revision,
                    context=lambda: explanation_context_build(
                        inputs=inputs,
                        gap=_goal_gap(inputs, member, snapshot, personalised=personalised),
                    ),
                    now=timezone.now(),
                )
            except StoredRowInvalid as error:
                composed_page_discard(member_id=member.pk, error=error)
            else:
                # What the served page was composed from: the stored page's digests.
                return HomePage(
                    page_view_id=page_view_id,
                    carousels=stored.carousels,
                    digest=inputs.composed.digest,
                    digest_without_impressions=inputs.composed.digest_without_impressions,
                    stored_composed_at=inputs.composed.composed_at,
                    renditions=stored.renditions,
                )
    if inputs.discounted is None:
        # A servable stored page that was unreadable (and is gone): composed after all.
        inputs = _discounted_added(inputs, member=member, window_start=window_start)
        digests = digest_of(inputs=inputs)

    # The member's gap to their goal role (None without one): the "Toward" cards name the gap
    # skills they cover.
    gap = _goal_gap(inputs, member, snapshot, personalised=personalised)
    context = explanation_context_build(inputs=inputs, gap=gap)
    # Stage 2, reasons: the inputs as arrays over the catalog, and every reason's candidates.
    scoring = member_scoring_build(inputs=inputs, member=member, snapshot=snapshot, now=now)
    # The goal path's next steps lead: the member said where they want to go.
    goal = None
    if gap is not None:
        steps = goal_path_plan(gap=gap, inputs=inputs, scoring=scoring, snapshot=snapshot, now=now)
        goal = goal_reason(member=member, gap=gap, steps=steps)
    reasons = reasons_for_member(
        inputs=inputs,
        scoring=scoring,
        member=member,
        snapshot=snapshot,
        personalised=personalised,
        goal=goal,
    )
    # Stage 3, carousels: the member's unfinished courses first, then each course under its
    # best reason, carousels ordered and diversified.
    continuing = continue_learning_row(inputs=inputs) if with_continue else None
    leading = [continuing] if continuing is not None else []
    carousels = carousels_for_member(
        reasons=reasons,
        scoring=scoring,
        reason_feedback=inputs.reason_feedback,
        snapshot=snapshot,
        strategy=logged,
        variant_id=variant_id,
        max_carousels=max_carousels,
        catalog_revision=inputs.catalog_revision,
        leading=leading,
        context=context,
    )
    # Stage 4, rerank: the ranker orders each carousel's cards; exploration swaps some in.
    # Neither touches the leading row: the member's own courses, in the order they left them.
    first, recommended = carousels[: len(leading)], carousels[len(leading) :]
    if ranker is not None and recommended:
        recommended = carousels_reranked(
            recommended,
            ranker=ranker,
            scoring=scoring,
            member=member,
            snapshot=snapshot,
            now=now,
            channel=channel,
        )
    if exploration_share > 0 and recommended:
        recommended = carousels_explored(
            recommended,
            snapshot=snapshot,
            valid=scoring.valid,
            share=exploration_share,
            rng=np.random.default_rng(page_view_id.int % 2**63),
        )
    return HomePage(
        page_view_id=page_view_id,
        carousels=first + recommended,
        digest=digests.full if digests is not None else None,
        digest_without_impressions=digests.without_impressions if digests is not None else None,
    )


def _discounted_added(
    inputs: MemberServingInputs, *, member: Member, window_start: dt.date
) -> MemberServingInputs:
    """`inputs`, read without their discounted courses, with them."""
    return dataclasses.replace(
        inputs,
        discounted=member_discounted_read(
            member_id=member.pk,
            window_start=window_start,
            discount_threshold=settings.RECOMMENDATIONS["DISCOUNT_THRESHOLD"],
        ),
    )


def _goal_gap(
    inputs: MemberServingInputs, member: Member, snapshot: RulesSnapshot, *, personalised: bool
) -> GoalGap | None:
    return goal_gap_build(inputs=inputs, member=member, snapshot=snapshot) if personalised else None


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


def home_page_serve(
    *,
    member: Member,
    now: dt.datetime | None = None,
    page_view_id: uuid.UUID | None = None,
    reuse_composed: bool = False,
    mark_pending: bool = False,
    with_continue: bool = True,
    experiment_channel: str = Experiment.Channel.HOMEPAGE,
    channel: str = PageView.Channel.WEB,
) -> HomePage:
    """The homepage a member gets: their variant's, inside a running experiment of
    `experiment_channel` (the digest composes with `Experiment.Channel.EMAIL`), else the
    default one (exactly `home_page_for_member(member=member)`). `reuse_composed`,
    `mark_pending`, `with_continue` and `channel` (the digest's: email): see
    `home_page_for_member`."""
    now = now or timezone.now()
    experiment = experiment_running(
        experiments=serving_state().experiments, now=now, channel=experiment_channel
    )
    if experiment is None:
        return home_page_for_member(
            member=member,
            now=now,
            page_view_id=page_view_id,
            reuse_composed=reuse_composed,
            mark_pending=mark_pending,
            with_continue=with_continue,
            channel=channel,
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
        with_continue=with_continue,
        channel=channel,
    )


def home_page_compose_next(
    *, member: Member, now: dt.datetime | None = None, only_if_stored: bool = False
) -> bool:
    """Compose the member's homepage as of now and store it for their next page view
    (`stored_pages`); False when nothing was stored: such a page is never stored (no active
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
    home_page_store(member_id=member.pk, page=page, composed_at=now)
    return True


def home_page_store(*, member_id: int, page: HomePage, composed_at: dt.datetime) -> None:
    """Keep `page` (one with a digest) as the member's next page (`stored_pages`)."""
    composed_page_store(
        member_id=member_id,
        digest=page.digest,
        digest_without_impressions=page.digest_without_impressions or b"",
        composed_at=composed_at,
        carousels=page.carousels,
    )
