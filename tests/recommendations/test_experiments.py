import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from members.models import Enrolment, FollowedSkill
from recommendations.data import ShownCourse
from recommendations.digest.composition import digest_compose
from recommendations.experiments.assignment import (
    ExperimentDefinition,
    VariantDefinition,
    assignment_bucket,
    experiment_variants_problems,
    experiments_load,
    variant_for_member,
)
from recommendations.experiments.results import experiment_results
from recommendations.feedback.events import EventInput, events_ingest
from recommendations.feedback.page_views import page_view_pack
from recommendations.feedback.services import click_log, impressions_log
from recommendations.models import (
    ExperimentAssignment,
    ExperimentVariant,
    FeedbackEvent,
    PageView,
)
from recommendations.serving.home_page import home_page_for_member, home_page_serve
from tests.factories import CourseFactory, MemberFactory
from tests.helpers import experiment_create, shown_cards


def _analyst(world, *follow):
    member = MemberFactory(title=world["analyst"], industry=world["finance"])
    for name in follow:
        FollowedSkill.objects.create(member=member, skill=world["skills"][name])
    return member


def _definition(*weights: int, key: str = "exp") -> ExperimentDefinition:
    return ExperimentDefinition(
        id=1,
        key=key,
        name=key,
        starts_at=timezone.now(),
        ends_at=None,
        exploration_share=0.0,
        variants=tuple(
            VariantDefinition(id=i + 1, code=f"v{i}", strategy="als", weight=w, is_control=i == 0)
            for i, w in enumerate(weights)
        ),
    )


def test_assignment_hash_is_deterministic_and_follows_the_weights():
    # Pinned: the hash must not change between releases, or running experiments reshuffle.
    assert assignment_bucket(key="exp", member_id=1) == pytest.approx(0.386431, abs=1e-6)
    experiment = _definition(1, 3)
    codes = [variant_for_member(experiment=experiment, member_id=m).code for m in range(4000)]
    assert codes == [
        variant_for_member(experiment=experiment, member_id=m).code for m in range(4000)
    ]
    assert 0.72 < codes.count("v1") / 4000 < 0.78
    # Another key is another, independent split.
    other = [
        variant_for_member(experiment=_definition(1, 3, key="b"), member_id=m).code
        for m in range(4000)
    ]
    assert other != codes


def test_without_a_running_experiment_the_default_homepage_is_served(world):
    member = _analyst(world, "SQL", "Python")
    experiment_create(
        ("a", "recency", 1), ("b", "als", 1), starts=timezone.now() + dt.timedelta(days=1)
    )
    experiment_create(
        ("a", "recency", 1),
        ("b", "als", 1),
        key="ended",
        starts=timezone.now() - dt.timedelta(days=9),
        ends=timezone.now() - dt.timedelta(days=1),
    )
    served = home_page_serve(member=member)
    default = home_page_for_member(member=member)
    assert [(c.key, [card.course.pk for card in c.cards]) for c in served.carousels] == [
        (c.key, [card.course.pk for card in c.cards]) for c in default.carousels
    ]
    assert {card.strategy for card in served.shown} == {"rules"}
    assert {card.variant_id for card in served.shown} == {None}
    assert not ExperimentAssignment.objects.exists()


def test_first_exposure_stores_the_assignment_and_it_stays(world):
    experiment = experiment_create(("base", "recency", 1), ("treat", "affinity", 1))
    member = _analyst(world, "SQL")
    page = home_page_serve(member=member)
    assignment = ExperimentAssignment.objects.get(experiment=experiment, member=member)
    expected = variant_for_member(experiment=experiments_load()[0], member_id=member.pk)
    assert assignment.variant_id == expected.id
    assert {card.variant_id for card in page.shown} == {assignment.variant_id}
    assert {card.strategy for card in page.shown} == {assignment.variant.strategy}
    # Re-weighting so the hash would now pick the other variant does not move the member.
    other = ExperimentVariant.objects.exclude(pk=assignment.variant_id).get()
    ExperimentVariant.objects.filter(pk=assignment.variant_id).update(weight=1)
    ExperimentVariant.objects.filter(pk=other.pk).update(weight=10_000)
    other.save()  # signals: this process re-reads the experiment
    again = home_page_serve(member=member)
    assert {card.variant_id for card in again.shown} == {assignment.variant_id}
    assert ExperimentAssignment.objects.filter(member=member).count() == 1


