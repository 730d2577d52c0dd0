"""The retrain's model families: the refit on all data, the choice, the search trigger, and the
fall back to rule-based recommendations."""

import dataclasses
import datetime as dt

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from catalog.models import Course
from members.models import Enrolment, Member
from members.services import enrolment_start
from recommendations import engine
from recommendations.models import MemberRecommendations, TrainingRun
from recommendations.training import learned, precompute
from recommendations.training.learned import SearchResult, search_due
from recommendations.training.runs import search_result_stored, training_run_execute


def _models(run):
    return learned.learned_models_loads(
        bytes(TrainingRun.objects.values_list("model_artifact", flat=True).get(pk=run.pk))
    )


def test_the_served_als_model_includes_each_members_newest_interaction(demo, settings):
    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "FAMILIES": ("als",)}
    first = training_run_execute(trigger="test")
    assert first.metrics["family"] == "als", first.message
    member = Member.objects.filter(enrolments__isnull=False).distinct().order_by("pk").first()
    models = _models(first)
    position = int(np.searchsorted(models.member_ids, member.pk))
    course = Course.objects.exclude(enrolments__member=member).order_by("pk").first()
    Enrolment.objects.create(
        member=member, course=course, enrolled_at=timezone.now() + dt.timedelta(days=1)
    )

    second = training_run_execute(trigger="test")
    assert not second.metrics["search"]["ran"]  # one more interaction: the stored winner
    served = _models(second)
    column = int(np.searchsorted(served.course_ids, course.pk))
    # The newest enrolment is this member's held-out interaction, and the served model was
    # refitted on every interaction: it is in the matrix and it moved the member's vector.
    assert served.matrix[[position]].toarray()[0, column] > 0
    before = models.model.als.user_factors[position]
    after = served.model.als.user_factors[position]
    assert not np.allclose(before, after)
    item = served.model.als.item_factors[column]
    assert after @ item > before @ models.model.als.item_factors[column]


@pytest.mark.parametrize("family", ["cosine", "bm25", "ease"])
def test_an_item_item_family_serves_rows_similar_courses_and_member_refresh(
    demo, settings, family, django_capture_on_commit_callbacks
):
    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "FAMILIES": (family,)}
    run = training_run_execute(trigger="test")
    assert run.kind == TrainingRun.Kind.LEARNED, run.message
    assert run.metrics["family"] == family
    assert set(run.metrics["families"]) == {family, "popularity"}
    models = precompute.learned_models_for_run(run.pk)
    assert models.model.weights is not None and models.model.als is None
    assert models.item_similarity.nnz > 0
    assert MemberRecommendations.objects.filter(run=run).count() == Member.objects.count()
    families = set()
    for row in MemberRecommendations.objects.all()[:50]:
        families |= set(engine.candidates_decode(row.payload)["family"].tolist())
    assert {engine.FAMILY_ALS, engine.FAMILY_WATCHED} <= families

    member = Member.objects.filter(enrolments__isnull=False).distinct().order_by("pk").first()
    before = MemberRecommendations.objects.get(member=member)
    candidate = int(engine.candidates_decode(before.payload)["course"][0])
    with django_capture_on_commit_callbacks(execute=True):
        enrolment_start(member=member, course=Course.objects.get(pk=candidate))
    after = MemberRecommendations.objects.get(member=member)
    assert after.computed_at > before.computed_at
    assert candidate not in engine.candidates_decode(after.payload)["course"].tolist()


def test_ease_is_left_out_above_its_course_guard(demo, settings):
    settings.RECOMMENDATIONS = {
        **settings.RECOMMENDATIONS,
        "FAMILIES": ("cosine", "ease"),
        "EASE_MAX_COURSES": 10,
    }
    run = training_run_execute(trigger="test")
    assert "ease" not in run.metrics["families"]
    assert "EASE_MAX_COURSES" in run.metrics["search"]["skipped"]["ease"]


def test_search_due_when_asked_when_nothing_stored_and_when_interactions_grew(settings):
    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "SEARCH_GROWTH_SHARE": 0.2}
    stored = SearchResult(family="als", params={}, interactions=1000, families={})
    assert search_due(stored=None, interactions=1000, requested=False) == "no earlier search"
    assert search_due(stored=stored, interactions=1000, requested=True) == "requested"
    assert search_due(stored=stored, interactions=1199, requested=False) is None
    assert "grew from 1000 to 1200" in search_due(stored=stored, interactions=1200, requested=False)
    gone = SearchResult(family="knn", params={}, interactions=1000, families={})
    assert "no longer configured" in search_due(stored=gone, interactions=1000, requested=False)


