import datetime as dt

import numpy as np
import pytest
from django.db import connection

from members.models import Enrolment
from recommendations.training.activity import activity_read
from recommendations.training.table_arrays import ArrayFormatError, query_arrays
from tests.factories import CourseFactory, EnrolmentFactory, MemberFactory

WHEN = dt.datetime(2026, 3, 4, 5, 6, 7, 890_000, tzinfo=dt.UTC)


@pytest.fixture
def enrolments(db):
    members = [MemberFactory() for _ in range(3)]
    course = CourseFactory()
    rows = [
        EnrolmentFactory(
            member=member,
            course=course,
            enrolled_at=WHEN + dt.timedelta(hours=index),
            progress_percent=10 * index,
        )
        for index, member in enumerate(members)
    ]
    return rows


def test_columns_come_back_as_typed_arrays_in_row_order(enrolments):
    table = Enrolment._meta.db_table
    arrays = query_arrays(
        columns=[
            ("member", "member_id", "int"),
            ("progress", "progress_percent", "float"),
            ("enrolled", "enrolled_at", "time"),
        ],
        source=f"{table} WHERE progress_percent >= %s",
        params=[10],
        order_by="member_id",
    )
    assert arrays["member"].dtype == np.int64
    assert arrays["member"].tolist() == [e.member_id for e in enrolments[1:]]
    assert arrays["progress"].tolist() == [10.0, 20.0]
    expected = [(WHEN + dt.timedelta(hours=h)).timestamp() for h in (1, 2)]
    assert np.allclose(arrays["enrolled"], expected, rtol=0, atol=1e-3)


def test_no_rows_give_empty_arrays(db):
    arrays = query_arrays(
        columns=[("member", "member_id", "int"), ("enrolled", "enrolled_at", "time")],
        source=Enrolment._meta.db_table,
    )
    assert arrays["member"].size == 0 and arrays["member"].dtype == np.int64
    assert arrays["enrolled"].size == 0 and arrays["enrolled"].dtype == np.float64


def test_an_unknown_kind_is_refused(db):
    with pytest.raises(ValueError, match="unknown column kind"):
        query_arrays(columns=[("x", "member_id", "text")], source=Enrolment._meta.db_table)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the array transfer is PostgreSQL's")
def test_a_null_value_is_refused_not_misread(enrolments):
    with pytest.raises(ArrayFormatError, match="NULL"):
        query_arrays(
            columns=[("completed", "completed_at", "time")], source=Enrolment._meta.db_table
        )


def test_activity_read_limits_to_a_member_range(enrolments):
    first = enrolments[1].member_id
    activity = activity_read(member_id_range=(first, first))
    assert activity.enrol_member.tolist() == [first]
    assert activity.enrol_progress.tolist() == [10.0]
    assert activity.enrol_completed.tolist() == [False]
