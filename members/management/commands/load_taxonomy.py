"""Load the vendored O*NET taxonomy: the first step of a real install (and of `make demo`)."""

import time

from django.core.management.base import BaseCommand

from members.services import taxonomy_load


class Command(BaseCommand):
    help = (
        "Load O*NET skills, categories, occupations with their job titles, every alternate "
        "title and each occupation's skills. Safe to run again: it updates, never duplicates."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        loaded = taxonomy_load()
        width = max(len(label) for label in loaded.counts)
        for label, count in loaded.counts.items():
            self.stdout.write(f"  {label:<{width}}  {count:>7,}")
        self.stdout.write(
            self.style.SUCCESS(f"Taxonomy loaded in {time.monotonic() - started:.1f}s.")
        )
