import json

from django.core.management.base import BaseCommand, CommandError

from recommendations.models import TrainingRun
from recommendations.training.runs import TrainingRunBusy, training_run_execute


class Command(BaseCommand):
    help = (
        "Train the recommendation models now, evaluate them on a held-out split, activate the "
        "run if it passes its checks, and precompute every member's learned recommendations."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--search",
            action="store_true",
            help="Search every model family's parameters first (otherwise only when due: "
            "nothing searched yet, or interactions grew by SEARCH_GROWTH_SHARE).",
        )
        parser.add_argument(
            "--queue-precompute",
            action="store_true",
            help="Queue one precompute task per member range for the workers instead of "
            "computing every member here.",
        )

    def handle(self, *args, **options):
        try:
            run = training_run_execute(
                trigger="command",
                precompute_inline=not options["queue_precompute"],
                search=options["search"],
            )
        except TrainingRunBusy as busy:
            raise CommandError(str(busy)) from busy
        if run.status != TrainingRun.Status.SUCCEEDED:
            raise CommandError(f"Training run {run.pk} failed: {run.message}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Training run {run.pk} ({run.get_kind_display()}) succeeded in "
                f"{run.duration_seconds:.1f}s and is "
                f"{'active' if run.is_active else 'not active (see its message)'}."
            )
        )
        self.stdout.write(run.message)
        summary = {
            key: run.metrics[key]
            for key in (
                "members",
                "courses",
                "interactions",
                "family",
                "params",
                "learned",
                "popularity",
                "search",
                "families",
            )
            if key in run.metrics
        }
        self.stdout.write(json.dumps(summary, indent=2, default=float))
