"""The channel as a ranker feature: digests' impressions and clicks train it, marked email; the
stored ranker carries the new layout, and a ranker stored with the old one is not served."""

import datetime as dt
import uuid

import numpy as np
import pytest
from django.utils import timezone

from recommendations import engine
from recommendations.data import ShownCourse
from recommendations.feedback.services import click_log, impressions_log
from recommendations.models import PageView, TrainingRun
from recommendations.ranker.examples import ranker_examples_build
from recommendations.ranker.features import (
    CHANNEL_FEATURES,
    COURSE_COLUMNS,
    COURSE_FEATURES,
    FEATURES,
    MEMBER_COLUMNS,
)
from recommendations.ranker.serving import (
    ActiveRanker,
    ranker_dumps,
    ranker_loads,
    ranker_page_scores,
)
from recommendations.serving.home_page import home_page_for_member
from recommendations.serving.state import serving_state, snapshot_forget
from recommendations.training.activity import activity_read
from recommendations.training.artifacts import artifact_dumps, artifact_loads
from recommendations.training.rules import rules_snapshot_build, rules_snapshot_dumps
from tests.factories import CourseSkillFactory, MemberFactory, SkillFactory

EMAIL = FEATURES.index("channel_email")
API = FEATURES.index("channel_api")


@pytest.fixture
def world(db, settings):
    settings.RECOMMENDATIONS = {
        **settings.RECOMMENDATIONS,
        # Every logged impression an example, and none injected: the rows are the page views'.
        "RANKER_NEGATIVE_RATE": 1.0,
        "RANKER_RANDOM_NEGATIVES": 0,
    }
    skill = SkillFactory()
    courses = [CourseSkillFactory(skill=skill).course for _ in range(4)]
    return courses, MemberFactory(), MemberFactory()


def _shown(courses, *, reason="popular"):
    return [
        ShownCourse(
            course_id=course.pk,
            reason=reason,
            reason_key=reason,
            strategy="default",
            carousel_position=0,
            position=position,
        )
        for position, course in enumerate(courses)
    ]


def test_email_page_views_and_their_clicks_are_examples_marked_email(world):
    courses, reader, visitor = world
    now = timezone.now()
    earlier = now - dt.timedelta(hours=2)
    email, web, api = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    impressions_log(
        member=reader,
        page_view_id=email,
        shown=_shown(courses[:3]),
        channel=PageView.Channel.EMAIL,
        now=earlier,
    )
    # The digest's signed link: a click on the email's page view.
    assert click_log(member=reader, page_view_id=email, course=courses[1], now=now) is not None
    impressions_log(member=visitor, page_view_id=web, shown=_shown(courses[2:]), now=earlier)
    impressions_log(
        member=visitor,
        page_view_id=api,
        shown=_shown(courses[:1]),
        channel=PageView.Channel.API,
        now=earlier,
    )

    examples, member_ids, _ = ranker_examples_build(
        snapshot=rules_snapshot_build(), activity=activity_read(), now=now, seed=0
    )

    assert examples.features.shape[1] == len(FEATURES)
    rows = {
        (int(member_ids[m]), int(c), int(e), int(a)): label
        for m, c, e, a, label in zip(
            examples.member,
            examples.course,
            examples.features[:, EMAIL],
            examples.features[:, API],
            examples.labels,
            strict=True,
        )
    }
    snapshot = rules_snapshot_build()
    pos = [int(snapshot.course_positions(np.array([c.pk]))[0]) for c in courses]
    assert rows == {
        # The email's three cards, the clicked one positive.
        (reader.pk, pos[0], 1, 0): 0.0,
        (reader.pk, pos[1], 1, 0): 1.0,
        (reader.pk, pos[2], 1, 0): 0.0,
        # The site's (both columns 0) and the API's.
        (visitor.pk, pos[2], 0, 0): 0.0,
        (visitor.pk, pos[3], 0, 0): 0.0,
        (visitor.pk, pos[0], 0, 1): 0.0,
    }
    assert examples.labels.size == 6