def test_retrains_refit_the_stored_winner_until_the_data_grew_or_a_search_is_asked(demo, settings):
    first = training_run_execute(trigger="test")
    assert first.metrics["search"]["ran"]
    stored = search_result_stored()
    assert stored.family == first.metrics["family"]
    assert stored.interactions == first.metrics["interactions"]

    second = training_run_execute(trigger="test")
    assert not second.metrics["search"]["ran"]
    assert second.metrics["family"] == stored.family
    assert second.metrics["params"] == stored.params
    assert set(second.metrics["families"]) == {stored.family, "popularity"}
    assert second.params["search"] == first.params["search"]  # carried forward
    # Not measured again: the search's measurement of the winner is reported with the refit.
    assert "evaluate_seconds" not in second.metrics
    assert second.metrics["learned"]["ndcg"] == first.metrics["learned"]["ndcg"]
    assert second.metrics["popularity"]["ndcg"] == first.metrics["popularity"]["ndcg"]
    assert "with the stored parameters, fitted on all interactions" in second.message

    # Interactions grew by more than SEARCH_GROWTH_SHARE since the search: search again.
    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "SEARCH_GROWTH_SHARE": 0.01}
    taken = set(Enrolment.objects.values_list("member_id", "course_id"))
    new = [
        Enrolment(member_id=member_id, course_id=course_id, enrolled_at=timezone.now())
        for member_id in Member.objects.order_by("pk").values_list("pk", flat=True)[:40]
        for course_id in Course.objects.order_by("pk").values_list("pk", flat=True)[:10]
        if (member_id, course_id) not in taken
    ]
    assert len(new) > 0.01 * stored.interactions
    Enrolment.objects.bulk_create(new)
    third = training_run_execute(trigger="test")
    assert third.metrics["search"]["ran"]
    assert third.metrics["search"]["why"].startswith("interactions grew")

    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "SEARCH_GROWTH_SHARE": 10.0}
    call_command("retrain", "--search")
    fourth = TrainingRun.objects.order_by("-pk").first()
    assert fourth.metrics["search"] == {**fourth.metrics["search"], "ran": True, "why": "requested"}


def test_a_winner_stored_without_its_measurement_is_measured_once(demo):
    training_run_execute(trigger="test")
    stored = search_result_stored()
    unmeasured = dataclasses.replace(stored, measured={})
    assert not unmeasured.refit_only
    latest = TrainingRun.objects.order_by("-pk").first()
    latest.params = {**latest.params, "search": unmeasured.as_json()}
    latest.save(update_fields=["params"])

    measured = training_run_execute(trigger="test")
    assert not measured.metrics["search"]["ran"]
    assert "evaluate_seconds" in measured.metrics  # fitted on the split and measured
    assert search_result_stored().refit_only
    assert set(search_result_stored().measured) == {stored.family, "popularity"}
    refit = training_run_execute(trigger="test")
    assert "evaluate_seconds" not in refit.metrics


def test_nothing_beating_popularity_serves_the_rule_based_recommendations(demo, monkeypatch):
    real = engine.families_compare

    def worse_than_popularity(*args, **kwargs):
        compared = real(*args, **kwargs)
        for family, result in compared.items():
            if family != "popularity":
                result["metrics"]["ndcg"] = compared["popularity"]["metrics"]["ndcg"] - 0.01
        return compared

    monkeypatch.setattr(engine, "families_compare", worse_than_popularity)
    run = training_run_execute(trigger="test")
    assert run.status == TrainingRun.Status.SUCCEEDED
    assert run.kind == TrainingRun.Kind.RULES
    assert run.message.startswith("Rule-based only: the best family")
    assert run.model_artifact is None
    assert not MemberRecommendations.objects.exists()
    # Every learned output falls back: no row, no learned similar courses, no refresh.
    assert precompute.member_recommendations_refresh(member_id=Member.objects.first().pk) is False
    assert set(run.metrics["families"]) >= {"popularity"}


def test_search_schedule_and_admin_request_a_search_retrain(db, admin_client, monkeypatch):
    from django_q.models import Schedule

    from recommendations import admin as recommendations_admin
    from recommendations.apps import SEARCH_SCHEDULE_NAME

    schedule = Schedule.objects.get(name=SEARCH_SCHEDULE_NAME)
    assert schedule.func == "recommendations.tasks.retrain_search"
    queued = []
    monkeypatch.setattr(
        recommendations_admin, "async_task", lambda *args, **kwargs: queued.append((args, kwargs))
    )
    response = admin_client.post(reverse("admin:recommendations_trainingrun_retrain_search"))
    assert response.status_code == 302
    assert queued == [(("recommendations.tasks.retrain", "admin"), {"search": True})]
    page = admin_client.get(reverse("admin:recommendations_trainingrun_changelist"))
    assert b"Retrain with a parameter search" in page.content


def test_the_run_page_shows_every_familys_metrics(demo, admin_client):
    run = training_run_execute(trigger="test")
    page = admin_client.get(reverse("admin:recommendations_trainingrun_change", args=[run.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    for family in run.metrics["search"]["families"]:
        assert f"<td>{family}" in body
    assert f"{run.metrics['family']} (chosen)" in body
