"""Fitting the ranker on a retrain's examples: the time split, the engine's global and mixed
fits, their offline AUCs, and the verdict whether serving uses it."""

from __future__ import annotations

import datetime as dt
import logging
import math
import time

import numpy as np
from django.conf import settings
from django.db.models import Sum

from recommendations import engine
from recommendations.data import REASON_CONTINUE
from recommendations.models import FeedbackEvent, PageView
from recommendations.ranker.examples import Examples, ranker_examples_build
from recommendations.ranker.features import COURSE_COLUMNS, MEMBER_COLUMNS
from recommendations.ranker.serving import ActiveRanker
from recommendations.training.activity import ActivityArrays

logger = logging.getLogger(__name__)


def _subset(examples: Examples, mask: np.ndarray) -> Examples:
    fields = Examples.__dataclass_fields__
    return Examples(**{name: getattr(examples, name)[mask] for name in fields})


def ranker_train(
    *, snapshot, activity: ActivityArrays, now: dt.datetime
) -> tuple[ActiveRanker | None, dict]:
    """Fit and evaluate the ranker on the logged impressions; (ranker or None, metrics).

    metrics: examples, positives, AUCs on the time split (pooled ROC-AUC and within-carousel
    AUC, for the global model, the mixed model and the unranked order), `used` and `why`.
    A ranker is returned (stored) whenever it could be fitted, so an experiment can test it;
    `used` says whether the default homepage applies it.
    """
    config = settings.RECOMMENDATIONS
    started = time.perf_counter()
    window = {
        "created_at__gte": now - dt.timedelta(days=config["RANKER_WINDOW_DAYS"]),
        "created_at__lte": now,
    }
    # The page views' recommended cards, and the reported impressions (imported or sent as
    # events); the Continue learning row is not a recommendation.
    count = (
        PageView.objects.filter(**window).aggregate(n=Sum("recommended"))["n"] or 0
    ) + FeedbackEvent.objects.filter(kind=FeedbackEvent.Kind.IMPRESSION, **window).exclude(
        reason=REASON_CONTINUE
    ).count()
    metrics: dict = {"impressions": count, "used": False}
    if count < config["RANKER_MIN_IMPRESSIONS"]:
        metrics["why"] = (
            f"not trained: {count} impressions logged, fewer than the "
            f"{config['RANKER_MIN_IMPRESSIONS']} needed"
        )
        return None, metrics
    built = ranker_examples_build(
        snapshot=snapshot, activity=activity, now=now, seed=config["SEED"]
    )
    if built is None:
        metrics["why"] = "not trained: no impressions in the window"
        return None, metrics
    examples, member_ids, table = built
    cut = np.quantile(examples.time, 1.0 - config["RANKER_TEST_FRACTION"])
    # Injected negatives train only: the test set is what pages really showed.
    train = _subset(examples, examples.time <= cut)
    test = _subset(examples, (examples.time > cut) & (examples.position >= 0))
    metrics.update(
        examples=int(examples.labels.size),
        positives=int(examples.labels.sum()),
        train_examples=int(train.labels.size),
        test_examples=int(test.labels.size),
    )
    if np.unique(train.labels).size < 2 or np.unique(test.labels).size < 2:
        metrics["why"] = "not trained: the train or test split lacks clicks or ignored cards"
        return None, metrics
    model = engine.ranker_fit(
        train.features,
        train.labels,
        train.member,
        train.course,
        n_members=member_ids.size,
        n_courses=snapshot.course_ids.size,
        course_columns=COURSE_COLUMNS,
        member_columns=MEMBER_COLUMNS,
        c=config["RANKER_C"],
        l2_member=config["RANKER_L2_MEMBER"],
        l2_course=config["RANKER_L2_COURSE"],
        rounds=config["RANKER_ROUNDS"],
        seed=config["SEED"],
    )
    global_scores = engine.ranker_scores(
        model, test.features, test.member, test.course, mixed=False
    )
    mixed_scores = engine.ranker_scores(model, test.features, test.member, test.course)
    # The unranked order: earlier carousels and earlier slots were ranked higher.
    unranked = -(test.carousel_position * 1000.0 + test.position)
    metrics.update(
        auc_global=engine.pooled_auc(test.labels, global_scores),
        auc_mixed=engine.pooled_auc(test.labels, mixed_scores),
        auc_unranked=engine.pooled_auc(test.labels, unranked),
        auc_within_global=engine.grouped_auc(test.labels, global_scores, test.group),
        auc_within_mixed=engine.grouped_auc(test.labels, mixed_scores, test.group),
        auc_within_unranked=engine.grouped_auc(test.labels, unranked, test.group),
    )
    mixed = metrics["auc_within_mixed"] > metrics["auc_within_global"]
    best = metrics["auc_within_mixed"] if mixed else metrics["auc_within_global"]
    baseline = metrics["auc_within_unranked"]
    gain = config["RANKER_MIN_AUC_GAIN"]
    metrics["mixed"] = bool(mixed)
    if math.isnan(best) or math.isnan(baseline):
        metrics["why"] = "not used: no carousel in the test split has both a click and a miss"
        used = False
    elif best > baseline + gain:
        used = True
        metrics["why"] = (
            f"used: within-carousel AUC {best:.4f} ({'mixed' if mixed else 'global'}) beats "
            f"the unranked order's {baseline:.4f}"
        )
    else:
        used = False
        metrics["why"] = (
            f"not used: within-carousel AUC {best:.4f} does not beat the unranked order's "
            f"{baseline:.4f}"
        )
    metrics["used"] = used
    metrics["seconds"] = time.perf_counter() - started
    ranker = ActiveRanker(
        model=model,
        member_ids=member_ids,
        course_ids=snapshot.course_ids,
        course_table=table,
        used=used,
        mixed=bool(mixed),
    )
    return ranker, {key: _json_number(value) for key, value in metrics.items()}


def _json_number(value):
    # JSONField cannot hold NaN on every backend; None reads as "not measurable".
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
