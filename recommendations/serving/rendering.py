"""Recommendation cards as HTML, rendered by Jinja2.

A homepage shows close to a hundred cards. Through DTL each card cost an include, two `{% url %}`
reversals and a `{% csrf_token %}` (16–24 ms a page); here what every card of a response shares
(URL patterns, the CSRF input, whether the viewer is logged in) is worked out once
(`card_links_build`) and one Jinja2 template renders all of them. The card's markup lives in one
macro, `templates/recommendations/_card.jinja`, used by the homepage and by undo's htmx swap.
"""

import uuid
from dataclasses import dataclass

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template import engines
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from catalog.models import Course
from recommendations.data import HomePage

CARD_TEMPLATE = "recommendations/_card.jinja"
CAROUSELS_TEMPLATE = "recommendations/_carousels.jinja"

# Stand-ins reversed in place of real arguments; each must come out of `reverse` verbatim and
# be unlikely to occur in a URL prefix (a short number like 0 or 1 could).
_SENTINELS: dict[str, object] = {
    "course_id": 918_273_645,
    "page_view_id": uuid.UUID("c0ffee00-5e17-4e15-8e17-c0ffee005e17"),
    "slug": "card-slug-sentinel",
}


def url_format_reverse(*, viewname: str, arguments: tuple[str, ...]) -> str:
    """`reverse(viewname)` as a `str.format` pattern with one field per named argument.

    Reversing once per response with stand-in values and substituting per card gives what
    `reverse` gives for every card (the same patterns, script prefix and converters) at the cost
    of one reversal a route instead of one a card. Refused (ValueError) when a stand-in does not
    come out of the reversed URL exactly once, so a changed pattern fails loudly, not silently.
    """
    url = reverse(viewname, kwargs={name: _SENTINELS[name] for name in arguments})
    for name in arguments:
        if url.count(str(_SENTINELS[name])) != 1:
            raise ValueError(f"{viewname}: the {name} stand-in is not in {url!r} exactly once")
    pattern = url.replace("{", "{{").replace("}", "}}")
    for name in arguments:
        pattern = pattern.replace(str(_SENTINELS[name]), "{" + name + "}")
    return pattern


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
        click_pattern=url_format_reverse(
            viewname="recommendations:click", arguments=("page_view_id", "course_id")
        ),
        dismiss_pattern=url_format_reverse(
            viewname="recommendations:dismiss", arguments=("course_id",)
        ),
        detail_pattern=url_format_reverse(viewname="web:course_detail", arguments=("slug",)),
    )


def carousels_render(*, request: HttpRequest, page: HomePage) -> SafeString:
    """Every carousel of the page with its cards; empty when the page has none."""
    links = card_links_build(request=request, page_view_id=page.page_view_id)
    html = (
        engines["jinja2"]
        .get_template(CAROUSELS_TEMPLATE)
        .render({"carousels": page.carousels, "links": links})
    )
    # Safe to hand to DTL unescaped only because Jinja2 rendered it with autoescaping on
    # (core/jinja2.py): every value in it is already escaped.
    return mark_safe(html)


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
