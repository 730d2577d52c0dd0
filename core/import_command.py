"""The shape every CSV import command shares: a file argument, `--skip-invalid`,
`--no-progress`, progress bars per phase, row errors on stderr, and a refusal that says
nothing was written when a row was invalid and `--skip-invalid` was not given."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.csv_import import ImportFileError, ImportOutcome

# A phase's progress callback: called with the number of rows just handled (default one).
Progress = Callable[..., None]


class CsvImportCommand(BaseCommand):
    """Subclasses add their own options (`add_import_arguments`), run the import
    (`run_import`) and say what it did (`summary`)."""

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--skip-invalid", action="store_true", help="Import the valid rows, report the rest."
        )
        self.add_import_arguments(parser)
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def add_import_arguments(self, parser) -> None:
        """The command's own options, between --skip-invalid and --no-progress."""

    def run_import(
        self,
        *,
        file: Path,
        skip_invalid: bool,
        progress: Callable[[str], Progress],
        options: dict[str, Any],
    ) -> ImportOutcome:
        raise NotImplementedError

    def summary(self, result: Any) -> str:
        raise NotImplementedError

    def handle(self, *args, file: Path, skip_invalid: bool, no_progress: bool, **options):
        disable = no_progress or not self.stdout.isatty()
        bars: dict[str, tqdm] = {}

        def progress(phase: str) -> Progress:
            def update(n: int = 1) -> None:
                if phase not in bars:
                    # One bar at a time: a new phase closes the one before.
                    for bar in bars.values():
                        bar.close()
                    bars[phase] = tqdm(desc=phase, unit=" rows", disable=disable)
                bars[phase].update(n)

            return update

        try:
            result = self.run_import(
                file=file, skip_invalid=skip_invalid, progress=progress, options=options
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
        self.stdout.write(self.summary(result))