def _ranker(n_courses: int, course_ids=None) -> ActiveRanker:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, len(FEATURES)))
    features[:, EMAIL] = rng.random(200) < 0.3
    labels = (features[:, EMAIL] + rng.normal(size=200) > 0.5).astype(float)
    model = engine.ranker_fit(
        features,
        labels,
        rng.integers(3, size=200),
        rng.integers(n_courses, size=200),
        n_members=3,
        n_courses=n_courses,
        course_columns=COURSE_COLUMNS,
        member_columns=MEMBER_COLUMNS,
    )
    return ActiveRanker(
        model=model,
        member_ids=np.array([1, 2, 3]),
        course_ids=np.arange(1, n_courses + 1) if course_ids is None else course_ids,
        course_table=rng.normal(size=(n_courses, len(COURSE_FEATURES))),
        used=True,
        mixed=False,
    )


def _old_layout(payload: bytes) -> bytes:
    """The payload as the release before the channel columns stored it."""
    values = artifact_loads(payload)
    old = [name for name in FEATURES if name not in CHANNEL_FEATURES]
    keep = [FEATURES.index(name) for name in old]
    values.update(
        features=np.array(old),
        mean=values["mean"][keep],
        scale=values["scale"][keep],
        coef=values["coef"][keep],
    )
    return artifact_dumps(values)


def test_the_stored_ranker_round_trips_with_the_channel_columns_and_the_old_layout_is_refused():
    ranker = _ranker(4)
    loaded = ranker_loads(ranker_dumps(ranker))
    assert loaded is not None
    np.testing.assert_array_equal(loaded.model.coef, ranker.model.coef)
    np.testing.assert_array_equal(loaded.model.scale, ranker.model.scale)
    assert loaded.model.coef.size == len(FEATURES)
    assert (loaded.used, loaded.mixed) == (True, False)
    # Email readers clicked more in the fitted data: the email column learned it.
    assert loaded.model.coef[EMAIL] > 0

    assert ranker_loads(_old_layout(ranker_dumps(ranker))) is None


def test_an_active_run_with_an_old_layout_ranker_serves_without_it(world):
    _, member, _ = world
    snapshot = rules_snapshot_build()
    ranker = _ranker(snapshot.course_ids.size)
    TrainingRun.objects.create(
        status=TrainingRun.Status.SUCCEEDED,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        is_active=True,
        artifact=rules_snapshot_dumps(snapshot),
        ranker_artifact=_old_layout(ranker_dumps(ranker)),
    )
    snapshot_forget()
    try:
        state = serving_state()
        assert state.run_id is not None and state.ranker is None
        # The default homepage serves the rules order, a "ranked" variant the ALS order.
        default = home_page_for_member(member=member)
        ranked = home_page_for_member(member=member, strategy="ranked")
        assert default.carousels and ranked.carousels
        assert {s.strategy for s in default.shown} == {"rules"}
        assert {s.strategy for s in ranked.shown} == {"als"}
    finally:
        snapshot_forget()


def test_a_page_is_scored_with_its_channel_the_same_offset_for_every_card(world):
    _, member, _ = world
    snapshot = rules_snapshot_build()
    ranker = _ranker(snapshot.course_ids.size, course_ids=snapshot.course_ids)
    n = snapshot.course_ids.size

    def scores(channel):
        return ranker_page_scores(
            ranker=ranker,
            snapshot=snapshot,
            member=member,
            positions=np.arange(n),
            relevance=np.linspace(0.0, 1.0, n),
            held_skills=np.ones(snapshot.skill_ids.size),
            enrolled_positions=np.zeros(0, dtype=np.int64),
            learned={},
            now=timezone.now(),
            channel=channel,
        )

    web, api, email = (scores(c) for c in PageView.Channel.values)
    model = ranker.model
    # One indicator set for the whole page: the logits move by its standardised weight, alike
    # for every card, so the order inside a carousel is the same on every channel. Alike up to
    # the scoring's rounding: a full PostgreSQL run once saw every card's offset 1.4e-7 (relative)
    # from the weight, where numpy's default tolerance is 1e-7; a card scored apart would be
    # off by far more.
    np.testing.assert_allclose(email - web, model.coef[EMAIL] / model.scale[EMAIL], rtol=1e-6)
    np.testing.assert_allclose(api - web, model.coef[API] / model.scale[API], rtol=1e-6)
    assert np.ptp(api - web) < 1e-6 * abs(model.coef[API] / model.scale[API])
    assert not np.allclose(email, web)
