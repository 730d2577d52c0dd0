"""The ranker's training examples: the logged impressions of the window, labelled (clicked,
or enrolled soon after), sampled, with random never-shown negatives, and their features."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from django.conf import settings

from members.models import FollowedSkill, Member, MemberSkill
from recommendations import engine
from recommendations.data import REASON_CONTINUE
from recommendations.engine.positions import positions_of
from recommendations.feedback.page_views import (
    page_view_continue_mask,
    page_view_courses,
    page_view_slots,
)
from recommendations.models import FeedbackEvent, PageView, TrainingRun
from recommendations.ranker.features import (
    COURSE_FEATURES,
    CTR_PRIOR_STRENGTH,
    SENIORITY_ORDER,
    channel_block,
    channel_code,
    course_block,
    course_table_build,
    member_block,
    position_block,
)
from recommendations.training.activity import ActivityArrays
from recommendations.training.precompute import learned_models_for_run


@dataclass(frozen=True)
class Examples:
    features: np.ndarray
    labels: np.ndarray
    member: np.ndarray  # positions in member_ids
    course: np.ndarray  # positions in snapshot.course_ids
    time: np.ndarray  # epoch seconds
    group: np.ndarray  # page view × carousel; -1 for injected random negatives
    position: np.ndarray  # -1 for injected random negatives
    carousel_position: np.ndarray
    channel: np.ndarray  # `features.channel_code` of the page the impression was on


def _member_relevance_and_held(
    snapshot, member_ids: np.ndarray, member_rows: np.ndarray
) -> tuple[sp.csr_array, sp.csr_array]:
    """Per member (rows of `member_ids`): the homepage's blended relevance over courses, row
    max 1, and the held-skill weights (followed 1, profile its weight), as the selector does."""
    n_members, n_skills = member_ids.size, snapshot.skill_ids.size

    def skill_matrix(rows) -> sp.csr_array:
        data = np.array(list(rows), dtype=np.float64).reshape(-1, 3)
        member = positions_of(member_ids, data[:, 0].astype(np.int64))
        skill = snapshot.skill_positions(data[:, 1].astype(np.int64))
        keep = (member >= 0) & (skill >= 0)
        matrix = sp.csr_array(
            (data[keep, 2], (member[keep], skill[keep])), shape=(n_members, n_skills)
        )
        matrix.sum_duplicates()
        return matrix

    followed = engine.presence(
        skill_matrix(
            (m, s, 1.0)
            for m, s in FollowedSkill.objects.filter(member_id__in=member_ids.tolist()).values_list(
                "member_id", "skill_id"
            )
        )
    )
    profile = skill_matrix(
        MemberSkill.objects.filter(member_id__in=member_ids.tolist()).values_list(
            "member_id", "skill_id", "weight"
        )
    )
    title, industry = member_rows[:, 0], member_rows[:, 1]
    pair = np.array(
        [
            snapshot.pair_position(int(t), int(i)) if t >= 0 and i >= 0 else -1
            for t, i in member_rows[:, :2].tolist()
        ],
        dtype=np.int64,
    )
    cohort = engine.member_cohort_vectors(
        [
            (pair, snapshot.pair_profiles),
            (positions_of(snapshot.title_ids, title), snapshot.title_profiles),
            (positions_of(snapshot.industry_ids, industry), snapshot.industry_profiles),
        ]
    )
    weights = settings.RECOMMENDATIONS["BLEND_WEIGHTS"]
    blend = engine.member_skill_vectors(
        followed=followed,
        profile=profile,
        cohort=cohort,
        weights=(weights["follow"], weights["profile"], weights["cohort"]),
    )
    affinity = engine.as_csr(engine.affinity_scores(blend, snapshot.course_skill, snapshot.idf))
    peaks = np.zeros(n_members)
    has = np.diff(affinity.indptr) > 0
    peaks[has] = np.maximum.reduceat(affinity.data, affinity.indptr[:-1][has])
    scale = np.divide(1.0, peaks, out=np.zeros(n_members), where=peaks > 0)
    relevance = engine.as_csr(sp.diags_array(scale) @ affinity)
    # Followed skills weigh 1; a profile skill its weight, unless also followed.
    held = engine.as_csr(followed.maximum(profile))
    return relevance, held


def ranker_examples_build(
    *,
    snapshot,
    activity: ActivityArrays,
    now: dt.datetime,
    seed: int,
) -> tuple[Examples, np.ndarray, np.ndarray] | None:
    """The window's impressions as labelled feature rows; None when there are none.

    Returns (examples, member_ids of the member positions, per-course table).
    """
    config = settings.RECOMMENDATIONS
    since = now - dt.timedelta(days=config["RANKER_WINDOW_DAYS"])
    read = _impressions_read(since=since, now=now, limit=config["RANKER_MAX_EXAMPLES"])
    if read is None:
        return None
    (i_member, i_course, i_page, i_carousel, i_position, i_channel, i_time), page_of = read
    # Every channel's clicks: a digest's signed link logs a real click on the email's page view.
    clicked = set(
        FeedbackEvent.objects.filter(
            kind=FeedbackEvent.Kind.CLICK, created_at__gte=since
        ).values_list("page_view_id", "course_id")
    )
    label = impression_labels(
        member=i_member,
        course=i_course,
        page_view=[page_of[p] for p in i_page.tolist()],
        time=i_time,
        clicked=clicked,
        activity=activity,
        enrol_window_seconds=config["RANKER_ENROL_WINDOW_HOURS"] * 3600.0,
    )

    sampled = _examples_sampled(
        snapshot=snapshot,
        activity=activity,
        columns=(i_member, i_course, i_page, i_carousel, i_position, i_channel, i_time),
        label=label,
        rng=np.random.default_rng(seed),
    )
    i_member, i_course, i_page, i_carousel, i_position, i_channel, i_time, label, group = sampled

    course = snapshot.course_positions(i_course)
    known = course >= 0
    i_member, course, i_time, i_carousel, i_position, i_channel, group, label = (
        a[known]
        for a in (i_member, course, i_time, i_carousel, i_position, i_channel, group, label)
    )
    member_ids = np.unique(i_member)
    member = positions_of(member_ids, i_member)
    member_info = {
        pk: (title or -1, industry or -1, SENIORITY_ORDER.get(seniority, 0))
        for pk, title, industry, seniority in Member.objects.filter(
            pk__in=member_ids.tolist()
        ).values_list("pk", "title_id", "industry_id", "seniority")
    }
    member_rows = np.array(
        [member_info.get(pk, (-1, -1, 0)) for pk in member_ids.tolist()], dtype=np.int64
    ).reshape(-1, 3)

    prior = _prior_activity(
        snapshot=snapshot,
        activity=activity,
        member_ids=member_ids,
        member=member,
        course=course,
        time=i_time,
    )
    activity_count, history, binary = prior.count, prior.shared_skills, prior.course_skill_binary
    e_member, e_course, e_time = prior.enrol_member, prior.enrol_course, prior.enrol_time

    relevance, held = _member_relevance_and_held(snapshot, member_ids, member_rows)
    # Row-wise dot products per example, never the full members × courses product.
    weighted = engine.as_csr(binary @ sp.diags_array(snapshot.idf))
    idf_overlap = np.asarray(held[member].multiply(weighted[course]).sum(axis=1)).ravel()
    window_start = since.timestamp()
    taken_before = e_time < window_start
    als = _als_training_scores(
        snapshot=snapshot,
        member_ids=member_ids,
        member=member,
        course=course,
        taken=(e_member[taken_before], e_course[taken_before]),
    )

    # Course click-through from the shown impressions; each example's own outcome is left out,
    # otherwise the feature would contain the label.
    shown = i_position >= 0
    clicks = np.bincount(course[shown], weights=label[shown], minlength=snapshot.course_ids.size)
    views = np.bincount(course[shown], minlength=snapshot.course_ids.size).astype(float)
    prior = float(label[shown].mean()) if shown.any() else 0.0
    own_click = np.where(shown, label, 0.0)
    own_view = shown.astype(float)
    ctr = (clicks[course] - own_click + CTR_PRIOR_STRENGTH * prior) / (
        views[course] - own_view + CTR_PRIOR_STRENGTH
    )
    table = course_table_build(
        course_ids=snapshot.course_ids,
        popularity=snapshot.popularity,
        ctr=(clicks + CTR_PRIOR_STRENGTH * prior) / (views + CTR_PRIOR_STRENGTH),
    )
    courses = course_block(
        table[course],
        published=snapshot.course_published[course],
        at=i_time,
        popularity=snapshot.popularity[course],
    )
    courses[:, COURSE_FEATURES.index("ctr")] = ctr
    members = member_block(
        title_id=member_rows[member, 0],
        industry_id=member_rows[member, 1],
        seniority=member_rows[member, 2].astype(np.float64),
        activity=activity_count,
    )
    interactions = np.column_stack(
        [
            np.asarray(relevance[member, course]).ravel(),
            idf_overlap,
            als,
            np.log1p(history),
            engine.day_of_week_features(i_time),
        ]
    )
    # Injected negatives were never on a page: they get the weakest slot.
    position_features = position_block(
        np.where(i_position >= 0, i_position, 1e9), np.where(i_carousel >= 0, i_carousel, 1e9)
    )
    examples = Examples(
        features=np.column_stack(
            [members, courses, interactions, position_features, channel_block(i_channel)]
        ),
        labels=label,
        member=member,
        course=course,
        time=i_time,
        group=group,
        position=i_position,
        carousel_position=i_carousel,
        channel=i_channel,
    )
    return examples, member_ids, table


def _als_training_scores(
    *,
    snapshot,
    member_ids: np.ndarray,
    member: np.ndarray,
    course: np.ndarray,
    taken: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Per example, the learned score its card had in the member's row, rebuilt from the serving
    run's model: the family's score (ALS: U·V; item-item families: the member's courses taken
    before the window times the item weights) where the course is among the member's
    LEARNED_PERSONAL best courses not taken before the window, else 0.

    The stored rows cannot be used: a row is refreshed after every enrolment and drops the
    courses taken, so exactly the positives would read 0 (a leak that teaches "high ALS score,
    no click").
    """
    out = np.zeros(member.size)
    run_id = (
        TrainingRun.objects.filter(is_active=True, model_artifact__isnull=False)
        .values_list("pk", flat=True)
        .first()
    )
    models = learned_models_for_run(run_id) if run_id is not None else None
    if models is None:
        return out
    known = models.member_positions(member_ids)
    # The serving run's course order → the snapshot's (courses added since score 0).
    model_course = positions_of(models.course_ids, snapshot.course_ids)
    has_course = model_course >= 0
    limit = settings.RECOMMENDATIONS["LEARNED_PERSONAL"]
    taken_member, taken_course = taken
    batch = settings.RECOMMENDATIONS["PRECOMPUTE_BATCH_MEMBERS"]
    for start in range(0, member_ids.size, batch):
        rows = np.arange(start, min(start + batch, member_ids.size))
        scores = np.full((rows.size, snapshot.course_ids.size), -np.inf)
        mine = (taken_member >= start) & (taken_member < start + rows.size)
        if models.model.als is not None:
            usable = known[rows] >= 0
            factors = models.model.als.user_factors[known[rows[usable]]]
            block = factors @ models.model.als.item_factors[model_course[has_course]].T
            scores[np.ix_(np.flatnonzero(usable), np.flatnonzero(has_course))] = block
        else:
            # The member's courses before the window, in the model's course order.
            in_model = model_course[taken_course[mine]]
            ok = in_model >= 0
            history = sp.csr_array(
                (
                    np.ones(int(ok.sum())),
                    (taken_member[mine][ok] - start, in_model[ok]),
                ),
                shape=(rows.size, models.course_ids.size),
            )
            history.sum_duplicates()
            block = engine.model_member_scores(models.model, history)
            scores[:, np.flatnonzero(has_course)] = block[:, model_course[has_course]]
        scores[taken_member[mine] - start, taken_course[mine]] = -np.inf
        k = max(1, min(limit, scores.shape[1]))
        threshold = -np.partition(-scores, k - 1, axis=1)[:, k - 1]
        examples = np.flatnonzero((member >= start) & (member < start + rows.size))
        local = member[examples] - start
        value = scores[local, course[examples]]
        keep = np.isfinite(value) & (value >= threshold[local])
        out[examples[keep]] = value[keep]
    return out


