"""Load course activity and recommendation feedback from a (possibly very large) CSV file."""

from core.import_command import CsvImportCommand
from recommendations.feedback.imports import InteractionImportResult, interactions_import


class Command(CsvImportCommand):
    help = (
        "Import interactions from CSV: member_id,course_id [,event,timestamp,value]. "
        "Events: enrol, watch (value = progress percent), finish, bookmark, dismiss, impression, "
        "click. See docs/data-import.md."
    )

    def add_import_arguments(self, parser) -> None:
        parser.add_argument(
            "--create-missing",
            action="store_true",
            help="Create bare members and courses for unknown ids instead of refusing the row.",
        )

    def run_import(self, *, file, skip_invalid, progress, options) -> InteractionImportResult:
        return interactions_import(
            path=file,
            skip_invalid=skip_invalid,
            create_missing=options["create_missing"],
            on_read=progress("Checking"),
            on_write=progress("Writing"),
        )

    def summary(self, result: InteractionImportResult) -> str:
        return (
            f"Interactions: {result.rows} rows imported, {result.skipped} skipped (invalid). "
            f"Created {result.created}: {result.enrolments_created} enrolments, "
            f"{result.bookmarks_created} bookmarks, {result.dismissals_created} dismissals, "
            f"{result.feedback_events_created} feedback events. "
            f"Updated {result.updated}: {result.enrolments_updated} enrolments, "
            f"{result.bookmarks_updated} bookmarks, {result.dismissals_updated} dismissals. "
            f"New bare members: {result.members_created}, courses: {result.courses_created}."
        )
