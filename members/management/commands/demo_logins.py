"""Print where the demo runs and how to log in, creating the demo accounts when missing."""

from django.core.management.base import BaseCommand

from members.demo_seed import demo_accounts_ensure

DEMO_URL = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = "Ensure the demo accounts exist and print the URL and their logins."

    def handle(self, *args, **options):
        accounts = demo_accounts_ensure()
        self.stdout.write(f"SkillPath demo: {DEMO_URL}")
        for account in accounts:
            role = "superuser, also for /admin/" if account.is_superuser else "learner"
            self.stdout.write(f"  {account.username} / {account.password}  ({role})")
        self.stdout.write("These are public demo passwords: fine locally, never in production.")
