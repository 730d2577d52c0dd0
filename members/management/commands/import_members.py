"""Upsert members, their accounts and imported profile skills from a CSV file."""

from core.import_command import CsvImportCommand
from members.imports import MemberImportResult, members_import


class Command(CsvImportCommand):
    help = (
        "Import members from CSV: member_id,title,industry,skills [,seniority,username,email]. "
        "See docs/data-import.md."
    )

    def add_import_arguments(self, parser) -> None:
        parser.add_argument(
            "--create-skills",
            action="store_true",
            help="Add unknown skill names to the taxonomy instead of refusing the row.",
        )

    def run_import(self, *, file, skip_invalid, progress, options) -> MemberImportResult:
        return members_import(
            path=file,
            skip_invalid=skip_invalid,
            create_skills=options["create_skills"],
            on_row=progress("Writing members"),
        )

    def summary(self, result: MemberImportResult) -> str:
        return (
            f"Members: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged, {result.skipped} skipped (invalid). "
            f"Titles matching no occupation (kept as typed): {result.titles_unmatched}. "
            f"Created industries: {result.industries_created}, skills: {result.skills_created}."
        )