def test_each_strategy_serves_only_its_own_reasons(world, settings):
    settings.EXPERIMENTS = {**settings.EXPERIMENTS, "MAX_CAROUSELS": 2}
    member = _analyst(world, "SQL", "Python")
    recency = home_page_for_member(member=member, strategy="recency", max_carousels=2)
    assert [c.reason for c in recency.carousels] == ["popular", "new"]
    affinity = home_page_for_member(member=member, strategy="affinity", max_carousels=2)
    assert [c.label for c in affinity.carousels] == [
        "Because you follow Python",
        "Because you follow SQL",
    ]
    assert {card.strategy for card in affinity.shown} == {"affinity"}
    with pytest.raises(ValueError, match="unknown homepage strategy"):
        home_page_for_member(member=member, strategy="random")


def test_impressions_clicks_and_api_clicks_carry_the_variant(world):
    experiment = experiment_create(("base", "recency", 1), ("treat", "recency", 1))
    member = _analyst(world, "SQL")
    page = home_page_serve(member=member)
    impressions_log(member=member, page_view_id=page.page_view_id, shown=page.shown)
    variant_id = ExperimentAssignment.objects.get(experiment=experiment).variant_id
    assert {card[7] for card in shown_cards(pk=page.page_view_id)} == {variant_id}
    assert PageView.objects.get().variant_id == variant_id
    first, second = page.shown[0], page.shown[1]
    click = click_log(
        member=member,
        page_view_id=page.page_view_id,
        course=world["courses"][
            next(t for t, c in world["courses"].items() if c.pk == first.course_id)
        ],
    )
    assert click.variant_id == variant_id
    results = events_ingest(
        member=member,
        events=[
            EventInput(
                event_id=uuid.uuid4(),
                kind="click",
                course_id=second.course_id,
                page_view_id=page.page_view_id,
            )
        ],
    )
    assert results[0].status == "accepted"
    assert list(
        FeedbackEvent.objects.filter(kind="click")
        .order_by("pk")
        .values_list("variant_id", flat=True)
    ) == [variant_id, variant_id]


def test_exploration_fills_slots_with_unshown_eligible_courses(world):
    member = _analyst(world, "SQL")
    Enrolment.objects.create(
        member=member, course=world["courses"]["Tableau Dashboards"], enrolled_at=timezone.now()
    )
    plain = home_page_for_member(member=member, strategy="affinity")
    explored = home_page_for_member(member=member, strategy="affinity", exploration_share=1.0)
    shown = {card.course_id for card in plain.shown}
    explore = [card for card in explored.shown if card.strategy == "explore"]
    eligible = (
        {c.pk for c in world["courses"].values()}
        - shown
        - {world["courses"]["Tableau Dashboards"].pk}
    )
    assert len(explore) == min(len(plain.shown), len(eligible))
    assert {card.course_id for card in explore} <= eligible
    assert len({card.course_id for card in explored.shown}) == len(explored.shown)


def _events(
    variant, member, *, impressions: int, clicks: int, day: dt.datetime, channel: str = "web"
):
    """`impressions` page views on `channel` of one card each, of one new course, the first
    `clicks` of them clicked (events carry their page view's channel); returns the course."""
    course = CourseFactory()
    pages, events = [], []
    for index in range(impressions):
        packed = page_view_pack([ShownCourse(course.pk, "new", "new", "rules", 0, 0, variant.pk)])
        page = PageView(
            member=member,
            created_at=day,
            channel=channel,
            variant=variant,
            courses=packed.courses,
            slots=packed.slots,
            labels=packed.labels,
            recommended=packed.recommended,
        )
        pages.append(page)
        if index < clicks:
            events.append(
                FeedbackEvent(
                    kind="click",
                    member=member,
                    course=course,
                    page_view_id=page.pk,
                    variant=variant,
                    channel=channel,
                    created_at=day,
                )
            )
    PageView.objects.bulk_create(pages)
    FeedbackEvent.objects.bulk_create(events)
    return course


