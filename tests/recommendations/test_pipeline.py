import datetime as dt

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Course
from demo.dataset import demo_dataset_build
from demo.seed import demo_dataset_write
from members.models import Enrolment, Member
from members.services import enrolment_start
from recommendations import engine
from recommendations.models import MemberRecommendations, TrainingRun
from recommendations.serving.home_page import home_page_for_member
from recommendations.serving.state import snapshot_forget
from recommendations.training import learned, precompute, runs
from recommendations.training.runs import (
    TrainingRunBusy,
    training_run_activate,
    training_run_execute,
)


def test_learned_run_beats_popularity_and_precomputes_every_member(demo):
    run = training_run_execute(trigger="test")
    assert run.status == TrainingRun.Status.SUCCEEDED
    assert run.kind == TrainingRun.Kind.LEARNED
    assert run.is_active
    assert run.metrics["learned"]["ndcg"] > run.metrics["popularity"]["ndcg"]
    assert run.metrics["learned"]["members_evaluated"] > 200
    # The first retrain searches every family; each one's held-out metrics are on the run.
    assert run.metrics["search"]["ran"] and run.metrics["search"]["why"] == "no earlier search"
    assert set(run.metrics["search"]["families"]) == {"als", "cosine", "bm25", "ease", "popularity"}
    # The search's two best families, measured on the held-out split beside popularity.
    assert len(run.metrics["families"]) == 3 and "popularity" in run.metrics["families"]
    chosen = run.metrics["family"]
    assert run.metrics["families"][chosen]["ndcg"] == max(
        values["ndcg"] for values in run.metrics["families"].values()
    )
    assert run.params["learned"] == {"family": chosen, "params": run.metrics["params"]}
    assert run.params["search"]["family"] == chosen
    # 400 generated members: four shards of 100 ids.
    assert run.precompute_shards == 4
    assert run.precompute_shards_done == 4
    assert run.precomputed_at is not None
    members = Member.objects.count()
    assert MemberRecommendations.objects.filter(run=run).count() == members

    course_ids = set(Course.objects.values_list("pk", flat=True))
    for row in MemberRecommendations.objects.all()[:50]:
        records = engine.candidates_decode(row.payload)
        seen = set(
            Enrolment.objects.filter(member_id=row.member_id).values_list("course_id", flat=True)
        )
        assert set(records["course"].tolist()) <= course_ids
        assert not set(records["course"].tolist()) & seen
        assert set(records["family"].tolist()) <= {
            engine.FAMILY_ALS,
            engine.FAMILY_WATCHED,
            engine.FAMILY_TEXT,
        }


def test_homepage_shows_learned_reasons_after_retrain(demo):
    training_run_execute(trigger="test")
    snapshot_forget()
    member = Member.objects.filter(enrolments__isnull=False).distinct().order_by("pk").first()
    page = home_page_for_member(member=member)
    keys = [carousel.key for carousel in page.carousels]
    assert "als" in keys
    assert any(key.startswith("watched:") for key in keys)


def test_too_little_activity_stays_rule_based_and_says_so(demo, settings):
    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "LEARNED_MIN_INTERACTIONS": 10**9}
    run = training_run_execute(trigger="test")
    assert run.status == TrainingRun.Status.SUCCEEDED
    assert run.kind == TrainingRun.Kind.RULES
    assert run.model_artifact is None
    assert run.message.startswith("Rule-based only:")
    assert "fewer than the 1000000000 needed" in run.message
    assert not MemberRecommendations.objects.exists()


