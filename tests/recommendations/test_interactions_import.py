"""import_interactions: every event type, merges, row errors, --create-missing, the COPY path."""

import datetime as dt
import random

import pytest
from django.core.management import CommandError
from django.db import connection

from catalog.models import Course
from core.csv_import import RowError
from members.models import Bookmark, Enrolment, Member
from recommendations.feedback.imports import interactions_import
from recommendations.feedback.services import feedback_counts_rebuild
from recommendations.models import Dismissal, FeedbackEvent
from tests.factories import (
    BookmarkFactory,
    CourseFactory,
    EnrolmentFactory,
    MemberFactory,
    UserFactory,
)
from tests.helpers import command_run as run
from tests.helpers import csv_file_write as write
from tests.helpers import feedback_counts_read

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0, month: int = 1) -> dt.datetime:
    return dt.datetime(2024, month, day, hour, minute, second, tzinfo=UTC)


# --- Interactions ---------------------------------------------------------------------------

INTERACTION_HEADER = "member_id,course_id,event,timestamp,value"


@pytest.fixture(params=[False, True], ids=["orm", "copy"])
def use_copy(request):
    if request.param and connection.vendor != "postgresql":
        pytest.skip("the COPY path needs PostgreSQL")
    return request.param


@pytest.fixture
def people():
    return {
        "M1": MemberFactory(external_id="M1"),
        "M2": MemberFactory(external_id="M2"),
        "C1": CourseFactory(external_id="C1"),
        "C2": CourseFactory(external_id="C2"),
        "C3": CourseFactory(external_id="C3"),
    }


EVERY_EVENT = (
    f"{INTERACTION_HEADER}\n"
    "M1,C1,,2024-01-01T10:00:00,\n"
    "M1,C1,watch,2024-01-02T10:00:00,40\n"
    "M1,C1,watch,2024-01-03T10:00:00,100\n"
    "M1,C1,finish,2024-01-04T10:00:00,\n"
    "M1,C2,Watch,1704189600,30\n"
    "M2,C1,finish,2024-01-05T10:00:00+02:00,\n"
    "M1,C3,bookmark,2024-01-06T00:00:00,\n"
    "M1,C3,bookmark,2024-01-05T00:00:00,\n"
    "M2,C3,dismiss,2024-01-07T00:00:00Z,\n"
    "M2,C2,impression,2024-01-08T00:00:00,\n"
    "M2,C2,impression,2024-01-08T00:00:00,\n"
    "M2,C2,click,2024-01-08T00:00:05,\n"
    "M2,C2,impression,2024-01-09T00:00:00,\n"
)


def enrolments() -> list[tuple]:
    return sorted(
        Enrolment.objects.values_list(
            "member__external_id",
            "course__external_id",
            "enrolled_at",
            "progress_percent",
            "last_watched_at",
            "completed_at",
        )
    )


def feedback() -> list[tuple]:
    return sorted(
        FeedbackEvent.objects.values_list(
            "member__external_id", "course__external_id", "kind", "created_at"
        )
    )


def test_every_event_type_lands_in_its_table(tmp_path, people, use_copy):
    path = write(tmp_path, EVERY_EVENT)

    result = interactions_import(path=path, now=NOW, use_copy=use_copy)

    assert result.errors == []
    assert result.rows == 13
    assert enrolments() == [
        # Earliest enrolment, highest progress, completion at the first 100 %.
        ("M1", "C1", at(1, 10), 100, at(3, 10), at(3, 10)),
        ("M1", "C2", at(2, 10), 30, at(2, 10), None),
        ("M2", "C1", at(5, 8), 100, None, at(5, 8)),
    ]
    assert list(
        Bookmark.objects.values_list("member__external_id", "course__external_id", "created_at")
    ) == [("M1", "C3", at(5))]
    assert list(
        Dismissal.objects.values_list("member__external_id", "course__external_id", "created_at")
    ) == [("M2", "C3", at(7))]
    # The repeated impression line is one event.
    assert feedback() == [
        ("M2", "C2", "click", at(8, 0, 0, 5)),
        ("M2", "C2", "impression", at(8)),
        ("M2", "C2", "impression", at(9)),
    ]
    assert set(FeedbackEvent.objects.values_list("reason", "reason_key", "strategy")) == {
        ("", "", "")
    }
    assert (
        result.enrolments_created,
        result.bookmarks_created,
        result.dismissals_created,
        result.feedback_events_created,
        result.updated,
    ) == (3, 1, 1, 3, 0)


