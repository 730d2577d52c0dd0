"""A stored page's carousels are built once per process and shared by the views that serve it
(recommendations/serving/stored_carousels.py)."""

import datetime as dt

import orjson
import pytest
from django.utils import timezone
from rest_framework.test import APIRequestFactory, force_authenticate

from catalog.card_cache import card_cache, catalog_revision_current
from catalog.models import Course
from recommendations import api as recommendations_api
from recommendations.api import RecommendationsView
from recommendations.data import REASON_CONTINUE
from recommendations.serving import stored_carousels
from recommendations.serving.carousels import carousels_from_layout
from recommendations.serving.explanations import ExplanationContext
from recommendations.serving.home_page import home_page_for_member
from recommendations.serving.repairs import StoredRowInvalid
from recommendations.serving.stored_carousels import stored_page_carousels
from recommendations.serving.stored_pages import composed_page_store, layout_loads
from recommendations.training.runs import training_run_execute
from tests.helpers import new_analyst

NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def kept(world, settings, monkeypatch):
    """The card cache on (the carousels are kept only with it), and every build counted."""
    settings.CATALOG_CARD_CACHE = True
    card_cache.clear()
    builds = []
    build = stored_carousels.carousels_built

    def counted(*args, **kwargs):
        builds.append(kwargs["strategy"])
        return build(*args, **kwargs)

    monkeypatch.setattr(stored_carousels, "carousels_built", counted)
    yield builds
    card_cache.clear()


def _layout(world, *, lines: bool = True) -> bytes:
    courses = world["courses"]
    rows = [
        [
            "follow",
            "follow:1",
            "Because you follow SQL",
            [courses["SQL Essential Training"].pk, courses["Advanced SQL for Analysts"].pk],
            [0.9, 0.8],
            ["Covers SQL", "Covers SQL"],
        ],
        [
            REASON_CONTINUE,
            REASON_CONTINUE,
            "Continue learning",
            [courses["Learning Python"].pk],
            [1.0],
            ["45% done"],
        ],
    ]
    return orjson.dumps(rows if lines else [row[:5] for row in rows])


def _served(layout: bytes, **overrides):
    return _stored(layout, **overrides).carousels


def _stored(layout: bytes, **overrides):
    arguments = {
        "layout": layout,
        "strategy": "rules",
        "variant_id": None,
        "catalog_revision": catalog_revision_current(),
        "context": _no_context,
        "now": timezone.now(),
    } | overrides
    return stored_page_carousels(**arguments)


def _no_context() -> ExplanationContext:
    raise AssertionError("a layout with its lines needs no context")


def _titles(carousels) -> list[list[str]]:
    return [[card.course.title for card in carousel.cards] for carousel in carousels]


def test_a_stored_page_is_built_once_and_every_view_gets_the_same_carousels(world, kept):
    layout = _layout(world)

    first = _served(layout)
    second = _served(layout)

    assert kept == ["rules"]
    assert _stored(layout).renditions is _stored(layout).renditions is not None
    assert first == second and first is not second
    assert all(a is b for a, b in zip(first, second, strict=True))
    assert first == carousels_from_layout(
        layout_loads(layout),
        strategy="rules",
        variant_id=None,
        catalog_revision=catalog_revision_current(),
    )
    assert _titles(first) == [
        ["SQL Essential Training", "Advanced SQL for Analysts"],
        ["Learning Python"],
    ]
    assert [card.explanation for card in first[0].cards] == ["Covers SQL", "Covers SQL"]


def test_each_strategy_variant_and_catalog_revision_is_built_apart(world, kept):
    layout = _layout(world)
    # Given, not read: on SQLite the title's update below moves the revision at once, on
    # PostgreSQL only when its transaction commits.
    revision = catalog_revision_current()
    _served(layout, catalog_revision=revision)
    ranked = _served(layout, strategy="ranked", catalog_revision=revision)
    variant = _served(layout, variant_id=7, catalog_revision=revision)
    Course.objects.filter(pk=world["courses"]["SQL Essential Training"].pk).update(
        title="SQL Essentials, Second Edition"
    )
    moved = _served(layout, catalog_revision=revision + 1000)

    assert kept == ["rules", "ranked", "rules", "rules"]
    assert {card.shown.strategy for card in ranked[0].cards} == {"ranked"}
    # The variant is on the recommendations, not on the Continue learning row.
    assert [card.shown.variant_id for carousel in variant for card in carousel.cards] == [
        7,
        7,
        None,
    ]
    assert _titles(moved)[0][0] == "SQL Essentials, Second Edition"
    # Each is kept under its own key.
    assert _served(layout, strategy="ranked", catalog_revision=revision) == ranked
    assert _served(layout, variant_id=7, catalog_revision=revision) == variant
    assert _titles(_served(layout, catalog_revision=revision))[0][0] == "SQL Essential Training"
    assert len(kept) == 4


def test_a_course_not_published_yet_joins_the_kept_carousels_once_it_is(world, kept):
    soon = timezone.now() + dt.timedelta(hours=1)
    Course.objects.filter(pk=world["courses"]["Advanced SQL for Analysts"].pk).update(
        published_at=soon
    )
    card_cache.clear()
    layout = _layout(world)

    before = _served(layout, now=soon - dt.timedelta(minutes=30))
    still = _served(layout, now=soon - dt.timedelta(seconds=1))
    after = _served(layout, now=soon)

    assert _titles(before)[0] == ["SQL Essential Training"]
    assert still == before
    assert _titles(after)[0] == ["SQL Essential Training", "Advanced SQL for Analysts"]
    assert len(kept) == 2
    # Published now, it is kept from then on.
    assert _served(layout, now=soon + dt.timedelta(days=1)) == after
    assert len(kept) == 2