def test_failed_run_leaves_the_previous_one_serving(demo, monkeypatch):
    good = training_run_execute(trigger="test")

    def explode(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(runs, "learned_models_fit", explode)
    bad = training_run_execute(trigger="test")
    assert bad.status == TrainingRun.Status.FAILED
    assert bad.message == "RuntimeError: disk full"
    assert not bad.is_active
    good.refresh_from_db()
    assert good.is_active
    assert MemberRecommendations.objects.filter(run=good).count() == Member.objects.count()


def test_two_retrains_never_run_at_once(demo):
    TrainingRun.objects.create(started_at=timezone.now(), status=TrainingRun.Status.RUNNING)
    with pytest.raises(TrainingRunBusy):
        training_run_execute(trigger="test")
    assert TrainingRun.objects.count() == 1


def test_a_run_abandoned_by_a_killed_worker_does_not_block_retraining(demo, settings):
    stale = TrainingRun.objects.create(
        started_at=timezone.now()
        - dt.timedelta(seconds=settings.RECOMMENDATIONS["RUN_STALE_SECONDS"] + 1),
        status=TrainingRun.Status.RUNNING,
    )
    run = training_run_execute(trigger="test")
    stale.refresh_from_db()
    assert stale.status == TrainingRun.Status.FAILED
    assert stale.message.startswith("Abandoned:")
    assert run.status == TrainingRun.Status.SUCCEEDED and run.is_active


def test_rollback_activates_an_older_run_and_recomputes_rows(demo):
    first = training_run_execute(trigger="test")
    second = training_run_execute(trigger="test")
    assert MemberRecommendations.objects.filter(run=second).count() == Member.objects.count()
    training_run_activate(run=first, inline=True)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_active and not second.is_active
    assert MemberRecommendations.objects.filter(run=first).count() == Member.objects.count()
    with pytest.raises(ValueError):
        training_run_activate(
            run=TrainingRun.objects.create(
                started_at=timezone.now(), status=TrainingRun.Status.FAILED
            )
        )


def test_rows_computed_from_the_retrain_activity_equal_rows_read_back(demo):
    run = training_run_execute(trigger="test")
    models = precompute.learned_models_for_run(run.pk)
    member_ids = np.sort(np.array(Member.objects.values_list("pk", flat=True), dtype=np.int64))
    in_memory = precompute.InMemoryActivity(
        member_ids=member_ids,
        interactions=learned.interactions_extract(
            member_ids=member_ids, course_ids=models.course_ids
        ),
    )
    shard = member_ids[:150]
    from_memory = precompute._candidate_rows(models, shard, interactions=in_memory.rows_of(shard))
    read_back = precompute._candidate_rows(models, shard)
    assert from_memory == read_back
    # A member the retrain never read (joined since) is not covered: the shard reads instead.
    assert in_memory.rows_of(np.array([member_ids.max() + 1])) is None


def test_inline_precompute_after_retrain_writes_every_row_from_a_second_thread(
    transactional_db, settings
):
    """Outside a transaction the retrain's own precompute stores shards from a writer thread."""
    settings.RECOMMENDATIONS = {
        **settings.RECOMMENDATIONS,
        "SEARCH_TRIALS_PER_FAMILY": 1,
        "PRECOMPUTE_SHARD_MEMBERS": 100,
    }
    demo_dataset_write(
        dataset=demo_dataset_build(members=400, courses=100, interactions=10000, seed=3)
    )
    run = training_run_execute(trigger="test")
    assert run.kind == TrainingRun.Kind.LEARNED, run.message
    assert run.precompute_shards == run.precompute_shards_done == 4
    assert run.precomputed_at is not None
    assert MemberRecommendations.objects.filter(run=run).count() == Member.objects.count()


def test_member_activity_refreshes_their_row_without_retraining(
    demo, django_capture_on_commit_callbacks
):
    run = training_run_execute(trigger="test")
    member = Member.objects.filter(enrolments__isnull=False).distinct().order_by("pk").first()
    before = MemberRecommendations.objects.get(member=member)
    candidate = int(engine.candidates_decode(before.payload)["course"][0])
    course = Course.objects.get(pk=candidate)
    with django_capture_on_commit_callbacks(execute=True):
        enrolment_start(member=member, course=course)
    after = MemberRecommendations.objects.get(member=member)
    assert after.computed_at > before.computed_at
    assert after.run_id == run.pk
    assert candidate not in engine.candidates_decode(after.payload)["course"].tolist()


def test_interaction_weights_order_enrol_watch_finish_and_drop_dismissals(db):
    from recommendations.models import Dismissal
    from tests.factories import CourseFactory, MemberFactory

    member = MemberFactory()
    now = timezone.now()
    enrolled, half, finished, dismissed = (CourseFactory() for _ in range(4))
    Enrolment.objects.create(member=member, course=enrolled, enrolled_at=now)
    Enrolment.objects.create(member=member, course=half, enrolled_at=now, progress_percent=50)
    Enrolment.objects.create(
        member=member, course=finished, enrolled_at=now, progress_percent=100, completed_at=now
    )
    Enrolment.objects.create(member=member, course=dismissed, enrolled_at=now)
    Dismissal.objects.create(member=member, course=dismissed)
    course_ids = np.array(sorted([enrolled.pk, half.pk, finished.pk, dismissed.pk]))
    data = learned.interactions_extract(member_ids=np.array([member.pk]), course_ids=course_ids)
    row = dict(
        zip(course_ids[data.matrix.indices].tolist(), data.matrix.data.tolist(), strict=True)
    )
    assert row == {enrolled.pk: 1.0, half.pk: 2.5, finished.pk: 9.0}


def test_evaluate_command_prints_metrics_for_both_models(demo, capsys, tmp_path):
    import json

    from django.core.management.base import CommandError

    run = training_run_execute(trigger="test")
    call_command("evaluate")
    report = json.loads(capsys.readouterr().out)
    # The run's own held-out measurement (the served model has seen those interactions since).
    assert report["family"] == run.metrics["family"]
    assert report["learned"] == run.metrics["learned"]
    assert report["popularity"] == run.metrics["popularity"]
    # People to learn with, measured on the held-out split beside the rule-based fallback.
    people = report["people"]
    assert people["members_evaluated"] > 0 and people["k"] == 10
    assert set(people["hit_rate"]) == {"learned", "rules", "random"}
    assert all(0.0 <= rate <= 1.0 for rate in people["hit_rate"].values())
    with pytest.raises(CommandError, match="pass --test FILE"):
        call_command("evaluate", "--k", "5")

    member = Member.objects.order_by("pk").first()
    unseen = Course.objects.exclude(enrolments__member=member).order_by("pk")[:2]
    test_file = tmp_path / "test.csv"
    test_file.write_text(
        "member_id,course_id\n"
        + "".join(f"{member.pk},{course.pk}\n" for course in unseen)
        + "999999,1\n"
    )
    call_command("evaluate", "--test", str(test_file), "--k", "5")
    report = json.loads(capsys.readouterr().out)
    assert report["k"] == 5
    assert set(report["learned"]) == {
        "hit_rate",
        "precision",
        "recall",
        "ndcg",
        "map",
        "catalog_coverage",
        "k",
        "members_evaluated",
    }
    assert report["learned"]["k"] == 5
    call_command("evaluate", "--test", str(test_file))
    external = json.loads(capsys.readouterr().out)
    assert external["test"] == str(test_file)
    assert external["learned"]["members_evaluated"] == 1
    assert external["test_rows_unknown_ids"] == 1


def test_evaluate_without_a_learned_run_is_refused(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No learned run is active"):
        call_command("evaluate")


def test_course_page_shows_similar_courses_from_the_learned_run(demo, client):
    from django.urls import reverse

    from recommendations.serving.similar import courses_similar

    run = training_run_execute(trigger="test")
    snapshot_forget()
    models = learned.learned_models_loads(
        bytes(TrainingRun.objects.values_list("model_artifact", flat=True).get(pk=run.pk))
    )
    course_id = int(models.course_ids[np.argmax(np.diff(models.item_similarity.indptr))])
    course = Course.objects.get(pk=course_id)
    similar = courses_similar(course=course, limit=6)
    row = models.item_similarity[[int(np.searchsorted(models.course_ids, course_id))], :]
    best = models.course_ids[row.indices[np.argsort(-row.data, kind="stable")]][:6].tolist()
    # A course with activity: its neighbours are the ALS item-item ones, best first.
    assert [item.course.pk for item in similar] == best
    response = client.get(reverse("web:course_detail", args=[course.slug]))
    assert [c.pk for c in response.context["similar"]] == best
    assert b"Similar courses" in response.content


def test_retrain_schedule_exists_once_after_migrate_and_survives_edits(db, settings):
    from django_q.models import Schedule

    from recommendations.apps import RETRAIN_SCHEDULE_NAME, retrain_schedule_ensure

    schedule = Schedule.objects.get(name=RETRAIN_SCHEDULE_NAME)
    assert schedule.func == "recommendations.tasks.retrain"
    assert schedule.minutes == settings.RECOMMENDATIONS["RETRAIN_EVERY_MINUTES"]
    Schedule.objects.filter(pk=schedule.pk).update(minutes=5)
    retrain_schedule_ensure()
    assert list(Schedule.objects.filter(name=RETRAIN_SCHEDULE_NAME).values_list("minutes")) == [
        (5,)
    ]


def test_member_ranges_lost_with_a_killed_worker_are_queued_again(
    demo, settings, django_capture_on_commit_callbacks
):
    from django.db.models import F as Field

    from recommendations.training.precompute import precompute_resume

    # Queued precompute shards never run inside a test transaction (they wait for a commit):
    # exactly what a worker killed after taking them from the queue leaves behind.
    run = training_run_execute(trigger="test", precompute_inline=False)
    assert run.precompute_shards == 4
    assert not MemberRecommendations.objects.filter(run=run).exists()

    # Too early: the shards may still be on their way.
    assert precompute_resume() == 0

    stall = settings.RECOMMENDATIONS["PRECOMPUTE_STALL_SECONDS"]
    TrainingRun.objects.filter(pk=run.pk).update(
        precompute_started_at=Field("precompute_started_at") - dt.timedelta(seconds=stall + 1)
    )
    # The ranges are queued after commit, and tasks run inline in the test settings.
    with django_capture_on_commit_callbacks(execute=True):
        assert precompute_resume() == 4
    run.refresh_from_db()
    assert MemberRecommendations.objects.filter(run=run).count() == Member.objects.count()
    assert run.precomputed_at is not None
    assert precompute_resume() == 0
