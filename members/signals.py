"""Signals other apps listen to, so members never imports them."""

from django.db import transaction
from django.dispatch import Signal

# Sent after commit whenever a member's activity or questionnaire answers change, with
# keyword argument `member_id`; recommendations refresh that member's precomputed row.
member_activity_changed = Signal()


def member_activity_announce(*, member_id: int) -> None:
    transaction.on_commit(
        lambda: member_activity_changed.send(sender="members", member_id=member_id)
    )
