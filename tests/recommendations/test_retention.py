"""Retention: training runs' artifacts, raw impressions and login records are kept no longer
than their settings, by the daily `data_retention` task."""

import datetime as dt
import uuid

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.utils import timezone

from members.services import login_records_prune
from recommendations.apps import RETENTION_SCHEDULE_NAME
from recommendations.data import ShownCourse
from recommendations.feedback.services import impressions_log, impressions_prune
from recommendations.models import (
    CourseFeedbackDay,
    DigestSend,
    FeedbackEvent,
    PageView,
    TrainingRun,
)
from recommendations.tasks import data_retention
from recommendations.training.retention import (
    training_runs_member_deleted,
    training_runs_prune,
)
from recommendations.training.rules import rules_snapshot_build, rules_snapshot_dumps
from recommendations.training.runs import training_run_activate
from tests.factories import CourseFactory, MemberFactory
from tests.helpers import experiment_create

NOW = timezone.now()


def _run(days_ago: float, *, status=TrainingRun.Status.SUCCEEDED, active=False) -> TrainingRun:
    started = NOW - dt.timedelta(days=days_ago)
    return TrainingRun.objects.create(
        status=status,
        is_active=active,
        started_at=started,
        finished_at=None if status == TrainingRun.Status.RUNNING else started,
        artifact=b"snapshot",
        model_artifact=b"models",
        ranker_artifact=b"ranker",
    )


def _with_artifacts() -> list[int]:
    return sorted(TrainingRun.objects.filter(artifact__isnull=False).values_list("pk", flat=True))


# Training runs


def test_runs_beyond_the_newest_n_are_pruned_and_the_active_one_is_kept(db, settings):
    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "TRAINING_RUNS_KEPT": 2}
    active = _run(10, active=True)  # rolled back to: older than the newest two
    oldest = _run(12)
    failed = _run(6, status=TrainingRun.Status.FAILED)
    newer, newest = _run(3), _run(1)

    assert training_runs_prune() == 2

    assert _with_artifacts() == sorted([active.pk, newer.pk, newest.pk])
    oldest.refresh_from_db()
    assert (oldest.artifact, oldest.model_artifact, oldest.ranker_artifact) == (None, None, None)
    # The pruned runs keep their rows (metrics, messages), and cannot be activated again.
    assert TrainingRun.objects.filter(pk__in=[oldest.pk, failed.pk]).count() == 2
    with pytest.raises(ValueError):
        training_run_activate(run=oldest)


def test_the_default_keeps_five_runs(db):
    runs = [_run(days) for days in range(8, 0, -1)]
    training_runs_prune()
    assert _with_artifacts() == sorted(run.pk for run in runs[-5:])


def test_a_running_run_is_never_pruned(db):
    running = _run(0, status=TrainingRun.Status.RUNNING)
    _run(1)
    training_runs_prune(keep=1)
    assert running.pk in _with_artifacts()


def test_keep_must_be_at_least_one(db):
    with pytest.raises(ValueError):
        training_runs_prune(keep=0)


def test_a_deleted_members_runs_are_pruned_or_marked(db):
    before_member = _run(20)
    member_created = NOW - dt.timedelta(days=10)
    held = _run(5)
    serving = _run(2, active=True)
    running = _run(0, status=TrainingRun.Status.RUNNING)

    assert training_runs_member_deleted(member_created_at=member_created) == 1

    # A run finished before the member existed cannot hold them.
    assert _with_artifacts() == sorted([before_member.pk, serving.pk, running.pk])
    marked = set(
        TrainingRun.objects.filter(holds_deleted_members=True).values_list("pk", flat=True)
    )
    assert marked == {serving.pk, running.pk}
    assert held.pk not in marked


def test_a_marked_run_is_pruned_once_another_takes_over(db):
    serving = _run(2, active=True)
    training_runs_member_deleted(member_created_at=NOW - dt.timedelta(days=30))
    previous = _run(3)
    # Activation writes every course's similar courses from the run's snapshot: a real one.
    CourseFactory()
    TrainingRun.objects.filter(pk=previous.pk).update(
        artifact=rules_snapshot_dumps(rules_snapshot_build())
    )
    # `previous` was made after the deletion: it holds no deleted member and is not marked.
    training_run_activate(run=previous, inline=True)
    serving.refresh_from_db()
    assert (serving.artifact, serving.model_artifact, serving.holds_deleted_members) == (
        None,
        None,
        False,
    )
    assert previous.pk in _with_artifacts()


# Impressions


def _event(member, course, kind, days_ago, variant=None):
    return FeedbackEvent.objects.create(
        member=member,
        course=course,
        kind=kind,
        variant=variant,
        created_at=NOW - dt.timedelta(days=days_ago),
    )


def _page_view(member, course, days_ago: int, variant=None):
    page_view_id = uuid.uuid4()
    impressions_log(
        member=member,
        page_view_id=page_view_id,
        shown=[ShownCourse(course.pk, "new", "new", "rules", 0, 0, variant and variant.pk)],
        now=NOW - dt.timedelta(days=days_ago),
    )
    return page_view_id


