"""Recommendation cards rendered by Jinja2 (recommendations/rendering.py, `_card.jinja`)."""

import dataclasses
import re
import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import engines
from django.test import RequestFactory
from django.test.utils import override_script_prefix
from django.urls import reverse
from markupsafe import escape

from recommendations.data import Card, Carousel, HomePage, ShownCourse
from recommendations.serving import rendering
from recommendations.serving.rendering import (
    CARD_TEMPLATE,
    card_links_build,
    card_render,
    carousels_render,
)
from tests.factories import CourseFactory, UserFactory

PAGE_VIEW = uuid.UUID("6f1c1a8e-1234-4000-8000-00000000abcd")
HOSTILE = """Tom's <script>alert("x")</script> & co"""
HOSTILE_ESCAPED = "Tom&#39;s &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co"
CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[A-Za-z0-9]{64}">')


def _request(user=None):
    request = RequestFactory().get("/")
    request.user = user if user is not None else AnonymousUser()
    return request


def _member_request():
    return _request(UserFactory.build(username="ada"))


def _course(**fields):
    defaults = {
        "id": 41,
        "title": "SQL Window Functions",
        "slug": "sql-window-functions",
        "level": "advanced",
        "duration_minutes": 95,
        "teacher": "Ada Lovelace",
    }
    return CourseFactory.build(**{**defaults, **fields})


def _shown(course_id=41, carousel_position=2, position=5):
    return ShownCourse(
        course_id=course_id,
        reason="follow",
        reason_key="follow:3",
        strategy="rules",
        carousel_position=carousel_position,
        position=position,
    )


def _without_csrf(html: str) -> str:
    assert len(CSRF_INPUT.findall(html)) == html.count("<form"), html
    return CSRF_INPUT.sub("CSRF", html)


# URLs: one reversal per route and response, equal to reversing per card.


@pytest.mark.parametrize(
    "page_view_id",
    [PAGE_VIEW, uuid.UUID(int=0), uuid.UUID("c0ffee00-5e17-4e15-8e17-c0ffee005e17"), uuid.uuid4()],
)
def test_card_urls_equal_reverse_for_every_course_and_page_view(page_view_id):
    links = card_links_build(request=_member_request(), page_view_id=page_view_id)
    for course_id in (1, 7, 10, 41, 918_273_645, 2_147_483_647):
        assert links.click_url(course_id) == reverse(
            "recommendations:click", args=[page_view_id, course_id]
        )
        assert links.dismiss_url(course_id) == reverse("recommendations:dismiss", args=[course_id])
    for slug in ("sql", "learning-python-3", "a_b-c", "card-slug-sentinel", "918273645"):
        assert links.detail_url(slug) == reverse("web:course_detail", args=[slug])


def test_card_urls_follow_the_script_prefix_of_the_response():
    with override_script_prefix("/skillpath/"):
        links = card_links_build(request=_member_request(), page_view_id=PAGE_VIEW)
        expected = (
            reverse("recommendations:click", args=[PAGE_VIEW, 41]),
            reverse("recommendations:dismiss", args=[41]),
            reverse("web:course_detail", args=["sql"]),
        )
    assert expected[0].startswith("/skillpath/")
    assert (links.click_url(41), links.dismiss_url(41), links.detail_url("sql")) == expected


# The card's markup.


def test_member_card_with_its_page_view_logs_clicks_and_posts_only_the_page_view():
    html = card_render(request=_member_request(), course=_course(), page_view_id=PAGE_VIEW)
    click = reverse("recommendations:click", args=[PAGE_VIEW, 41])
    dismiss = reverse("recommendations:dismiss", args=[41])
    assert _without_csrf(html) == (
        '<article class="card course-card rec-card" id="rec-card-41">\n'
        '  <h3 class="card-title">\n'
        f'      <a href="{click}">SQL Window Functions</a>\n'
        "  </h3>\n"
        '  <p class="card-meta">Advanced · 95 min · Ada Lovelace</p>\n'
        f'    <form method="post" action="{dismiss}"\n'
        f'          hx-post="{dismiss}" hx-target="closest article" hx-swap="outerHTML">\n'
        "      CSRF\n"
        f'      <input type="hidden" name="page_view_id" value="{PAGE_VIEW}">\n'
        '      <button type="submit" class="link-button dismiss-button"'
        ' aria-label="Not interested in SQL Window Functions">Not interested</button>\n'
        "    </form>\n"
        "</article>\n"
    )


