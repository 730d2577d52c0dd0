"""An offline A/B test: simulated learners with hidden preferences use the real homepage.

The demo generator (`demo.dataset`) draws every member's activity from hidden preferences
and `demo_relevance` returns them. Rebuilding the dataset from the same seed and sizes gives the
same preferences, so the truth never needs to be stored: members are matched by their generated
username and courses by slug (`simulation_dataset_match` refuses a database that does not match).

Each simulated day, every learner visits with their own probability. A visit goes through the
site's code paths: `home_page_serve` (their experiment variant), `impressions_log`, then for each
card a look with a probability that falls with the carousel and the slot, a click with a
probability rising with the course's true relevance (`click_log`), possibly an enrolment and a
finish (`members.services`), and "not interested" for clearly irrelevant courses
(`course_dismiss`). Members' learned rows are refreshed after their activity (the fold-in the
workers would run), and the models are retrained every `retrain_every_days` days.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from catalog.models import Course
from demo.dataset import demo_member_username
from demo.dataset.activity import demo_relevance
from demo.dataset.types import DemoDataset
from members import services as member_services
from members.models import Member
from members.signals import member_activity_changed
from recommendations import engine
from recommendations.apps import member_refresh_enqueue
from recommendations.digest.composition import digest_compose, last_digest_courses, week_start
from recommendations.digest.sending import digests_claim, member_send_day
from recommendations.digest.services import digest_click_record
from recommendations.experiments.results import ExperimentResults, experiment_results
from recommendations.feedback.services import click_log, course_dismiss, impressions_log
from recommendations.models import Experiment, ExperimentVariant, PageView, TrainingRun
from recommendations.serving.home_page import home_page_serve
from recommendations.serving.state import snapshot_forget
from recommendations.training.precompute import member_recommendations_refresh
from recommendations.training.runs import training_run_execute

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Behaviour:
    """How simulated learners react. Attraction a = 1 − exp(−β · relevance · n_courses), so a
    course of average relevance attracts with ≈ β and a favourite with nearly 1."""

    beta: float = 0.06
    look_first: float = 0.95  # chance to look at the first slot of the first carousel
    look_carousel_decay: float = 0.7  # each carousel further down is looked at this much less
    look_slot_decay: float = 0.85  # each slot further right
    enrol_base: float = 0.35  # P(enrol | click) = base + gain · a
    enrol_gain: float = 0.5
    finish_given_enrol: float = 0.3  # times a
    dismiss_below: float = 0.15  # relevance · n_courses under which a look may dismiss ...
    dismiss_chance: float = 0.03  # ... with this probability
    visit_rate: float = 0.35  # mean daily visit probability (each learner's own varies)
    # The weekly digest: the chance a learner reads a week's email at all (opens are not
    # tracked, so this stays hidden in the data, as it is for real learners), and how much
    # less readily a link in it is followed than a card on the homepage: the click chance of a
    # course looked at in the email is EMAIL_CLICK_FACTOR times its attraction a.
    email_read: float = 0.4
    email_click_factor: float = 0.5

    def look(self, *, carousel_position: int, position: int) -> float:
        """The chance a card at this place is looked at (position bias, the same in the email
        as on the homepage)."""
        return (
            self.look_first
            * self.look_carousel_decay**carousel_position
            * self.look_slot_decay**position
        )

    def attraction(self, truth: float) -> float:
        """a = 1 − exp(−β · relevance · n_courses) of a course of relevance `truth` (already
        times n_courses)."""
        return 1.0 - math.exp(-self.beta * truth)


@dataclass(frozen=True)
class SimulatedVariant:
    code: str
    strategy: str
    weight: int = 1


@dataclass(frozen=True)
class PairwiseLift:
    base: str
    other: str
    lift: float | None
    p_value: float


@dataclass(frozen=True)
class SimulationReport:
    experiment: Experiment
    # The homepage's (web page views and their clicks) and the digest's (email).
    results: ExperimentResults
    email_results: ExperimentResults
    pairwise: list[PairwiseLift]
    page_views: int
    runs: list[TrainingRun]
    digests: int = 0


def simulation_dataset_match(
    *, dataset: DemoDataset
) -> tuple[dict[int, Member], dict[int, int], np.ndarray]:
    """(dataset member index → Member, course id → dataset course index, course ids by dataset
    index) for the generated rows of this dataset in the database.

    Raises ValueError when the database does not hold this dataset (other seed or sizes)."""
    users = dict(
        get_user_model()
        .objects.filter(
            username__in=[demo_member_username(index=i) for i in range(len(dataset.members))]
        )
        .values_list("username", "pk")
    )
    by_user = {m.user_id: m for m in Member.objects.filter(user_id__in=users.values())}
    members = {}
    for index in range(len(dataset.members)):
        user_id = users.get(demo_member_username(index=index))
        if user_id is None or user_id not in by_user:
            raise ValueError(
                f"member {demo_member_username(index=index)} of the dataset is not in the "
                "database: seed it with the same --seed and sizes (or use --seed-demo)"
            )
        members[index] = by_user[user_id]
    slugs = dict(Course.objects.values_list("slug", "pk"))
    course_ids = np.full(len(dataset.courses), -1, dtype=np.int64)
    for index, course in enumerate(dataset.courses):
        if course.slug not in slugs:
            raise ValueError(
                f"course {course.slug!r} of the dataset is not in the database: seed it with "
                "the same --seed and sizes (or use --seed-demo)"
            )
        course_ids[index] = slugs[course.slug]
    index_of_course = {int(pk): index for index, pk in enumerate(course_ids.tolist())}
    return members, index_of_course, course_ids


def simulation_experiment_create(
    *,
    key: str,
    variants: list[SimulatedVariant],
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    exploration_share: float,
) -> Experiment:
    """The experiment the simulation runs; the first variant is the control."""
    with transaction.atomic():
        experiment = Experiment.objects.create(
            name=f"Simulation {key}",
            key=key,
            description="Created by manage.py simulate.",
            starts_at=starts_at,
            ends_at=ends_at,
            exploration_share=exploration_share,
            # Both channels: each learner's variant serves their homepage and their digest.
            channel=Experiment.Channel.ALL,
        )
        for position, variant in enumerate(variants):
            ExperimentVariant.objects.create(
                experiment=experiment,
                code=variant.code,
                strategy=variant.strategy,
                weight=variant.weight,
                is_control=position == 0,
            )
    return experiment


def simulation_run(
    *,
    dataset: DemoDataset,
    start: dt.datetime,
    days: int,
    variants: list[SimulatedVariant],
    seed: int,
    retrain_every_days: int = 7,
    exploration_share: float = 0.05,
    behaviour: Behaviour | None = None,
    key: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> SimulationReport:
    """Play `days` days of the dataset's learners against an experiment of `variants`."""
    behaviour = behaviour or Behaviour()
    say = progress or (lambda message: None)
    members, index_of_course, course_ids = simulation_dataset_match(dataset=dataset)
    rng = np.random.default_rng(seed)
    n_courses = len(dataset.courses)
    member_index = np.arange(len(dataset.members))
    relevance = demo_relevance(dataset=dataset, members=member_index) * n_courses
    # Each learner's own visit rate: some come most days, some rarely.
    visit_rate = np.clip(rng.gamma(2.0, behaviour.visit_rate / 2.0, size=member_index.size), 0, 1)
    end = start + dt.timedelta(days=days)
    experiment = simulation_experiment_create(
        key=key or f"sim-{seed}-{int(timezone.now().timestamp())}",
        variants=variants,
        starts_at=start,
        ends_at=end,
        exploration_share=exploration_share,
    )
    courses = Course.objects.in_bulk(course_ids.tolist())
    runs: list[TrainingRun] = []
    page_views = digests = 0
    touched: set[int] = set()

    def collect(*, member_id: int, **_: object) -> None:
        touched.add(member_id)

    # Refresh learned rows inline after each day instead of queueing one task per change: the
    # same function a worker runs, without a worker.
    member_activity_changed.disconnect(dispatch_uid="recommendations.member_refresh")
    member_activity_changed.connect(collect, dispatch_uid="recommendations.simulation_collect")
    try:
        for day in range(days):
            day_start = start + dt.timedelta(days=day)
            if day % retrain_every_days == 0:
                run = training_run_execute(trigger="simulation", now=day_start)
                runs.append(run)
                snapshot_forget()
                say(f"day {day}: retrained, run {run.pk} ({run.kind}): {run.message}")
            visitors = np.flatnonzero(rng.random(member_index.size) < visit_rate)
            moments = np.sort(rng.uniform(60, 86_000, size=visitors.size))
            for member_at, offset in zip(rng.permutation(visitors).tolist(), moments, strict=True):
                now = day_start + dt.timedelta(seconds=float(offset))
                _visit(
                    member=members[member_at],
                    relevance=relevance[member_at],
                    index_of_course=index_of_course,
                    courses=courses,
                    now=now,
                    rng=rng,
                    behaviour=behaviour,
                )
                page_views += 1
            sent = _digests_day(
                members=members,
                relevance=relevance,
                index_of_course=index_of_course,
                courses=courses,
                day_start=day_start,
                rng=rng,
                behaviour=behaviour,
            )
            digests += sent
            for member_id in sorted(touched):
                member_recommendations_refresh(member_id=member_id)
            touched.clear()
            say(f"day {day}: {visitors.size} visits, {sent} digests")
        runs.append(training_run_execute(trigger="simulation", now=end))
    finally:
        member_activity_changed.disconnect(dispatch_uid="recommendations.simulation_collect")
        member_activity_changed.connect(
            member_refresh_enqueue, dispatch_uid="recommendations.member_refresh"
        )
        snapshot_forget()
    results = experiment_results(experiment=experiment, channels=(PageView.Channel.WEB,))
    return SimulationReport(
        experiment=experiment,
        results=results,
        email_results=experiment_results(experiment=experiment, channels=(PageView.Channel.EMAIL,)),
        pairwise=_pairwise(results),
        page_views=page_views,
        runs=runs,
        digests=digests,
    )


