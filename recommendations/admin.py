from django.contrib import admin

from recommendations.models import Dismissal, FeedbackEvent, TrainingRun


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


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "kind", "status", "is_active", "started_at", "duration_seconds"]
    list_filter = ["status", "kind", "is_active"]
    readonly_fields = [
        "kind",
        "status",
        "is_active",
        "params",
        "metrics",
        "message",
        "started_at",
        "finished_at",
        "duration_seconds",
    ]
    exclude = ["artifact"]

    def has_add_permission(self, request) -> bool:
        return False
