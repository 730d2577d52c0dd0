import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recommendations.offline.evaluation import EvaluationUnavailable, run_evaluate
from recommendations.offline.goals import goal_paths_evaluate


class Command(BaseCommand):
    help = (
        "Print JSON with HR@k, NDCG@k, precision@k, recall@k, MAP@k and catalog coverage of the "
        "active run and of the popularity baseline, on the run's held-out split or a CSV file of "
        "member_id,course_id test interactions (full ranking, seen courses excluded); and, for "
        "members with a goal, how often their last course is in the first k steps of the goal "
        "path planned without it, next to the first k of the skill-affinity ranking."
    )

    def add_arguments(self, parser):
        parser.add_argument("--test", type=Path, help="CSV with member_id,course_id columns.")
        parser.add_argument("--k", type=int, default=10)

    def handle(self, *args, **options):
        if options["k"] < 1:
            raise CommandError("--k must be at least 1.")
        if options["test"] is not None and not options["test"].is_file():
            raise CommandError(f"{options['test']}: no such file.")
        try:
            report = run_evaluate(k=options["k"], test_path=options["test"])
        except EvaluationUnavailable as unavailable:
            raise CommandError(str(unavailable)) from unavailable
        # The goal path against the skill-affinity ranking, on the members with a goal.
        report["goal_paths"] = goal_paths_evaluate(k=options["k"])
        self.stdout.write(json.dumps(report, indent=2))
