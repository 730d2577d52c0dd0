"""Print where the demo runs and how to log in, creating the demo accounts when missing."""

from django.core.management.base import BaseCommand

from demo.seed import demo_accounts_ensure

DEMO_URL = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = "Ensure the demo accounts exist and print the URL and their logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default=DEMO_URL, help=f"where the demo serves (default {DEMO_URL})"
        )

    def handle(self, *args, **options):
        accounts = demo_accounts_ensure()
        self.stdout.write(f"SkillPath demo: {options['url']}")
        for account in accounts:
            role = "superuser, also for /admin/" if account.is_superuser else "learner"
            self.stdout.write(f"  {account.username} / {account.password}  ({role})")
        self.stdout.write("These are public demo passwords: fine locally, never in production.")