def test_member_card_without_page_view_links_to_the_course_and_keeps_the_form():
    html = card_render(request=_member_request(), course=_course(), page_view_id=None)
    detail = reverse("web:course_detail", args=["sql-window-functions"])
    assert f'<a href="{detail}">SQL Window Functions</a>' in html
    assert "/go/" not in html
    assert len(CSRF_INPUT.findall(html)) == 1
    assert re.findall(r'name="(\w+)"', html) == ["csrfmiddlewaretoken"]
    assert 'aria-label="Not interested in SQL Window Functions"' in html


def test_visitor_card_links_to_the_course_and_has_no_form():
    html = card_render(request=_request(), course=_course(), page_view_id=PAGE_VIEW)
    detail = reverse("web:course_detail", args=["sql-window-functions"])
    assert html == (
        '<article class="card course-card rec-card" id="rec-card-41">\n'
        '  <h3 class="card-title">\n'
        f'      <a href="{detail}">SQL Window Functions</a>\n'
        "  </h3>\n"
        '  <p class="card-meta">Advanced · 95 min · Ada Lovelace</p>\n'
        "</article>\n"
    )


@pytest.mark.parametrize(
    "level, label", [("beginner", "Beginner"), ("intermediate", "Intermediate")]
)
def test_card_shows_the_level_label(level, label):
    html = card_render(request=_request(), course=_course(level=level), page_view_id=None)
    assert f'<p class="card-meta">{label} · 95 min · Ada Lovelace</p>' in html


def test_hostile_title_and_teacher_are_escaped_in_text_and_in_the_aria_label():
    html = card_render(
        request=_member_request(),
        course=_course(title=HOSTILE, teacher='Eve "<b>"'),
        page_view_id=PAGE_VIEW,
    )
    assert f">{HOSTILE_ESCAPED}</a>" in html
    assert f'aria-label="Not interested in {HOSTILE_ESCAPED}">' in html
    assert "· Eve &#34;&lt;b&gt;&#34;</p>" in html
    assert "<script>" not in html
    assert "<b>" not in html
    assert "Tom's" not in html


# All the carousels of a page.


def _page(*carousels: Carousel) -> HomePage:
    return HomePage(page_view_id=PAGE_VIEW, carousels=list(carousels))


def _carousel(reason: str, key: str, label: str, courses, carousel_position: int) -> Carousel:
    return Carousel(
        reason=reason,
        key=key,
        label=label,
        cards=[
            Card(
                course=course,
                score=1.0,
                shown=_shown(course.pk, carousel_position=carousel_position, position=position),
            )
            for position, course in enumerate(courses)
        ],
    )


