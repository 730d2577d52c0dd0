"""Upsert courses, categories, skills and taxonomist tags from a CSV file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.imports import catalog_import
from core.csv_import import ImportFileError


class Command(BaseCommand):
    help = (
        "Import courses from CSV: course_id,title,description,category,skills "
        "[,level,duration_minutes,published_at,teacher]. See docs/data-import.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--skip-invalid", action="store_true", help="Import the valid rows, report the rest."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, file: Path, skip_invalid: bool, no_progress: bool, **options):
        with tqdm(
            desc="Writing courses",
            unit=" rows",
            disable=no_progress or not self.stdout.isatty(),
        ) as bar:
            try:
                result = catalog_import(path=file, skip_invalid=skip_invalid, on_row=bar.update)
            except ImportFileError as exc:
                raise CommandError(f"{file}: {exc}") from exc
        for error in result.errors:
            self.stderr.write(str(error))
        if not result.written:
            raise CommandError(
                f"{result.skipped} invalid row(s); nothing was imported "
                "(fix them, or use --skip-invalid to import the valid rows)."
            )
        self.stdout.write(
            f"Courses: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged, {result.skipped} skipped (invalid). "
            f"Categories created: {result.categories_created}. "
            f"Skills created: {result.skills_created}."
        )