def test_reimporting_the_same_file_changes_nothing(tmp_path, people, use_copy):
    path = write(tmp_path, EVERY_EVENT)
    interactions_import(path=path, now=NOW, use_copy=use_copy)
    before = (enrolments(), feedback(), Bookmark.objects.count(), Dismissal.objects.count())

    again = interactions_import(path=path, now=NOW, use_copy=use_copy)

    assert (again.rows, again.created, again.updated) == (13, 0, 0)
    assert (enrolments(), feedback(), Bookmark.objects.count(), Dismissal.objects.count()) == (
        before
    )


def test_interactions_merge_into_stored_rows(tmp_path, people, use_copy):
    m1, m2, c1, c2, c3 = (people[k] for k in ("M1", "M2", "C1", "C2", "C3"))
    EnrolmentFactory(member=m1, course=c1, enrolled_at=at(10), progress_percent=50)
    EnrolmentFactory(
        member=m1, course=c2, enrolled_at=at(1), progress_percent=100, completed_at=at(2)
    )
    EnrolmentFactory(member=m2, course=c1, enrolled_at=at(1, month=2), progress_percent=60)
    BookmarkFactory(member=m1, course=c3, created_at=at(20))
    BookmarkFactory(member=m2, course=c3, created_at=at(1))
    path = write(
        tmp_path,
        f"{INTERACTION_HEADER}\n"
        "M1,C1,watch,2024-01-12T00:00:00,30\n"  # lower progress: kept at 50, watch time recorded
        "M1,C1,enrol,2024-01-05T00:00:00,\n"  # earlier enrolment wins
        "M1,C2,finish,2024-01-03T00:00:00,\n"  # already completed earlier: unchanged
        "M2,C1,finish,2024-01-15T00:00:00,\n"  # finished before the stored enrolment
        "M1,C3,bookmark,2024-01-02T00:00:00,\n"  # earlier bookmark moves the date back
        "M2,C3,bookmark,2024-01-02T00:00:00,\n",  # later bookmark leaves it
    )

    result = interactions_import(path=path, now=NOW, use_copy=use_copy)

    assert enrolments() == [
        ("M1", "C1", at(5), 50, at(12), None),
        ("M1", "C2", at(1), 100, None, at(2)),
        ("M2", "C1", at(15), 100, None, at(15)),
    ]
    assert sorted(
        Bookmark.objects.values_list("member__external_id", "course__external_id", "created_at")
    ) == [("M1", "C3", at(2)), ("M2", "C3", at(1))]
    assert (
        result.enrolments_created,
        result.enrolments_updated,
        result.bookmarks_created,
        result.bookmarks_updated,
    ) == (0, 2, 0, 1)


INTERACTION_BAD_ROWS = (
    f"{INTERACTION_HEADER}\n"
    "M1,C1,enrol,2024-01-01T00:00:00,\n"  # line 2
    ",C1,enrol,,\n"  # line 3
    "M1,,enrol,,\n"  # line 4
    "M9,C1,,,\n"  # line 5
    "M1,C9,,,\n"  # line 6
    "M1,C1,like,,\n"  # line 7
    "M1,C1,watch,2024-13-01,50\n"  # line 8
    "M1,C1,watch,,\n"  # line 9
    "M1,C1,watch,,150\n"  # line 10
    "M1,C1,enrol,,5\n"  # line 11
    "M1,C1\n"  # line 12
    "M2,C2,bookmark,1704067200,\n"  # line 13
)

INTERACTION_ERRORS = [
    RowError(3, "member_id is empty"),
    RowError(4, "course_id is empty"),
    RowError(5, "member_id 'M9' is not a known member"),
    RowError(6, "course_id 'C9' is not a known course"),
    RowError(
        7, "event 'like' is not one of enrol, watch, finish, bookmark, dismiss, impression, click"
    ),
    RowError(8, "timestamp '2024-13-01' is not ISO 8601 or epoch seconds"),
    RowError(9, "value is empty; a watch needs its progress percent (1-100)"),
    RowError(10, "value '150' is not a progress percent from 1 to 100"),
    RowError(11, "value '5' is only used with event watch, not enrol"),
    RowError(12, "has 2 fields, the header has 5"),
]


def test_bad_interaction_rows_are_reported_and_nothing_is_written(tmp_path, people):
    path = write(tmp_path, INTERACTION_BAD_ROWS)

    result = interactions_import(path=path, now=NOW)

    assert result.errors == INTERACTION_ERRORS
    assert (result.written, Enrolment.objects.count(), Bookmark.objects.count()) == (False, 0, 0)
    with pytest.raises(CommandError, match=r"^10 invalid row\(s\); nothing was imported"):
        run("import_interactions", str(path))
    assert (Enrolment.objects.count(), Bookmark.objects.count()) == (0, 0)


