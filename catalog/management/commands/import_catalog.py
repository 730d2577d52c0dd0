"""Upsert courses, categories, skills and taxonomist tags from a CSV file."""

from catalog.imports import CatalogImportResult, catalog_import
from core.import_command import CsvImportCommand


class Command(CsvImportCommand):
    help = (
        "Import courses from CSV: course_id,title,description,category,skills "
        "[,level,duration_minutes,published_at,teacher]. See docs/data-import.md."
    )

    def run_import(self, *, file, skip_invalid, progress, options) -> CatalogImportResult:
        return catalog_import(
            path=file, skip_invalid=skip_invalid, on_row=progress("Writing courses")
        )

    def summary(self, result: CatalogImportResult) -> str:
        return (
            f"Courses: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged, {result.skipped} skipped (invalid). "
            f"Categories created: {result.categories_created}. "
            f"Skills created: {result.skills_created}."
        )
