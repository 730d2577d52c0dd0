import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django_q.tasks import async_task

from core.admin import CheckedModelAdmin
from core.charts import line_chart
from core.inputs import IdConverter  # noqa: F401  (registers the <id:...> path converter)
from recommendations.digest.selectors import digest_weeks
from recommendations.experiments.assignment import experiment_variants_problems
from recommendations.experiments.results import experiment_results
from recommendations.feedback.page_views import page_view_cards
from recommendations.feedback.selectors import channel_weeks
from recommendations.models import (
    DigestItem,
    DigestSend,
    Dismissal,
    Experiment,
    ExperimentAssignment,
    ExperimentVariant,
    FeedbackEvent,
    MemberRecommendations,
    PageView,
    PersonHidden,
    PersonSuggestion,
    TrainingRun,
)
from recommendations.training.runs import training_run_activate


@admin.register(Dismissal)
class DismissalAdmin(CheckedModelAdmin):
    list_display = ["member", "course", "created_at"]
    search_fields = ["member__user__username", "course__title"]
    date_hierarchy = "created_at"
    raw_id_fields = ["member", "course"]


@admin.register(FeedbackEvent)
class FeedbackEventAdmin(CheckedModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "member",
        "course",
        "reason",
        "reason_key",
        "carousel_position",
        "position",
        "strategy",
        "variant",
    ]
    list_filter = ["kind", "reason", "strategy", "variant__experiment"]
    search_fields = ["member__user__username", "course__title", "reason_key"]
    date_hierarchy = "created_at"
    raw_id_fields = ["member", "course", "variant"]
    list_select_related = ["member__user", "course", "variant__experiment"]
    show_full_result_count = False


@admin.register(PageView)
class PageViewAdmin(CheckedModelAdmin):
    """Read-only: a page view is what the member was shown."""

    list_display = ["created_at", "member", "channel", "variant", "recommended"]
    list_filter = ["channel", "variant__experiment"]
    search_fields = ["member__user__username"]
    date_hierarchy = "created_at"
    list_select_related = ["member__user", "variant__experiment"]
    fields = ["id", "member", "created_at", "channel", "variant", "recommended", "shown_cards"]
    readonly_fields = fields
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Cards (slot: course, reason key, strategy, carousel/position)")
    def shown_cards(self, obj: PageView) -> str:
        cards = page_view_cards(
            courses=obj.courses, slots=obj.slots, labels=obj.labels, variant_id=obj.variant_id
        )
        return format_html_join(
            "\n",
            "<div>{}: course {}, {}, {}, {}/{}</div>",
            (
                (
                    slot,
                    c.course_id,
                    c.reason_key or c.reason,
                    c.strategy,
                    c.carousel_position,
                    c.position,
                )
                for slot, c in enumerate(cards)
            ),
        )