def test_skip_invalid_imports_the_good_interaction_rows(tmp_path, people):
    path = write(tmp_path, INTERACTION_BAD_ROWS)

    out, err = run("import_interactions", str(path), "--skip-invalid")

    assert err.splitlines() == [str(error) for error in INTERACTION_ERRORS]
    assert out.strip() == (
        "Interactions: 2 rows imported, 10 skipped (invalid). "
        "Created 2: 1 enrolments, 1 bookmarks, 0 dismissals, 0 feedback events. "
        "Updated 0: 0 enrolments, 0 bookmarks, 0 dismissals. "
        "New bare members: 0, courses: 0."
    )
    assert enrolments() == [("M1", "C1", at(1), 0, None, None)]
    assert list(
        Bookmark.objects.values_list("member__external_id", "course__external_id", "created_at")
    ) == [("M2", "C2", at(1))]
    # Unknown ids are errors, not records, without --create-missing.
    assert not Member.objects.filter(external_id="M9").exists()
    assert not Course.objects.filter(external_id="C9").exists()


def test_create_missing_makes_bare_members_and_courses(tmp_path, people, use_copy):
    UserFactory(username="m9")
    path = write(
        tmp_path,
        f"{INTERACTION_HEADER}\n"
        "M9,C9,,2024-01-01T00:00:00,\n"
        "M9,C1,click,2024-01-02T00:00:00,\n"
        "M1,C9,bookmark,2024-01-03T00:00:00,\n",
    )

    result = interactions_import(path=path, now=NOW, create_missing=True, use_copy=use_copy)

    assert result.errors == []
    assert (result.members_created, result.courses_created) == (1, 1)
    member = Member.objects.select_related("user").get(external_id="M9")
    assert (member.user.username, member.title, member.industry) == ("M9-2", None, None)
    assert not member.user.has_usable_password()
    course = Course.objects.get(external_id="C9")
    assert (
        course.title,
        course.slug,
        course.description,
        course.duration_minutes,
        course.teacher,
        course.published_at,
    ) == (
        "C9",
        "c9",
        "Placeholder created by an interactions import; details to follow.",
        1,
        "Unknown",
        NOW,
    )
    assert enrolments() == [("M9", "C9", at(1), 0, None, None)]
    assert feedback() == [("M9", "C1", "click", at(2))]
    assert list(Bookmark.objects.values_list("member__external_id", "course__external_id")) == [
        ("M1", "C9")
    ]


def test_create_missing_creates_nothing_when_another_row_is_bad(tmp_path, people):
    path = write(tmp_path, f"{INTERACTION_HEADER}\nM9,C9,,,\nM1,C1,like,,\n")

    result = interactions_import(path=path, now=NOW, create_missing=True)

    assert result.errors == [
        RowError(
            3,
            "event 'like' is not one of enrol, watch, finish, bookmark, dismiss, impression, click",
        )
    ]
    assert not Member.objects.filter(external_id="M9").exists()
    assert not Course.objects.filter(external_id="C9").exists()


def test_only_the_id_columns_are_required(tmp_path, people):
    path = write(tmp_path, "course_id,member_id\nC2,M2\n")

    result = interactions_import(path=path, now=NOW)

    assert result.errors == []
    assert enrolments() == [("M2", "C2", NOW, 0, None, None)]


def test_interaction_file_with_bad_header_fails(tmp_path, people):
    path = write(tmp_path, "member,course_id,event\nM1,C1,enrol\n")
    with pytest.raises(CommandError) as raised:
        run("import_interactions", str(path))
    assert str(raised.value) == (
        f"{path}: bad header: missing required column(s): member_id; unknown column(s): "
        "'member' (allowed: member_id, course_id, event, timestamp, value)"
    )


