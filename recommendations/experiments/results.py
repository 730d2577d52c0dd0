"""Measuring an experiment's variants against its control: rates with Wilson intervals, a
two-proportion z-test per metric, a verdict, and the daily click-through chart."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from core.charts import LineChart, line_chart
from members.models import Enrolment
from recommendations import engine
from recommendations.feedback.page_views import page_view_continue_mask, page_view_courses
from recommendations.models import (
    Experiment,
    ExperimentAssignment,
    ExperimentVariant,
    FeedbackEvent,
    PageView,
)


@dataclass(frozen=True)
class Rate:
    successes: int
    trials: int
    rate: float
    low: float
    high: float
    # Against the control (None for the control itself).
    lift: float | None = None
    p_value: float | None = None
    significant: bool = False


@dataclass(frozen=True)
class VariantResult:
    id: int
    code: str
    strategy: str
    is_control: bool
    assigned: int
    exposed: int
    ctr: Rate
    engaged: Rate
    enrol_rate: Rate


@dataclass(frozen=True)
class ExperimentResults:
    experiment: Experiment
    variants: list[VariantResult]
    winner: str | None  # a variant code, or None: no significant difference
    verdict: str
    alpha: float
    days: list[dt.date]
    daily_ctr: dict[str, list[float | None]]  # variant code → CTR per day (None: no traffic)
    chart: LineChart | None


def _rate(successes: int, trials: int, *, confidence: float) -> Rate:
    low, high = engine.wilson_interval(successes, trials, confidence=confidence)
    return Rate(
        successes=successes,
        trials=trials,
        rate=successes / trials if trials else 0.0,
        low=low,
        high=high,
    )


def _against(rate: Rate, control: Rate, *, alpha: float) -> Rate:
    if rate.trials == 0 or control.trials == 0:
        return rate
    test = engine.two_proportion_z_test(
        control.successes, control.trials, rate.successes, rate.trials
    )
    return dataclasses.replace(
        rate,
        lift=None if math.isnan(test.lift) else test.lift,
        p_value=test.p_value,
        significant=test.p_value < alpha,
    )


# The page view channels an experiment's results count, per `Experiment.channel`.
EXPERIMENT_PAGE_CHANNELS = {
    Experiment.Channel.HOMEPAGE: (PageView.Channel.WEB, PageView.Channel.API),
    Experiment.Channel.EMAIL: (PageView.Channel.EMAIL,),
    Experiment.Channel.ALL: (PageView.Channel.WEB, PageView.Channel.API, PageView.Channel.EMAIL),
}


def _enrolled_impressions(
    *,
    experiment: Experiment,
    variant_ids: list[int],
    window_hours: float,
    channels: tuple[str, ...],
) -> dict[int, int]:
    """Per variant: impressions followed by an enrolment in that course within the window."""
    rows = []
    pages = PageView.objects.filter(
        variant_id__in=variant_ids, recommended__gt=0, channel__in=channels
    ).values_list("variant_id", "member_id", "created_at", "courses", "slots", "labels")
    for variant_id, member_id, created_at, courses, slots, labels in pages.iterator(
        chunk_size=2000
    ):
        # The Continue learning row is the same in every variant: not the variant's impression.
        recommended = ~page_view_continue_mask(slots=slots, labels=labels)
        rows.extend(
            (variant_id, member_id, course_id, created_at)
            for course_id in page_view_courses(courses)[recommended].tolist()
        )
    if not rows:
        return dict.fromkeys(variant_ids, 0)
    variant = np.array([r[0] for r in rows], dtype=np.int64)
    key = np.array([r[1] * (1 << 32) + r[2] for r in rows], dtype=np.int64)
    seen = np.array([r[3].timestamp() for r in rows])
    enrolments = list(
        Enrolment.objects.filter(
            member_id__in=PageView.objects.filter(variant_id__in=variant_ids).values("member_id"),
            enrolled_at__gte=experiment.starts_at,
        ).values_list("member_id", "course_id", "enrolled_at")
    )
    counts = dict.fromkeys(variant_ids, 0)
    if not enrolments:
        return counts
    enrol_key = np.array([m * (1 << 32) + c for m, c, _ in enrolments], dtype=np.int64)
    enrol_time = np.array([t.timestamp() for *_, t in enrolments])
    order = np.argsort(enrol_key)
    enrol_key, enrol_time = enrol_key[order], enrol_time[order]
    found = np.minimum(np.searchsorted(enrol_key, key), enrol_key.size - 1)
    delay = enrol_time[found] - seen
    hit = (enrol_key[found] == key) & (delay >= 0) & (delay <= window_hours * 3600.0)
    for variant_id, n in zip(*np.unique(variant[hit], return_counts=True), strict=True):
        counts[int(variant_id)] = int(n)
    return counts


def experiment_results(
    *, experiment: Experiment, channels: tuple[str, ...] | None = None
) -> ExperimentResults:
    """Per-variant rates with intervals, tests against the control, a verdict and a chart.

    Counted on the page views and clicks of `channels` (`PageView.Channel` values), by default
    those the experiment targets (`EXPERIMENT_PAGE_CHANNELS`): a homepage experiment's
    results never mix in the digest's click-through, whose clicks are rarer (the simulation
    asks for each channel on its own).

    The verdict reads click-through: a winner is a variant significantly better than the
    control at ALPHA / (number of comparisons) (Bonferroni, since every treatment is compared
    with the same control), or the control when every other variant is significantly worse.
    """
    config = settings.EXPERIMENTS
    confidence = config["CONFIDENCE"]
    variants = list(ExperimentVariant.objects.filter(experiment=experiment).order_by("pk"))
    ids = [v.pk for v in variants]
    comparisons = max(1, len(variants) - 1)
    alpha = config["ALPHA"] / comparisons
    if channels is None:
        channels = EXPERIMENT_PAGE_CHANNELS[experiment.channel]

    # Impressions are the page views' recommended cards (the Continue learning row carries no
    # variant); clicks are events, attributed to the variant of the page view they came from.
    counts: dict[int, dict] = {pk: {} for pk in ids}
    for row in (
        PageView.objects.filter(variant_id__in=ids, channel__in=channels)
        .values("variant_id")
        .annotate(
            impressions=Sum("recommended"),
            exposed=Count("member_id", filter=Q(recommended__gt=0), distinct=True),
        )
        .order_by()
    ):
        counts[row["variant_id"]].update(row)
    for row in (
        FeedbackEvent.objects.filter(
            variant_id__in=ids, kind=FeedbackEvent.Kind.CLICK, channel__in=channels
        )
        .values("variant_id")
        .annotate(clicks=Count("pk"), clickers=Count("member_id", distinct=True))
        .order_by()
    ):
        counts[row["variant_id"]].update(row)
    assigned = dict(
        ExperimentAssignment.objects.filter(experiment=experiment)
        .values("variant_id")
        .annotate(n=Count("pk"))
        .values_list("variant_id", "n")
    )
    enrolled = _enrolled_impressions(
        experiment=experiment,
        variant_ids=ids,
        window_hours=config["ENROL_WINDOW_HOURS"],
        channels=channels,
    )

    def raw(variant: ExperimentVariant) -> VariantResult:
        row = counts[variant.pk]
        impressions = row.get("impressions") or 0
        exposed = row.get("exposed", 0)
        return VariantResult(
            id=variant.pk,
            code=variant.code,
            strategy=variant.strategy,
            is_control=variant.is_control,
            assigned=assigned.get(variant.pk, 0),
            exposed=exposed,
            ctr=_rate(min(row.get("clicks", 0), impressions), impressions, confidence=confidence),
            engaged=_rate(min(row.get("clickers", 0), exposed), exposed, confidence=confidence),
            enrol_rate=_rate(enrolled.get(variant.pk, 0), impressions, confidence=confidence),
        )

    results = [raw(v) for v in variants]
    control = next((r for r in results if r.is_control), None)
    if control is not None:
        results = [
            r
            if r.is_control
            else dataclasses.replace(
                r,
                ctr=_against(r.ctr, control.ctr, alpha=alpha),
                engaged=_against(r.engaged, control.engaged, alpha=alpha),
                enrol_rate=_against(r.enrol_rate, control.enrol_rate, alpha=alpha),
            )
            for r in results
        ]
    winner, verdict = _verdict(results, alpha=alpha)
    days, daily = _daily_ctr(variants, channels=channels)
    return ExperimentResults(
        experiment=experiment,
        variants=results,
        winner=winner,
        verdict=verdict,
        alpha=alpha,
        days=days,
        daily_ctr=daily,
        chart=_chart(days, daily),
    )


def _verdict(results: list[VariantResult], *, alpha: float) -> tuple[str | None, str]:
    control = next((r for r in results if r.is_control), None)
    treatments = [r for r in results if not r.is_control]
    if control is None or not treatments:
        return None, "No control variant: nothing to compare against."
    if any(r.ctr.trials == 0 for r in results):
        return None, "No significant difference yet: some variant has no impressions."
    better = [r for r in treatments if r.ctr.significant and (r.ctr.lift or 0) > 0]
    if better:
        best = max(better, key=lambda r: r.ctr.rate)
        return best.code, (
            f"{best.code} wins: click-through {best.ctr.rate:.2%} vs control "
            f"{control.ctr.rate:.2%} (lift {best.ctr.lift:+.1%}, p = {best.ctr.p_value:.2g}, "
            f"significant at {alpha:.3g})."
        )
    if all(r.ctr.significant and (r.ctr.lift or 0) < 0 for r in treatments):
        return control.code, (
            f"The control {control.code} wins: every other variant's click-through is "
            f"significantly lower (at {alpha:.3g})."
        )
    return None, f"No significant difference in click-through (at {alpha:.3g})."


def _daily_ctr(
    variants: list[ExperimentVariant], *, channels: tuple[str, ...]
) -> tuple[list[dt.date], dict[str, list[float | None]]]:
    by_day: dict[tuple[int, dt.date], list[int]] = {}
    for variant_id, day, impressions in (
        PageView.objects.filter(variant__in=variants, channel__in=channels)
        .annotate(day=TruncDate("created_at"))
        .values("variant_id", "day")
        .annotate(n=Sum("recommended"))
        .values_list("variant_id", "day", "n")
        .order_by()
    ):
        by_day.setdefault((variant_id, day), [0, 0])[0] += impressions or 0
    for variant_id, day, clicks in (
        FeedbackEvent.objects.filter(
            variant__in=variants, kind=FeedbackEvent.Kind.CLICK, channel__in=channels
        )
        .annotate(day=TruncDate("created_at"))
        .values("variant_id", "day")
        .annotate(n=Count("pk"))
        .values_list("variant_id", "day", "n")
        .order_by()
    ):
        by_day.setdefault((variant_id, day), [0, 0])[1] += clicks
    rows = [
        {"variant_id": variant_id, "day": day, "impressions": counted[0], "clicks": counted[1]}
        for (variant_id, day), counted in by_day.items()
    ]
    days = sorted({row["day"] for row in rows})
    code_of = {v.pk: v.code for v in variants}
    daily: dict[str, list[float | None]] = {v.code: [None] * len(days) for v in variants}
    index = {day: i for i, day in enumerate(days)}
    for row in rows:
        if row["impressions"]:
            daily[code_of[row["variant_id"]]][index[row["day"]]] = (
                row["clicks"] / row["impressions"]
            )
    return days, daily


def _chart(days: list[dt.date], daily: dict[str, list[float | None]]) -> LineChart | None:
    """CTR per day, scaled so the highest day fills the plot (CTRs are a few percent)."""
    values = [v for series in daily.values() for v in series if v is not None]
    if not days or not values:
        return None
    top = max(values) or 1.0
    # Days without traffic carry the previous day's value so the line stays continuous.
    filled = {}
    for code, series in daily.items():
        last, points = 0.0, []
        for value in series:
            last = value if value is not None else last
            points.append(last / top)
        filled[code] = points
    chart = line_chart(series=filled, x_labels=[day.isoformat() for day in days])
    # line_chart's ticks sit at 0, ¼, ½, ¾ and 1 of the axis: relabel them in CTR.
    fractions = (0.0, 0.25, 0.5, 0.75, 1.0)
    ticks = [(y, f"{f * top:.1%}") for (y, _), f in zip(chart.y_ticks, fractions, strict=True)]
    return dataclasses.replace(chart, y_ticks=ticks)