def test_results_compare_with_the_control_and_name_a_winner(db, admin_client):
    experiment = experiment_create(("control", "recency", 1), ("treatment", "als", 1))
    control, treatment = experiment.variants.order_by("pk")
    day = timezone.now() - dt.timedelta(hours=2)
    a, b = MemberFactory(), MemberFactory()
    _events(control, a, impressions=1000, clicks=100, day=day)
    treated = _events(treatment, b, impressions=1000, clicks=130, day=day)
    Enrolment.objects.create(
        member=b,
        course=treated,
        enrolled_at=day + dt.timedelta(hours=1),
    )
    results = experiment_results(experiment=experiment)
    by_code = {v.code: v for v in results.variants}
    assert by_code["control"].ctr.rate == 0.1
    assert by_code["control"].ctr.p_value is None
    assert (round(by_code["control"].ctr.low, 4), round(by_code["control"].ctr.high, 4)) == (
        0.0829,
        0.1202,
    )
    assert by_code["treatment"].ctr.p_value == pytest.approx(0.035488, abs=1e-6)
    assert by_code["treatment"].ctr.lift == pytest.approx(0.3)
    assert by_code["treatment"].enrol_rate.successes == 1000  # every impression of that course
    assert by_code["treatment"].engaged.rate == 1.0
    assert results.winner == "treatment"
    assert results.verdict.startswith("treatment wins")
    response = admin_client.get(
        reverse("admin:recommendations_experiment_results", args=[experiment.pk])
    )
    assert response.status_code == 200
    assert b"treatment wins" in response.content
    assert b"<svg" in response.content


def test_close_rates_are_no_significant_difference(db):
    experiment = experiment_create(("control", "recency", 1), ("b", "als", 1), ("c", "affinity", 1))
    control, b, c = experiment.variants.order_by("pk")
    day = timezone.now()
    member = MemberFactory()
    _events(control, member, impressions=500, clicks=50, day=day)
    _events(b, member, impressions=500, clicks=52, day=day)
    _events(c, member, impressions=500, clicks=68, day=day)
    results = experiment_results(experiment=experiment)
    # c vs control: p ≈ 0.063 — above 0.05 / 2 comparisons.
    assert results.alpha == 0.025
    assert results.winner is None
    assert results.verdict.startswith("No significant difference")


def test_variant_sets_are_refused_with_reasons():
    assert (
        experiment_variants_problems(variants=[("a", "als", 1, True), ("b", "ranked", 1, False)])
        == []
    )
    assert experiment_variants_problems(variants=[("a", "als", 1, True)]) == [
        "An experiment needs at least two variants."
    ]
    assert experiment_variants_problems(
        variants=[("a", "als", 1, False), ("a", "ranked", 0, False)]
    ) == [
        "Exactly one variant must be the control.",
        "Variant codes must be different.",
        "Every variant needs a positive weight.",
    ]


def test_an_email_experiment_composes_the_digest_and_leaves_the_homepage_alone(world):
    experiment = experiment_create(
        ("base", "recency", 1), ("treat", "affinity", 1), key="mail", channel="email"
    )
    member = _analyst(world, "SQL")

    page = home_page_serve(member=member)
    assert {card.variant_id for card in page.shown} == {None}
    assert not ExperimentAssignment.objects.exists()

    digest = digest_compose(member=member)
    assignment = ExperimentAssignment.objects.get(experiment=experiment, member=member)
    assert digest.variant_id == assignment.variant_id
    assert {card.shown.strategy for c in digest.carousels for card in c.cards} == {
        assignment.variant.strategy
    }


def test_results_count_the_pages_of_the_channel_the_experiment_targets(db):
    experiment = experiment_create(("control", "recency", 1), ("treatment", "als", 1))
    control, treatment = experiment.variants.order_by("pk")
    day = timezone.now() - dt.timedelta(hours=2)
    a, b = MemberFactory(), MemberFactory()
    _events(control, a, impressions=100, clicks=10, day=day)
    _events(treatment, b, impressions=100, clicks=20, day=day)
    _events(control, a, impressions=50, clicks=1, day=day, channel="email")
    _events(treatment, b, impressions=50, clicks=2, day=day, channel="email")

    def ctr(**kwargs):
        results = experiment_results(experiment=experiment, **kwargs)
        return [(v.code, v.ctr.successes, v.ctr.trials) for v in results.variants]

    assert ctr() == [("control", 10, 100), ("treatment", 20, 100)]
    assert ctr(channels=("email",)) == [("control", 1, 50), ("treatment", 2, 50)]
    experiment.channel = "all"
    assert ctr() == [("control", 11, 150), ("treatment", 22, 150)]
    experiment.channel = "email"
    assert ctr() == [("control", 1, 50), ("treatment", 2, 50)]
