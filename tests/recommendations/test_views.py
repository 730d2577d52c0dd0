"""The homepage and undo views render their cards through Jinja2 (recommendations.rendering)."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from members.models import FollowedSkill
from recommendations.models import Dismissal
from tests.factories import PASSWORD, MemberFactory

CSRF_INPUT = re.compile(
    r'<input type="hidden" name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})">'
)


def _analyst_client(world, *follow: str, enforce_csrf_checks: bool = False):
    member = MemberFactory(title=world["analyst"], industry=world["finance"])
    for name in follow:
        FollowedSkill.objects.create(member=member, skill=world["skills"][name])
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    client.login(username=member.user.username, password=PASSWORD)
    return member, client


def _card_html(html: str, course_id: int) -> str:
    start = html.index(f'<article class="card course-card rec-card" id="rec-card-{course_id}"')
    return html[start : html.index("</article>", start) + len("</article>")]


def _hidden_inputs(card: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', card))


def test_member_homepage_cards_link_through_click_logging_and_post_their_page_view(world):
    _, client = _analyst_client(world, "SQL")
    response = client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    page = response.context["page"]
    assert html.count('<article class="card course-card rec-card"') == len(page.shown) > 12
    for index, carousel in enumerate(page.carousels, start=1):
        assert (
            f'<section class="carousel" aria-labelledby="carousel-{index}" '
            f'data-reason="{carousel.reason}" data-reason-key="{carousel.key}" '
            f'data-page-view-id="{page.page_view_id}">\n'
            f'  <h2 id="carousel-{index}">{carousel.label}</h2>'
        ) in html
        for card in carousel.cards:
            course = card.course
            markup = _card_html(html, course.pk)
            click = reverse("recommendations:click", args=[page.page_view_id, course.pk])
            dismiss = reverse("recommendations:dismiss", args=[course.pk])
            assert f'<a href="{click}">{course.title}</a>' in markup
            assert f'action="{dismiss}"' in markup
            assert f'hx-post="{dismiss}"' in markup
            assert f'aria-label="Not interested in {course.title}"' in markup
            assert f"{course.get_level_display()} · {course.duration_minutes} min" in markup
            assert _hidden_inputs(markup) == {
                "csrfmiddlewaretoken": CSRF_INPUT.search(markup).group(1),
                "page_view_id": str(page.page_view_id),
            }
    assert "No courses to show yet" not in html


def test_a_cards_form_posts_with_its_own_csrf_input_and_is_refused_without_it(world):
    member, client = _analyst_client(world, "SQL", enforce_csrf_checks=True)
    html = client.get(reverse("home")).content.decode()
    course = world["courses"]["SQL Window Functions"]
    fields = _hidden_inputs(_card_html(html, course.pk))
    url = reverse("recommendations:dismiss", args=[course.pk])

    without = {name: value for name, value in fields.items() if name != "csrfmiddlewaretoken"}
    assert client.post(url, without, HTTP_HX_REQUEST="true").status_code == 403
    assert not Dismissal.objects.exists()

    response = client.post(url, fields, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert list(Dismissal.objects.values_list("member_id", "course_id")) == [(member.pk, course.pk)]


def test_undo_swaps_back_exactly_the_card_the_homepage_showed(world):
    _, client = _analyst_client(world, "SQL")
    html = client.get(reverse("home")).content.decode()
    course = world["courses"]["SQL Window Functions"]
    shown_card = _card_html(html, course.pk)
    fields = _hidden_inputs(shown_card)
    dismissed = client.post(
        reverse("recommendations:dismiss", args=[course.pk]), fields, HTTP_HX_REQUEST="true"
    )
    assert dismissed.status_code == 200
    dismissal = Dismissal.objects.get(course=course)

    undo = client.post(
        reverse("recommendations:undo_dismiss", args=[dismissal.pk]),
        _hidden_inputs(dismissed.content.decode()),
        HTTP_HX_REQUEST="true",
    )
    assert undo.status_code == 200
    assert undo["Content-Type"] == "text/html; charset=utf-8"
    restored = undo.content.decode()
    # The same card, but for its slot on the page view (`data-slot`), which only the page's
    # own rendering numbers; an event about the restored card may leave the slot out.
    assert CSRF_INPUT.sub("CSRF", restored).strip() == re.sub(
        r' data-slot="\d+"', "", CSRF_INPUT.sub("CSRF", shown_card)
    )
    assert not Dismissal.objects.exists()


def test_undo_without_page_context_links_to_the_course_page(world):
    member, client = _analyst_client(world, "SQL")
    course = world["courses"]["Learning Python"]
    dismissal = Dismissal.objects.create(member=member, course=course)
    undo = client.post(
        reverse("recommendations:undo_dismiss", args=[dismissal.pk]), HTTP_HX_REQUEST="true"
    )
    assert undo.status_code == 200
    card = undo.content.decode()
    detail = reverse("web:course_detail", args=[course.slug])
    assert f'<a href="{detail}">Learning Python</a>' in card
    assert list(_hidden_inputs(card)) == ["csrfmiddlewaretoken"]


def test_visitor_homepage_cards_link_to_course_pages_without_forms(world, client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    page = response.context["page"]
    assert page.shown
    for carousel in page.carousels:
        for card in carousel.cards:
            markup = _card_html(html, card.course.pk)
            detail = reverse("web:course_detail", args=[card.course.slug])
            assert f'<a href="{detail}">{card.course.title}</a>' in markup
            assert "<form" not in markup
    assert "/go/" not in html
    assert "dismiss-button" not in html


@pytest.mark.parametrize("logged_in", [True, False])
def test_an_empty_catalog_says_there_is_nothing_to_show_yet(db, client, logged_in):
    if logged_in:
        client.force_login(MemberFactory().user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    catalog = reverse("catalog:course_list")
    assert f'<p>No courses to show yet. <a href="{catalog}">Browse the catalog</a>.</p>' in html
    assert '<section class="carousel"' not in html