def impression_labels(
    *,
    member: np.ndarray,
    course: np.ndarray,
    page_view: list,
    time: np.ndarray,
    clicked: set,
    activity: ActivityArrays,
    enrol_window_seconds: float,
) -> np.ndarray:
    """The labelling rule: an impression is positive (1.0) when its course was clicked on that
    page view, or when the member enrolled in it at most `enrol_window_seconds` after the
    impression (an enrolment before it does not count); otherwise 0.0.

    `clicked` holds (page view id, course id) pairs; `activity` the enrolments with their start
    times. One entry per impression in every array.
    """
    label = np.array(
        [(p, c) in clicked for p, c in zip(page_view, course.tolist(), strict=True)],
        dtype=np.float64,
    )
    enrol_key = activity.enrol_member.astype(np.int64) * (1 << 32) + activity.enrol_course
    order = np.argsort(enrol_key, kind="stable")
    keys, started = enrol_key[order], activity.enrol_started[order]
    if not keys.size:
        return label
    probe = member * (1 << 32) + course
    found = np.minimum(np.searchsorted(keys, probe), keys.size - 1)
    hit = keys[found] == probe
    delay = started[found] - time
    return np.maximum(
        label, (hit & (delay >= 0) & (delay <= enrol_window_seconds)).astype(np.float64)
    )