def test_carousels_render_each_carousel_with_its_cards_in_order():
    first = [_course(id=1, title="One", slug="one"), _course(id=2, title="Two", slug="two")]
    second = [_course(id=3, title="Three", slug="three")]
    page = _page(
        _carousel("follow", "follow:9", f"Because you follow {HOSTILE}", first, 0),
        _carousel("new", "new", "New", second, 1),
    )
    request = _member_request()
    # No database here (no db fixture): rendering never queries, whatever the page holds.
    html = carousels_render(request=request, page=page)
    assert re.findall(r'<section class="carousel"[^>]*>', html) == [
        '<section class="carousel" aria-labelledby="carousel-1" data-reason="follow"'
        f' data-reason-key="follow:9" data-page-view-id="{PAGE_VIEW}">',
        '<section class="carousel" aria-labelledby="carousel-2" data-reason="new"'
        f' data-reason-key="new" data-page-view-id="{PAGE_VIEW}">',
    ]
    assert f'<h2 id="carousel-1">Because you follow {HOSTILE_ESCAPED}</h2>' in html
    assert '<h2 id="carousel-2">New</h2>' in html
    assert re.findall(r'id="rec-card-(\d+)"', html) == ["1", "2", "3"]
    # Each card's slot on the page view: the order the page view logs them in.
    assert re.findall(r'id="rec-card-\d+" data-slot="(\d+)"', html) == ["0", "1", "2"]
    # Each form posts the page view's id only.
    assert re.findall(r'name="(\w+)"', html) == ["csrfmiddlewaretoken", "page_view_id"] * 3
    # One token for the page, in every form.
    assert len(set(CSRF_INPUT.findall(html))) == 1
    assert len(CSRF_INPUT.findall(html)) == 3
    # Each card is the macro's output, the same markup undo swaps back in (which has no slot:
    # it comes back outside the page view).
    card = card_render(request=request, course=first[1], page_view_id=PAGE_VIEW)
    assert _without_csrf(card) in _without_csrf(html).replace(' data-slot="1"', "")


def test_a_page_without_carousels_renders_nothing():
    assert carousels_render(request=_member_request(), page=_page()) == ""


def _macro_cards(request, page: HomePage) -> list[str]:
    """Every card of `page` as the macro renders it with the response's own values."""
    links = card_links_build(request=request, page_view_id=page.page_view_id)
    card = engines["jinja2"].env.get_template(CARD_TEMPLATE).module.card
    cards = [item for carousel in page.carousels for item in carousel.cards]
    return [
        str(card(item.course, links, item.explanation, item.shown.reason != "continue", slot))
        for slot, item in enumerate(cards)
    ]


@pytest.mark.parametrize("member", [True, False])
@pytest.mark.parametrize("page_view_id", [PAGE_VIEW, None])
def test_cards_from_skeletons_are_the_macro_output_with_the_responses_values(member, page_view_id):
    """Skeletons are shared across responses and pages: each card still comes out exactly as
    the macro renders it with this response's page view, CSRF input, "why" line and slot, even
    for text that looks like a skeleton's stand-ins."""
    lookalike = "<skeleton:slot> <skeleton:explanation> <skeleton:csrf-input> " + str(
        uuid.UUID("c0ffee00-5e17-4e15-8e17-c0ffee005e17")
    )
    courses = [
        _course(id=1, title="One", slug="one"),
        _course(id=2, title=HOSTILE, slug="two", teacher=lookalike),
        _course(id=3, title=lookalike, slug="three"),
    ]
    carousel = Carousel(
        reason="follow",
        key="follow:9",
        label="Because you follow Python",
        cards=[
            Card(course=courses[0], score=1.0, shown=_shown(1), explanation=""),
            Card(course=courses[1], score=1.0, shown=_shown(2), explanation=HOSTILE),
            Card(course=courses[2], score=1.0, shown=_shown(3), explanation=lookalike),
            # The same course again, its skeleton reused within the page.
            Card(course=courses[1], score=1.0, shown=_shown(2), explanation="Popular"),
        ],
    )
    continuing = Carousel(
        reason="continue",
        key="continue",
        label="Continue learning",
        cards=[
            Card(
                course=courses[0],
                score=1.0,
                shown=dataclasses.replace(_shown(1), reason="continue"),
            )
        ],
    )
    request = _member_request() if member else _request()
    for page in (
        HomePage(page_view_id=page_view_id, carousels=[carousel, continuing]),
        # A second response of the same kind: same skeletons, another page view and token.
        HomePage(
            page_view_id=uuid.uuid4() if page_view_id else None, carousels=[continuing, carousel]
        ),
    ):
        request = _member_request() if member else _request()
        html = carousels_render(request=request, page=page)
        # Each call of get_token masks the token anew: compare the cards without it, and
        # check it is one token throughout.
        expected = [CSRF_INPUT.sub("CSRF", card) for card in _macro_cards(request, page)]
        rendered = re.findall(r"<article.*?</article>\n", html, flags=re.S)
        assert [CSRF_INPUT.sub("CSRF", card) for card in rendered] == expected
        assert len(set(CSRF_INPUT.findall(html))) == (1 if member else 0)
        assert "<skeleton:" not in html.replace(escape(lookalike), "")


