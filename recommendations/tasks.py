"""django-q2 task entry points: thin wrappers that take ids and are safe to run twice."""

import functools
import logging

from members.selectors import member_with_user
from members.services import login_records_prune
from recommendations.digest.sending import digests_send
from recommendations.digest.services import digests_prune
from recommendations.feedback.services import impressions_prune
from recommendations.refresh_queue import member_refresh_run
from recommendations.serving.home_page import home_page_compose_next
from recommendations.serving.similar import similar_rows_add_missing
from recommendations.training.precompute import member_recommendations_refresh, precompute_resume
from recommendations.training.precompute import precompute_shard as shard_compute
from recommendations.training.retention import training_runs_prune
from recommendations.training.runs import TrainingRunBusy, training_run_execute

logger = logging.getLogger(__name__)


def retrain(trigger: str = "schedule", search: bool = False) -> int | None:
    """Train, evaluate and (if it passes) activate a new run, then queue its precompute shards.
    With `search`, the run searches every family's parameters first (see training.learned).

    Returns the run id, or None when another retrain holds the slot.
    """
    try:
        return training_run_execute(trigger=trigger, precompute_inline=False, search=search).pk
    except TrainingRunBusy:
        logger.info("retrain skipped: another one is running")
        return None


def retrain_search(trigger: str = "schedule") -> int | None:
    """Scheduled (every SEARCH_EVERY_DAYS): a retrain with a parameter search."""
    return retrain(trigger, search=True)


def precompute_shard(run_id: int, first_member_id: int, last_member_id: int) -> int:
    return shard_compute(
        run_id=run_id, first_member_id=first_member_id, last_member_id=last_member_id
    )


def member_refresh(member_id: int) -> bool:
    refreshed = member_refresh_run(
        member_id=member_id,
        refresh=functools.partial(member_recommendations_refresh, member_id=member_id),
    )
    if refreshed:
        # The new row changes the member's next homepage: compose it again if they are
        # browsing (see serving/stored_pages.py). The row stands whatever happens here.
        try:
            member = member_with_user(member_id=member_id)
            if member is not None:
                home_page_compose_next(member=member, only_if_stored=True)
        except Exception:
            logger.exception("the next homepage of member %s was not composed", member_id)
    return refreshed


def precompute_resume_missing() -> int:
    """Scheduled: re-queue member ranges a killed worker lost (see
    `training.precompute.precompute_resume`), and write the similar courses of courses that
    still have none (a lost `similar_rows_missing`)."""
    similar_rows_add_missing()
    return precompute_resume()


def similar_rows_missing() -> int:
    """After courses were created: their similar courses by text (`serving/similar.py`)."""
    return similar_rows_add_missing()


def data_retention() -> dict[str, int]:
    """Scheduled daily: prune what is kept no longer than its setting (docs/operations.md):
    training runs' artifacts beyond `TRAINING_RUNS_KEPT`, impression events older than
    `IMPRESSIONS_KEPT_DAYS`, login records older than `LOGIN_RECORDS_KEPT_DAYS` and digests
    older than `DIGEST["KEPT_WEEKS"]`."""
    pruned = {
        "training_runs": training_runs_prune(),
        "impressions": impressions_prune(),
        "login_records": login_records_prune(),
        "digests": digests_prune(),
    }
    logger.info("data retention: %s", pruned)
    return pruned


def people_refresh(member_id: int) -> int:
    """A member switched discoverability on: their people at once, rule-based (the next
    retrain adds learned ones and shows them to others)."""
    from recommendations.people.training import people_member_refresh
    from recommendations.serving.state import snapshot_active

    snapshot = snapshot_active()
    return people_member_refresh(
        member_id=member_id,
        skill_ids=snapshot.skill_ids,
        course_ids=snapshot.course_ids,
        idf=snapshot.idf,
    )


def digests_send_due() -> int:
    """Scheduled daily: this week's recommendations email to the subscribed members whose send
    day has come (`digest.sending`); once per member and week, so a second run that day sends
    nothing. Returns the emails sent."""
    return digests_send(due_only=True).sent
