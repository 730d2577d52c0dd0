"""The site's people pages: "People to learn with", a person's page (reached through the
tracked link that logs the click) and hiding a person (htmx swaps the card; without JavaScript
the page reloads). Every view is rate limited per member (`PEOPLE_RATE_PER_USER`)."""

import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.rate_limits import rate_limit_take
from members.models import Member
from members.services import member_get_or_create_for_user
from recommendations.forms import CardContextForm
from recommendations.models import PeoplePageView
from recommendations.people.services import (
    people_page_view_log,
    person_click_log,
    person_hide,
)
from recommendations.people.serving import people_for_member


def _rate_limited(request: HttpRequest) -> HttpResponse | None:
    wait = rate_limit_take(
        scope="people", key=str(request.user.pk), rate=settings.PEOPLE_RATE_PER_USER
    )
    if wait is None:
        return None
    response = render(
        request,
        "members/rate_limited.html",
        {"reason": "You opened people pages too often.", "minutes": max(1, math.ceil(wait / 60))},
        status=429,
    )
    response["Retry-After"] = str(math.ceil(wait))
    return response


def _member(request: HttpRequest) -> Member:
    return member_get_or_create_for_user(user=request.user)


@login_required
@require_GET
def people_page(request: HttpRequest) -> HttpResponse:
    if (limited := _rate_limited(request)) is not None:
        return limited
    member = _member(request)
    # Cards: the reasons, not each person's skills and courses.
    people = people_for_member(
        member=member, limit=settings.RECOMMENDATIONS["PEOPLE_PAGE_SHOWN"], details=False
    )
    page_view_id = people_page_view_log(
        member=member,
        surface=PeoplePageView.Surface.PAGE,
        shown=[person.member_id for person in people],
    )
    context = {"member": member, "people": people, "page_view_id": page_view_id}
    return render(request, "recommendations/people/people.html", context)


@login_required
@require_GET
def person_click(request: HttpRequest, page_view_id, person_id: int) -> HttpResponse:
    """The tracked link of a person card: logs the click and opens the person's page."""
    member = _member(request)
    person_click_log(member=member, page_view_id=page_view_id, person_id=person_id)
    return redirect("people:person", person_id=person_id)


@login_required
@require_GET
def person_page(request: HttpRequest, person_id: int) -> HttpResponse:
    """A suggested person: only one of the member's current suggestions is ever shown."""
    if (limited := _rate_limited(request)) is not None:
        return limited
    member = _member(request)
    found = people_for_member(member=member, limit=1, person_id=person_id)
    if not found:
        raise Http404("No such person among your suggestions.")
    return render(request, "recommendations/people/person.html", {"person": found[0]})


@login_required
@require_POST
def hide(request: HttpRequest, person_id: int) -> HttpResponse:
    if (limited := _rate_limited(request)) is not None:
        return limited
    form = CardContextForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("The card's page view id is malformed.")
    member = _member(request)
    hidden = person_hide(
        member=member, person_id=person_id, page_view_id=form.cleaned_data["page_view_id"]
    )
    if hidden is None:
        raise Http404("No such person among your suggestions.")
    if request.htmx:
        return render(request, "recommendations/people/_person_hidden.html")
    messages.success(request, "You won't see this person again.")
    return redirect("people:people")
