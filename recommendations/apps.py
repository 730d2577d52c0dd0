from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_migrate

RETRAIN_SCHEDULE_NAME = "recommendations.retrain"
PRECOMPUTE_RESUME_SCHEDULE_NAME = "recommendations.precompute_resume"
SEARCH_SCHEDULE_NAME = "recommendations.retrain_search"
RETENTION_SCHEDULE_NAME = "recommendations.data_retention"
DIGEST_SCHEDULE_NAME = "recommendations.digests_send_due"


def retrain_schedule_ensure(*, using: str = DEFAULT_DB_ALIAS, **_: object) -> None:
    from django.conf import settings

    from core.schedules import schedule_ensure

    schedule_ensure(
        name=RETRAIN_SCHEDULE_NAME,
        func="recommendations.tasks.retrain",
        minutes=settings.RECOMMENDATIONS["RETRAIN_EVERY_MINUTES"],
        using=using,
    )
    schedule_ensure(
        name=SEARCH_SCHEDULE_NAME,
        func="recommendations.tasks.retrain_search",
        minutes=settings.RECOMMENDATIONS["SEARCH_EVERY_DAYS"] * 24 * 60,
        using=using,
    )
    schedule_ensure(
        name=RETENTION_SCHEDULE_NAME,
        func="recommendations.tasks.data_retention",
        minutes=24 * 60,
        using=using,
    )
    # Daily: each run serves the members whose send day it is (weekly per member).
    schedule_ensure(
        name=DIGEST_SCHEDULE_NAME,
        func="recommendations.tasks.digests_send_due",
        minutes=24 * 60,
        using=using,
    )
    schedule_ensure(
        name=PRECOMPUTE_RESUME_SCHEDULE_NAME,
        func="recommendations.tasks.precompute_resume_missing",
        minutes=10,
        using=using,
    )


def member_refresh_enqueue(*, member_id: int, **_: object) -> None:
    """Recompute the member's learned row in the background (a fold-in, not a retrain), one
    pending refresh per member; never raises (see refresh_queue.py)."""
    from recommendations.refresh_queue import member_refresh_request

    member_refresh_request(member_id=member_id)


def people_member_hidden(*, member_id: int, **_: object) -> None:
    """A member switched discoverability off: out of every stored suggestion at once."""
    from recommendations.people.training import people_rows_purge

    people_rows_purge(member_id=member_id)


def people_member_shown(*, member_id: int, **_: object) -> None:
    """A member switched discoverability on: their people are computed in the background."""
    from core.tasks import task_queue

    task_queue(
        func="recommendations.tasks.people_refresh",
        args=(member_id,),
        repair="the next retrain computes their people",
    )


def experiments_changed(**_: object) -> None:
    """An experiment was saved or deleted: this process re-reads experiments at once (others
    within SNAPSHOT_CHECK_SECONDS)."""
    from recommendations.serving.state import experiments_forget

    experiments_forget()


def course_saved(*, created: bool, raw: bool = False, **_: object) -> None:
    """A course was created (the admin, a catalog import): once the write commits, its similar
    courses are worked out by text and stored (`serving/similar.py`), one task for a whole
    import."""
    if created and not raw:
        from django.db import transaction

        from recommendations.serving.similar import similar_rows_missing_request

        transaction.on_commit(similar_rows_missing_request, robust=True)


class RecommendationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "recommendations"

    def ready(self) -> None:
        from django.core.signals import request_finished
        from django.db.models.signals import post_delete, post_save

        from catalog.models import Course
        from members.signals import (
            member_activity_changed,
            member_hidden_from_people,
            member_shown_to_people,
        )
        from recommendations.models import Experiment, ExperimentVariant
        from recommendations.serving.pending import page_views_pending_release

        post_migrate.connect(
            retrain_schedule_ensure, sender=self, dispatch_uid="recommendations.retrain_schedule"
        )
        member_activity_changed.connect(
            member_refresh_enqueue, dispatch_uid="recommendations.member_refresh"
        )
        member_hidden_from_people.connect(
            people_member_hidden, dispatch_uid="recommendations.people_member_hidden"
        )
        member_shown_to_people.connect(
            people_member_shown, dispatch_uid="recommendations.people_member_shown"
        )
        request_finished.connect(
            page_views_pending_release, dispatch_uid="recommendations.page_views_pending"
        )
        post_save.connect(
            course_saved, sender=Course, dispatch_uid="recommendations.similar_rows_missing"
        )
        for model in (Experiment, ExperimentVariant):
            for name, signal in (("save", post_save), ("delete", post_delete)):
                signal.connect(
                    experiments_changed,
                    sender=model,
                    dispatch_uid=f"recommendations.experiments_changed.{model.__name__}.{name}",
                )
