"""The weekly recommendations email (recommendations/digest/): who gets it, what it shows,
once per member and week, its connection to the email backend, its signed links and the
member's control over it."""

import datetime as dt
import re
import uuid

import orjson
import pytest
from django.core import mail, signing
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.models import Schedule

from members.models import Enrolment, Member
from recommendations.apps import DIGEST_SCHEDULE_NAME
from recommendations.digest.composition import digest_compose, week_start
from recommendations.digest.links import click_token_make, unsubscribe_token_make
from recommendations.digest.sending import digests_send, member_send_day
from recommendations.digest.services import digests_prune
from recommendations.feedback.page_views import page_view_cards
from recommendations.feedback.services import feedback_counts_rebuild
from recommendations.models import (
    CourseFeedbackDay,
    DigestItem,
    DigestSend,
    Dismissal,
    FeedbackEvent,
    PageView,
    ReasonFeedback,
)
from recommendations.serving.home_page import home_page_serve
from recommendations.tasks import digests_send_due
from tests.factories import PASSWORD, CourseFactory, CourseSkillFactory, MemberFactory, SkillFactory
from tests.helpers import new_analyst
from tests.recommendations.smtp_server import smtp_server_start
from web.selectors import member_data_export
from web.services import accounts_delete


def _subscribed(world, *follow: str) -> Member:
    member = new_analyst(world, *follow)
    Member.objects.filter(pk=member.pk).update(digest_opt_in=True)
    member.digest_opt_in = True
    return member


def _links(message) -> list[str]:
    return re.findall(r"http://localhost:8000(/digest/(?!unsubscribe/)[^/\s]+/)", message.body)


def _titles(message) -> list[str]:
    return re.findall(r"^- (.+)$", message.body, flags=re.MULTILINE)


def _at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


# What it shows


def test_the_digest_is_the_homepages_first_carousels_with_their_explanations(world):
    member = _subscribed(world, "SQL", "Tableau")
    page = home_page_serve(member=member, with_continue=False)

    digest = digest_compose(member=member)

    assert [c.label for c in digest.carousels] == [c.label for c in page.carousels[:3]]
    for mine, theirs in zip(digest.carousels, page.carousels, strict=False):
        assert [(card.course.pk, card.explanation) for card in mine.cards] == [
            (card.course.pk, card.explanation) for card in theirs.cards[:3]
        ]
    assert digest.carousels[0].label == "Because you follow SQL"
    assert {card.explanation for card in digest.carousels[0].cards} == {"Matches your skills: SQL"}


def test_the_email_has_text_and_html_with_the_headings_explanations_and_signed_links(world):
    member = _subscribed(world, "SQL", "Tableau")

    digests_send()

    [message] = mail.outbox
    assert message.to == [member.user.email]
    send = DigestSend.objects.get(member=member)
    items = list(send.items.select_related("course"))
    assert len(items) == len(_titles(message)) == len(_links(message))
    assert _titles(message) == [item.course.title for item in items]
    assert "Because you follow SQL" in message.body
    assert "Matches your skills: SQL" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "<h2>Because you follow SQL</h2>" in html
    for item, link in zip(items, _links(message), strict=True):
        assert link in html
        assert signing.loads(link.split("/")[2], salt="recommendations.digest.click") == [
            send.pk,
            item.position,
        ]
    unsubscribe = re.search(r"(http://localhost:8000/digest/unsubscribe/[^/\s]+/)", message.body)
    assert message.extra_headers["List-Unsubscribe"] == f"<{unsubscribe.group(1)}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_dismissed_and_finished_courses_are_left_out(world):
    member = _subscribed(world, "SQL")
    shown = [card.course for card in digest_compose(member=member).carousels[0].cards]
    Dismissal.objects.create(member=member, course=shown[0])
    Enrolment.objects.create(
        member=member,
        course=shown[1],
        enrolled_at=timezone.now() - dt.timedelta(days=2),
        progress_percent=100,
        completed_at=timezone.now() - dt.timedelta(days=1),
    )

    digests_send()

    courses = set(DigestItem.objects.filter(send__member=member).values_list("course", flat=True))
    assert courses and not courses & {shown[0].pk, shown[1].pk}