def _examples_sampled(
    *,
    snapshot,
    activity: ActivityArrays,
    columns: tuple[np.ndarray, ...],
    label: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, ...]:
    """Every positive and a `RANKER_NEGATIVE_RATE` sample of the negatives, plus
    `RANKER_RANDOM_NEGATIVES` never-shown courses per positive; returns the columns, the labels
    and each example's group (page view × carousel, -1 for an injected negative). An injected
    negative takes the member, time and channel of the positive it was drawn for."""
    config = settings.RECOMMENDATIONS
    i_member, i_course, i_page, i_carousel, i_position, i_channel, i_time = columns
    keep = (label > 0) | (rng.random(label.size) < config["RANKER_NEGATIVE_RATE"])
    i_member, i_course, i_page, i_carousel, i_position, i_channel, i_time, label = (
        a[keep]
        for a in (i_member, i_course, i_page, i_carousel, i_position, i_channel, i_time, label)
    )
    group = i_page * 1024 + np.maximum(i_carousel, 0)

    n_random = round(float(config["RANKER_RANDOM_NEGATIVES"] * label.sum()))
    if n_random > 0:
        # Never-shown courses: negatives the logged policy could not produce. Shown or taken
        # pairs are dropped so an injected negative never contradicts a logged positive.
        source = rng.choice(np.flatnonzero(label > 0), size=n_random)
        random_course = snapshot.course_ids[rng.integers(snapshot.course_ids.size, size=n_random)]
        seen = set(zip(i_member.tolist(), i_course.tolist(), strict=True)) | set(
            zip(activity.enrol_member.tolist(), activity.enrol_course.tolist(), strict=True)
        )
        fresh = np.array(
            [
                (m, c) not in seen
                for m, c in zip(i_member[source].tolist(), random_course.tolist(), strict=True)
            ],
            dtype=bool,
        )
        source, random_course = source[fresh], random_course[fresh]
        i_member = np.r_[i_member, i_member[source]]
        i_course = np.r_[i_course, random_course]
        i_time = np.r_[i_time, i_time[source]]
        i_channel = np.r_[i_channel, i_channel[source]]
        i_carousel = np.r_[i_carousel, np.full(source.size, -1)]
        i_position = np.r_[i_position, np.full(source.size, -1)]
        group = np.r_[group, np.full(source.size, -1)]
        label = np.r_[label, np.zeros(source.size)]
    return i_member, i_course, i_page, i_carousel, i_position, i_channel, i_time, label, group


