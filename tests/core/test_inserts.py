"""core/inserts.py: one INSERT ... ON CONFLICT DO NOTHING instead of get_or_create's four
statements, exact about what it inserted."""

import datetime as dt

import pytest
from django.db import transaction

from core.inserts import row_insert_unless_present
from members.models import Bookmark
from tests.factories import CourseFactory, MemberFactory

pytestmark = pytest.mark.django_db

EARLIER = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def test_a_new_row_is_inserted_in_one_statement(django_assert_num_queries):
    member, course = MemberFactory(), CourseFactory()
    bookmark = Bookmark(member=member, course=course, created_at=EARLIER)

    with django_assert_num_queries(1):
        assert row_insert_unless_present(bookmark, unique=("member", "course")) is True

    assert bookmark.pk is not None
    assert not bookmark._state.adding
    stored = Bookmark.objects.get(pk=bookmark.pk)
    assert (stored.member_id, stored.course_id, stored.created_at) == (
        member.pk,
        course.pk,
        EARLIER,
    )


def test_a_row_with_the_same_unique_values_is_left_as_it_is(django_assert_num_queries):
    member, course = MemberFactory(), CourseFactory()
    first = Bookmark.objects.create(member=member, course=course, created_at=EARLIER)
    again = Bookmark(member=member, course=course, created_at=LATER)

    with django_assert_num_queries(1):
        assert row_insert_unless_present(again, unique=("member", "course")) is False

    assert again.pk is None
    assert again._state.adding
    assert list(Bookmark.objects.values_list("pk", "created_at")) == [(first.pk, EARLIER)]


def test_another_member_s_row_is_no_conflict():
    course = CourseFactory()
    Bookmark.objects.create(member=MemberFactory(), course=course, created_at=EARLIER)

    assert row_insert_unless_present(
        Bookmark(member=MemberFactory(), course=course, created_at=LATER),
        unique=("member", "course"),
    )
    assert Bookmark.objects.filter(course=course).count() == 2


def test_a_conflict_leaves_the_enclosing_transaction_usable():
    member, course = MemberFactory(), CourseFactory()
    Bookmark.objects.create(member=member, course=course, created_at=EARLIER)

    with transaction.atomic():
        assert not row_insert_unless_present(
            Bookmark(member=member, course=course, created_at=LATER),
            unique=("member", "course"),
        )
        # Without a savepoint: a unique violation would have aborted the transaction here.
        assert Bookmark.objects.filter(member=member).count() == 1


def test_fields_that_are_no_unique_constraint_are_refused():
    bookmark = Bookmark(member=MemberFactory(), course=CourseFactory(), created_at=EARLIER)

    for unique in [("member",), ("course", "member"), ("member", "created_at")]:
        with pytest.raises(ValueError, match="no unique constraint"):
            row_insert_unless_present(bookmark, unique=unique)
    assert not Bookmark.objects.exists()


def test_a_saved_row_is_refused():
    bookmark = Bookmark.objects.create(
        member=MemberFactory(), course=CourseFactory(), created_at=EARLIER
    )

    with pytest.raises(ValueError, match="saved already"):
        row_insert_unless_present(bookmark, unique=("member", "course"))