def test_next_weeks_digest_leaves_out_what_the_last_one_showed(world):
    member = _subscribed(world, "SQL", "Python")
    now = timezone.now()
    digests_send(now=now)
    first = set(DigestItem.objects.filter(send__member=member).values_list("course", flat=True))

    digests_send(now=now + dt.timedelta(days=7))

    assert len(mail.outbox) == 2
    second = set(
        DigestItem.objects.filter(
            send__member=member, send__week=week_start(now) + dt.timedelta(7)
        ).values_list("course", flat=True)
    )
    assert second and not first & second


def test_a_member_with_nothing_new_gets_no_email_and_the_week_is_settled(db):
    skill = SkillFactory(name="COBOL")
    courses = [CourseFactory(title=f"COBOL {n}") for n in range(2)]
    for course in courses:
        CourseSkillFactory(course=course, skill=skill)
    member = MemberFactory(digest_opt_in=True)
    member.followed_skills.create(skill=skill)
    now = timezone.now()
    digests_send(now=now)
    assert len(mail.outbox) == 1

    outcome = digests_send(now=now + dt.timedelta(days=7))

    assert (outcome.sent, outcome.empty) == (0, 1)
    assert len(mail.outbox) == 1
    empty = DigestSend.objects.get(member=member, week=week_start(now) + dt.timedelta(days=7))
    assert (empty.state, empty.sent_at, empty.items.count()) == ("empty", None, 0)
    # The week after, the empty week does not count as the last digest: still nothing new.
    assert digests_send(now=now + dt.timedelta(days=14)).sent == 0


# Who gets it, once


def test_send_digests_on_the_demo_data_mails_each_subscribed_member_once_a_week(demo, capsys):
    subscribed = set(
        Member.objects.filter(digest_opt_in=True).values_list("user__email", flat=True)
    )
    others = set(Member.objects.filter(digest_opt_in=False).values_list("user__email", flat=True))
    assert subscribed and others

    call_command("send_digests")

    # Every subscribed member with recommendations gets one email, nobody else any; a member
    # whose homepage recommends nothing (they took what it had) gets none.
    nothing = set(
        DigestSend.objects.filter(state="empty").values_list("member__user__email", flat=True)
    )
    for member in Member.objects.filter(digest_sends__state="empty"):
        assert home_page_serve(member=member, with_continue=False).carousels == []
    recipients = [address for message in mail.outbox for address in message.to]
    assert sorted(recipients) == sorted(subscribed - nothing)
    assert len(nothing) < len(subscribed) / 10
    assert all(_links(message) for message in mail.outbox)
    assert DigestSend.objects.filter(state="sent").count() == len(recipients)
    assert f"sent {len(recipients)} digests to {len(subscribed)} members" in capsys.readouterr().out

    call_command("send_digests")

    assert len(mail.outbox) == len(recipients)
    assert "sent 0 digests to 0 members" in capsys.readouterr().out


def test_a_claimed_week_is_never_sent_again_even_if_its_send_was_not_confirmed(world):
    crashed = _subscribed(world, "SQL")
    other = _subscribed(world, "Python")
    now = timezone.now()
    # A run that died after claiming (and maybe sending) leaves the row claimed.
    DigestSend.objects.create(
        member=crashed, week=week_start(now), claimed_at=now, claimed_by=uuid.uuid4()
    )

    outcome = digests_send(now=now)

    assert [message.to for message in mail.outbox] == [[other.user.email]]
    assert (outcome.considered, outcome.sent) == (1, 1)
    assert DigestSend.objects.get(member=crashed).state == "claimed"


def test_members_without_the_opt_in_an_address_or_an_active_account_get_nothing(world):
    new_analyst(world, "SQL")
    no_address = _subscribed(world, "SQL")
    no_address.user.email = ""
    no_address.user.save()
    inactive = _subscribed(world, "SQL")
    inactive.user.is_active = False
    inactive.user.save()

    assert digests_send().considered == 0
    assert mail.outbox == []


def test_the_daily_run_serves_the_members_whose_send_day_has_come(world):
    members = [_subscribed(world, "SQL") for _ in range(7)]
    monday = week_start(timezone.now())
    wednesday = _at(monday + dt.timedelta(days=2))

    digests_send(now=_at(monday), due_only=True)
    first = {message.to[0] for message in mail.outbox}
    digests_send(now=wednesday, due_only=True)

    assert first == {m.user.email for m in members if member_send_day(m.pk) == 0}
    assert [m.to[0] for m in mail.outbox[len(first) :]] == [
        m.user.email for m in members if member_send_day(m.pk) in (1, 2)
    ]
    assert {member_send_day(m.pk) for m in members} == set(range(7))


