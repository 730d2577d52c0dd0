from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from catalog.models import Category, Course, CourseSkill, Skill, SkillSynonym
from catalog.services import course_skills_review

APPROVED = CourseSkill.Status.APPROVED
PENDING = CourseSkill.Status.PENDING


def _record_review(request: HttpRequest, tag: CourseSkill, *, is_new: bool, changed: list[str]):
    """A curator who sets a tag's status by hand has reviewed it: record who and when."""
    if tag.status != PENDING and (is_new or "status" in changed):
        course_skills_review(tag_ids=[tag.pk], status=tag.status, reviewer=request.user)


def _ordered(queryset: QuerySet) -> QuerySet:
    # An aggregate annotation drops Meta.ordering (GROUP BY queries ignore it), which leaves the
    # autocomplete views paginating an unordered list.
    return queryset.order_by(*queryset.model._meta.ordering)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "skill_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return _ordered(super().get_queryset(request).annotate(skill_count=Count("skills")))

    @admin.display(description="skills", ordering="skill_count")
    def skill_count(self, obj: Category) -> int:
        return obj.skill_count


class SkillSynonymInline(admin.TabularInline):
    model = SkillSynonym
    extra = 1


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "course_count", "created_at"]
    list_filter = ["category"]
    list_select_related = ["category"]
    search_fields = ["name", "slug", "synonyms__name"]
    prepopulated_fields = {"slug": ["name"]}
    # Autocomplete rather than select boxes: the taxonomy has hundreds of skills and grows.
    autocomplete_fields = ["category", "related"]
    inlines = [SkillSynonymInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Skill]:
        approved = Count("course_tags", filter=Q(course_tags__status=APPROVED))
        return _ordered(super().get_queryset(request).annotate(course_count=approved))

    @admin.display(description="courses (approved tags)", ordering="course_count")
    def course_count(self, obj: Skill) -> int:
        return obj.course_count


class CourseSkillInline(admin.TabularInline):
    model = CourseSkill
    extra = 1
    autocomplete_fields = ["skill"]
    fields = ["skill", "source", "confidence", "status", "reviewed_by", "reviewed_at"]
    readonly_fields = ["reviewed_by", "reviewed_at"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "level", "teacher", "published_at", "approved_skill_count"]
    list_filter = ["level", "categories", "published_at"]
    search_fields = ["title", "description", "external_id"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "published_at"
    filter_horizontal = ["categories"]
    inlines = [CourseSkillInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Course]:
        approved = Count("skill_tags", filter=Q(skill_tags__status=APPROVED))
        return _ordered(super().get_queryset(request).annotate(approved_skill_count=approved))

    @admin.display(description="approved skills", ordering="approved_skill_count")
    def approved_skill_count(self, obj: Course) -> int:
        return obj.approved_skill_count

    def save_formset(self, request, form, formset, change) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model is not CourseSkill:
            return
        for inline_form in formset.forms:
            tag = inline_form.instance
            if tag.pk and inline_form.has_changed() and not inline_form.cleaned_data.get("DELETE"):
                is_new = "id" not in inline_form.initial
                _record_review(request, tag, is_new=is_new, changed=inline_form.changed_data)


@admin.register(CourseSkill)
class CourseSkillAdmin(admin.ModelAdmin):
    list_display = [
        "course",
        "skill",
        "source",
        "confidence",
        "status",
        "reviewed_by",
        "reviewed_at",
    ]
    list_filter = ["source", "status"]
    list_select_related = ["course", "skill", "reviewed_by"]
    search_fields = ["course__title", "skill__name"]
    autocomplete_fields = ["course", "skill"]
    readonly_fields = ["reviewed_by", "reviewed_at", "created_at"]
    actions = ["approve_selected", "reject_selected"]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        _record_review(request, obj, is_new=not change, changed=form.changed_data)

    def _review(self, request: HttpRequest, queryset: QuerySet[CourseSkill], status: str) -> None:
        tag_ids = list(queryset.values_list("pk", flat=True))
        updated = course_skills_review(tag_ids=tag_ids, status=status, reviewer=request.user)
        label = CourseSkill.Status(status).label.lower()
        self.message_user(request, f"{updated} tag(s) marked {label}.", messages.SUCCESS)

    @admin.action(description="Approve selected tags", permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[CourseSkill]) -> None:
        self._review(request, queryset, CourseSkill.Status.APPROVED)

    @admin.action(description="Reject selected tags", permissions=["change"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[CourseSkill]) -> None:
        self._review(request, queryset, CourseSkill.Status.REJECTED)


@admin.register(SkillSynonym)
class SkillSynonymAdmin(admin.ModelAdmin):
    list_display = ["name", "skill"]
    list_select_related = ["skill"]
    search_fields = ["name", "skill__name"]
    autocomplete_fields = ["skill"]