def test_a_full_template_store_drops_its_older_half_and_cards_stay_exact(monkeypatch):
    """The templates of one kind of response are bounded: past the bound the older half goes,
    and a card whose template went is made again, the same."""
    monkeypatch.setattr(rendering, "CARD_TEMPLATES_KEPT", 4)
    request = _member_request()
    courses = [_course(id=9000 + n, title=f"Bounded {n}", slug=f"bounded-{n}") for n in range(6)]
    page = HomePage(
        page_view_id=PAGE_VIEW,
        carousels=[
            Carousel(
                reason="follow",
                key="follow:9",
                label="Because you follow Python",
                cards=[
                    Card(course=course, score=1.0, shown=_shown(course.pk), explanation="Why")
                    for course in courses
                ],
            )
        ],
    )
    links = card_links_build(request=request, page_view_id=PAGE_VIEW)
    renderer = rendering._CardRenderer(links)
    renderer._templates.clear()

    first = carousels_render(request=request, page=page)
    # Four kept, the older two dropped at the fifth, then the fifth and sixth added.
    assert [key[0] for key in renderer._templates] == [9002, 9003, 9004, 9005]
    again = carousels_render(request=request, page=page)

    expected = [CSRF_INPUT.sub("CSRF", card) for card in _macro_cards(request, page)]
    for html in (first, again):
        rendered = re.findall(r"<article.*?</article>\n", html, flags=re.S)
        assert [CSRF_INPUT.sub("CSRF", card) for card in rendered] == expected


@pytest.mark.parametrize("member", [True, False])
def test_kept_carousels_render_once_and_every_view_gets_its_own_page_view_and_token(
    member, monkeypatch
):
    """A page whose carousels are kept per process (`HomePage.renditions`) is rendered once;
    each view after it gets exactly what rendering it would give, with its own page view id
    and CSRF token, even around text that looks like the stand-ins."""
    lookalike = "{page_view} {csrf_input} {} {{ }} <skeleton:csrf-input> " + str(
        uuid.UUID("c0ffee00-5e17-4e15-8e17-c0ffee005e17")
    )
    courses = [
        _course(id=1, title=lookalike, slug="one"),
        _course(id=2, title=HOSTILE, slug="two", teacher=lookalike),
    ]
    carousels = [
        _carousel("follow", "follow:9", f"Because you follow {lookalike}", courses, 0),
        _carousel("new", "new", "New {x}", courses[:1], 1),
    ]
    renders = []
    render = rendering._carousels_html

    def counted(*args):
        renders.append(1)
        return render(*args)

    monkeypatch.setattr(rendering, "_carousels_html", counted)
    renditions = {}
    pages = [
        HomePage(page_view_id=uuid.uuid4(), carousels=carousels, renditions=renditions)
        for _ in range(3)
    ]
    for page in pages:
        request = _member_request() if member else _request()
        kept = carousels_render(request=request, page=page)
        # Rendered for this view alone (mask the token: each get_token masks it anew).
        fresh = carousels_render(request=request, page=dataclasses.replace(page, renditions=None))
        assert CSRF_INPUT.sub("CSRF", kept) == CSRF_INPUT.sub("CSRF", fresh)
        # A visitor's cards are not tracked: no page view in them.
        shown = kept.count(str(page.page_view_id))
        assert shown == fresh.count(str(page.page_view_id)) and (shown > 0) == member
        assert len(set(CSRF_INPUT.findall(kept))) == (1 if member else 0)
        assert str(rendering._PAGE_VIEW_ID) not in kept
        assert "<skeleton:" not in kept.replace(escape(lookalike), "")
    # The kept page once, and each view once without it.
    assert len(renders) == 1 + len(pages)
    assert len(renditions) == 1