def test_dry_run_claims_and_sends_nothing_and_limit_caps_the_emails(world, capsys):
    members = [_subscribed(world, "SQL") for _ in range(3)]

    call_command("send_digests", "--dry-run")

    out = capsys.readouterr().out
    assert mail.outbox == [] and not DigestSend.objects.exists()
    assert f"{members[0].user.username}: 6 courses under Because you follow SQL; New\n" in out
    assert "would send 3 digests" in out

    call_command("send_digests", "--limit", "2")

    assert [m.to[0] for m in mail.outbox] == [m.user.email for m in members[:2]]
    call_command("send_digests")
    assert len(mail.outbox) == 3


def test_limit_must_be_positive(db):
    with pytest.raises(CommandError, match="--limit must be at least 1"):
        call_command("send_digests", "--limit", "0")


def test_the_schedule_runs_daily_and_a_second_run_the_same_day_sends_nothing(world):
    schedule = Schedule.objects.get(name=DIGEST_SCHEDULE_NAME)
    assert (schedule.func, schedule.minutes) == ("recommendations.tasks.digests_send_due", 1440)
    members = [_subscribed(world, "SQL") for _ in range(7)]
    sunday = _at(week_start(timezone.now()) + dt.timedelta(days=6))
    assert digests_send(now=sunday, due_only=True).sent == len(members)
    assert digests_send_due() == 0


# The connection to the email backend


@pytest.fixture
def smtp(settings):
    server, record = smtp_server_start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.server_address
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield record
    server.shutdown()
    server.server_close()


def test_sending_to_many_members_uses_one_smtp_connection(world, smtp, settings):
    settings.DIGEST = {**settings.DIGEST, "BATCH_MEMBERS": 2}
    members = [_subscribed(world, "SQL") for _ in range(5)]

    outcome = digests_send()

    assert outcome.sent == 5
    assert smtp.connections == 1
    assert smtp.messages == [[m.user.email] for m in members]


def test_a_refused_message_releases_its_claim_and_the_next_run_sends_it(world, smtp):
    refused, accepted = _subscribed(world, "SQL"), _subscribed(world, "SQL")
    smtp.refuse = {refused.user.email}

    outcome = digests_send()

    assert (outcome.sent, outcome.failed) == (1, 1)
    assert smtp.messages == [[accepted.user.email]]
    assert not DigestSend.objects.filter(member=refused).exists()
    assert not DigestItem.objects.filter(send__member=refused).exists()

    smtp.refuse = set()
    assert digests_send().sent == 1
    assert smtp.messages[-1] == [refused.user.email]


# Queries


def _run_queries(members: list[Member]) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert digests_send().sent == len(members)
    return len(queries)


def test_a_batch_costs_a_fixed_number_of_queries_plus_a_fixed_number_per_member(world, settings):
    settings.DIGEST = {**settings.DIGEST, "BATCH_MEMBERS": 100}
    three = [_subscribed(world, "SQL") for _ in range(3)]
    digests_send(now=timezone.now() - dt.timedelta(days=7))  # a last digest for the three
    mail.outbox.clear()
    first = _run_queries(three)
    DigestSend.objects.filter(week=week_start(timezone.now())).delete()
    six = three + [_subscribed(world, "SQL") for _ in range(3)]
    second = _run_queries(six)

    # Per member what a homepage costs: on PostgreSQL the member's inputs (one statement) and,
    # with the card cache off as in the tests, the cards and their skills. Per batch: the
    # members, their last digests' courses, the claim (sends, read back, items, the email's page
    # views, in a savepoint), the mark as sent, and the empty next batch.
    per_member = 3 if connection.vendor == "postgresql" else 10
    batch = 10
    assert (second - first) == 3 * per_member
    assert first == batch + 3 * per_member


# Following a link