def _visit(
    *,
    member: Member,
    relevance: np.ndarray,
    index_of_course: dict[int, int],
    courses: dict[int, Course],
    now: dt.datetime,
    rng: np.random.Generator,
    behaviour: Behaviour,
) -> None:
    # Page view ids from the simulation's generator: exploration draws, and so the whole run,
    # are reproducible for a seed.
    page_view_id = uuid.UUID(bytes=rng.bytes(16), version=4)
    # Without "Continue learning": every variant shows the same row, and it recommends nothing.
    page = home_page_serve(member=member, now=now, page_view_id=page_view_id, with_continue=False)
    impressions_log(
        member=member,
        page_view_id=page.page_view_id,
        shown=page.shown,
        channel=PageView.Channel.WEB,
        now=now,
    )
    later = 0
    for carousel_position, carousel in enumerate(page.carousels):
        for position, card in enumerate(carousel.cards):
            look = behaviour.look(carousel_position=carousel_position, position=position)
            if rng.random() >= look:
                continue
            truth = relevance[index_of_course[card.course.pk]]
            attraction = behaviour.attraction(truth)
            course = courses[card.course.pk]
            if rng.random() < attraction:
                later += 1
                moment = now + dt.timedelta(seconds=5 * later)
                click_log(member=member, page_view_id=page.page_view_id, course=course, now=moment)
                _after_click(
                    member=member,
                    course=course,
                    attraction=attraction,
                    now=moment,
                    rng=rng,
                    behaviour=behaviour,
                )
            elif truth < behaviour.dismiss_below and rng.random() < behaviour.dismiss_chance:
                course_dismiss(
                    member=member,
                    course=course,
                    context=card.shown,
                    page_view_id=page.page_view_id,
                    now=now,
                )


