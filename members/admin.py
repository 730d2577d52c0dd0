from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework.authtoken.models import TokenProxy

from core.admin import CheckedModelAdmin
from members.models import (
    Bookmark,
    Enrolment,
    FollowedSkill,
    Industry,
    JobTitle,
    Member,
    MemberSkill,
)


@admin.register(JobTitle)
class JobTitleAdmin(CheckedModelAdmin):
    list_display = ["name", "onet_code"]
    search_fields = ["name", "onet_code"]


@admin.register(Industry)
class IndustryAdmin(CheckedModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


class MemberSkillInline(admin.TabularInline):
    model = MemberSkill
    extra = 0
    autocomplete_fields = ["skill"]
    fields = ["skill", "source", "weight", "created_at"]
    readonly_fields = ["created_at"]


class FollowedSkillInline(admin.TabularInline):
    model = FollowedSkill
    extra = 0
    autocomplete_fields = ["skill"]
    fields = ["skill", "followed_at"]
    readonly_fields = ["followed_at"]


class OnboardedFilter(admin.SimpleListFilter):
    title = "onboarded"
    parameter_name = "onboarded"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Member]) -> QuerySet[Member]:
        if self.value() == "yes":
            return queryset.filter(onboarded_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(onboarded_at__isnull=True)
        return queryset


@admin.register(Member)
class MemberAdmin(CheckedModelAdmin):
    list_display = ["user", "title", "industry", "seniority", "onboarded_at", "created_at"]
    list_filter = [OnboardedFilter, "seniority", "industry"]
    search_fields = ["user__username", "user__email", "title__name", "external_id"]
    list_select_related = ["user", "title", "industry"]
    autocomplete_fields = ["title", "industry"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at"]
    inlines = [MemberSkillInline, FollowedSkillInline]


@admin.register(MemberSkill)
class MemberSkillAdmin(CheckedModelAdmin):
    list_display = ["member", "skill", "source", "weight", "created_at"]
    list_filter = ["source"]
    search_fields = ["member__user__username", "skill__name"]
    list_select_related = ["member__user", "skill"]
    autocomplete_fields = ["skill"]
    raw_id_fields = ["member"]


@admin.register(FollowedSkill)
class FollowedSkillAdmin(CheckedModelAdmin):
    list_display = ["member", "skill", "followed_at"]
    list_filter = [("followed_at", admin.DateFieldListFilter)]
    search_fields = ["member__user__username", "skill__name"]
    list_select_related = ["member__user", "skill"]
    autocomplete_fields = ["skill"]
    raw_id_fields = ["member"]


class CompletedFilter(admin.SimpleListFilter):
    title = "completed"
    parameter_name = "completed"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Enrolment]) -> QuerySet[Enrolment]:
        if self.value() == "yes":
            return queryset.filter(completed_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(completed_at__isnull=True)
        return queryset


@admin.register(Enrolment)
class EnrolmentAdmin(CheckedModelAdmin):
    list_display = [
        "member",
        "course",
        "progress_percent",
        "enrolled_at",
        "last_watched_at",
        "completed_at",
    ]
    list_filter = [
        CompletedFilter,
        ("enrolled_at", admin.DateFieldListFilter),
        ("completed_at", admin.DateFieldListFilter),
    ]
    search_fields = ["member__user__username", "course__title", "course__slug"]
    list_select_related = ["member__user", "course"]
    raw_id_fields = ["member", "course"]
    date_hierarchy = "enrolled_at"


@admin.register(Bookmark)
class BookmarkAdmin(CheckedModelAdmin):
    list_display = ["member", "course", "created_at"]
    list_filter = [("created_at", admin.DateFieldListFilter)]
    search_fields = ["member__user__username", "course__title"]
    list_select_related = ["member__user", "course"]
    raw_id_fields = ["member", "course"]


# API tokens are members.ApiToken (stored hashed); DRF's plain-text token table stays installed
# only for the migration that emptied it, and its admin page would show an always-empty list.
admin.site.unregister(TokenProxy)
