from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST, require_safe

from catalog.models import Course
from members.services import member_get_or_create_for_user
from recommendations.after_response import impressions_log_after_response
from recommendations.experiments import home_page_serve
from recommendations.forms import CardContextForm
from recommendations.models import Dismissal
from recommendations.rendering import card_render, carousels_render
from recommendations.selectors import (
    dismissals_for_member,
    home_page_for_visitor,
)
from recommendations.services import (
    ShownCourse,
    click_log,
    course_dismiss,
    dismissal_undo,
)


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        member = member_get_or_create_for_user(user=request.user)
        page = home_page_serve(member=member)
    else:
        member = None
        page = home_page_for_visitor()
    context = {
        "page": page,
        "member": member,
        "carousels_html": carousels_render(request=request, page=page),
    }
    response = render(request, "recommendations/home.html", context)
    if member is not None:
        impressions_log_after_response(
            response, member=member, page_view_id=page.page_view_id, shown=page.shown
        )
    return response


def _card_context(request: HttpRequest) -> tuple[ShownCourse | None, object, dict] | None:
    """Parse the posted card context; None when it is malformed."""
    form = CardContextForm(request.POST)
    if not form.is_valid():
        return None
    data = form.cleaned_data
    context = None
    if data["reason"] and data["carousel_position"] is not None and data["position"] is not None:
        context = ShownCourse(
            course_id=0,
            reason=data["reason"],
            reason_key=data["reason_key"] or data["reason"],
            strategy=data["strategy"] or "",
            carousel_position=data["carousel_position"],
            position=data["position"],
        )
    return context, data["page_view_id"], data


@login_required
@require_POST
def dismiss(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_object_or_404(Course, pk=course_id)
    parsed = _card_context(request)
    if parsed is None:
        return HttpResponseBadRequest("The card's context is malformed.")
    context, page_view_id, data = parsed
    member = member_get_or_create_for_user(user=request.user)
    dismissal = course_dismiss(
        member=member, course=course, context=context, page_view_id=page_view_id
    )
    if request.htmx:
        return render(
            request,
            "recommendations/_dismissed_card.html",
            {"course": course, "dismissal": dismissal, "context": data},
        )
    messages.success(request, f"“{course.title}” won't be recommended to you again.")
    return redirect("recommendations:dismissed")


@login_required
@require_POST
def undo_dismiss(request: HttpRequest, dismissal_id: int) -> HttpResponse:
    parsed = _card_context(request)
    if parsed is None:
        return HttpResponseBadRequest("The card's context is malformed.")
    context, page_view_id, _ = parsed
    member = member_get_or_create_for_user(user=request.user)
    try:
        course = dismissal_undo(
            member=member, dismissal_id=dismissal_id, context=context, page_view_id=page_view_id
        )
    except Dismissal.DoesNotExist as missing:
        raise Http404("No such dismissal.") from missing
    if request.htmx:
        return HttpResponse(
            card_render(request=request, course=course, shown=context, page_view_id=page_view_id)
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
    course = get_object_or_404(Course, pk=course_id)
    member = member_get_or_create_for_user(user=request.user)
    click_log(member=member, page_view_id=page_view_id, course=course)
    return redirect("catalog:course_detail", slug=course.slug)