def test_old_impressions_are_deleted_and_their_counts_stay(db, settings):
    settings.RECOMMENDATIONS = {
        **settings.RECOMMENDATIONS,
        "IMPRESSIONS_KEPT_DAYS": 90,
        "RANKER_WINDOW_DAYS": 60,
    }
    member, course = MemberFactory(), CourseFactory()
    old = _event(member, course, FeedbackEvent.Kind.IMPRESSION, 91)
    CourseFeedbackDay.objects.create(
        member=member, course=course, day=old.created_at.date(), impressions=1
    )
    recent = _event(member, course, FeedbackEvent.Kind.IMPRESSION, 89)
    old_click = _event(member, course, FeedbackEvent.Kind.CLICK, 91)
    ended = experiment_create(
        ("a", "default", 1),
        key="ended",
        starts=NOW - dt.timedelta(days=200),
        ends=NOW - dt.timedelta(days=100),
    )
    running = experiment_create(
        ("a", "default", 1), key="running", starts=NOW - dt.timedelta(days=200)
    )
    of_ended = _event(member, course, FeedbackEvent.Kind.IMPRESSION, 120, ended.variants.get())
    of_running = _event(member, course, FeedbackEvent.Kind.IMPRESSION, 120, running.variants.get())

    pages = {
        (days_ago, variant): _page_view(member, course, days_ago, variant)
        for days_ago, variant in (
            (91, None),
            (89, None),
            (120, ended.variants.get()),
            (120, running.variants.get()),
        )
    }

    assert impressions_prune(now=NOW) == 4

    kept = set(FeedbackEvent.objects.values_list("pk", flat=True))
    assert kept == {recent.pk, old_click.pk, of_running.pk}
    assert old.pk not in kept and of_ended.pk not in kept
    assert set(PageView.objects.values_list("pk", flat=True)) == {
        pages[(89, None)],
        pages[(120, running.variants.get())],
    }
    # The per-day counts the homepage reads hold the deleted impressions still (the reported
    # one counted by hand above, the old page view's card by its writer).
    assert CourseFeedbackDay.objects.get(member=member, day=old.created_at.date()).impressions == 2


def test_impressions_are_kept_at_least_the_rankers_window(db, settings):
    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "RANKER_WINDOW_DAYS": 60}
    with pytest.raises(ValueError):
        impressions_prune(kept_days=30)


# Login records


def _login_record(model, days_ago: float, *, address: str = "10.0.0.1", **extra):
    record = model.objects.create(
        username="someone",
        ip_address=address,
        user_agent="test",
        http_accept="*/*",
        path_info="/accounts/login/",
        **extra,
    )
    # attempt_time is auto_now_add: set afterwards.
    model.objects.filter(pk=record.pk).update(attempt_time=NOW - dt.timedelta(days=days_ago))
    return record


def test_login_records_older_than_the_setting_are_deleted(db, settings):
    settings.LOGIN_RECORDS_KEPT_DAYS = 30
    attempt = {"get_data": "", "post_data": "", "failures_since_start": 1}
    old = [
        _login_record(AccessLog, 31),
        _login_record(AccessFailureLog, 31),
        _login_record(AccessAttempt, 31, **attempt),
    ]
    recent = [
        _login_record(AccessLog, 29),
        _login_record(AccessFailureLog, 29),
        _login_record(AccessAttempt, 29, address="10.0.0.2", **attempt),
    ]
    assert login_records_prune(now=NOW) == 3
    for record in old:
        assert not type(record).objects.filter(pk=record.pk).exists()
    for record in recent:
        assert type(record).objects.filter(pk=record.pk).exists()


def test_login_records_default_to_ninety_days(db):
    _login_record(AccessLog, 91)
    kept = _login_record(AccessLog, 89)
    assert login_records_prune(now=NOW) == 1
    assert list(AccessLog.objects.values_list("pk", flat=True)) == [kept.pk]


# The task and its schedule


def test_the_daily_task_prunes_all_four(db, settings):
    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "TRAINING_RUNS_KEPT": 1}
    _run(2)
    _run(1)
    member, course = MemberFactory(), CourseFactory()
    _event(member, course, FeedbackEvent.Kind.IMPRESSION, 400)
    _login_record(AccessLog, 400)
    DigestSend.objects.create(
        member=member,
        week=dt.date(2000, 1, 3),
        claimed_at=NOW,
        claimed_by=uuid.uuid4(),
    )
    assert data_retention() == {
        "training_runs": 1,
        "impressions": 1,
        "login_records": 1,
        "digests": 1,
    }


def test_the_retention_schedule_exists_once_after_migrate(db):
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name=RETENTION_SCHEDULE_NAME)
    assert schedule.func == "recommendations.tasks.data_retention"
    assert schedule.minutes == 24 * 60
