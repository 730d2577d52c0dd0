"""Signals other apps listen to, so members never imports them."""

from functools import partial

from django.db import connection, transaction
from django.dispatch import Signal

# Sent after commit whenever a member's activity or questionnaire answers change, with
# keyword argument `member_id`; recommendations refresh that member's precomputed row.
member_activity_changed = Signal()


def member_activity_announce(*, member_id: int) -> None:
    """Send `member_activity_changed` for the member once the transaction commits, once per
    member however many changes the transaction makes (an event batch makes several, and each
    announcement costs the worker a refresh of the member's row)."""
    if connection.in_atomic_block and _announcement_pending(member_id):
        return
    # Robust: a receiver's failure (queueing a task) is logged; the saved changes stand.
    transaction.on_commit(partial(_announce, member_id=member_id), robust=True)


def _announce(*, member_id: int) -> None:
    member_activity_changed.send(sender="members", member_id=member_id)


def _announcement_pending(member_id: int) -> bool:
    # Callbacks of a rolled-back savepoint are dropped from this list (and any announcement
    # still in it is in a scope that encloses, or equals, the caller's), so one found here is
    # certain to run if this caller's changes commit.
    return any(
        isinstance(callback, partial)
        and callback.func is _announce
        and callback.keywords["member_id"] == member_id
        for _, callback, _ in connection.run_on_commit
    )


# Sent after commit when a member stops being suggestible to others (discoverability switched
# off), with keyword argument `member_id`; recommendations removes them from every stored
# people suggestion at once, without waiting for a retrain.
member_hidden_from_people = Signal()
# Sent after commit when a member switches discoverability on, with `member_id`:
# recommendations computes their people suggestions without waiting for a retrain.
member_shown_to_people = Signal()


def member_people_visibility_announce(*, member_id: int, discoverable: bool) -> None:
    signal = member_shown_to_people if discoverable else member_hidden_from_people
    transaction.on_commit(partial(signal.send, sender="members", member_id=member_id), robust=True)