def test_following_a_link_records_the_click_on_the_right_course_and_lands_on_it(world, client):
    member = _subscribed(world, "SQL", "Tableau")
    digests_send()
    [message] = mail.outbox
    links = _links(message)
    second = DigestItem.objects.select_related("course").get(send__member=member, position=1)

    response = client.get(links[1])

    assert response.status_code == 302
    assert response["Location"] == f"/courses/{second.course.slug}/"
    clicked = DigestItem.objects.filter(send__member=member).exclude(clicked_at=None)
    assert list(clicked.values_list("position", "course", "reason", "reason_key")) == [
        (1, second.course_id, "follow", second.reason_key)
    ]
    first_click = clicked.get().clicked_at
    assert client.get(links[1]).status_code == 302
    assert DigestItem.objects.get(pk=second.pk).clicked_at == first_click


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        signing.dumps([1, 0], salt="recommendations.digest.click")[:-2] + "xx",
        signing.dumps([1, 0], salt="recommendations.digest.unsubscribe"),
        signing.dumps(["1", 0], salt="recommendations.digest.click"),
        signing.dumps([1, -1], salt="recommendations.digest.click"),
    ],
    ids=["garbage", "tampered", "another-salt", "not-ids", "negative"],
)
def test_a_bad_link_is_a_400_page_and_records_nothing(world, client, token):
    _subscribed(world, "SQL")
    digests_send()

    response = client.get(f"/digest/{token}/")

    assert response.status_code == 400
    assert "This link is not valid." in response.content.decode()
    assert not DigestItem.objects.exclude(clicked_at=None).exists()


def test_an_expired_link_says_so_and_records_nothing(world, client, settings, monkeypatch):
    _subscribed(world, "SQL")
    digests_send()
    send = DigestSend.objects.get()
    token = click_token_make(send_id=send.pk, position=0)
    later = timezone.now().timestamp() + (settings.DIGEST["LINK_MAX_AGE_DAYS"] + 1) * 86400
    monkeypatch.setattr(signing.time, "time", lambda: later)

    response = client.get(f"/digest/{token}/")

    assert response.status_code == 400
    assert "This link has expired." in response.content.decode()
    assert not DigestItem.objects.exclude(clicked_at=None).exists()


def test_a_link_to_a_pruned_digest_a_missing_position_or_an_unpublished_course_is_404(
    world, client
):
    _subscribed(world, "SQL")
    digests_send()
    send = DigestSend.objects.get()
    item = send.items.select_related("course").get(position=0)
    type(item.course).objects.filter(pk=item.course_id).update(
        published_at=timezone.now() + dt.timedelta(days=1)
    )

    for send_id, position in [(send.pk, 0), (send.pk, 99), (send.pk + 1, 0)]:
        token = click_token_make(send_id=send_id, position=position)
        assert client.get(f"/digest/{token}/").status_code == 404
    assert not DigestItem.objects.exclude(clicked_at=None).exists()


# Unsubscribing


def test_the_unsubscribe_link_works_without_login_and_the_next_run_skips_the_member(world):
    member = _subscribed(world, "SQL")
    digests_send()
    url = re.search(r"http://localhost:8000(/digest/unsubscribe/\S+/)", mail.outbox[0].body)[1]
    visitor = Client(enforce_csrf_checks=True)

    asked = visitor.get(url)

    assert asked.status_code == 200
    assert "Stop the weekly email" in asked.content.decode()
    assert Member.objects.get(pk=member.pk).digest_opt_in  # a GET (a link scanner) changes nothing

    done = visitor.post(url)

    assert done.status_code == 200
    assert "You are unsubscribed" in done.content.decode()
    assert not Member.objects.get(pk=member.pk).digest_opt_in
    # Twice is fine.
    assert visitor.post(url).status_code == 200
    assert "You are unsubscribed" in visitor.post(url).content.decode()
    # Next week's run skips them.
    assert digests_send(now=timezone.now() + dt.timedelta(days=7)).considered == 0
    assert len(mail.outbox) == 1


def test_the_one_click_post_of_the_list_unsubscribe_header_needs_no_csrf_token(world):
    member = _subscribed(world, "SQL")
    digests_send()
    header = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")

    response = Client(enforce_csrf_checks=True).post(
        header.removeprefix("http://localhost:8000"),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert not Member.objects.get(pk=member.pk).digest_opt_in


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        signing.dumps([1, 0], salt="recommendations.digest.click"),
        unsubscribe_token_make(member_id=1)[:-3] + "abc",
    ],
    ids=["garbage", "click-token", "tampered"],
)
def test_a_bad_unsubscribe_link_is_a_400_page_and_changes_nothing(world, token):
    member = _subscribed(world, "SQL")

    response = Client().post(f"/digest/unsubscribe/{token}/")

    assert response.status_code == 400
    assert "This link is not valid." in response.content.decode()
    assert Member.objects.get(pk=member.pk).digest_opt_in


