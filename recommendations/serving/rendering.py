"""Recommendation cards as HTML, rendered by Jinja2.

A homepage shows close to a hundred cards. Through DTL each card cost an include, two `{% url %}`
reversals and a `{% csrf_token %}` (16–24 ms a page); here what every card of a response shares
(URL patterns, the CSRF input, whether the viewer is logged in) is worked out once
(`card_links_build`) and one Jinja2 template renders all of them. The card's markup lives in one
macro, `templates/recommendations/_card.jinja`, used by the homepage and by undo's htmx swap.

Even so, calling the macro a hundred times was close to half of a homepage's time. The homepage
therefore renders each card from its template (`_card_template`): the macro's output for that
course with stand-ins where the response's own values go (page view, CSRF input, "why" line,
slot), turned into a `str.format` template, kept per process and filled in with one `format`
call. The macro stays the one place the markup is written.
"""

import dataclasses
import functools
import uuid
from dataclasses import dataclass

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template import engines
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from markupsafe import Markup, escape

from catalog.models import Course
from core.bounded_caches import older_half_drop
from core.url_patterns import url_pattern
from recommendations.data import REASON_CONTINUE, Carousel, HomePage
from recommendations.serving.stored_carousels import page_rendition

CARD_TEMPLATE = "recommendations/_card.jinja"
CAROUSELS_TEMPLATE = "recommendations/_carousels.jinja"


@dataclass(frozen=True, slots=True)
class CardLinks:
    """What all the cards of one response share. Build it with `card_links_build`."""

    page_view_id: uuid.UUID | None
    # Logged in: cards carry the dismiss form, and their links go through click logging when
    # the page view is known.
    member: bool
    csrf_input: SafeString
    click_pattern: str
    dismiss_pattern: str
    detail_pattern: str

    @property
    def tracked(self) -> bool:
        return self.member and self.page_view_id is not None

    def click_url(self, course_id: int) -> str:
        return self.click_pattern.format(page_view_id=self.page_view_id, course_id=course_id)

    def dismiss_url(self, course_id: int) -> str:
        return self.dismiss_pattern.format(course_id=course_id)

    def detail_url(self, slug: str) -> str:
        # Course slugs are SlugField values ([-a-zA-Z0-9_]), which `reverse` leaves unquoted.
        return self.detail_pattern.format(slug=slug)


def card_links_build(*, request: HttpRequest, page_view_id: uuid.UUID | None) -> CardLinks:
    member = request.user.is_authenticated
    return CardLinks(
        page_view_id=page_view_id,
        member=member,
        # The same markup as `{% csrf_token %}`, once for all the forms; a visitor's cards have
        # no form to put it in.
        csrf_input=(
            format_html(
                '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)
            )
            if member
            else SafeString("")
        ),
        click_pattern=url_pattern("recommendations:click", "page_view_id", "course_id"),
        dismiss_pattern=url_pattern("recommendations:dismiss", "course_id"),
        detail_pattern=url_pattern("web:course_detail", "slug"),
    )


# Stand-ins in a skeleton. Marked safe, so they reach the output as written, and with a "<" that
# escaped text (a title, a teacher) can never contain: each occurs only where it was put.
_SLOT = Markup("<skeleton:slot>")
_EXPLANATION = Markup("<skeleton:explanation>")
_CSRF_INPUT = Markup("<skeleton:csrf-input>")
# The page view goes into URLs and attributes, escaped, where a "<" cannot mark it: a random id
# per process instead, which never leaves it (every skeleton is filled in before it is sent).
_PAGE_VIEW_ID = uuid.uuid4()
_PAGE_VIEW_ID_TEXT = str(_PAGE_VIEW_ID)


@dataclass(frozen=True, slots=True)
class _CardCourse:
    """What the card macro reads of a course."""

    pk: int
    title: str
    slug: str
    level_label: str
    duration_minutes: int
    teacher: str


# A card's template: (the card course's fields in `_CardCourse` order, explained, dismissible,
# slotted).
_CardKey = tuple[int, str, str, str, int, str, bool, bool, bool]

# Templates kept per kind of response (`_card_templates`), about 1.5 KB each: more than a
# catalog of ten thousand courses needs, and a bound for one whose courses keep being edited
# (each edit makes a new template). When full, the older half is dropped.
CARD_TEMPLATES_KEPT = 16384


@functools.lru_cache(maxsize=16)
def _card_templates(links: CardLinks) -> dict[_CardKey, str]:
    """The card templates made under `links`, a response's links with stand-ins: one dict per
    kind of response (signed in or not, page view or not), shared by all of them."""
    return {}


def _card_template(key: _CardKey, links: CardLinks) -> str:
    """The card macro's output for the course of `key` under `links` (whose page view and CSRF
    input are the stand-ins), with the stand-ins for the "why" line and slot where the card has
    them, as a `str.format` template (`_format_template`)."""
    *course, explained, dismissible, slotted = key
    card = engines["jinja2"].env.get_template(CARD_TEMPLATE).module.card
    html = str(
        card(
            _CardCourse(*course),
            links,
            _EXPLANATION if explained else "",
            dismissible,
            _SLOT if slotted else None,
        )
    )
    return _format_template(
        html,
        (
            (_EXPLANATION, "explanation"),
            (_SLOT, "slot"),
            (_PAGE_VIEW_ID_TEXT, "page_view"),
            (_CSRF_INPUT, "csrf_input"),
        ),
    )


