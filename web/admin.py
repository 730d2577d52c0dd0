"""The skills changelist with what only the site as a whole knows: members' counts per skill and
the merge action (which moves members' rows too). Replaces catalog's registration of Skill.
"""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from catalog.admin import SkillAdmin as CatalogSkillAdmin
from catalog.models import Skill
from members.selectors import skills_with_member_counts
from web.services import skill_merge


class SkillAdmin(CatalogSkillAdmin):
    list_display = [
        "name",
        "category",
        "course_count",
        "follower_count",
        "member_count",
        "created_at",
    ]
    actions = ["merge_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Skill]:
        return skills_with_member_counts(skills=super().get_queryset(request))

    @admin.display(description="followers", ordering="follower_count")
    def follower_count(self, obj: Skill) -> int:
        return obj.follower_count

    @admin.display(description="members (profile)", ordering="member_count")
    def member_count(self, obj: Skill) -> int:
        return obj.member_count

    @admin.action(description="Merge the two selected skills…", permissions=["change", "delete"])
    def merge_selected(
        self, request: HttpRequest, queryset: QuerySet[Skill]
    ) -> HttpResponse | None:
        skills = list(queryset.order_by("name"))
        if len(skills) != 2:
            self.message_user(request, "Select exactly two skills to merge.", messages.ERROR)
            return None
        by_pk = {str(skill.pk): skill for skill in skills}
        survivor_pk = request.POST.get("survivor")
        if request.POST.get("confirm") == "yes" and survivor_pk in by_pk:
            survivor = by_pk.pop(survivor_pk)
            merged = next(iter(by_pk.values()))
            result = skill_merge(survivor=survivor, merged=merged, actor=request.user)
            self.message_user(
                request,
                f"Merged {merged.name!r} into {survivor.name!r}: "
                f"{result.course_tags_moved + result.course_tags_combined} course tag(s), "
                f"{result.follows_moved + result.follows_combined} follow(s), "
                f"{result.profile_skills_moved + result.profile_skills_combined} profile "
                f"skill(s), "
                f"{result.occupation_skills_moved + result.occupation_skills_combined} "
                f"occupation skill(s) now on {survivor.name!r}.",
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Merge skills",
            "opts": self.model._meta,
            "skills": skills,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "survivor_missing": request.POST.get("confirm") == "yes",
        }
        return TemplateResponse(request, "admin/catalog/skill/merge_confirmation.html", context)


admin.site.unregister(Skill)
admin.site.register(Skill, SkillAdmin)
