"""An unreadable precomputed row or stored page is logged, deleted and the page served without
it (recommendations/serving/repairs.py), on SQLite and on PostgreSQL."""

import datetime as dt
import logging

import numpy as np
import pytest
from django.utils import timezone

from recommendations import engine
from recommendations.models import ComposedPage, MemberRecommendations, TrainingRun
from recommendations.serving.home_page import home_page_for_member
from recommendations.serving.repairs import StoredRowInvalid
from recommendations.serving.state import snapshot_forget
from recommendations.serving.stored_pages import composed_page_store, layout_loads
from recommendations.training.runs import training_run_execute
from tests.helpers import new_analyst, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(world):
    run = training_run_execute(trigger="test")
    assert run.is_active
    # The world's few interactions give a rules-only run, which reads no rows at all; the rows
    # these tests corrupt are read only while a learned run is active.
    TrainingRun.objects.filter(pk=run.pk).update(kind=TrainingRun.Kind.LEARNED)
    snapshot_forget()
    return world


def _bad_family() -> bytes:
    records = np.zeros(2, dtype=engine.CANDIDATE)
    records["family"] = 9
    return engine.candidates_encode(records)


def _nan_score() -> bytes:
    records = np.zeros(1, dtype=engine.CANDIDATE)
    records["score"] = np.nan
    return engine.candidates_encode(records)


CORRUPT_ROWS = [b"\x00\x01\x02\x03\x04", _bad_family(), _nan_score()]


def _corrupt_row(member, payload: bytes) -> None:
    MemberRecommendations.objects.create(
        member=member,
        run=TrainingRun.objects.get(is_active=True),
        computed_at=timezone.now(),
        payload=payload,
    )


def _carousels_of_home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Because you follow SQL" in html
    return html


@pytest.mark.parametrize("payload", CORRUPT_ROWS, ids=["length", "family", "score"])
def test_a_corrupt_row_is_deleted_and_the_homepage_served_without_it(
    served, client, payload, queued, caplog
):
    member = new_analyst(served, "SQL", "Python")
    _corrupt_row(member, payload)
    client.force_login(member.user)

    with caplog.at_level(logging.ERROR, logger="recommendations.serving.repairs"):
        _carousels_of_home(client)

    assert not MemberRecommendations.objects.filter(member=member).exists()
    [record] = [r for r in caplog.records if r.name == "recommendations.serving.repairs"]
    assert f"member {member.pk}: unreadable recommendations row deleted" in record.getMessage()
    # A refresh is queued to write the row again.
    assert len(queued.packs) == 1
    # It failed once: the next page view has nothing to repair.
    caplog.clear()
    _carousels_of_home(client)
    assert not caplog.records


def test_a_corrupt_row_is_deleted_and_the_api_answers_with_carousels(served, queued, caplog):
    member = new_analyst(served, "SQL", "Python")
    _corrupt_row(member, CORRUPT_ROWS[0])

    with caplog.at_level(logging.ERROR, logger="recommendations.serving.repairs"):
        response = token_client(member.user).get("/api/v1/recommendations/")

    assert response.status_code == 200
    assert "Because you follow SQL" in [c["label"] for c in response.json()["carousels"]]
    assert not MemberRecommendations.objects.filter(member=member).exists()
    assert f"member {member.pk}: unreadable" in caplog.text
    assert len(queued.packs) == 1


def _corrupt_page(member, layout: bytes) -> None:
    """The member's page stored under its true digest, then its layout damaged."""
    now = timezone.now()
    page = home_page_for_member(member=member, now=now)
    composed_page_store(
        member_id=member.pk, digest=page.digest, composed_at=now, carousels=page.carousels
    )
    ComposedPage.objects.filter(member=member).update(layout=layout)


def _no_corrupt_page(member) -> bool:
    # On PostgreSQL the response's close composes and stores a fresh page.
    stored = ComposedPage.objects.filter(member=member).first()
    return stored is None or bool(layout_loads(bytes(stored.layout)))


CORRUPT_LAYOUTS = [b"\xff not json", b'{"a": 1}', b'[["follow", "skill-1", "SQL", [1, 2], [0.5]]]']


@pytest.mark.parametrize("layout", CORRUPT_LAYOUTS, ids=["json", "shape", "lengths"])
def test_a_corrupt_stored_page_is_deleted_and_the_homepage_composed(served, client, layout, caplog):
    member = new_analyst(served, "SQL", "Python")
    _corrupt_page(member, layout)
    client.force_login(member.user)

    with caplog.at_level(logging.ERROR, logger="recommendations.serving.repairs"):
        _carousels_of_home(client)

    assert _no_corrupt_page(member)
    assert f"member {member.pk}: unreadable stored homepage deleted" in caplog.text


def test_a_corrupt_stored_page_is_deleted_and_the_api_answers_with_carousels(served, caplog):
    member = new_analyst(served, "SQL", "Python")
    _corrupt_page(member, CORRUPT_LAYOUTS[0])

    with caplog.at_level(logging.ERROR, logger="recommendations.serving.repairs"):
        response = token_client(member.user).get("/api/v1/recommendations/")

    assert response.status_code == 200
    assert response.json()["carousels"]
    assert _no_corrupt_page(member)
    assert f"member {member.pk}: unreadable stored homepage" in caplog.text


def test_layout_loads_refuses_what_layout_dumps_never_writes():
    assert layout_loads(b'[["new", "new", "New", [3, 4], [1.0, 0.5], ["New", "New"]]]') == [
        ("new", "new", "New", [3, 4], [1.0, 0.5], ["New", "New"])
    ]
    # A row stored before rows kept their explanations: they are written when it is served.
    assert layout_loads(b'[["new", "new", "New", [3, 4], [1.0, 0.5]]]') == [
        ("new", "new", "New", [3, 4], [1.0, 0.5], None)
    ]
    for layout in [
        *CORRUPT_LAYOUTS,
        b'[["new", "new", "New", ["3"], [1.0]]]',
        b'[["new", "new", "New", [3], [1.0], ["New", "New"]]]',
        b'[["new", "new", "New", [3], [1.0], [7]]]',
        b'[["new", "new", "New", [3], [1.0], "New"]]',
        b'[["new", "new", "New", [3], [1.0], ["New"], "extra"]]',
    ]:
        with pytest.raises(StoredRowInvalid):
            layout_loads(layout)


def test_a_damaged_page_too_old_to_serve_is_never_read(served, client):
    # Its age is checked first: the page view composes without reading it.
    member = new_analyst(served, "SQL", "Python")
    _corrupt_page(member, CORRUPT_LAYOUTS[0])
    ComposedPage.objects.filter(member=member).update(
        composed_at=timezone.now() - dt.timedelta(hours=1)
    )
    client.force_login(member.user)
    _carousels_of_home(client)