def _format_template(html: str, fields: tuple[tuple[str, str], ...]) -> str:
    """`html` as a `str.format` template: each stand-in of `fields` becomes its named field,
    and every other brace is doubled so the escaped text around them comes out as it is."""
    html = html.replace("{", "{{").replace("}", "}}")
    for stand_in, name in fields:
        html = html.replace(stand_in, f"{{{name}}}")
    return html


def _skeleton_links(links: CardLinks) -> CardLinks:
    """`links` with the stand-ins for the page view (where it has one) and the CSRF input
    (where it has one: a member's), as templates are made."""
    return dataclasses.replace(
        links,
        page_view_id=_PAGE_VIEW_ID if links.page_view_id else None,
        csrf_input=_CSRF_INPUT if links.member else SafeString(""),
    )


class _CardRenderer:
    """Renders the cards of one response from their templates."""

    def __init__(self, links: CardLinks) -> None:
        self._page_view_id = str(links.page_view_id) if links.page_view_id else ""
        self._csrf_input = str(links.csrf_input)
        # The response's links with stand-ins, as the templates are made (and so shared by
        # every response of the same kind).
        self._skeleton_links = _skeleton_links(links)
        self._templates = _card_templates(self._skeleton_links)

    def card(self, course: Course, explanation: str, dismissible: bool, slot: int | None) -> str:
        """The card's HTML: every value put into its template is escaped (the explanation) or
        made by the server (ids, the CSRF input). One `format` call fills the fields, where a
        `replace` per stand-in went over the whole card each time (a hundred cards a page)."""
        key = (
            course.pk,
            course.title,
            course.slug,
            course.level_label,
            course.duration_minutes,
            course.teacher,
            bool(explanation),
            dismissible,
            slot is not None,
        )
        template = self._templates.get(key)
        if template is None:
            template = _card_template(key, self._skeleton_links)
            if len(self._templates) >= CARD_TEMPLATES_KEPT:
                older_half_drop(self._templates)
            self._templates[key] = template
        return template.format(
            explanation=escape(explanation) if explanation else "",
            slot=slot,
            page_view=self._page_view_id,
            csrf_input=self._csrf_input,
        )

    def rows(self, carousels: list[Carousel]) -> list[Markup]:
        """Each carousel's cards, one after the other, with their slots on the page view: the
        order the page view logs them in. (Joined here rather than in the template: a Jinja
        loop around the cards cost as much again as the cards.)"""
        rows = []
        slot = 0
        for carousel in carousels:
            cards = []
            for item in carousel.cards:
                # The Continue learning row is the member's own courses: nothing to dismiss.
                dismissible = item.shown.reason != REASON_CONTINUE
                cards.append(f"    {self.card(item.course, item.explanation, dismissible, slot)}\n")
                slot += 1
            rows.append(Markup("".join(cards)))
        return rows


def carousels_render(*, request: HttpRequest, page: HomePage) -> SafeString:
    """Every carousel of the page with its cards; empty when the page has none.

    Carousels kept per process for a stored page (`HomePage.renditions`) are rendered once,
    with stand-ins for the page view and the CSRF input, into a `str.format` template kept
    with them: every view of the page after the first fills in its own two values."""
    links = card_links_build(request=request, page_view_id=page.page_view_id)
    # Safe to hand to DTL unescaped only because Jinja2 rendered it with autoescaping on
    # (core/jinja2.py): every value in it is already escaped.
    if page.renditions is None or page.page_view_id is None:
        return mark_safe(_carousels_html(page.carousels, links))
    key = (
        CAROUSELS_TEMPLATE,
        links.member,
        links.click_pattern,
        links.dismiss_pattern,
        links.detail_pattern,
    )
    template = page_rendition(
        page.renditions, key, lambda: _carousels_template(page.carousels, links)
    )
    return mark_safe(
        template.format(page_view=str(links.page_view_id), csrf_input=str(links.csrf_input))
    )


def _carousels_html(carousels: list[Carousel], links: CardLinks) -> str:
    return (
        engines["jinja2"]
        .get_template(CAROUSELS_TEMPLATE)
        .render(
            {"carousels": carousels, "links": links, "rows": _CardRenderer(links).rows(carousels)}
        )
    )


def _carousels_template(carousels: list[Carousel], links: CardLinks) -> str:
    """The carousels' markup under `links` with stand-ins for the page view and the CSRF
    input, as a `str.format` template with the fields `page_view` and `csrf_input`, as
    `_card_template` makes one card's."""
    return _format_template(
        _carousels_html(carousels, _skeleton_links(links)),
        ((_PAGE_VIEW_ID_TEXT, "page_view"), (_CSRF_INPUT, "csrf_input")),
    )


def card_render(
    *,
    request: HttpRequest,
    course: Course,
    page_view_id: uuid.UUID | None,
    explanation: str = "",
) -> SafeString:
    """One card, as the homepage shows it (undo puts a dismissed card back with this), with
    its "why" line when given."""
    links = card_links_build(request=request, page_view_id=page_view_id)
    card = engines["jinja2"].env.get_template(CARD_TEMPLATE).module.card
    # The macro's output is Jinja2 Markup, autoescaped like the carousels above.
    return mark_safe(str(card(course, links, explanation)))