def _number(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _search_cell(search: dict | None) -> str:
    if not search:
        return "—"
    return (
        f"NDCG {search['ndcg']:.4f} on the search's validation; {search['trials']} trials "
        f"({search['pruned']} pruned), {search['seconds']:.1f} s"
    )


def _model_metrics(run: TrainingRun, model: str) -> dict:
    """A run's held-out metrics of `model`. Runs trained before model families were chosen per
    data set stored the learned model's under "als"."""
    metrics = run.metrics or {}
    if model == "learned" and "learned" not in metrics:
        return metrics.get("als") or {}
    return metrics.get(model) or {}


def _metric(run: TrainingRun, model: str, name: str) -> str:
    value = _model_metrics(run, model).get(name)
    return "—" if value is None else f"{value:.4f}"


@admin.register(TrainingRun)
class TrainingRunAdmin(CheckedModelAdmin):
    list_display = [
        "pk",
        "kind",
        "status",
        "is_active",
        "started_at",
        "duration",
        "family",
        "learned_ndcg",
        "popularity_ndcg",
        "searched",
        "ranker_auc",
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
        "families_table",
        "params",
        "metrics",
        "started_at",
        "finished_at",
        "duration_seconds",
        "precompute_shards",
        "precompute_shards_done",
        "precomputed_at",
    ]
    exclude = ["artifact", "model_artifact", "ranker_artifact"]
    actions = ["activate_run", "retrain_with_search"]
    change_list_template = "admin/recommendations/trainingrun/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).defer("artifact", "model_artifact", "ranker_artifact")

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="seconds")
    def duration(self, run: TrainingRun) -> str:
        return "—" if run.duration_seconds is None else f"{run.duration_seconds:.1f}"

    @admin.display(description="family")
    def family(self, run: TrainingRun) -> str:
        return (run.metrics or {}).get("family") or "—"

    @admin.display(description="learned NDCG@10")
    def learned_ndcg(self, run: TrainingRun) -> str:
        return _metric(run, "learned", "ndcg")

    @admin.display(description="search")
    def searched(self, run: TrainingRun) -> str:
        search = (run.metrics or {}).get("search") or {}
        if not search:
            return "—"
        return "searched" if search.get("ran") else "refit"

    @admin.display(description="model families on the held-out split")
    def families_table(self, run: TrainingRun):
        """Each family's held-out metrics (fitted on the training part), the chosen one first,
        with its search (trials, pruned, seconds) when this run searched."""
        metrics = run.metrics or {}
        families = metrics.get("families") or {}
        if not families:
            return "—"
        searched = (metrics.get("search") or {}).get("families") or {}
        chosen = metrics.get("family")
        rows = sorted(families.items(), key=lambda item: (item[0] != chosen, -item[1]["ndcg"]))
        # Families the search measured but left out of the final comparison: their search NDCG.
        rows += [
            (name, {"ndcg": None, "search_ndcg": values["ndcg"]})
            for name, values in searched.items()
            if name not in families
        ]
        return format_html(
            "<p>{}</p><table><thead><tr><th>family</th><th>NDCG@{}</th><th>HR@{}</th>"
            "<th>recall</th><th>coverage</th><th>fit s</th><th>search</th><th>parameters</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            (metrics.get("search") or {}).get("why", ""),
            metrics.get("learned", {}).get("k", 10),
            metrics.get("learned", {}).get("k", 10),
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                "<td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                (
                    (
                        f"{name} (chosen)" if name == chosen else name,
                        _number(values.get("ndcg"), 4),
                        _number(values.get("hit_rate"), 4),
                        _number(values.get("recall"), 4),
                        _number(values.get("catalog_coverage"), 3),
                        _number(values.get("fit_seconds"), 1),
                        _search_cell(searched.get(name)),
                        json.dumps(values.get("params") or {}, sort_keys=True),
                    )
                    for name, values in rows
                ),
            ),
        )

    @admin.display(description="popularity NDCG@10")
    def popularity_ndcg(self, run: TrainingRun) -> str:
        return _metric(run, "popularity", "ndcg")

    @admin.display(description="ranker AUC global / mixed")
    def ranker_auc(self, run: TrainingRun) -> str:
        ranker = (run.metrics or {}).get("ranker") or {}
        if ranker.get("auc_global") is None:
            return "—"
        used = "used" if ranker.get("used") else "not used"
        return f"{ranker['auc_global']:.3f} / {ranker['auc_mixed'] or 0:.3f} ({used})"

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

    @admin.action(description="Start a retrain with a parameter search")
    def retrain_with_search(self, request, queryset):
        async_task("recommendations.tasks.retrain", "admin", search=True)
        self.message_user(
            request,
            "Retrain with a parameter search queued: a worker (make worker) picks it up.",
            messages.SUCCESS,
        )

    def get_urls(self):
        return [
            path(
                "retrain/",
                self.admin_site.admin_view(self.retrain_view),
                name="recommendations_trainingrun_retrain",
            ),
            path(
                "retrain-search/",
                self.admin_site.admin_view(self.retrain_search_view),
                name="recommendations_trainingrun_retrain_search",
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

    def retrain_search_view(self, request):
        if request.method != "POST" or not self.has_change_permission(request):
            raise PermissionDenied
        async_task("recommendations.tasks.retrain", "admin", search=True)
        self.message_user(
            request,
            "Retrain with a parameter search queued: a worker (make worker) picks it up; "
            "refresh this page to follow it.",
            messages.SUCCESS,
        )
        return redirect("admin:recommendations_trainingrun_changelist")

    def changelist_view(self, request, extra_context=None):
        runs = [
            run
            for run in TrainingRun.objects.filter(
                status=TrainingRun.Status.SUCCEEDED, kind="learned"
            )
            .order_by("started_at")
            .only("pk", "started_at", "metrics")
            if "hit_rate" in _model_metrics(run, "learned")
        ][-30:]
        chart = None
        if len(runs) >= 1:
            chart = line_chart(
                series={
                    "learned hit rate": [_model_metrics(r, "learned")["hit_rate"] for r in runs],
                    "popularity hit rate": [r.metrics["popularity"]["hit_rate"] for r in runs],
                    "learned ndcg": [_model_metrics(r, "learned")["ndcg"] for r in runs],
                },
                x_labels=[f"#{r.pk}" for r in runs],
            )
        return super().changelist_view(
            request, extra_context={**(extra_context or {}), "chart": chart}
        )


@admin.register(MemberRecommendations)
class MemberRecommendationsAdmin(CheckedModelAdmin):
    list_display = ["member", "run", "computed_at"]
    raw_id_fields = ["member"]
    search_fields = ["member__user__username"]
    exclude = ["payload"]
    readonly_fields = ["member", "run", "computed_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(PersonSuggestion)
class PersonSuggestionAdmin(CheckedModelAdmin):
    """People to learn with, as the last retrain stored them (read-only: the retrain and the
    members' settings and hides write them)."""

    list_display = ["member", "rank", "person", "family", "score", "computed_at"]
    list_filter = ["family"]
    raw_id_fields = ["member", "person"]
    readonly_fields = ["member", "person", "rank", "score", "family", "computed_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(PersonHidden)
class PersonHiddenAdmin(CheckedModelAdmin):
    list_display = ["member", "person", "created_at"]
    raw_id_fields = ["member", "person", "page_view"]
    readonly_fields = ["member", "person", "page_view", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False


class VariantFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        variants = [
            (
                form.cleaned_data.get("code", ""),
                form.cleaned_data.get("strategy", ""),
                form.cleaned_data.get("weight") or 0,
                bool(form.cleaned_data.get("is_control")),
            )
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        problems = experiment_variants_problems(variants=variants)
        if problems:
            raise ValidationError(problems)


class ExperimentVariantInline(admin.TabularInline):
    model = ExperimentVariant
    formset = VariantFormSet
    extra = 0
    min_num = 2
    fields = ["code", "strategy", "weight", "is_control"]


@admin.register(Experiment)
class ExperimentAdmin(CheckedModelAdmin):
    list_display = [
        "name",
        "key",
        "channel",
        "starts_at",
        "ends_at",
        "exploration_share",
        "results_link",
    ]
    search_fields = ["name", "key"]
    prepopulated_fields = {"key": ["name"]}
    inlines = [ExperimentVariantInline]

    @admin.display(description="results")
    def results_link(self, experiment: Experiment) -> str:
        url = reverse("admin:recommendations_experiment_results", args=[experiment.pk])
        return format_html('<a href="{}">Results</a>', url)

    def get_urls(self):
        return [
            path(
                "<id:experiment_id>/results/",
                self.admin_site.admin_view(self.results_view),
                name="recommendations_experiment_results",
            ),
            *super().get_urls(),
        ]

    def results_view(self, request, experiment_id: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        experiment = get_object_or_404(Experiment, pk=experiment_id)
        return TemplateResponse(
            request,
            "admin/recommendations/experiment/results.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": f"Results: {experiment.name}",
                "results": experiment_results(experiment=experiment),
            },
        )


@admin.register(ExperimentAssignment)
class ExperimentAssignmentAdmin(CheckedModelAdmin):
    list_display = ["experiment", "member", "variant", "assigned_at"]
    list_filter = ["experiment", "variant__strategy"]
    search_fields = ["member__user__username"]
    list_select_related = ["experiment", "member__user", "variant__experiment"]
    readonly_fields = ["experiment", "member", "variant", "assigned_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # An assignment is what the member saw; editing it would corrupt the results.
        return False


class DigestItemInline(admin.TabularInline):
    model = DigestItem
    fields = ["position", "carousel_position", "course", "reason", "reason_key", "clicked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DigestSend)
class DigestSendAdmin(CheckedModelAdmin):
    """The weekly emails: one row per member and week, with what it showed and its clicks;
    above the list, click-through per week on each channel (site, API, email: the email's
    beside the site's), and digests and the email's click-through per week and reason
    family."""

    list_display = ["week", "member", "state", "sent_at", "strategy", "variant"]
    list_filter = ["state", "week", "strategy"]
    search_fields = ["member__user__username"]
    raw_id_fields = ["member", "variant"]
    list_select_related = ["member__user", "variant__experiment"]
    readonly_fields = [
        "member",
        "week",
        "state",
        "strategy",
        "variant",
        "claimed_at",
        "claimed_by",
        "sent_at",
    ]
    inlines = [DigestItemInline]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        weeks = digest_weeks()
        reasons = sorted({reason for week in weeks for reason in week.reasons})
        rows = [
            {
                "week": week.week,
                "sent": week.sends.get(DigestSend.State.SENT, 0),
                "claimed": week.sends.get(DigestSend.State.CLAIMED, 0),
                "empty": week.sends.get(DigestSend.State.EMPTY, 0),
                "total": week.total,
                "reasons": [week.reasons.get(reason) for reason in reasons],
            }
            for week in weeks
        ]
        chart = None
        if any(week.total.shown for week in weeks):
            series = {"all": [week.total.ctr or 0.0 for week in weeks]}
            for reason in reasons:
                series[reason] = [
                    (week.reasons[reason].ctr or 0.0) if reason in week.reasons else 0.0
                    for week in weeks
                ]
            chart = line_chart(series=series, x_labels=[f"{week.week:%G-W%V}" for week in weeks])
        by_channel = channel_weeks()
        channels = list(PageView.Channel)
        channel_rows = [
            {
                "week": week.week,
                "cells": [
                    {
                        "clicks": cell.clicks,
                        "shown": cell.shown,
                        "ctr": "—" if cell.ctr is None else f"{cell.ctr:.1%}",
                    }
                    if (cell := week.channels.get(channel))
                    else None
                    for channel in channels
                ],
            }
            for week in by_channel
        ]
        channel_chart = None
        if any(week.channels for week in by_channel):
            channel_chart = line_chart(
                series={
                    channel.label: [
                        (week.channels[channel].ctr or 0.0) if channel in week.channels else 0.0
                        for week in by_channel
                    ]
                    for channel in channels
                },
                x_labels=[f"{week.week:%G-W%V}" for week in by_channel],
            )
        return super().changelist_view(
            request,
            extra_context={
                **(extra_context or {}),
                "digest_weeks": rows,
                "digest_reasons": reasons,
                "chart": chart,
                "channels": [channel.label for channel in channels],
                "channel_weeks": channel_rows,
                "channel_chart": channel_chart,
            },
        )
