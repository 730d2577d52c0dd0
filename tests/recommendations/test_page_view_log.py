"""Page views: one `PageView` row per page that showed recommendations, its cards packed, and
what reads them (the card an event acts on, what a member saw recently)."""

import dataclasses
import datetime as dt
import importlib
import uuid
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from recommendations.data import ShownCourse
from recommendations.feedback.page_views import (
    page_view_card_at,
    page_view_cards,
    page_view_continue_mask,
    page_view_courses,
    page_view_first_slot,
    page_view_pack,
    page_view_slot_count,
)
from recommendations.feedback.selectors import courses_shown_since
from recommendations.feedback.services import (
    click_log,
    feedback_counts_rebuild,
    impressions_log,
)
from recommendations.models import (
    CourseFeedbackDay,
    Experiment,
    ExperimentVariant,
    FeedbackEvent,
    PageView,
    ReasonFeedback,
)
from recommendations.serving.pending import SlotRefused, page_view_card
from tests.factories import PASSWORD, CourseFactory, MemberFactory
from tests.helpers import new_analyst, recommendations_served, response_close

pytestmark = pytest.mark.django_db

WEB = PageView.Channel.WEB


def _variant():
    experiment = Experiment.objects.create(
        name="Exp", key="exp", starts_at=timezone.now() - dt.timedelta(days=1)
    )
    return ExperimentVariant.objects.create(
        experiment=experiment, code="a", strategy="affinity", is_control=True
    )


def test_a_page_packs_and_unpacks_to_the_same_cards():
    shown = [
        ShownCourse(7, "continue", "continue", "rules", 0, 0, None),
        ShownCourse(2_000_000_000, "follow", "follow:42", "rules", 1, 0, 5),
        ShownCourse(3, "follow", "follow:42", "explore", 1, 1, 5),
        # A reason no code knows of: the packing keeps whatever strings serving gives.
        ShownCourse(9, "goal", "goal:data-analyst", "rules", 2, 11, 5),
    ]
    packed = page_view_pack(shown)
    assert packed.variant_id == 5
    assert packed.recommended == 3
    assert packed.labels == [
        ["continue", "continue", "rules"],
        ["follow", "follow:42", "rules"],
        ["follow", "follow:42", "explore"],
        ["goal", "goal:data-analyst", "rules"],
    ]
    # 4 bytes per course, 6 per slot: what a hundred cards cost, instead of a hundred rows.
    assert (len(packed.courses), len(packed.slots)) == (16, 24)
    assert (
        page_view_cards(
            courses=packed.courses,
            slots=packed.slots,
            labels=packed.labels,
            variant_id=packed.variant_id,
        )
        == shown
    )
    assert page_view_courses(packed.courses).tolist() == [7, 2_000_000_000, 3, 9]
    # One card read alone is the same card (an event reads only the card it acts on).
    columns = {"courses": packed.courses, "slots": packed.slots, "labels": packed.labels}
    assert page_view_slot_count(packed.courses) == 4
    assert [
        page_view_card_at(**columns, variant_id=packed.variant_id, slot=slot) for slot in range(4)
    ] == shown
    assert [
        page_view_first_slot(packed.courses, course) for course in (7, 3, 9, 2_000_000_000)
    ] == [
        0,
        2,
        3,
        1,
    ]
    assert page_view_first_slot(packed.courses, 8) is None
    assert page_view_continue_mask(slots=packed.slots, labels=packed.labels).tolist() == [
        True,
        False,
        False,
        False,
    ]


@pytest.mark.parametrize(
    ("shown", "message"),
    [
        (
            [
                ShownCourse(1, "new", "new", "rules", 0, 0, 1),
                ShownCourse(2, "new", "new", "rules", 0, 1, 2),
            ],
            "one experiment variant",
        ),
        ([ShownCourse(1, "continue", "continue", "rules", 0, 0, 1)], "no experiment variant"),
        ([ShownCourse(2**31, "new", "new", "rules", 0, 0)], "int32"),
        ([ShownCourse(1, "new", "new", "rules", 0, 2**15)], "int16"),
        ([ShownCourse(1, "new", "new", "rules", -1, 0)], "int16"),
    ],
)
def test_what_the_packing_cannot_hold_is_refused(shown, message):
    with pytest.raises(ValueError, match=message):
        page_view_pack(shown)


