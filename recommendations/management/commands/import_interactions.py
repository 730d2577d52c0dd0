"""Load course activity and recommendation feedback from a (possibly very large) CSV file."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.csv_import import ImportFileError
from recommendations.feedback.imports import InteractionImportResult, interactions_import


class Command(BaseCommand):
    help = (
        "Import interactions from CSV: member_id,course_id [,event,timestamp,value]. "
        "Events: enrol, watch (value = progress percent), finish, bookmark, dismiss, impression, "
        "click. See docs/data-import.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--skip-invalid", action="store_true", help="Import the valid rows, report the rest."
        )
        parser.add_argument(
            "--create-missing",
            action="store_true",
            help="Create bare members and courses for unknown ids instead of refusing the row.",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(
        self,
        *args,
        file: Path,
        skip_invalid: bool,
        create_missing: bool,
        no_progress: bool,
        **options,
    ):
        disable = no_progress or not self.stdout.isatty()
        bars: dict[str, tqdm] = {}

        def progress(phase: str):
            def update(n: int) -> None:
                if phase not in bars:
                    for bar in bars.values():
                        bar.close()
                    bars[phase] = tqdm(desc=phase, unit=" rows", disable=disable)
                bars[phase].update(n)

            return update

        try:
            result = interactions_import(
                path=file,
                skip_invalid=skip_invalid,
                create_missing=create_missing,
                on_read=progress("Checking"),
                on_write=progress("Writing"),
            )
        except ImportFileError as exc:
            raise CommandError(f"{file}: {exc}") from exc
        finally:
            for bar in bars.values():
                bar.close()
        for error in result.errors:
            self.stderr.write(str(error))
        if not result.written:
            raise CommandError(
                f"{result.skipped} invalid row(s); nothing was imported "
                "(fix them, or use --skip-invalid to import the valid rows)."
            )
        self.stdout.write(summary(result))


def summary(result: InteractionImportResult) -> str:
    return (
        f"Interactions: {result.rows} rows imported, {result.skipped} skipped (invalid). "
        f"Created {result.created}: {result.enrolments_created} enrolments, "
        f"{result.bookmarks_created} bookmarks, {result.dismissals_created} dismissals, "
        f"{result.feedback_events_created} feedback events. "
        f"Updated {result.updated}: {result.enrolments_updated} enrolments, "
        f"{result.bookmarks_updated} bookmarks, {result.dismissals_updated} dismissals. "
        f"New bare members: {result.members_created}, courses: {result.courses_created}."
    )
