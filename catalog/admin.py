from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from catalog.models import (
    Category,
    Course,
    CourseSkill,
    LearningPath,
    LearningPathStep,
    Skill,
    SkillSynonym,
    TaggerEvaluation,
    TagSuggestion,
    TaxonomyOverview,
)
from catalog.selectors import skills_with_tag_counts, taxonomy_overview
from catalog.services import course_skills_review
from core.admin import CheckedModelAdmin
from core.charts import line_chart
from core.inputs import IdConverter  # noqa: F401  (registers the <id:...> path converter)

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
class CategoryAdmin(CheckedModelAdmin):
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
class SkillAdmin(CheckedModelAdmin):
    list_display = [
        "name",
        "category",
        "course_count",
        "created_at",
    ]
    list_filter = ["category"]
    list_select_related = ["category"]
    search_fields = ["name", "slug", "synonyms__name"]
    prepopulated_fields = {"slug": ["name"]}
    # Autocomplete rather than select boxes: the taxonomy has hundreds of skills and grows.
    autocomplete_fields = ["category", "related"]
    inlines = [SkillSynonymInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Skill]:
        return skills_with_tag_counts(skills=super().get_queryset(request))

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
class CourseAdmin(CheckedModelAdmin):
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


class LearningPathStepInline(admin.TabularInline):
    model = LearningPathStep
    extra = 3
    autocomplete_fields = ["course"]
    fields = ["position", "course"]
    ordering = ["position"]