@dataclass(frozen=True)
class PriorActivity:
    """Per example: the member's enrolments before the impression (the course itself aside) and
    the skills those courses share with it; with the enrolments as positions, by member."""

    count: np.ndarray
    shared_skills: np.ndarray
    course_skill_binary: sp.csr_array
    enrol_member: np.ndarray
    enrol_course: np.ndarray
    enrol_time: np.ndarray


def _prior_activity(
    *,
    snapshot,
    activity: ActivityArrays,
    member_ids: np.ndarray,
    member: np.ndarray,
    course: np.ndarray,
    time: np.ndarray,
) -> PriorActivity:
    i_time = time
    enrol_member = positions_of(member_ids, activity.enrol_member.astype(np.int64))
    enrol_course = snapshot.course_positions(activity.enrol_course.astype(np.int64))
    usable = (enrol_member >= 0) & (enrol_course >= 0)
    e_member, e_course, e_time = (
        enrol_member[usable],
        enrol_course[usable],
        activity.enrol_started[usable],
    )
    by_member = np.argsort(e_member, kind="stable")
    e_member, e_course, e_time = e_member[by_member], e_course[by_member], e_time[by_member]
    starts = np.searchsorted(e_member, np.arange(member_ids.size))
    counts = np.bincount(e_member, minlength=member_ids.size)
    per_example = counts[member]
    example_of_pair = np.repeat(np.arange(member.size), per_example)
    first_pair = np.cumsum(per_example) - per_example
    offsets = np.arange(example_of_pair.size) - np.repeat(first_pair, per_example)
    pair_enrolment = starts[member][example_of_pair] + offsets
    before = (e_time[pair_enrolment] < i_time[example_of_pair]) & (
        e_course[pair_enrolment] != course[example_of_pair]
    )
    activity_count = np.bincount(example_of_pair[before], minlength=member.size).astype(float)
    binary = engine.presence(snapshot.course_skill)
    shared = engine.as_csr(binary @ binary.T)
    overlap = (
        np.asarray(
            shared[e_course[pair_enrolment[before]], course[example_of_pair[before]]]
        ).ravel()
        if before.any()
        else np.zeros(0)
    )
    history = np.bincount(example_of_pair[before], weights=overlap, minlength=member.size)
    return PriorActivity(
        count=activity_count,
        shared_skills=history,
        course_skill_binary=binary,
        enrol_member=e_member,
        enrol_course=e_course,
        enrol_time=e_time,
    )


