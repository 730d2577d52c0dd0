"""The pages that compose several apps: the homepage and the course page."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from catalog import selectors as catalog_selectors
from members.selectors import course_activity_for_member
from members.services import member_get_or_create_for_user
from recommendations.serving.deferred import (
    impressions_log_after_response,
    next_page_compose_after_response,
)
from recommendations.serving.home_page import home_page_for_visitor, home_page_serve
from recommendations.serving.rendering import carousels_render
from recommendations.serving.similar import courses_similar

# Similar courses under a course page.
SIMILAR_SHOWN = 6


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        member = member_get_or_create_for_user(user=request.user)
        page = home_page_serve(member=member, reuse_composed=True, mark_pending=True)
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
        next_page_compose_after_response(response, member=member)
    return response


@require_safe
def course_detail(request: HttpRequest, slug: str) -> HttpResponse:
    course = catalog_selectors.course_get_by_slug(
        slug=slug, include_unpublished=request.user.is_staff
    )
    if course is None:
        raise Http404("No such course.")
    member = (
        member_get_or_create_for_user(user=request.user) if request.user.is_authenticated else None
    )
    context = {
        "course": course,
        "skills": catalog_selectors.course_approved_skills(course=course),
        "member": member,
        "activity": course_activity_for_member(member=member, course=course) if member else None,
        "similar": [item.course for item in courses_similar(course=course, limit=SIMILAR_SHOWN)],
    }
    return render(request, "catalog/course_detail.html", context)