def test_impressions_log_writes_one_page_view_and_its_counts(django_assert_num_queries):
    member, other = MemberFactory(), MemberFactory()
    first, second, third = CourseFactory(), CourseFactory(), CourseFactory()
    variant = _variant()
    page_view_id = uuid.uuid4()
    now = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)
    shown = [
        ShownCourse(second.pk, "continue", "continue", "affinity", 0, 0, None),
        ShownCourse(first.pk, "follow", f"follow:{first.pk}", "affinity", 1, 0, variant.pk),
        ShownCourse(third.pk, "popular", "popular", "explore", 2, 0, variant.pk),
    ]
    with django_assert_num_queries(0):
        assert impressions_log(member=member, page_view_id=uuid.uuid4(), shown=[]) == 0
    # A constant count whatever the number of cards: on PostgreSQL one statement for the page
    # view and both counts; elsewhere, inside a savepoint (the test's transaction is open), the
    # member and the courses that still exist (one query), the page view, and the two counts.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 6):
        logged = impressions_log(
            member=member, page_view_id=page_view_id, shown=shown, channel=WEB, now=now
        )
    assert logged == 3
    page = PageView.objects.get()
    assert (page.pk, page.member_id, page.created_at, page.channel, page.variant_id) == (
        page_view_id,
        member.pk,
        now,
        "web",
        variant.pk,
    )
    assert page.recommended == 2
    cards = page_view_cards(
        courses=page.courses, slots=page.slots, labels=page.labels, variant_id=page.variant_id
    )
    assert cards == shown
    assert not FeedbackEvent.objects.exists()
    assert sorted(
        CourseFeedbackDay.objects.values_list("course_id", "day", "impressions", "clicks")
    ) == sorted((c.pk, now.date(), 1, 0) for c in (first, second, third))
    assert sorted(ReasonFeedback.objects.values_list("reason", "impressions")) == [
        ("continue", 1),
        ("follow", 1),
        ("popular", 1),
    ]
    assert not PageView.objects.filter(member=other).exists()


def test_a_page_view_for_a_deleted_member_or_course_stores_what_it_can(db):
    member = MemberFactory()
    kept, deleted = CourseFactory(), CourseFactory()
    shown = [
        ShownCourse(kept.pk, "new", "new", "rules", 0, 0),
        ShownCourse(deleted.pk, "new", "new", "rules", 0, 1),
    ]
    deleted.delete()
    # The page view keeps what it showed; the counts only the courses that still exist.
    assert impressions_log(member=member, page_view_id=uuid.uuid4(), shown=shown, channel=WEB) == 1
    assert PageView.objects.get().recommended == 2
    assert list(CourseFeedbackDay.objects.values_list("course_id", flat=True)) == [kept.pk]
    gone = MemberFactory()
    gone_id = gone.pk
    gone.delete()
    gone.pk = gone_id
    assert impressions_log(member=gone, page_view_id=uuid.uuid4(), shown=shown, channel=WEB) == 0
    assert PageView.objects.count() == 1


def test_a_homepage_view_writes_one_feedback_row(world, client):
    member = new_analyst(world, "SQL", "Python")
    client.login(username=member.user.username, password=PASSWORD)
    before = FeedbackEvent.objects.count(), PageView.objects.count()
    response = client.get(reverse("home"))
    assert response.status_code == 200
    page = response.context["page"]
    # Every card in one row: no event, one page view (about a hundred cards on a full page).
    assert len(page.shown) > 10
    assert (FeedbackEvent.objects.count(), PageView.objects.count()) == (
        before[0],
        before[1] + 1,
    )
    stored = PageView.objects.get(pk=page.page_view_id)
    assert (stored.member_id, stored.channel) == (member.pk, "web")
    assert (
        page_view_cards(
            courses=stored.courses,
            slots=stored.slots,
            labels=stored.labels,
            variant_id=stored.variant_id,
        )
        == page.shown
    )
    # The page names its page view and each card's slot, for clients posting events.
    html = response.content.decode()
    assert f'data-page-view-id="{page.page_view_id}"' in html
    assert html.count("data-slot=") == len(page.shown)
    assert f'id="rec-card-{page.shown[-1].course_id}" data-slot="{len(page.shown) - 1}"' in html


def test_a_recommendations_answer_writes_one_feedback_row_and_numbers_its_slots(world):
    member = new_analyst(world, "SQL", "Python")
    before = FeedbackEvent.objects.count(), PageView.objects.count()
    response = recommendations_served(member)
    response_close(response)
    assert (FeedbackEvent.objects.count(), PageView.objects.count()) == (
        before[0],
        before[1] + 1,
    )
    body = response.data
    stored = PageView.objects.get(pk=body["page_view_id"])
    assert stored.channel == "api"
    slots = [
        (card["slot"], card["course"]["id"])
        for carousel in body["carousels"]
        for card in carousel["courses"]
    ]
    assert [slot for slot, _ in slots] == list(range(len(slots)))
    assert [course for _, course in slots] == page_view_courses(stored.courses).tolist()


