import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from catalog.models import Course
from catalog.selectors import course_published_get
from members.services import member_get_or_create_for_user
from recommendations.feedback.selectors import (
    dismissal_of_member,
    dismissals_for_member,
    shown_course_of_page_view,
)
from recommendations.feedback.services import click_log, course_dismiss, dismissal_undo
from recommendations.forms import CardContextForm
from recommendations.models import Dismissal
from recommendations.serving.explanations import shown_card_explanation
from recommendations.serving.rendering import card_render


def _published_course_or_404(course_id: int) -> Course:
    """Only published courses are dismissed or clicked: an unpublished one is not found."""
    course = course_published_get(course_id=course_id)
    if course is None:
        raise Http404("No such course.")
    return course


def _posted_page_view(request: HttpRequest) -> tuple[bool, uuid.UUID | None]:
    """(valid, page view id) of a card's dismiss or undo form."""
    form = CardContextForm(request.POST)
    if not form.is_valid():
        return False, None
    return True, form.cleaned_data["page_view_id"]


@login_required
@require_POST
def dismiss(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _published_course_or_404(course_id)
    valid, page_view_id = _posted_page_view(request)
    if not valid:
        return HttpResponseBadRequest("The card's page view id is malformed.")
    member = member_get_or_create_for_user(user=request.user)
    # Before the dismissal's transaction: this may wait for the page's impressions.
    context = shown_course_of_page_view(
        member=member, page_view_id=page_view_id, course_id=course.pk
    )
    page_view_id = page_view_id if context is not None else None
    dismissal = course_dismiss(
        member=member, course=course, context=context, page_view_id=page_view_id
    )
    if request.htmx:
        return render(
            request,
            "recommendations/_dismissed_card.html",
            {"course": course, "dismissal": dismissal, "page_view_id": page_view_id},
        )
    messages.success(request, f"“{course.title}” won't be recommended to you again.")
    return redirect("recommendations:dismissed")


@login_required
@require_POST
def undo_dismiss(request: HttpRequest, dismissal_id: int) -> HttpResponse:
    valid, page_view_id = _posted_page_view(request)
    if not valid:
        return HttpResponseBadRequest("The card's page view id is malformed.")
    member = member_get_or_create_for_user(user=request.user)
    dismissal = dismissal_of_member(member=member, dismissal_id=dismissal_id)
    context = (
        shown_course_of_page_view(
            member=member, page_view_id=page_view_id, course_id=dismissal.course_id
        )
        if dismissal is not None
        else None
    )
    page_view_id = page_view_id if context is not None else None
    try:
        course = dismissal_undo(
            member=member, dismissal_id=dismissal_id, context=context, page_view_id=page_view_id
        )
    except Dismissal.DoesNotExist as missing:
        raise Http404("No such dismissal.") from missing
    if request.htmx:
        explanation = (
            shown_card_explanation(member=member, shown=context, course=course) if context else ""
        )
        return HttpResponse(
            card_render(
                request=request,
                course=course,
                page_view_id=page_view_id,
                explanation=explanation,
            )
        )
    messages.success(request, f"“{course.title}” can be recommended to you again.")
    return redirect("recommendations:dismissed")


@login_required
@require_GET
def dismissed_list(request: HttpRequest) -> HttpResponse:
    member = member_get_or_create_for_user(user=request.user)
    dismissals = dismissals_for_member(member=member)
    return render(request, "recommendations/dismissed.html", {"dismissals": dismissals})


@login_required
@require_GET
def click(request: HttpRequest, page_view_id, course_id: int) -> HttpResponse:
    course = _published_course_or_404(course_id)
    member = member_get_or_create_for_user(user=request.user)
    click_log(member=member, page_view_id=page_view_id, course=course)
    return redirect("web:course_detail", slug=course.slug)