def _after_click(
    *,
    member: Member,
    course: Course,
    attraction: float,
    now: dt.datetime,
    rng: np.random.Generator,
    behaviour: Behaviour,
) -> None:
    """Perhaps an enrolment, and perhaps a finish, after a click (on the page or in an email)."""
    enrol = behaviour.enrol_base + behaviour.enrol_gain * attraction
    if rng.random() < enrol:
        member_services.enrolment_start(member=member, course=course, now=now)
        if rng.random() < behaviour.finish_given_enrol * attraction:
            finish = now + dt.timedelta(minutes=course.duration_minutes)
            member_services.enrolment_finish(member=member, course=course, now=finish)


def _digests_day(
    *,
    members: dict[int, Member],
    relevance: np.ndarray,
    index_of_course: dict[int, int],
    courses: dict[int, Course],
    day_start: dt.datetime,
    rng: np.random.Generator,
    behaviour: Behaviour,
) -> int:
    """The weekly digest of the learners whose send day this is (`member_send_day`), composed
    and claimed as `send_digests` does (their variant's page, a page view on the email
    channel), then read by some: each course looked at with the homepage's slot decay and its
    link followed through the click redirect's service with EMAIL_CLICK_FACTOR times its
    attraction. Returns how many digests were claimed with something to show."""
    weekday = timezone.localdate(day_start).weekday()
    due = [
        (index, member)
        for index, member in members.items()
        if member_send_day(member.pk) == weekday
    ]
    if not due:
        return 0
    week = week_start(day_start)
    moment = day_start + dt.timedelta(hours=7)
    shown = last_digest_courses(member_ids=[m.pk for _, m in due], before_week=week)
    digests = [
        digest_compose(
            member=member,
            already_shown=shown.get(member.pk, ()),
            now=moment,
            page_view_id=uuid.UUID(bytes=rng.bytes(16), version=4),
        )
        for _, member in due
    ]
    claimed = digests_claim(digests=digests, week=week, now=moment)
    index_of_member = {member.pk: index for index, member in due}
    for digest, send_id in claimed:
        if digest.empty or rng.random() >= behaviour.email_read:
            continue
        read_at = moment + dt.timedelta(hours=float(rng.uniform(1, 12)))
        truth_of = relevance[index_of_member[digest.member.pk]]
        for (position, _, card), slot in zip(digest.placed(), digest.shown(), strict=True):
            look = behaviour.look(carousel_position=slot.carousel_position, position=slot.position)
            if rng.random() >= look:
                continue
            truth = truth_of[index_of_course[card.course.pk]]
            attraction = behaviour.attraction(truth)
            if rng.random() < behaviour.email_click_factor * attraction:
                at = read_at + dt.timedelta(seconds=5 * (position + 1))
                course = digest_click_record(send_id=send_id, position=position, now=at)
                if course is not None:
                    _after_click(
                        member=digest.member,
                        course=courses[course.pk],
                        attraction=attraction,
                        now=at,
                        rng=rng,
                        behaviour=behaviour,
                    )
    return sum(1 for digest, _ in claimed if not digest.empty)


