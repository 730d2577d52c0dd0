from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path
from django_q.tasks import async_task

from catalog.tagging.chart import line_chart
from recommendations.models import (
    Dismissal,
    FeedbackEvent,
    MemberRecommendations,
    TrainingRun,
)
from recommendations.pipeline import training_run_activate


@admin.register(Dismissal)
class DismissalAdmin(admin.ModelAdmin):
    list_display = ["member", "course", "created_at"]
    search_fields = ["member__user__username", "course__title"]
    date_hierarchy = "created_at"
    raw_id_fields = ["member", "course"]


@admin.register(FeedbackEvent)
class FeedbackEventAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "member",
        "course",
        "reason",
        "reason_key",
        "carousel_position",
        "position",
    ]
    list_filter = ["kind", "reason", "strategy"]
    search_fields = ["member__user__username", "course__title", "reason_key"]
    date_hierarchy = "created_at"
    raw_id_fields = ["member", "course"]
    list_select_related = ["member__user", "course"]
    show_full_result_count = False


def _metric(run: TrainingRun, model: str, name: str) -> str:
    value = (run.metrics or {}).get(model, {}).get(name)
    return "—" if value is None else f"{value:.4f}"


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "kind",
        "status",
        "is_active",
        "started_at",
        "duration",
        "als_ndcg",
        "popularity_ndcg",
        "precomputed",
        "short_message",
    ]
    list_filter = ["status", "kind", "is_active", "trigger"]
    readonly_fields = [
        "kind",
        "status",
        "is_active",
        "trigger",
        "message",
        "params",
        "metrics",
        "started_at",
        "finished_at",
        "duration_seconds",
        "precompute_shards",
        "precompute_shards_done",
        "precomputed_at",
    ]
    exclude = ["artifact", "model_artifact"]
    actions = ["activate_run"]
    change_list_template = "admin/recommendations/trainingrun/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).defer("artifact", "model_artifact")

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="seconds")
    def duration(self, run: TrainingRun) -> str:
        return "—" if run.duration_seconds is None else f"{run.duration_seconds:.1f}"

    @admin.display(description="ALS NDCG@10")
    def als_ndcg(self, run: TrainingRun) -> str:
        return _metric(run, "als", "ndcg")

    @admin.display(description="popularity NDCG@10")
    def popularity_ndcg(self, run: TrainingRun) -> str:
        return _metric(run, "popularity", "ndcg")

    @admin.display(description="precompute")
    def precomputed(self, run: TrainingRun) -> str:
        if not run.precompute_shards:
            return "—"
        return f"{run.precompute_shards_done}/{run.precompute_shards} shards"

    @admin.display(description="message")
    def short_message(self, run: TrainingRun) -> str:
        return run.message[:120]

    @admin.action(description="Activate the selected run (rollback)")
    def activate_run(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one run to activate.", messages.ERROR)
            return
        run = queryset.get()
        try:
            training_run_activate(run=run)
        except ValueError as refused:
            self.message_user(request, str(refused), messages.ERROR)
            return
        self.message_user(
            request,
            f"Run {run.pk} is active; members' rows are being recomputed.",
            messages.SUCCESS,
        )

    def get_urls(self):
        return [
            path(
                "retrain/",
                self.admin_site.admin_view(self.retrain_view),
                name="recommendations_trainingrun_retrain",
            ),
            *super().get_urls(),
        ]

    def retrain_view(self, request):
        if request.method != "POST" or not self.has_change_permission(request):
            raise PermissionDenied
        async_task("recommendations.tasks.retrain", "admin")
        self.message_user(
            request,
            "Retrain queued: a worker (make worker) picks it up; refresh this page to follow it.",
            messages.SUCCESS,
        )
        return redirect("admin:recommendations_trainingrun_changelist")

    def changelist_view(self, request, extra_context=None):
        runs = list(
            TrainingRun.objects.filter(status=TrainingRun.Status.SUCCEEDED, kind="learned")
            .order_by("started_at")
            .only("pk", "started_at", "metrics")
        )[-30:]
        chart = None
        if len(runs) >= 1:
            chart = line_chart(
                series={
                    "als hit rate": [r.metrics["als"]["hit_rate"] for r in runs],
                    "popularity hit rate": [r.metrics["popularity"]["hit_rate"] for r in runs],
                    "als ndcg": [r.metrics["als"]["ndcg"] for r in runs],
                },
                x_labels=[f"#{r.pk}" for r in runs],
            )
        return super().changelist_view(
            request, extra_context={**(extra_context or {}), "chart": chart}
        )


@admin.register(MemberRecommendations)
class MemberRecommendationsAdmin(admin.ModelAdmin):
    list_display = ["member", "run", "computed_at"]
    raw_id_fields = ["member"]
    search_fields = ["member__user__username"]
    exclude = ["payload"]
    readonly_fields = ["member", "run", "computed_at"]

    def has_add_permission(self, request) -> bool:
        return False
