"""Build the committed O*NET subset under members/data/onet/ from a full O*NET text release."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from demo.onet import (
    SOURCE_FILES,
    VENDORED_DIR,
    onet_readme_render,
    onet_source_read,
    onet_subset_build,
    onet_subset_write,
)


class Command(BaseCommand):
    help = "Select the demo's skills and occupations from O*NET and write them as gzipped TSV."

    def add_arguments(self, parser):
        parser.add_argument("--source", type=Path, required=True, help="O*NET text release dir.")
        parser.add_argument("--target", type=Path, default=VENDORED_DIR)
        parser.add_argument("--skills", type=int, default=350)
        parser.add_argument("--occupations", type=int, default=200)

    def handle(self, *args, source: Path, target: Path, skills: int, occupations: int, **options):
        missing = [name for name in SOURCE_FILES.values() if not (source / name).is_file()]
        if missing:
            raise CommandError(f"{source} lacks {', '.join(missing)}")
        subset = onet_subset_build(
            source=onet_source_read(source=source),
            skill_count=skills,
            occupation_count=occupations,
        )
        paths = onet_subset_write(subset=subset, target=target)
        readme = target / "README.md"
        readme.write_text(onet_readme_render(subset=subset), encoding="utf-8")
        total = sum(path.stat().st_size for path in [*paths, readme])
        self.stdout.write(
            f"Wrote {len(subset.skills)} skills, {len(subset.occupations)} occupations, "
            f"{sum(len(v) for v in subset.synonyms.values())} synonyms to {target} "
            f"({total / 1024:.0f} KiB)."
        )
