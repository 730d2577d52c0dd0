"""Print where the demo runs and how to log in, creating the demo accounts when missing."""

from django.core.management.base import BaseCommand, CommandError

from demo.seed import DemoAccount, DemoPasswordsRefused, demo_accounts_ensure

DEMO_URL = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = (
        "Ensure the demo accounts exist and print the URL and their logins. An account whose "
        "password was changed is left as it is. Refused when DEBUG is off, unless "
        "--allow-public-passwords."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default=DEMO_URL, help=f"where the demo serves (default {DEMO_URL})"
        )
        parser.add_argument(
            "--allow-public-passwords",
            action="store_true",
            help="create the accounts, with their public passwords, even when DEBUG is off",
        )

    def handle(self, *args, **options):
        try:
            accounts = demo_accounts_ensure(
                public_passwords_allowed=options["allow_public_passwords"]
            )
        except DemoPasswordsRefused as refused:
            raise CommandError(str(refused)) from refused
        self.stdout.write(f"SkillPath demo: {options['url']}")
        for account in accounts:
            role = "superuser, also for /admin/" if account.is_superuser else "learner"
            if account.state == DemoAccount.CHANGED:
                self.stdout.write(
                    f"  {account.username}  ({role}): its password was changed since it was "
                    "set; left as it is"
                )
            else:
                self.stdout.write(f"  {account.username} / {account.password}  ({role})")
        self.stdout.write("These are public demo passwords: fine locally, never in production.")