def test_a_layout_without_its_lines_is_built_for_each_view_from_the_members_context(world, kept):
    layout = _layout(world, lines=False)
    contexts = []

    def context() -> ExplanationContext:
        contexts.append(1)
        return ExplanationContext()

    first = _served(layout, context=context)
    second = _served(layout, context=context)

    assert len(kept) == 2 and len(contexts) == 2
    assert first == second
    assert (
        stored_page_carousels(
            layout=layout,
            strategy="rules",
            variant_id=None,
            catalog_revision=catalog_revision_current(),
            context=context,
            now=timezone.now(),
        ).renditions
        is None
    )
    assert all(card.explanation for carousel in first for card in carousel.cards)


def test_nothing_is_kept_without_the_card_cache(world, kept, settings):
    settings.CATALOG_CARD_CACHE = False
    layout = _layout(world)

    assert _served(layout) == _served(layout)
    assert len(kept) == 2


def test_nothing_is_kept_without_a_catalog_revision(world, kept):
    layout = _layout(world)

    assert _served(layout, catalog_revision=None) == _served(layout, catalog_revision=None)
    assert len(kept) == 2


def test_when_full_the_older_half_is_dropped(world, kept, monkeypatch):
    monkeypatch.setattr(stored_carousels, "STORED_CAROUSELS_KEPT", 4)
    layout = _layout(world)
    for variant_id in range(1, 6):
        _served(layout, variant_id=variant_id)
    assert len(kept) == 5

    _served(layout, variant_id=5)
    _served(layout, variant_id=3)
    assert len(kept) == 5
    _served(layout, variant_id=1)
    assert len(kept) == 6


def test_an_unreadable_layout_is_refused_and_not_kept(world, kept):
    with pytest.raises(StoredRowInvalid):
        _served(b"not a layout")
    with pytest.raises(StoredRowInvalid):
        _served(b"not a layout")
    assert kept == []


@pytest.fixture
def served(world):
    """The world with an active run: pages are stored only with one."""
    run = training_run_execute(trigger="test")
    assert run.is_active
    return world


def _page_stored(member, *, now):
    """The member's page of `now`, composed and stored as their next page."""
    live = home_page_for_member(member=member, now=now)
    composed_page_store(
        member_id=member.pk,
        digest=live.digest,
        digest_without_impressions=live.digest_without_impressions,
        composed_at=now,
        carousels=live.carousels,
    )
    return live


def test_views_of_a_stored_page_share_its_carousels_and_log_their_own_page_view(served, kept):
    member = new_analyst(served, "SQL", "Python")
    live = _page_stored(member, now=NOW)
    builds_before = len(kept)

    views = [
        home_page_for_member(member=member, now=NOW + dt.timedelta(minutes=m), reuse_composed=True)
        for m in (1, 2)
    ]

    assert len(kept) == builds_before + 1
    assert all(view.stored_composed_at == NOW for view in views)
    assert views[0].carousels == views[1].carousels == live.carousels
    assert views[0].shown == views[1].shown == live.shown
    assert views[0].page_view_id != views[1].page_view_id
    # Where renderers keep what they derive from the carousels: one dict for the kept page.
    assert views[0].renditions is views[1].renditions
    assert views[0].renditions is not None and live.renditions is None


def _answer(member, query: str = "", accept: str = "application/json"):
    request = APIRequestFactory().get(f"/api/v1/recommendations/{query}", HTTP_ACCEPT=accept)
    force_authenticate(request, user=member.user)
    response = RecommendationsView.as_view()(request)
    response.render()
    assert response.status_code == 200, response.content
    return response


def _without_page_view(response) -> bytes:
    page_view_id = orjson.loads(response.content)["page_view_id"]
    return response.content.replace(page_view_id.encode(), b"PAGE-VIEW")


@pytest.mark.parametrize(
    "query", ["", "?limit=2", "?reason=follow&limit=3"], ids=["all", "limit", "reason"]
)
@pytest.mark.parametrize(
    "accept", ["application/json", "application/json; indent=2"], ids=["compact", "indent"]
)
def test_the_apis_answers_of_a_kept_page_are_encoded_once_and_as_without_it(
    served, kept, settings, monkeypatch, query, accept
):
    member = new_analyst(served, "SQL", "Python")
    _page_stored(member, now=timezone.now())
    encodings = []
    encode = recommendations_api.json_encoded

    def counted(data):
        encodings.append(1)
        return encode(data)

    monkeypatch.setattr(recommendations_api, "json_encoded", counted)

    answers = [_answer(member, query, accept) for _ in range(3)]
    settings.CATALOG_CARD_CACHE = False  # nothing kept: each answer encoded on its own
    plain = _answer(member, query, accept)

    assert len(encodings) == 1
    assert len({orjson.loads(a.content)["page_view_id"] for a in answers}) == 3
    assert {_without_page_view(a) for a in answers} == {_without_page_view(plain)}
    assert orjson.loads(plain.content)["carousels"]


def test_a_page_keeps_a_bounded_number_of_renditions(served, kept, monkeypatch):
    monkeypatch.setattr(stored_carousels, "RENDITIONS_KEPT", 1)
    member = new_analyst(served, "SQL", "Python")
    _page_stored(member, now=timezone.now())
    first = _answer(member, "?limit=1")
    other = _answer(member, "?limit=2")
    again = _answer(member, "?limit=2")

    renditions = home_page_for_member(
        member=member, now=timezone.now(), reuse_composed=True
    ).renditions
    assert list(renditions) == [("api", None, 1, "UTC")]
    assert _without_page_view(other) == _without_page_view(again) != _without_page_view(first)
