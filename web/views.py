"""The pages that compose several apps: the homepage, the course list, the course page, the
skill page, "My goal", and the member's data download and account deletion."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from catalog import selectors as catalog_selectors
from catalog.forms import CourseFilterForm
from catalog.models import Course
from core.response_cycles import template_render
from members.forms import GoalForm
from members.selectors import (
    learning_paths_followed,
    skill_followed_by_member,
)
from members.services import member_get_or_create_for_user
from recommendations.models import PageView, PeoplePageView
from recommendations.people.services import people_page_view_log
from recommendations.people.serving import people_for_member, people_good_matches
from recommendations.serving.deferred import (
    impressions_log_after_response,
    next_page_compose_after_response,
)
from recommendations.serving.goal import goal_for_member
from recommendations.serving.home_page import home_page_for_visitor, home_page_serve
from recommendations.serving.personal_order import search_results_for_member
from recommendations.serving.rendering import carousels_render
from web.api import export_response
from web.course_page import course_page_read
from web.forms import AccountDeleteForm
from web.services import accounts_delete


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
    if member is not None and member.discoverable:
        # People to learn with: no query at all for a member who is not discoverable.
        people = people_good_matches(
            people_for_member(
                member=member, limit=settings.RECOMMENDATIONS["PEOPLE_PAGE_SHOWN"], details=False
            )
        )
        context["people"] = people
        context["people_page_view_id"] = people_page_view_log(
            member=member,
            surface=PeoplePageView.Surface.HOME,
            shown=[person.member_id for person in people],
        )
    response = template_render(request, "recommendations/home.html", context)
    if member is not None:
        impressions_log_after_response(
            response,
            member=member,
            page_view_id=page.page_view_id,
            shown=page.shown,
            channel=PageView.Channel.WEB,
        )
        next_page_compose_after_response(response, member=member, served=page)
    return response


@require_safe
def course_list(request: HttpRequest) -> HttpResponse:
    """The catalog's search and filters (`catalog.selectors.courses_search`); a signed-in
    member's results by relevance are re-ordered for them among results of similar relevance."""
    form = CourseFilterForm(request.GET)
    if form.is_valid():
        data = form.cleaned_data
        courses = catalog_selectors.courses_search(
            query=data["q"],
            skill=data["skill"],
            category=data["category"],
            level=data["level"] or None,
            sort=data["sort"],
        )
        if request.user.is_authenticated and data["q"].strip() and data["sort"] == "relevance":
            courses = search_results_for_member(
                member=member_get_or_create_for_user(user=request.user), results=courses
            )
    else:
        # Showing unfiltered results under a filter the learner mistyped would misstate what
        # they are looking at; the form's errors say what to fix.
        courses = Course.objects.none()
    page = Paginator(courses, settings.CATALOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return template_render(request, "catalog/course_list.html", {"form": form, "page": page})


@require_safe
def course_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The course, the member's activity panel and similar courses (`web.course_page`)."""
    member = (
        member_get_or_create_for_user(user=request.user) if request.user.is_authenticated else None
    )
    page = course_page_read(slug=slug, member=member, include_unpublished=request.user.is_staff)
    if page is None:
        raise Http404("No such course.")
    context = {
        "course": page.course,
        "categories": page.categories,
        "skills": page.skills,
        "member": member,
        "activity": page.activity,
        "similar": page.similar,
    }
    return template_render(request, "catalog/course_detail.html", context)


@require_safe
def skill_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The skill, its courses, and the member's Follow or Unfollow button (a visitor's sign-in
    link); the button posts to `members:skill_follow` / `members:skill_unfollow`."""
    skill = catalog_selectors.skill_get_by_slug(slug=slug)
    if skill is None:
        raise Http404("No such skill.")
    courses = catalog_selectors.courses_for_skill(skill=skill)
    following = None
    if request.user.is_authenticated:
        member = member_get_or_create_for_user(user=request.user)
        following = skill_followed_by_member(member=member, skill=skill)
    context = {
        "skill": skill,
        "page": Paginator(courses, settings.CATALOG_PAGE_SIZE).get_page(request.GET.get("page")),
        "following": following,
    }
    return template_render(request, "catalog/skill_detail.html", context)


@login_required
@require_safe
def goal(request: HttpRequest) -> HttpResponse:
    """ "My goal": the member's goal role, the skills it needs (covered and to learn), the path
    planned toward it (`recommendations.serving.goal`, the plan the homepage's "Toward"
    carousel shows) and the curated paths they follow with their progress."""
    member = member_get_or_create_for_user(user=request.user)
    context = {
        "member": member,
        "overview": goal_for_member(member=member),
        "followed_paths": learning_paths_followed(member=member),
        "goal_form": GoalForm(initial={"goal": member.goal_text}),
    }
    return render(request, "web/goal.html", context)


@login_required
@require_safe
def account_export(request: HttpRequest) -> StreamingHttpResponse:
    """ "Download my data": the signed-in member's data as one JSON file (`web.selectors`)."""
    return export_response(request, member=member_get_or_create_for_user(user=request.user))


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    """ "Delete my account": a page that says what goes and asks for the password; the post
    deletes the account (`web.services.accounts_delete`) and signs the browser out."""
    form = AccountDeleteForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        accounts_delete(users=[request.user])
        logout(request)
        messages.success(request, "Your account and everything we held about you are deleted.")
        return redirect("home")
    return render(request, "web/account_delete.html", {"form": form})