def _impressions_read(
    *, since: dt.datetime, now: dt.datetime, limit: int
) -> tuple[tuple[np.ndarray, ...], dict] | None:
    """The window's newest `limit` impressions as columns (member, course, page view index,
    carousel position, position, channel code, epoch seconds; -1 for a missing position), and
    the page view id of each index; None when there are none.

    The page views' cards of every channel (without the Continue learning row: the member's own
    unfinished courses are not recommendations, nothing to learn there; a digest's cards are
    the email's, at their place in it), and the reported impressions (imported or sent as
    events: no slot, grouped by the page view they name, if any).
    """
    page_index: dict = {}
    parts = []
    taken = 0
    pages = (
        PageView.objects.filter(created_at__gte=since, created_at__lte=now)
        .order_by("-created_at", "-pk")
        .values_list("pk", "member_id", "created_at", "channel", "courses", "slots", "labels")
    )
    rows = pages.iterator(chunk_size=2000)
    for page_view_id, member_id, created, channel, courses, slots, labels in rows:
        recommended = ~page_view_continue_mask(slots=slots, labels=labels)
        course = page_view_courses(courses)[recommended]
        record = page_view_slots(slots)[recommended]
        n = course.size
        page = page_index.setdefault(page_view_id, len(page_index))
        parts.append(
            np.column_stack(
                [
                    np.full(n, member_id),
                    course,
                    np.full(n, page),
                    record["carousel"].astype(np.int64),
                    record["position"].astype(np.int64),
                    np.full(n, channel_code(channel)),
                    np.full(n, created.timestamp()),
                ]
            ).astype(np.float64)
        )
        taken += n
        if taken >= limit:
            break
    reported = (
        FeedbackEvent.objects.filter(
            kind=FeedbackEvent.Kind.IMPRESSION, created_at__gte=since, created_at__lte=now
        )
        .exclude(reason=REASON_CONTINUE)
        .order_by("-created_at", "-pk")
        .values_list(
            "member_id",
            "course_id",
            "page_view_id",
            "carousel_position",
            "position",
            "channel",
            "created_at",
        )[:limit]
    )
    parts.append(
        np.array(
            [
                (
                    member_id,
                    course_id,
                    page_index.setdefault(page_view_id, len(page_index)),
                    -1 if carousel is None else carousel,
                    -1 if position is None else position,
                    channel_code(channel),
                    created.timestamp(),
                )
                for member_id, course_id, page_view_id, carousel, position, channel, created in (
                    reported
                )
            ],
            dtype=np.float64,
        ).reshape(-1, 7)
    )
    impression = np.concatenate(parts)
    if not impression.size:
        return None
    # Newest first across both sources (stable: a page's cards keep their order).
    impression = impression[np.argsort(-impression[:, 6], kind="stable")][:limit]
    page_of = {index: page for page, index in page_index.items()}
    ids = impression[:, :6].astype(np.int64)
    return (*ids.T, impression[:, 6]), page_of