@admin.register(LearningPath)
class LearningPathAdmin(CheckedModelAdmin):
    """Curated paths: a title and the courses in order (position 1 first)."""

    list_display = ["title", "is_published", "step_count", "created_at"]
    list_filter = ["is_published"]
    search_fields = ["title", "slug", "description"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [LearningPathStepInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[LearningPath]:
        return super().get_queryset(request).annotate(step_count=Count("steps"))

    @admin.display(description="courses", ordering="step_count")
    def step_count(self, obj: LearningPath) -> int:
        return obj.step_count


@admin.register(CourseSkill)
class CourseSkillAdmin(CheckedModelAdmin):
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
class SkillSynonymAdmin(CheckedModelAdmin):
    list_display = ["name", "skill"]
    list_select_related = ["skill"]
    search_fields = ["name", "skill__name"]
    autocomplete_fields = ["skill"]


@admin.register(TagSuggestion)
class TagSuggestionAdmin(CheckedModelAdmin):
    """The review queue: pending tagger and model suggestions, most confident first."""

    # The decision next to what it is about: the admin's sidebars leave the table little room.
    list_display = ["course", "skill", "review_buttons", "confidence", "source", "created_at"]
    list_filter = ["source"]
    list_select_related = ["course", "skill"]
    search_fields = ["course__title", "skill__name"]
    ordering = ["-confidence", "course_id", "skill_id"]
    actions = ["approve_selected", "reject_selected"]
    readonly_fields = ["course", "skill", "source", "confidence", "status", "created_at"]
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Suggestions come from the tagger; a curator's own tag is added on the course.
        return False

    def get_urls(self):
        review = self.admin_site.admin_view(self.review_view)
        return [
            path(
                "<id:pk>/<str:decision>/",
                review,
                name="catalog_tagsuggestion_review",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="review")
    def review_buttons(self, obj: TagSuggestion) -> str:
        # `formaction` buttons post through the changelist form (and its CSRF token): a form of
        # their own cannot sit inside it.
        return format_html(
            '<button type="submit" class="button" formaction="{}" formmethod="post">Approve'
            '</button> <button type="submit" class="button" formaction="{}" '
            'formmethod="post">Reject</button>',
            reverse("admin:catalog_tagsuggestion_review", args=[obj.pk, "approve"]),
            reverse("admin:catalog_tagsuggestion_review", args=[obj.pk, "reject"]),
        )

    def review_view(self, request: HttpRequest, pk: int, decision: str) -> HttpResponse:
        statuses = {"approve": CourseSkill.Status.APPROVED, "reject": CourseSkill.Status.REJECTED}
        if request.method != "POST" or decision not in statuses:
            return HttpResponse(status=405 if decision in statuses else 404)
        if not self.has_change_permission(request):
            raise PermissionDenied
        tag = get_object_or_404(TagSuggestion, pk=pk)
        course_skills_review(tag_ids=[tag.pk], status=statuses[decision], reviewer=request.user)
        label = CourseSkill.Status(statuses[decision]).label.lower()
        self.message_user(request, f"{tag.skill} on {tag.course}: {label}.", messages.SUCCESS)
        changelist = reverse("admin:catalog_tagsuggestion_changelist")
        preserved = request.GET.urlencode()
        return HttpResponseRedirect(f"{changelist}?{preserved}" if preserved else changelist)

    def _review(self, request: HttpRequest, queryset: QuerySet[CourseSkill], status: str) -> None:
        tag_ids = list(queryset.values_list("pk", flat=True))
        updated = course_skills_review(tag_ids=tag_ids, status=status, reviewer=request.user)
        label = CourseSkill.Status(status).label.lower()
        self.message_user(request, f"{updated} suggestion(s) marked {label}.", messages.SUCCESS)

    @admin.action(description="Approve selected suggestions", permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[CourseSkill]) -> None:
        self._review(request, queryset, CourseSkill.Status.APPROVED)

    @admin.action(description="Reject selected suggestions", permissions=["change"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[CourseSkill]) -> None:
        self._review(request, queryset, CourseSkill.Status.REJECTED)


@admin.register(TaggerEvaluation)
class TaggerEvaluationAdmin(CheckedModelAdmin):
    list_display = ["created_at", "threshold", "max_per_course", "precision", "recall", "f1"]
    readonly_fields = ["created_at", "params", "metrics"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Evaluations are measurements: `tag_courses --evaluate` writes them.
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def _headline(self, obj: TaggerEvaluation, key: str) -> str:
        value = obj.metrics.get("combined", {}).get("at_threshold", {}).get(key)
        return "—" if value is None else f"{value:.1%}"

    @admin.display(description="threshold")
    def threshold(self, obj: TaggerEvaluation) -> str:
        value = obj.metrics.get("operating_point", {}).get("threshold")
        return "—" if value is None else f"{value:.3f}"

    @admin.display(description="suggestions per course (at most)")
    def max_per_course(self, obj: TaggerEvaluation) -> str:
        point = obj.metrics.get("operating_point")
        if point is None:
            return "—"
        return str(point.get("max_per_course") or "no limit")

    @admin.display(description="precision (combined)")
    def precision(self, obj: TaggerEvaluation) -> str:
        return self._headline(obj, "precision")

    @admin.display(description="recall (combined)")
    def recall(self, obj: TaggerEvaluation) -> str:
        return self._headline(obj, "recall")

    @admin.display(description="F1 (combined)")
    def f1(self, obj: TaggerEvaluation) -> str:
        return self._headline(obj, "f1")


@admin.register(TaxonomyOverview)
class TaxonomyOverviewAdmin(CheckedModelAdmin):
    """A read-only page for every staff member: the changelist is the overview itself."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        overview = taxonomy_overview(min_skills=settings.TAGGER["COVERAGE_MIN_SKILLS"])
        history = overview.history
        chart = line_chart(
            series={
                "precision": [point.precision for point in history],
                "recall": [point.recall for point in history],
            },
            x_labels=[f"{point.created_at:%Y-%m-%d}" for point in history],
        )
        latest = overview.latest
        context = {
            **self.admin_site.each_context(request),
            "title": "Taxonomy overview",
            "opts": self.model._meta,
            "overview": overview,
            "chart": chart if history else None,
            "latest_params": latest.params if latest else {},
            "latest_rows": _evaluation_rows(latest) if latest else [],
            "latest_point": latest.metrics.get("operating_point") if latest else None,
            "latest_fallback": latest.metrics.get("fallback_reason") if latest else "",
        }
        return TemplateResponse(request, "admin/catalog/taxonomy_overview.html", context)


def _evaluation_rows(evaluation: TaggerEvaluation) -> list[dict]:
    """One table row per tagger variant in an evaluation, for the overview page."""
    metrics = evaluation.metrics
    variants = [("Name matching alone", metrics.get("stage1", {}))]
    variants.append(
        (f"Tagger ({evaluation.params.get('model', '?')})", metrics.get("combined", {}))
    )
    rows = []
    top_key = f"top_{evaluation.params.get('top_k', 5)}"
    for label, values in variants:
        rows.append(
            {
                "label": label,
                "at_threshold": values.get("at_threshold", {}),
                "top_k": values.get(top_key, {}),
                "skill_coverage": values.get("skill_coverage"),
            }
        )
    return rows
