"""Sending the week's digests: which members are due, claiming each member's week before its
email goes out, the messages themselves, and one connection to the email backend for a run.

Once per member and ISO week. The (member, week) row (`DigestSend`) is the idempotency key and
is written, with what the digest shows, in one transaction *before* the email is handed to the
backend; after the batch the rows of the messages the backend accepted are marked `sent` in one
update, and the rows of messages it refused are deleted, so the next run tries those members
again. A run never sends to a member whose week is already claimed, whatever its state. A run
that dies between handing messages over and marking them leaves their rows `claimed`: those
members may or may not have their email, and do not get it again that week. That is the chosen
trade, at most once: a digest lost to a crash costs a member one weekly email, a duplicate costs
their trust in the unsubscribe-worthy kind. The admin lists rows left `claimed`.

The send day: each member has one weekday (`member_send_day`: member id mod 7, Monday first),
so the daily scheduled run spreads a week's emails over seven days; a member whose day passed
without a run (a worker down) is picked up by the next run of the same week. `send_digests`
without `--due` sends to every subscribed member not yet served this week.
"""

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Mod
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from members.models import Member
from recommendations.digest.composition import (
    Digest,
    digest_compose,
    last_digest_courses,
    week_start,
)
from recommendations.digest.links import click_url, site_url, unsubscribe_url
from recommendations.feedback.services import email_page_views_log
from recommendations.models import DigestItem, DigestSend

logger = logging.getLogger(__name__)

SEND_DAYS = 7


def member_send_day(member_id: int) -> int:
    """The member's weekday for the digest, 0 (Monday) to 6: ids are handed out in order, so
    the remainder spreads members evenly over the week."""
    return member_id % SEND_DAYS


@dataclass
class DigestRunOutcome:
    week: dt.date
    dry_run: bool
    # Members looked at, emails handed to the backend (or, in a dry run, that would have been),
    # members with nothing new, emails the backend refused (their week left unclaimed), and
    # members another run claimed first.
    considered: int = 0
    sent: int = 0
    empty: int = 0
    failed: int = 0
    taken: int = 0


def digest_recipients(
    *, week: dt.date, due_day: int | None, after_id: int, count: int
) -> list[Member]:
    """The next `count` subscribed members (by id, after `after_id`) whose `week` is not claimed
    yet, with an address to write to; with `due_day`, only those whose send day is that day or
    earlier in the week."""
    members = (
        Member.objects.filter(digest_opt_in=True, user__is_active=True, pk__gt=after_id)
        .exclude(user__email="")
        .exclude(Exists(DigestSend.objects.filter(member_id=OuterRef("pk"), week=week)))
    )
    if due_day is not None:
        members = members.alias(send_day=Mod("id", SEND_DAYS)).filter(send_day__lte=due_day)
    return list(members.select_related("user", "title", "industry").order_by("pk")[:count])


def digests_send(
    *,
    now: dt.datetime | None = None,
    due_only: bool = False,
    limit: int | None = None,
    dry_run: bool = False,
    on_digest: Callable[[Digest], None] | None = None,
) -> DigestRunOutcome:
    """Send this week's digests (`due_only`: to the members whose send day has come), at most
    `limit` emails; `dry_run` composes them and claims and sends nothing. `on_digest` sees
    each composed digest (the command's listing)."""
    now = now or timezone.now()
    week = week_start(now)
    due_day = timezone.localdate(now).weekday() if due_only else None
    outcome = DigestRunOutcome(week=week, dry_run=dry_run)
    batch_size = settings.DIGEST["BATCH_MEMBERS"]
    # One connection for the whole run, opened at the first message: the backend (SMTP) logs
    # in once, not once per member.
    connection = get_connection(fail_silently=False)
    after_id = 0
    try:
        while limit is None or outcome.sent < limit:
            members = digest_recipients(
                week=week, due_day=due_day, after_id=after_id, count=batch_size
            )
            if not members:
                break
            shown = last_digest_courses(member_ids=[m.pk for m in members], before_week=week)
            digests, emails = [], 0
            for member in members:
                if limit is not None and outcome.sent + emails >= limit:
                    break
                digest = digest_compose(
                    member=member, already_shown=shown.get(member.pk, ()), now=now
                )
                after_id = member.pk
                outcome.considered += 1
                emails += not digest.empty
                if on_digest is not None:
                    on_digest(digest)
                digests.append(digest)
            if dry_run:
                outcome.sent += sum(1 for digest in digests if not digest.empty)
                outcome.empty += sum(1 for digest in digests if digest.empty)
                continue
            _batch_send(digests, week=week, now=now, connection=connection, outcome=outcome)
    finally:
        connection.close()
    logger.info("digests for the week of %s: %s", week, outcome)
    return outcome


