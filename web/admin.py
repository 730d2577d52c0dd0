"""The skills changelist with what only the site as a whole knows: members' counts per skill and
the merge action (which moves members' rows too). Replaces catalog's registration of Skill.

The members changelist with the account deletion (which deletes recommendations' rows and prunes
training runs too): replaces members' registration of Member.
"""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from catalog.admin import SkillAdmin as CatalogSkillAdmin
from catalog.models import Skill
from members.admin import MemberAdmin as MembersMemberAdmin
from members.models import Member
from members.selectors import skills_with_member_counts
from web.services import accounts_delete, skill_merge


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


class MemberAdmin(MembersMemberAdmin):
    actions = ["delete_accounts"]

    def get_actions(self, request: HttpRequest) -> dict:
        # Django's own "Delete selected" would delete the members but leave their users,
        # sessions, login records and training runs: the action below does all of it.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_model(self, request: HttpRequest, obj: Member) -> None:
        # The change page's "Delete" button goes the same way as the action.
        accounts_delete(users=[obj.user])

    @admin.action(
        description="Delete the selected accounts and all their data…", permissions=["delete"]
    )
    def delete_accounts(
        self, request: HttpRequest, queryset: QuerySet[Member]
    ) -> HttpResponse | None:
        members = list(queryset.select_related("user").order_by("user__username"))
        refused = [
            member
            for member in members
            if member.user_id == request.user.pk
            or (member.user.is_superuser and not request.user.is_superuser)
        ]
        if refused:
            names = ", ".join(member.user.get_username() for member in refused)
            self.message_user(
                request,
                f"Not deleted: {names} (your own account, or a superuser's, which only a "
                "superuser may delete).",
                messages.ERROR,
            )
            return None
        if request.POST.get("confirm") == "yes":
            deleted = accounts_delete(users=[member.user for member in members])
            self.message_user(
                request,
                f"Deleted {deleted.accounts} account(s) with all their data; "
                f"{deleted.training_runs_pruned} training run(s) pruned.",
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Delete accounts",
            "opts": self.model._meta,
            "members": members,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/members/member/delete_accounts_confirmation.html", context
        )


admin.site.unregister(Member)
admin.site.register(Member, MemberAdmin)