def test_the_card_of_a_page_view_by_course_or_by_slot(db):
    member, other = MemberFactory(), MemberFactory()
    first, second = CourseFactory(), CourseFactory()
    page_view_id = uuid.uuid4()
    shown = [
        ShownCourse(first.pk, "new", "new", "rules", 0, 0),
        ShownCourse(second.pk, "popular", "popular", "rules", 1, 0),
        ShownCourse(second.pk, "trending", "trending", "rules", 2, 0),
    ]
    impressions_log(member=member, page_view_id=page_view_id, shown=shown, channel=WEB)

    def card(**kwargs):
        return page_view_card(member=member, page_view_id=page_view_id, wait=False, **kwargs)

    # The card as served, with its page view's channel (which events acting on it copy).
    assert card(course_id=second.pk) == dataclasses.replace(shown[1], channel="web")
    assert card(course_id=second.pk, slot=1) == dataclasses.replace(shown[1], channel="web")
    # A course shown twice: its first card unless the slot says which.
    assert card(course_id=second.pk, slot=2) == dataclasses.replace(shown[2], channel="web")
    assert card(course_id=CourseFactory().pk) is None
    for outside in (3, -1):
        with pytest.raises(SlotRefused) as beyond:
            card(course_id=second.pk, slot=outside)
        assert (beyond.value.reason, beyond.value.message) == (
            "unknown_slot",
            "This page view showed 3 cards: slot must be below that.",
        )
    with pytest.raises(SlotRefused) as mismatch:
        card(course_id=second.pk, slot=0)
    assert mismatch.value.reason == "slot_mismatch"
    # Another member's page view, or an unknown one, is no page view at all: not even the
    # slot's range is told.
    for member_, view in ((other, page_view_id), (member, uuid.uuid4()), (member, None)):
        assert (
            page_view_card(
                member=member_, page_view_id=view, course_id=second.pk, slot=5, wait=False
            )
            is None
        )


def test_a_click_is_attributed_to_its_slot_and_counted(db):
    member = MemberFactory()
    course = CourseFactory()
    variant = _variant()
    page_view_id = uuid.uuid4()
    shown = [ShownCourse(course.pk, "follow", "follow:3", "ranked", 2, 4, variant.pk)]
    impressions_log(member=member, page_view_id=page_view_id, shown=shown, channel=WEB)
    click = click_log(member=member, page_view_id=page_view_id, course=course)
    assert (
        click.page_view_id,
        click.reason,
        click.reason_key,
        click.strategy,
        click.carousel_position,
        click.position,
        click.variant_id,
    ) == (page_view_id, "follow", "follow:3", "ranked", 2, 4, variant.pk)
    assert click_log(member=MemberFactory(), page_view_id=page_view_id, course=course) is None
    assert ReasonFeedback.objects.get(member=member).clicks == 1


def test_counts_rebuilt_from_page_views_equal_the_counts_written(db):
    member = MemberFactory()
    courses = [CourseFactory() for _ in range(3)]
    for day in range(3):
        shown = [
            ShownCourse(course.pk, reason, reason, "rules", 0, position)
            for position, (course, reason) in enumerate(
                zip(courses, ["new", "new", "popular"], strict=True)
            )
        ]
        page_view_id = uuid.uuid4()
        impressions_log(
            member=member,
            page_view_id=page_view_id,
            shown=shown,
            channel=WEB,
            now=timezone.now() - dt.timedelta(days=day),
        )
        click_log(member=member, page_view_id=page_view_id, course=courses[day])

    def counts():
        return (
            sorted(
                CourseFeedbackDay.objects.values_list("course_id", "day", "impressions", "clicks")
            ),
            sorted(ReasonFeedback.objects.values_list("reason", "impressions", "clicks")),
        )

    written = counts()
    assert written[1] == [("new", 6, 2), ("popular", 3, 1)]
    feedback_counts_rebuild()
    assert counts() == written


def test_what_a_member_saw_recently(db):
    member, other = MemberFactory(), MemberFactory()
    old, recent, also = CourseFactory(), CourseFactory(), CourseFactory()
    now = timezone.now()
    for who, course, when in (
        (member, old, now - dt.timedelta(days=10)),
        (member, recent, now - dt.timedelta(days=1)),
        (member, also, now),
        (other, old, now),
    ):
        impressions_log(
            member=who,
            page_view_id=uuid.uuid4(),
            shown=[ShownCourse(course.pk, "new", "new", "rules", 0, 0)],
            channel=WEB,
            now=when,
        )
    assert courses_shown_since(member=member, since=now - dt.timedelta(days=2)) == {
        recent.pk,
        also.pk,
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the plan is PostgreSQL's")
def test_what_a_member_saw_recently_is_an_index_only_scan(db):
    member = MemberFactory()
    queryset = (
        PageView.objects.filter(member=member, created_at__gte=timezone.now())
        .order_by()
        .values_list("courses", flat=True)
    )
    with connection.cursor() as cursor:
        # Any table size: the planner may prefer a sequential scan of a tiny table.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using page_view_member_time" in plan


# The migration that made page views of the per-card impression rows ------------------------------

_migration = importlib.import_module("recommendations.migrations.0016_page_views_from_impressions")


def _old_impression(member, course, page_view_id, carousel, position, **fields):
    defaults = {
        "reason": "new",
        "reason_key": "new",
        "strategy": "rules",
        "created_at": dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC),
    }
    return FeedbackEvent.objects.create(
        kind="impression",
        member=member,
        course=course,
        page_view_id=page_view_id,
        carousel_position=carousel,
        position=position,
        **(defaults | fields),
    )


