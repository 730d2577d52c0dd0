"""A rules-only active run serves no learned rows, whatever rows an earlier learned run left."""

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from recommendations import engine
from recommendations.models import MemberRecommendations, TrainingRun
from recommendations.serving.home_page import home_page_for_member
from recommendations.serving.state import snapshot_forget
from recommendations.training.runs import training_run_execute
from tests.helpers import new_analyst, token_client

pytestmark = pytest.mark.django_db

ALS_LABEL = "Learners like you also took"


def _learned_row(member, courses, run) -> None:
    """A row as a learned run writes it: personal picks, under the ALS family."""
    MemberRecommendations.objects.update_or_create(
        member=member,
        defaults={
            "run": run,
            "computed_at": timezone.now(),
            "payload": engine.candidates_encode(
                np.array(
                    [
                        (course.pk, -1, 1.0 - i / 10, engine.FAMILY_ALS)
                        for i, course in enumerate(courses)
                    ],
                    dtype=engine.CANDIDATE,
                )
            ),
        },
    )


@pytest.fixture
def active_run(world):
    run = training_run_execute(trigger="test")
    assert run.is_active
    snapshot_forget()
    return run


def _design_courses(world) -> list:
    """Courses an SQL analyst's skills do not reach: only a learned row puts them on the page."""
    return [course for title, course in world["courses"].items() if "SQL" not in title][:6]


def _labels(member) -> list[str]:
    return [carousel.label for carousel in home_page_for_member(member=member).carousels]


def test_a_learned_run_serves_the_rows_personal_picks(world, active_run):
    TrainingRun.objects.filter(pk=active_run.pk).update(kind=TrainingRun.Kind.LEARNED)
    snapshot_forget()
    member = new_analyst(world, "SQL")
    _learned_row(member, _design_courses(world), active_run)
    assert ALS_LABEL in _labels(member)


def test_a_rules_only_run_serves_no_learned_row(world, active_run, client):
    assert active_run.kind == TrainingRun.Kind.RULES
    member = new_analyst(world, "SQL")
    earlier = TrainingRun.objects.create(
        status=TrainingRun.Status.SUCCEEDED,
        kind=TrainingRun.Kind.LEARNED,
        started_at=timezone.now(),
    )
    _learned_row(member, _design_courses(world), earlier)

    assert ALS_LABEL not in _labels(member)
    client.force_login(member.user)
    assert ALS_LABEL not in client.get(reverse("home")).content.decode()
    api = token_client(member.user).get("/api/v1/recommendations/")
    assert api.status_code == 200
    assert ALS_LABEL not in api.content.decode()
