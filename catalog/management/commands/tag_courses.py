"""Run the automatic skill tagger by hand, or measure it (`--evaluate`)."""

import json

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.tagging.pipeline import courses_tag_run, tagger_evaluate


class Command(BaseCommand):
    help = (
        "Suggest skills for courses (all courses; taxonomist tags and reviewed tags are never "
        "touched), or with --evaluate cross-validate the tagger on the curated tags."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--courses",
            type=lambda raw: [int(part) for part in raw.split(",") if part.strip()],
            help="Comma-separated course ids to tag (default: every course).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would change; write nothing."
        )
        parser.add_argument(
            "--evaluate",
            action="store_true",
            help="Cross-validate on approved tags, print JSON metrics and store them.",
        )
        parser.add_argument("--folds", type=int, default=None, help="Folds for --evaluate.")
        parser.add_argument("--seed", type=int, default=0, help="Fold shuffle seed.")

    def handle(self, *args, **options) -> None:
        if options["evaluate"]:
            try:
                evaluation = tagger_evaluate(folds=options["folds"], seed=options["seed"])
            except ValueError as error:
                raise CommandError(str(error)) from error
            payload = {
                "evaluation_id": evaluation.pk,
                "params": evaluation.params,
                **evaluation.metrics,
            }
            self.stdout.write(json.dumps(payload, indent=2))
            point = evaluation.metrics["operating_point"]
            held_out = evaluation.metrics["combined"]["at_threshold"]
            self.stderr.write(
                f"Operating point: threshold {point['threshold']}, at most "
                f"{point['max_per_course'] or 'any number of'} suggestions per course. "
                f"Held-out folds: precision {held_out['precision']}, recall "
                f"{held_out['recall']}, F1 {held_out['f1']}."
            )
            return
        with tqdm(desc="Tagging courses", unit="course", disable=options["verbosity"] == 0) as bar:
            result = courses_tag_run(
                course_ids=options["courses"],
                dry_run=options["dry_run"],
                on_start=lambda total: setattr(bar, "total", total),
                on_progress=bar.update,
            )
        stored = result.stored
        prefix = "Dry run: would have " if result.dry_run else ""
        self.stdout.write(
            f"{prefix}{stored.created} created, {stored.updated} updated, "
            f"{stored.auto_approved} auto-approved, {stored.protected} left alone (protected), "
            f"over {result.courses} courses."
        )
        if result.learned:
            expected = result.expected
            self.stdout.write(
                f"Learned tagger ({result.modelled_skills} skills with linear models): "
                f"threshold {result.threshold}, at most {result.max_per_course} suggestions per "
                f"course, chosen by cross-validation on the curated tags, where it measured "
                f"precision {expected['precision']}, recall {expected['recall']}, "
                f"F1 {expected['f1']}."
            )
        else:
            self.stdout.write(
                f"Name matching alone ({result.fallback_reason}): threshold {result.threshold}."
            )