def _batch_send(
    digests: list[Digest],
    *,
    week: dt.date,
    now: dt.datetime,
    connection: BaseEmailBackend,
    outcome: DigestRunOutcome,
) -> None:
    claimed = digests_claim(digests=digests, week=week, now=now)
    outcome.taken += len(digests) - len(claimed)
    sent_ids, failed_ids = [], []
    if any(not digest.empty for digest, _ in claimed):
        # Opened here (once: it stays open until the run closes it), since a backend left to
        # open it itself in send_messages would close it again after each message.
        connection.open()
    for digest, send_id in claimed:
        if digest.empty:
            outcome.empty += 1
            continue
        message = digest_message(digest=digest, send_id=send_id, connection=connection)
        try:
            connection.send_messages([message])
        except Exception:
            # Refused (a bad address, the server down): the claim goes, so the next run tries
            # this member again.
            logger.exception("the digest of member %s was not sent", digest.member.pk)
            failed_ids.append(send_id)
        else:
            sent_ids.append(send_id)
    outcome.sent += len(sent_ids)
    outcome.failed += len(failed_ids)
    if sent_ids:
        DigestSend.objects.filter(pk__in=sent_ids).update(
            state=DigestSend.State.SENT, sent_at=timezone.now()
        )
    if failed_ids:
        DigestSend.objects.filter(pk__in=failed_ids).delete()


@transaction.atomic
def digests_claim(
    *, digests: list[Digest], week: dt.date, now: dt.datetime
) -> list[tuple[Digest, int]]:
    """Claim each digest's member for `week` with what it shows and its impression (a page view
    on the email channel: `DigestSend.page_view_id`, slot = `DigestItem.position`), in one
    transaction; a member another run claimed first is left out. Returns (digest, its
    DigestSend id) of the claimed ones. Four queries for the batch."""
    claim = uuid.uuid4()
    DigestSend.objects.bulk_create(
        [
            DigestSend(
                member_id=digest.member.pk,
                week=week,
                state=DigestSend.State.EMPTY if digest.empty else DigestSend.State.CLAIMED,
                strategy=digest.strategy,
                variant_id=digest.variant_id,
                page_view_id=None if digest.empty else digest.page_view_id,
                claimed_at=now,
                claimed_by=claim,
            )
            for digest in digests
        ],
        ignore_conflicts=True,
    )
    ours = dict(
        DigestSend.objects.filter(
            member_id__in=[digest.member.pk for digest in digests], week=week, claimed_by=claim
        ).values_list("member_id", "pk")
    )
    claimed = [(digest, ours[digest.member.pk]) for digest in digests if digest.member.pk in ours]
    DigestItem.objects.bulk_create(
        [
            DigestItem(
                send_id=send_id,
                position=position,
                carousel_position=carousel_position,
                course_id=card.course.pk,
                reason=card.shown.reason,
                reason_key=card.shown.reason_key,
            )
            for digest, send_id in claimed
            for position, carousel_position, card in digest.placed()
        ]
    )
    email_page_views_log(
        pages=[
            (digest.member.pk, digest.page_view_id, digest.shown())
            for digest, _ in claimed
            if not digest.empty
        ],
        now=now,
    )
    return claimed


def digest_message(
    *, digest: Digest, send_id: int, connection: BaseEmailBackend | None = None
) -> EmailMultiAlternatives:
    """The digest's email, plain text with an HTML alternative: every course link goes through
    the signed click redirect; `List-Unsubscribe` (with RFC 8058's one-click POST) and the
    footer's link go to the same signed unsubscribe page."""
    member = digest.member
    unsubscribe = unsubscribe_url(member_id=member.pk)
    links = {
        position: click_url(send_id=send_id, position=position)
        for position, _, _ in digest.placed()
    }
    context = {
        "member": member,
        "name": member.user.first_name or member.user.get_username(),
        "carousels": [
            {
                "label": carousel.label,
                "courses": [
                    {"course": card.course, "explanation": card.explanation, "url": links[position]}
                    for position, carousel_position, card in digest.placed()
                    if carousel_position == index
                ],
            }
            for index, carousel in enumerate(digest.carousels)
        ],
        "unsubscribe_url": unsubscribe,
        "profile_url": site_url(reverse("members:profile")),
        "site_url": settings.SITE_URL,
    }
    message = EmailMultiAlternatives(
        subject=render_to_string("recommendations/email/digest_subject.txt", context).strip(),
        body=render_to_string("recommendations/email/digest_body.txt", context),
        to=[member.user.email],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(
        render_to_string("recommendations/email/digest_body.html", context), "text/html"
    )
    return message
