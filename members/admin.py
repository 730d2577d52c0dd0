from django.contrib import admin
from django.db.models import OuterRef, QuerySet
from django.db.models.functions import Lower
from django.http import HttpRequest
from rest_framework.authtoken.models import TokenProxy

from core.admin import CheckedModelAdmin
from core.queries import SubqueryCount
from members.models import (
    AlternateTitle,
    Bookmark,
    Enrolment,
    FollowedPath,
    FollowedSkill,
    Industry,
    JobTitle,
    Member,
    MemberSkill,
    OccupationSkill,
)


@admin.register(JobTitle)
class JobTitleAdmin(CheckedModelAdmin):
    list_display = ["name", "onet_code"]
    search_fields = ["name", "onet_code"]


class SharedTitleFilter(admin.SimpleListFilter):
    """Alternate titles O*NET gives several occupations ("Analyst"): a member typing one is
    matched to the occupation whose own titles are closest to it (members/README.md)."""

    title = "shared by several occupations"
    parameter_name = "shared"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[AlternateTitle]
    ) -> QuerySet[AlternateTitle]:
        if self.value() not in ("yes", "no"):
            return queryset
        others = AlternateTitle.objects.annotate(lower=Lower("name")).filter(
            lower=Lower(OuterRef("name"))
        )
        queryset = queryset.annotate(holders=SubqueryCount(others))
        return (
            queryset.filter(holders__gt=1) if self.value() == "yes" else queryset.filter(holders=1)
        )


@admin.register(AlternateTitle)
class AlternateTitleAdmin(CheckedModelAdmin):
    list_display = ["name", "job_title", "occupation_code"]
    list_filter = [SharedTitleFilter]
    search_fields = ["name", "job_title__name", "job_title__onet_code"]
    list_select_related = ["job_title"]
    autocomplete_fields = ["job_title"]
    ordering = [Lower("name"), "job_title__name"]

    @admin.display(description="O*NET code", ordering="job_title__onet_code")
    def occupation_code(self, obj: AlternateTitle) -> str:
        return obj.job_title.onet_code


@admin.register(OccupationSkill)
class OccupationSkillAdmin(CheckedModelAdmin):
    list_display = ["job_title", "skill", "hot", "weight"]
    list_filter = ["hot", ("skill__category", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["job_title__name", "job_title__onet_code", "skill__name"]
    list_select_related = ["job_title", "skill"]
    autocomplete_fields = ["job_title", "skill"]
    ordering = ["job_title__name", "-weight"]


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


class FollowedPathInline(admin.TabularInline):
    model = FollowedPath
    extra = 0
    autocomplete_fields = ["path"]
    fields = ["path", "followed_at"]


@admin.register(FollowedPath)
class FollowedPathAdmin(CheckedModelAdmin):
    list_display = ["member", "path", "followed_at"]
    search_fields = ["member__user__username", "path__title"]
    list_select_related = ["member__user", "path"]
    autocomplete_fields = ["path"]
    raw_id_fields = ["member"]


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
    list_display = [
        "user",
        "title",
        "industry",
        "seniority",
        "goal",
        "onboarded_at",
        "created_at",
    ]
    list_filter = [OnboardedFilter, "seniority", "industry"]
    search_fields = ["user__username", "user__email", "title__name", "external_id"]
    list_select_related = ["user", "title", "industry", "goal"]
    autocomplete_fields = ["title", "industry", "goal"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at"]
    inlines = [MemberSkillInline, FollowedSkillInline, FollowedPathInline]


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
