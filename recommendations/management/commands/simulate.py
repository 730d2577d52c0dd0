"""Offline A/B test: simulated learners with the demo's hidden preferences use the homepage."""

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from demo.dataset import demo_dataset_build
from demo.seed import demo_data_exists, demo_data_flush, demo_dataset_write
from recommendations.offline.simulation import (
    simulation_report_lines,
    simulation_run,
    simulation_variants_parse,
)


class Command(BaseCommand):
    help = (
        "Simulate learners with hidden preferences visiting their homepage for N days inside "
        "an experiment, retraining weekly, and print per-variant CTR with intervals. Use a "
        "scratch database: see docs/experiments.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--members", type=int, default=300)
        parser.add_argument("--courses", type=int, default=300)
        parser.add_argument(
            "--interactions", type=int, default=None, help="Seeded history (default 25/member)."
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--seed-demo",
            action="store_true",
            help="Seed the demo dataset first, dated so the simulation ends now.",
        )
        parser.add_argument(
            "--flush", action="store_true", help="With --seed-demo: replace existing demo data."
        )
        parser.add_argument(
            "--variants",
            default="recency,affinity,als,ranked",
            help="code[=strategy][:weight],...; the first is the control.",
        )
        parser.add_argument("--explore", type=float, default=0.05, help="Exploration share.")
        parser.add_argument("--retrain-every", type=int, default=7, help="Days between retrains.")

    def handle(self, *args, **options):
        started = time.monotonic()
        days, members, courses = options["days"], options["members"], options["courses"]
        interactions = options["interactions"] or members * 25
        if days < 1 or options["retrain_every"] < 1:
            raise CommandError("--days and --retrain-every must be at least 1.")
        try:
            variants = simulation_variants_parse(options["variants"])
        except ValueError as error:
            raise CommandError(str(error)) from error
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        start = now - dt.timedelta(days=days) if options["seed_demo"] else now
        try:
            dataset = demo_dataset_build(
                members=members,
                courses=courses,
                interactions=interactions,
                seed=options["seed"],
                now=start,
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        if options["seed_demo"]:
            if demo_data_exists():
                if not options["flush"]:
                    raise CommandError(
                        "The database already holds demo data: use a scratch database, or "
                        "add --flush to replace it."
                    )
                demo_data_flush()
            demo_dataset_write(dataset=dataset)
            self.stdout.write(
                f"Seeded {members} members, {courses} courses, {interactions} "
                f"enrolments (seed {options['seed']})."
            )
        try:
            report = simulation_run(
                dataset=dataset,
                start=start,
                days=days,
                variants=variants,
                seed=options["seed"],
                retrain_every_days=options["retrain_every"],
                exploration_share=options["explore"],
                progress=lambda message: self.stderr.write(message),
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        for line in simulation_report_lines(report):
            self.stdout.write(line)
        self.stdout.write(f"\nSimulated {days} days in {time.monotonic() - started:.0f}s.")
