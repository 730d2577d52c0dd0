"""Fill an empty database with the demo: O*NET-based catalog, members and their activity."""

import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from demo.dataset import demo_dataset_build
from demo.seed import (
    MEMBER_PASSWORD,
    DemoAccount,
    DemoPasswordsRefused,
    demo_accounts_ensure,
    demo_data_exists,
    demo_data_flush,
    demo_dataset_write,
    demo_public_passwords_check,
)
from members.services import taxonomy_load


class Command(BaseCommand):
    help = "Generate and write the demo dataset (deterministic for a seed)."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=2000)
        parser.add_argument("--courses", type=int, default=600)
        parser.add_argument("--interactions", type=int, default=40_000)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when demo data already exists."
        )
        parser.add_argument("--flush", action="store_true", help="Delete existing demo data first.")
        parser.add_argument(
            "--allow-public-passwords",
            action="store_true",
            help="write the demo accounts and members, with their public passwords, even when "
            "DEBUG is off (refused otherwise)",
        )

    def handle(self, *args, members, courses, interactions, seed, if_empty, flush, **options):
        started = time.monotonic()
        allowed = options["allow_public_passwords"]
        exists = demo_data_exists()
        if exists and if_empty:
            self.stdout.write("Demo data is already in the database; nothing to do.")
            return
        # Before anything is flushed or written.
        try:
            demo_public_passwords_check(allowed=allowed)
        except DemoPasswordsRefused as refused:
            raise CommandError(str(refused)) from refused
        if exists:
            if not flush:
                raise CommandError(
                    "The database already holds catalog or member data. Run with --flush to "
                    "replace it, or --if-empty to leave it alone."
                )
            deleted = demo_data_flush()
            self.stdout.write(
                "Flushed (rows, cascades included): "
                + ", ".join(f"{n} {label}" for label, n in deleted.items())
            )
        # The demo's skills and titles are the taxonomy's: loaded (or brought up to date) first,
        # so a demo database has every occupation and alternate title a real install has.
        taxonomy_load()
        self.stdout.write(
            f"Generating {members} members, {courses} courses, {interactions} interactions "
            f"(seed {seed})..."
        )
        generating = time.monotonic()
        try:
            dataset = demo_dataset_build(
                members=members, courses=courses, interactions=interactions, seed=seed
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Generated in {time.monotonic() - generating:.1f}s; writing...")
        bars: dict[str, tqdm] = {}

        def on_progress(table: str, done: int, total: int) -> None:
            bar = bars.get(table)
            if bar is None:
                bar = bars[table] = tqdm(
                    total=total, desc=table, unit="rows", leave=False, file=self.stderr._out
                )
            bar.update(done - bar.n)
            if done >= total:
                bar.close()

        counts = demo_dataset_write(dataset=dataset, on_progress=on_progress)
        for bar in bars.values():
            bar.close()
        accounts = demo_accounts_ensure(public_passwords_allowed=allowed)
        width = max(len(table) for table in counts)
        for table, count in counts.items():
            self.stdout.write(f"  {table:<{width}}  {count:>10,}")
        self.stdout.write(
            self.style.SUCCESS(f"Demo data written in {time.monotonic() - started:.1f}s.")
        )
        for account in accounts:
            if account.state == DemoAccount.CHANGED:
                self.stdout.write(
                    f"Login: {account.username}: its password was changed since it was set; "
                    "left as it is"
                )
            else:
                self.stdout.write(f"Login: {account.username} / {account.password}")
        self.stdout.write(
            f"Generated members (member000001, ...) share the password {MEMBER_PASSWORD}. "
            "These passwords are public: fine for a local demo, never for a real deployment."
        )