def _pairwise(results: ExperimentResults) -> list[PairwiseLift]:
    """Each variant against the one listed before it (recency → affinity → als → ranked)."""
    lifts = []
    ordered = results.variants
    for base, other in itertools.pairwise(ordered):
        if base.ctr.trials == 0 or other.ctr.trials == 0:
            continue
        test = engine.two_proportion_z_test(
            base.ctr.successes, base.ctr.trials, other.ctr.successes, other.ctr.trials
        )
        lifts.append(
            PairwiseLift(
                base=base.code,
                other=other.code,
                lift=None if math.isnan(test.lift) else test.lift,
                p_value=test.p_value,
            )
        )
    return lifts


def simulation_report_lines(report: SimulationReport) -> list[str]:
    """The A/B report as text lines (what `manage.py simulate` prints)."""
    results = report.results
    lines = [
        f"Experiment {report.experiment.key}: {report.page_views} page views, "
        f"{report.digests} digests, {sum(v.assigned for v in results.variants)} members assigned",
    ]
    for title, channel_results in (("web", results), ("email", report.email_results)):
        lines += [
            "",
            f"CTR per variant, {title}:",
            f"{'variant':<10} {'strategy':<9} {'members':>7} {'impr.':>7} {'clicks':>6} "
            f"{'CTR':>7} {'95% interval':>17} {'lift':>8} {'p':>9} "
            f"{'engaged':>8} {'enrol/impr.':>11}",
        ]
        for v in channel_results.variants:
            lift = "control" if v.is_control else _percent(v.ctr.lift)
            p_value = "" if v.ctr.p_value is None else f"{v.ctr.p_value:.2g}"
            lines.append(
                f"{v.code:<10} {v.strategy:<9} {v.exposed:>7} {v.ctr.trials:>7} "
                f"{v.ctr.successes:>6} {v.ctr.rate:>7.2%} "
                f"{f'[{v.ctr.low:.2%}, {v.ctr.high:.2%}]':>17} {lift:>8} {p_value:>9} "
                f"{v.engaged.rate:>8.1%} {v.enrol_rate.rate:>11.2%}"
            )
        lines.append(f"Verdict ({title}): {channel_results.verdict}")
    lines += ["", "Each variant against the previous one (web):"]
    for pair in report.pairwise:
        lines.append(
            f"  {pair.other} vs {pair.base}: CTR lift {_percent(pair.lift)}, p = {pair.p_value:.2g}"
        )
    lines += ["", "Ranker per retrain (offline, time split):"]
    for run in report.runs:
        ranker = (run.metrics or {}).get("ranker", {})
        if "auc_global" in ranker:
            lines.append(
                f"  run {run.pk}: {ranker.get('examples')} examples, "
                f"AUC global {_number(ranker.get('auc_global'))}, "
                f"mixed {_number(ranker.get('auc_mixed'))}, "
                f"unranked {_number(ranker.get('auc_unranked'))}; within carousels global "
                f"{_number(ranker.get('auc_within_global'))}, mixed "
                f"{_number(ranker.get('auc_within_mixed'))}, unranked "
                f"{_number(ranker.get('auc_within_unranked'))}; {ranker.get('why')}"
            )
        else:
            lines.append(f"  run {run.pk}: {ranker.get('why', 'no ranker')}")
    return lines


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1%}"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def simulation_variants_parse(text: str) -> list[SimulatedVariant]:
    """ "recency,affinity,als" or "base=recency:2,als=als" (code=strategy:weight) → variants."""
    variants = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        spec, _, weight = part.partition(":")
        code, _, strategy = spec.partition("=")
        strategy = strategy or code
        if strategy not in ExperimentVariant.Strategy.values:
            raise ValueError(f"unknown strategy {strategy!r}")
        variants.append(
            SimulatedVariant(code=code, strategy=strategy, weight=int(weight) if weight else 1)
        )
    if len(variants) < 2:
        raise ValueError("an experiment needs at least two variants")
    return variants
