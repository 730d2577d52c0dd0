"""Upsert members, their accounts and imported profile skills from a CSV file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.csv_import import ImportFileError
from members.imports import members_import


class Command(BaseCommand):
    help = (
        "Import members from CSV: member_id,title,industry,skills [,seniority,username,email]. "
        "See docs/data-import.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--skip-invalid", action="store_true", help="Import the valid rows, report the rest."
        )
        parser.add_argument(
            "--create-skills",
            action="store_true",
            help="Add unknown skill names to the taxonomy instead of refusing the row.",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(
        self,
        *args,
        file: Path,
        skip_invalid: bool,
        create_skills: bool,
        no_progress: bool,
        **options,
    ):
        with tqdm(
            desc="Writing members", unit=" rows", disable=no_progress or not self.stdout.isatty()
        ) as bar:
            try:
                result = members_import(
                    path=file,
                    skip_invalid=skip_invalid,
                    create_skills=create_skills,
                    on_row=bar.update,
                )
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
            f"Members: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged, {result.skipped} skipped (invalid). "
            f"Created job titles: {result.titles_created}, industries: "
            f"{result.industries_created}, skills: {result.skills_created}."
        )