def test_the_unsubscribe_link_of_a_deleted_account_is_404(db):
    token = unsubscribe_token_make(member_id=10**9)
    assert Client().post(f"/digest/unsubscribe/{token}/").status_code == 404


# Retention


def test_digests_older_than_the_kept_weeks_are_pruned(world):
    member = _subscribed(world, "SQL")
    now = timezone.now()
    for weeks_ago in (0, 2, 3):
        digests_send(now=now - dt.timedelta(weeks=weeks_ago))
    assert DigestSend.objects.filter(member=member).count() == 3

    assert digests_prune(now=now, kept_weeks=2) == 1

    assert sorted(DigestSend.objects.values_list("week", flat=True)) == [
        week_start(now) - dt.timedelta(weeks=2),
        week_start(now),
    ]
    assert not DigestItem.objects.filter(send__week__lt=week_start(now) - dt.timedelta(weeks=2))


# The profile's preview


def test_the_preview_shows_the_next_digest_without_tracked_links(world, client):
    member = _subscribed(world, "SQL", "Tableau")
    client.login(username=member.user.username, password=PASSWORD)
    digest = digest_compose(member=member)

    page = client.get("/digest/preview/").content.decode()

    assert "<html" in page and "Your next weekly email" in page
    for carousel in digest.carousels:
        assert f"<h4>{carousel.label}</h4>" in page
        for card in carousel.cards:
            assert f'href="/courses/{card.course.slug}/"' in page
            assert card.explanation in page
    assert "/digest/" not in page.replace("/digest/preview/", "")


def test_after_this_weeks_digest_the_preview_leaves_out_what_it_showed(world, client):
    member = _subscribed(world, "SQL", "Python")
    client.login(username=member.user.username, password=PASSWORD)
    digests_send()
    sent = DigestItem.objects.filter(send__member=member).select_related("course")

    page = client.get("/digest/preview/", headers={"HX-Request": "true"}).content.decode()

    assert "<html" not in page and 'id="digest-preview-content"' in page
    assert not [item.course.title for item in sent if item.course.title in page]


def test_the_preview_costs_a_fixed_number_of_queries(world, client, django_assert_num_queries):
    member = _subscribed(world, "SQL")
    client.login(username=member.user.username, password=PASSWORD)
    client.get("/digest/preview/")  # the snapshot, built once per process
    # The session, the user with the member, the last digest's courses and the homepage's
    # inputs, cards and card skills (the card cache is off in the tests).
    expected = 6 if connection.vendor == "postgresql" else 13
    with django_assert_num_queries(expected):
        assert client.get("/digest/preview/", headers={"HX-Request": "true"}).status_code == 200


def test_the_preview_needs_login(client):
    assert client.get("/digest/preview/").status_code == 302


# The admin


def test_the_admin_shows_email_ctr_per_week_and_reason(world, admin_client):
    members = [_subscribed(world, "SQL") for _ in range(2)]
    digests_send()
    Client().get(_links(mail.outbox[0])[0])
    shown = DigestItem.objects.filter(reason="follow").count()

    page = admin_client.get("/admin/recommendations/digestsend/").content.decode()

    week = week_start(timezone.now())
    assert f"<td>{week:%G-W%V}</td><td>2</td><td>0</td><td>0</td>" in page
    assert f"<td>1/{shown}</td>" in page
    assert '<svg class="chart"' in page
    detail = admin_client.get(
        f"/admin/recommendations/digestsend/{DigestSend.objects.get(member=members[0]).pk}/change/"
    )
    assert detail.status_code == 200


# The member's data


def test_export_lists_the_digests_and_account_deletion_removes_them(world):
    member = _subscribed(world, "SQL")
    keeper = _subscribed(world, "SQL")
    digests_send()
    Client().get(_links(mail.outbox[0])[0])

    body = orjson.loads(b"".join(member_data_export(member=member)))

    send = DigestSend.objects.get(member=member)
    assert body["profile"]["digest_opt_in"] is True
    assert [(row["digest_id"], row["state"]) for row in body["digests"]] == [(send.pk, "sent")]
    assert [row["position"] for row in body["digest_courses"]] == list(range(send.items.count()))
    assert body["digest_courses"][0]["clicked_at"] is not None

    accounts_delete(users=[member.user])

    assert not DigestSend.objects.filter(pk=send.pk).exists()
    assert not DigestItem.objects.filter(send_id=send.pk).exists()
    assert DigestSend.objects.filter(member=keeper).exists()


