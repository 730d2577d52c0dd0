from django.core.management.base import BaseCommand, CommandError

from recommendations.digest.composition import Digest
from recommendations.digest.sending import digests_send


class Command(BaseCommand):
    help = (
        "Send this week's recommendations email to every subscribed member not yet served this "
        "week (once per member and ISO week: a second run sends nothing twice). --due: only the "
        "members whose send day has come (what the daily schedule runs); --dry-run: compose and "
        "list, claim and send nothing; --limit N: at most N emails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--limit", type=int, default=None)
        parser.add_argument("--due", action="store_true")

    def handle(self, *args, **options):
        limit = options["limit"]
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1.")
        verbose = options["verbosity"] >= 2 or options["dry_run"]

        def listed(digest: Digest) -> None:
            if not verbose:
                return
            courses = sum(len(carousel.cards) for carousel in digest.carousels)
            what = (
                "nothing new"
                if digest.empty
                else f"{courses} courses under "
                + "; ".join(carousel.label for carousel in digest.carousels)
            )
            self.stdout.write(f"{digest.member.user.get_username()}: {what}")

        outcome = digests_send(
            due_only=options["due"], limit=limit, dry_run=options["dry_run"], on_digest=listed
        )
        verb = "would send" if outcome.dry_run else "sent"
        self.stdout.write(
            self.style.SUCCESS(
                f"Week of {outcome.week:%G-W%V}: {verb} {outcome.sent} digests to "
                f"{outcome.considered} members considered; {outcome.empty} with nothing new, "
                f"{outcome.failed} refused by the email backend, {outcome.taken} taken by "
                "another run."
            )
        )