def test_the_migration_makes_one_page_view_of_each_pages_impressions(db):
    member, other = MemberFactory(), MemberFactory()
    a, b, c = CourseFactory(), CourseFactory(), CourseFactory()
    variant = _variant()
    page = uuid.uuid4()
    # Stored out of page order: the migration orders by carousel, then position.
    _old_impression(member, c, page, 1, 0, reason="popular", reason_key="popular", variant=variant)
    _old_impression(member, b, page, 0, 1, reason="follow", reason_key="follow:1", variant=variant)
    _old_impression(member, a, page, 0, 0, reason="continue", reason_key="continue")
    _old_impression(
        member,
        b,
        page,
        0,
        2,
        reason="follow",
        reason_key="follow:1",
        strategy="explore",
        variant=variant,
    )
    # Another page, of another member; and rows without a page view id, grouped by member and time.
    other_page = uuid.uuid4()
    _old_impression(other, a, other_page, 0, 0)
    lone_time = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    _old_impression(member, a, None, 0, 0, created_at=lone_time)
    _old_impression(member, b, None, 0, 1, created_at=lone_time)
    # Reported impressions (no slot) and other events stay events.
    reported = FeedbackEvent.objects.create(
        kind="impression", member=member, course=a, created_at=lone_time
    )
    clicked = FeedbackEvent.objects.create(
        kind="click",
        member=member,
        course=b,
        page_view_id=page,
        carousel_position=0,
        position=1,
        created_at=lone_time,
    )

    # The migration reads only the editor's connection (SQLite's editor cannot open inside the
    # test's transaction).
    _migration.page_views_from_impressions(django_apps, SimpleNamespace(connection=connection))

    assert set(FeedbackEvent.objects.values_list("pk", flat=True)) == {reported.pk, clicked.pk}
    assert PageView.objects.count() == 3
    stored = PageView.objects.get(pk=page)
    assert (stored.member_id, stored.channel, stored.variant_id, stored.recommended) == (
        member.pk,
        "web",
        variant.pk,
        3,
    )
    assert page_view_cards(
        courses=stored.courses, slots=stored.slots, labels=stored.labels, variant_id=variant.pk
    ) == [
        ShownCourse(a.pk, "continue", "continue", "rules", 0, 0, None),
        ShownCourse(b.pk, "follow", "follow:1", "rules", 0, 1, variant.pk),
        ShownCourse(b.pk, "follow", "follow:1", "explore", 0, 2, variant.pk),
        ShownCourse(c.pk, "popular", "popular", "rules", 1, 0, variant.pk),
    ]
    assert page_view_courses(PageView.objects.get(pk=other_page).courses).tolist() == [a.pk]
    lone = PageView.objects.exclude(pk__in=[page, other_page]).get()
    assert (lone.member_id, lone.created_at, lone.variant_id) == (member.pk, lone_time, None)
    assert page_view_courses(lone.courses).tolist() == [a.pk, b.pk]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks between sessions are PostgreSQL's"
)
def test_a_page_view_waits_for_a_writer_holding_the_member_row():
    """Every writer of a member's counts takes the member's row first (an event batch, a click,
    a page view), so two of them cannot take the count rows in opposite orders and deadlock."""
    import threading

    from django.db import connections, transaction

    from recommendations.feedback.services import member_counts_lock

    member, course = MemberFactory(), CourseFactory()
    shown = [ShownCourse(course.pk, "popular", "popular", "affinity", 0, 0, None)]
    locked, written = threading.Event(), threading.Event()
    release = threading.Event()

    def hold_the_member_row() -> None:
        try:
            with transaction.atomic():
                member_counts_lock(member_id=member.pk)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    def write_the_page_view() -> None:
        try:
            impressions_log(member=member, page_view_id=uuid.uuid4(), shown=shown)
            written.set()
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_member_row)
    holder.start()
    assert locked.wait(10)
    writer = threading.Thread(target=write_the_page_view)
    writer.start()
    # Blocked on the member's row while the other transaction holds it...
    assert not written.wait(1.0)
    release.set()
    holder.join(10)
    # ... and written once it commits.
    assert written.wait(10)
    writer.join(10)
    assert PageView.objects.filter(member=member).count() == 1
    assert CourseFeedbackDay.objects.get(member=member, course=course).impressions == 1