# The email channel in the data


def test_a_digest_is_logged_as_a_page_view_on_the_email_channel_that_adds_to_no_count(world):
    member = _subscribed(world, "SQL", "Tableau")
    counts_before = (ReasonFeedback.objects.count(), CourseFeedbackDay.objects.count())

    digests_send()

    send = DigestSend.objects.get(member=member)
    page = PageView.objects.get(pk=send.page_view_id)
    items = list(send.items.order_by("position"))
    cards = page_view_cards(
        courses=page.courses, slots=page.slots, labels=page.labels, variant_id=page.variant_id
    )
    assert (page.member_id, page.channel, page.recommended) == (member.pk, "email", len(items))
    assert [
        (c.course_id, c.reason, c.reason_key, c.carousel_position, c.strategy) for c in cards
    ] == [(i.course_id, i.reason, i.reason_key, i.carousel_position, send.strategy) for i in items]
    # Positions restart in each of the email's carousels.
    assert [c.position for c in cards if c.carousel_position == 1] == list(
        range(sum(1 for i in items if i.carousel_position == 1))
    )
    # The homepage's counts (impression discount, carousel order) are the site's alone.
    assert (ReasonFeedback.objects.count(), CourseFeedbackDay.objects.count()) == counts_before


def test_an_empty_digest_has_no_page_view(db):
    member = MemberFactory(digest_opt_in=True)
    digests_send()
    assert DigestSend.objects.get(member=member).page_view_id is None
    assert not PageView.objects.exists()


def test_following_a_link_records_an_email_click_on_the_right_course_and_reason(world, client):
    member = _subscribed(world, "SQL", "Tableau")
    digests_send()
    links = _links(mail.outbox[0])
    send = DigestSend.objects.get(member=member)
    item = send.items.get(position=4)

    assert client.get(links[4]).status_code == 302
    assert client.get(links[4]).status_code == 302  # followed twice: one click

    click = FeedbackEvent.objects.get(kind="click")
    assert (
        click.member_id,
        click.course_id,
        click.channel,
        click.page_view_id,
        click.reason,
        click.reason_key,
        click.strategy,
        click.carousel_position,
        click.position,
        click.variant_id,
    ) == (
        member.pk,
        item.course_id,
        "email",
        send.page_view_id,
        item.reason,
        item.reason_key,
        send.strategy,
        item.carousel_position,
        4 - send.items.filter(carousel_position__lt=item.carousel_position).count(),
        None,
    )
    assert not ReasonFeedback.objects.filter(clicks__gt=0).exists()
    # Rebuilding the counts leaves the email out too.
    feedback_counts_rebuild()
    assert not ReasonFeedback.objects.exists()


def test_a_link_whose_page_view_was_pruned_records_the_follow_without_a_click(world, client):
    member = _subscribed(world, "SQL")
    digests_send()
    PageView.objects.all().delete()

    assert client.get(_links(mail.outbox[0])[0]).status_code == 302

    assert DigestItem.objects.get(send__member=member, position=0).clicked_at is not None
    assert not FeedbackEvent.objects.exists()


def test_the_admin_shows_email_ctr_beside_web_ctr(world, client, admin_client):
    member = _subscribed(world, "SQL")
    user = member.user
    user.set_password(PASSWORD)
    user.save()
    digests_send()
    Client().get(_links(mail.outbox[0])[0])
    client.login(username=user.username, password=PASSWORD)
    client.get("/")
    web = PageView.objects.get(channel="web")
    first = page_view_cards(
        courses=web.courses, slots=web.slots, labels=web.labels, variant_id=None
    )[0]
    client.get(f"/recommendations/go/{web.pk}/{first.course_id}/")
    email = PageView.objects.get(channel="email")

    page = admin_client.get("/admin/recommendations/digestsend/").content.decode()

    week = week_start(timezone.now())
    row = re.search(rf"<td>{week:%G-W%V}</td>\s*(.*?)</tr>", page, flags=re.DOTALL).group(1)
    cells = re.findall(r"<td>([^<]*)</td>", row)
    web_ctr = f"{1 / web.recommended:.1%}"
    email_ctr = f"{1 / email.recommended:.1%}"
    assert cells == [f"1/{web.recommended}", web_ctr, "—", "—", f"1/{email.recommended}", email_ctr]
    assert "Click-through per week on each channel" in page
