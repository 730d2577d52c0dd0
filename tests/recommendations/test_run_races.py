"""Runs that race: a delayed shard of an older run, a rollback during a retrain, and a retrain
that finishes after a rollback."""

import logging

import numpy as np
import pytest
from django.utils import timezone

from members.models import Member
from recommendations import engine
from recommendations.models import MemberRecommendations, TrainingRun
from recommendations.training import precompute, runs
from recommendations.training.precompute import shard_rows_store
from recommendations.training.runs import training_run_activate, training_run_execute
from tests.helpers import new_analyst

pytestmark = pytest.mark.django_db


def _payload(course_id: int) -> bytes:
    return engine.candidates_encode(
        np.array([(course_id, -1, 1.0, engine.FAMILY_ALS)], dtype=engine.CANDIDATE)
    )


def test_a_shard_of_a_run_no_longer_active_writes_nothing(world, caplog):
    older = training_run_execute(trigger="test")
    newer = training_run_execute(trigger="test")
    assert newer.is_active and not TrainingRun.objects.get(pk=older.pk).is_active
    member = new_analyst(world, "SQL")
    course = world["courses"]["Learning Python"]
    MemberRecommendations.objects.create(
        member=member, run=newer, computed_at=timezone.now(), payload=_payload(course.pk)
    )

    with caplog.at_level(logging.INFO, logger="recommendations.training.precompute"):
        shard_rows_store(run_id=older.pk, rows=[(member.pk, b"stale")], now=timezone.now())

    row = MemberRecommendations.objects.get(member=member)
    assert (row.run_id, bytes(row.payload)) == (newer.pk, _payload(course.pk))
    assert f"run {older.pk} not stored: the run is no longer active" in caplog.text
    older.refresh_from_db()
    assert older.precompute_shards_done == 0


def test_a_shard_of_the_active_run_writes_its_rows(world):
    run = training_run_execute(trigger="test")
    member = new_analyst(world, "SQL")
    course = world["courses"]["Learning Python"]
    shard_rows_store(run_id=run.pk, rows=[(member.pk, _payload(course.pk))], now=timezone.now())
    row = MemberRecommendations.objects.get(member=member)
    assert (row.run_id, bytes(row.payload)) == (run.pk, _payload(course.pk))


def test_a_rollback_is_refused_while_a_retrain_runs(world):
    older = training_run_execute(trigger="test")
    newer = training_run_execute(trigger="test")
    TrainingRun.objects.create(
        status=TrainingRun.Status.RUNNING, started_at=timezone.now(), trigger="test"
    )
    with pytest.raises(ValueError, match="A retrain is running"):
        training_run_activate(run=older)
    assert TrainingRun.objects.get(is_active=True).pk == newer.pk


def test_a_rollback_is_allowed_past_a_retrain_whose_worker_died(world, settings):
    older = training_run_execute(trigger="test")
    training_run_execute(trigger="test")
    stale = settings.RECOMMENDATIONS["RUN_STALE_SECONDS"]
    TrainingRun.objects.create(
        status=TrainingRun.Status.RUNNING,
        started_at=timezone.now() - timezone.timedelta(seconds=stale + 1),
        trigger="test",
    )
    training_run_activate(run=older)
    assert TrainingRun.objects.get(is_active=True).pk == older.pk


def test_a_retrain_that_finishes_after_a_rollback_leaves_the_rollback_serving(world, monkeypatch):
    older = training_run_execute(trigger="test")
    training_run_execute(trigger="test")
    checks = runs.rules_snapshot_problems

    def rollback_meanwhile(snapshot):
        # An admin activates the older run while this retrain is building its snapshot.
        TrainingRun.objects.filter(is_active=True).update(is_active=False)
        TrainingRun.objects.filter(pk=older.pk).update(is_active=True)
        return checks(snapshot)

    monkeypatch.setattr(runs, "rules_snapshot_problems", rollback_meanwhile)
    run = training_run_execute(trigger="test")

    assert run.status == TrainingRun.Status.SUCCEEDED
    assert not TrainingRun.objects.get(pk=run.pk).is_active
    assert TrainingRun.objects.get(is_active=True).pk == older.pk
    assert f"Not activated: run {older.pk} was activated while this run trained" in run.message


def test_a_member_refresh_whose_run_is_replaced_meanwhile_uses_the_new_run(demo, monkeypatch):
    older = training_run_execute(trigger="test")
    newer = training_run_execute(trigger="test")
    member = Member.objects.filter(enrolments__isnull=False).order_by("pk").first()
    loaded = []
    real_models = precompute.learned_models_for_run

    def models_then_rollback(run_id):
        loaded.append(run_id)
        if len(loaded) == 1:  # an admin rolls back while this refresh computes
            TrainingRun.objects.filter(pk=newer.pk).update(is_active=False)
            TrainingRun.objects.filter(pk=older.pk).update(is_active=True)
        return real_models(run_id)

    monkeypatch.setattr(precompute, "learned_models_for_run", models_then_rollback)
    assert precompute.member_recommendations_refresh(member_id=member.pk) is True
    assert loaded == [newer.pk, older.pk]
    assert MemberRecommendations.objects.get(member=member).run_id == older.pk


def test_a_member_refresh_of_the_active_run_writes_its_row(demo):
    run = training_run_execute(trigger="test")
    member = Member.objects.filter(enrolments__isnull=False).order_by("pk").first()
    MemberRecommendations.objects.filter(member=member).delete()
    assert precompute.member_recommendations_refresh(member_id=member.pk) is True
    assert MemberRecommendations.objects.get(member=member).run_id == run.pk


def test_a_member_refresh_uses_only_an_active_run_with_a_model(demo):
    """The refresh reads the active run itself (a prepared statement): a run that is not
    active, or one active without a model, leaves the row alone and answers False."""
    run = training_run_execute(trigger="test")
    member = Member.objects.filter(enrolments__isnull=False).order_by("pk").first()
    TrainingRun.objects.filter(pk=run.pk).update(is_active=False)
    assert precompute.member_recommendations_refresh(member_id=member.pk) is False
    TrainingRun.objects.filter(pk=run.pk).update(is_active=True, model_artifact=None)
    assert precompute.member_recommendations_refresh(member_id=member.pk) is False
    assert precompute.run_active_locked(run.pk) is True
    assert precompute.run_active_locked(run.pk + 1000) is False
