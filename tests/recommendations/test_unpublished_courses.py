"""An unpublished course is never served: not in a carousel, not in the API's answer, whether it
was unpublished before the snapshot was built or after."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Course
from recommendations.serving.home_page import home_page_for_member, home_page_for_visitor
from recommendations.serving.state import snapshot_forget
from recommendations.training.runs import training_run_execute
from tests.helpers import new_analyst, token_client

pytestmark = pytest.mark.django_db

TITLE = "SQL Window Functions"


def _shown(page) -> set[str]:
    return {card.course.title for carousel in page.carousels for card in carousel.cards}


def _unpublish(title: str) -> None:
    Course.objects.filter(title=title).update(published_at=timezone.now() + dt.timedelta(days=3))


def test_the_course_is_served_while_published(world):
    training_run_execute(trigger="test")
    snapshot_forget()
    assert TITLE in _shown(home_page_for_member(member=new_analyst(world, "SQL")))


def test_a_course_unpublished_before_the_retrain_is_never_served(world, client):
    _unpublish(TITLE)
    training_run_execute(trigger="test")
    snapshot_forget()
    member = new_analyst(world, "SQL")
    assert TITLE not in _shown(home_page_for_member(member=member))
    assert TITLE not in _shown(home_page_for_visitor())
    client.force_login(member.user)
    assert TITLE not in client.get(reverse("home")).content.decode()
    assert TITLE not in token_client(member.user).get("/api/v1/recommendations/").content.decode()


def test_a_course_unpublished_after_the_retrain_is_never_served(world, client):
    training_run_execute(trigger="test")
    snapshot_forget()
    member = new_analyst(world, "SQL")
    _unpublish(TITLE)
    assert TITLE not in _shown(home_page_for_member(member=member))
    assert TITLE not in _shown(home_page_for_visitor())
    client.force_login(member.user)
    assert TITLE not in client.get(reverse("home")).content.decode()
    assert TITLE not in token_client(member.user).get("/api/v1/recommendations/").content.decode()
