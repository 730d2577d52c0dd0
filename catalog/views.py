from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from catalog import selectors
from catalog.forms import SkillSearchForm

SKILL_SEARCH_LIMIT = 20


@require_safe
def skill_list(request: HttpRequest) -> HttpResponse:
    form = SkillSearchForm(request.GET)
    valid = form.is_valid()
    query = form.cleaned_data["q"] if valid else ""
    context = {
        "form": form,
        "query": query,
        "skills": selectors.skills_with_course_counts(query=query) if valid else [],
    }
    return render(request, "catalog/skill_list.html", context)


@require_safe
def skill_search(request: HttpRequest) -> HttpResponse:
    """htmx partial: `<li>` items of skills matching `q`, for search-as-you-type."""
    form = SkillSearchForm(request.GET)
    if not form.is_valid():
        return render(
            request, "catalog/_skill_search_results.html", {"skills": [], "query": ""}, status=400
        )
    context = {
        "skills": selectors.skills_search(query=form.cleaned_data["q"], limit=SKILL_SEARCH_LIMIT),
        "query": form.cleaned_data["q"],
        "follow": form.cleaned_data["mode"] == "follow",
    }
    return render(request, "catalog/_skill_search_results.html", context)
