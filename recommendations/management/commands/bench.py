import json
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from catalog.models import Course
from members.models import Member
from recommendations.offline.benchmark import bench_run


class Command(BaseCommand):
    help = (
        "Seed (or reuse) the benchmark dataset, run a full retrain + precompute, and print each "
        "stage's time next to the floor measured in the same run."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=int,
            default=1,
            help="Multiply members and interactions (not the catalog) by this: 10 is 1,000,000 "
            "members and 20,000,000 interactions over the same 10,000 courses.",
        )
        parser.add_argument("--members", type=int, default=100_000)
        parser.add_argument("--courses", type=int, default=10_000)
        parser.add_argument("--interactions", type=int, default=2_000_000)

    def handle(self, *args, **options):
        members = options["members"] * options["scale"]
        interactions = options["interactions"] * options["scale"]
        sized = (
            Member.objects.filter(user__username__startswith="member").count() == members
            and Course.objects.count() == options["courses"]
        )
        if not sized:
            self.stdout.write(
                f"Seeding the benchmark dataset: {members:,} members, {options['courses']:,} "
                f"courses, {interactions:,} interactions (once; later runs reuse it)..."
            )
            self.stdout.flush()
            flush = ["--flush"] if Course.objects.exists() else []
            # In a process of its own, so the peak memory below is the pipeline's, not the seed's.
            subprocess.run(
                [
                    sys.executable,
                    str(settings.BASE_DIR / "manage.py"),
                    "seed_demo",
                    "--members",
                    str(members),
                    "--courses",
                    str(options["courses"]),
                    "--interactions",
                    str(interactions),
                    *flush,
                ],
                check=True,
            )
        try:
            report = bench_run()
        except RuntimeError as error:
            raise CommandError(str(error)) from error
        pipeline, floor = report.pipeline_seconds, report.floor_seconds
        self.stdout.write("\nStage                                                   seconds")
        for name, seconds in report.stages.items():
            self.stdout.write(f"  {name:<54}{seconds:8.1f}")
        self.stdout.write("Floor (same data, same run)")
        for name, seconds in report.floor.items():
            self.stdout.write(f"  {name:<54}{seconds:8.1f}")
        self.stdout.write(f"  {'floor total':<54}{floor:8.1f}")
        engine_recommend = report.facts["engine_recommend_all_seconds"]
        self.stdout.write(
            f"  {'(reference: the engine recommend, top-50, all)':<54}{engine_recommend:8.1f}"
        )
        ratio = pipeline / floor if floor else float("inf")
        refresh = report.facts["refresh_ms_mean"]
        peak = report.facts["peak_memory_mb"]
        checks = [
            (f"pipeline / floor = {ratio:.2f} (target <= 1.5)", ratio <= 1.5),
            (f"pipeline = {pipeline:.1f} s (target < 90 s)", pipeline < 90),
            (f"peak memory of the retrains = {peak:.0f} MB (target < 4096 MB)", peak < 4096),
            (
                f"per-member refresh = {refresh:.1f} ms mean, "
                f"{report.facts['refresh_ms_p95']:.1f} ms p95 (target < 200 ms)",
                refresh is not None and refresh < 200,
            ),
        ]
        search = report.facts["search_retrain_seconds"]
        checks.insert(2, (f"search retrain = {search:.1f} s (target < 90 s)", search < 90))
        strict = floor - report.floor["raw recommend top-50, all members"]
        strict += engine_recommend
        self.stdout.write("")
        for text, ok in checks:
            self.stdout.write(("PASS  " if ok else "MISS  ") + text)
        self.stdout.write(
            f"INFO  pipeline / (fit + engine recommend + COPY) = {pipeline / strict:.2f}"
        )
        self.stdout.write(
            "INFO  peak memory of the whole bench process (with the floor's textbook fit and "
            f"recommend) = {report.facts['bench_process_peak_mb']:.0f} MB"
        )
        self.stdout.write("\n" + json.dumps(report.facts, indent=2, default=str))
