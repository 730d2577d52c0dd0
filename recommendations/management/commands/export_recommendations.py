import sys
from pathlib import Path

from django.core.management.base import BaseCommand
from tqdm import tqdm

from core.csv_export import SpreadsheetCsvWriter
from members.models import Member
from recommendations.serving.home_page import home_page_for_member


class Command(BaseCommand):
    help = (
        "Write every member's current recommendations, as their homepage would show them, to "
        "FILE.csv: member_id,rank,course_id,reason,score (ids are external ids where the "
        "record has one, else database ids; rank counts across the member's carousels)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        members = Member.objects.select_related("title", "industry").order_by("pk")
        total = members.count()
        rows = 0
        with options["file"].open("w", newline="", encoding="utf-8") as handle:
            # Ids are free text (external ids come from other systems); rank and score are numbers.
            writer = SpreadsheetCsvWriter(
                handle,
                columns=["member_id", "rank", "course_id", "reason", "score"],
                numeric={"rank", "score"},
            )
            writer.writeheader()
            progress = tqdm(
                total=total,
                unit="member",
                disable=options["no_progress"] or not sys.stderr.isatty(),
            )
            for member in members.iterator(chunk_size=500):
                # Recommendations only: the "Continue learning" row recommends nothing.
                page = home_page_for_member(member=member, with_continue=False)
                rank = 0
                for carousel in page.carousels:
                    for card in carousel.cards:
                        rank += 1
                        writer.writerow(
                            [
                                member.external_id or member.pk,
                                rank,
                                card.course.external_id or card.course.pk,
                                carousel.key,
                                f"{card.score:.6f}",
                            ]
                        )
                        rows += 1
                progress.update(1)
            progress.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {rows} recommendations of {total} members to {options['file']}."
            )
        )
