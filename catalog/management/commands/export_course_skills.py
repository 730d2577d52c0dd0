"""Write every course-to-skill tag to a CSV file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.imports import course_skills_export


class Command(BaseCommand):
    help = "Export course-skill tags as CSV: course_id,skill,source,confidence,status."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="Where to write the CSV ('-' for stdout).")

    def handle(self, *args, file: Path, **options):
        if str(file) == "-":
            count = course_skills_export(handle=self.stdout)
            self.stderr.write(f"Exported {count} course-skill tags.")
            return
        try:
            with open(file, "w", encoding="utf-8", newline="") as handle:
                count = course_skills_export(handle=handle)
        except OSError as exc:
            raise CommandError(f"cannot write {file}: {exc.strerror or exc}") from exc
        self.stdout.write(f"Exported {count} course-skill tags to {file}.")
