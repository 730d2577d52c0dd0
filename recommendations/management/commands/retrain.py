from django.core.management.base import BaseCommand, CommandError

from recommendations.models import TrainingRun
from recommendations.pipeline import training_run_execute


class Command(BaseCommand):
    help = "Build the recommendation models now and activate them if they pass their checks."

    def handle(self, *args, **options):
        run = training_run_execute()
        if run.status != TrainingRun.Status.SUCCEEDED:
            raise CommandError(f"Training run {run.pk} failed: {run.message}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Training run {run.pk} succeeded in {run.duration_seconds:.1f}s and is active."
            )
        )
        for name, value in run.metrics.items():
            self.stdout.write(f"  {name}: {value}")