def test_twenty_thousand_rows_import_in_bulk(tmp_path, use_copy, django_assert_max_num_queries):
    """Keeps the bulk path honest: the query count must not grow with the number of rows."""
    for i in range(200):
        MemberFactory(external_id=f"M{i}")
    Course.objects.bulk_create(
        [CourseFactory.build(external_id=f"C{i}", slug=f"c{i}") for i in range(100)]
    )
    rng = random.Random(7)
    events = ["enrol", "watch", "finish", "bookmark", "dismiss", "impression", "click"]
    lines = [INTERACTION_HEADER]
    expected_pairs: dict[str, set[tuple[str, str]]] = {e: set() for e in events}
    expected_feedback = set()
    for n in range(20_000):
        member, course, event = (
            f"M{rng.randrange(200)}",
            f"C{rng.randrange(100)}",
            rng.choice(events),
        )
        stamp = 1_704_067_200 + n * 60
        value = str(rng.randint(1, 100)) if event == "watch" else ""
        lines.append(f"{member},{course},{event},{stamp},{value}")
        expected_pairs[event].add((member, course))
        if event in ("impression", "click"):
            expected_feedback.add((member, course, event, stamp))
    path = write(tmp_path, "\n".join(lines) + "\n")

    with django_assert_max_num_queries(250):
        result = interactions_import(path=path, now=NOW, use_copy=use_copy)

    enrolled = expected_pairs["enrol"] | expected_pairs["watch"] | expected_pairs["finish"]
    assert (result.errors, result.rows) == ([], 20_000)
    assert result.enrolments_created == Enrolment.objects.count() == len(enrolled)
    assert result.bookmarks_created == Bookmark.objects.count() == len(expected_pairs["bookmark"])
    assert result.dismissals_created == Dismissal.objects.count() == len(expected_pairs["dismiss"])
    assert result.feedback_events_created == FeedbackEvent.objects.count() == len(expected_feedback)
    # Every finished pair is complete, and the constraints hold for all of them.
    finished = {
        (m, c)
        for m, c in Enrolment.objects.filter(completed_at__isnull=False).values_list(
            "member__external_id", "course__external_id"
        )
    }
    assert expected_pairs["finish"] <= finished

    again = interactions_import(path=path, now=NOW, use_copy=use_copy)
    assert (again.created, again.updated) == (0, 0)
    assert FeedbackEvent.objects.count() == len(expected_feedback)
    # The homepage's impression and click counts took the new events once, not the replay.
    stored = feedback_counts_read()
    assert sum(row[3] + row[4] for row in stored["course_days"]) == len(expected_feedback)
    feedback_counts_rebuild()
    assert feedback_counts_read() == stored


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("9999-12-31T00:00:00", "timestamp '9999-12-31T00:00:00' is more than a day in the future"),
        ("253402300799", "timestamp '253402300799' is more than a day in the future"),
        ("2025-03-02T12:00:01Z", "timestamp '2025-03-02T12:00:01Z' is more than a day in the"),
        ("1969-12-31T23:59:59Z", "timestamp '1969-12-31T23:59:59Z' is before 1970-01-01"),
        ("0001-01-01", "timestamp '0001-01-01' is before 1970-01-01"),
    ],
)
@pytest.mark.parametrize("event", ["enrol", "watch", "impression", "bookmark"])
def test_timestamps_outside_the_window_are_row_errors(tmp_path, people, raw, reason, event):
    value = "50" if event == "watch" else ""
    path = write(
        tmp_path,
        f"{INTERACTION_HEADER}\nM1,C1,{event},{raw},{value}\nM1,C2,enrol,2024-01-01,\n",
    )

    result = interactions_import(path=path, now=NOW)

    assert [error.line for error in result.errors] == [2]
    assert result.errors[0].reason.startswith(reason)
    if "future" in reason:
        assert result.errors[0].reason.endswith("(the import runs at 2025-03-01T12:00:00Z)")
    assert not Enrolment.objects.exists() and not FeedbackEvent.objects.exists()


def test_timestamps_at_the_edges_of_the_window_are_taken(tmp_path, people):
    path = write(
        tmp_path,
        f"{INTERACTION_HEADER}\n"
        "M1,C1,impression,1970-01-01T00:00:00Z,\n"
        "M1,C1,impression,2025-03-02T12:00:00Z,\n",
    )

    result = interactions_import(path=path, now=NOW)

    assert result.errors == []
    assert [stamp for *_, stamp in feedback()] == [
        dt.datetime(1970, 1, 1, tzinfo=UTC),
        dt.datetime(2025, 3, 2, 12, tzinfo=UTC),
    ]


@pytest.mark.parametrize("raw", ["²", "٣", "9" * 5000, "-5", "50.0"])
def test_watch_value_that_is_not_ascii_digits_is_a_row_error(tmp_path, people, raw):
    path = write(tmp_path, f"{INTERACTION_HEADER}\nM1,C1,watch,2024-01-01,{raw}\n")

    result = interactions_import(path=path, now=NOW)

    assert [error.reason for error in result.errors] == [
        f"value '{raw}' is not a progress percent from 1 to 100"
    ]
