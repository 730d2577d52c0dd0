"""Activity too large for one aggregated query is read in member-id ranges, with the same rows."""

import itertools
from dataclasses import fields

import numpy as np
import pytest
from django.db import connection

from recommendations.training import activity
from recommendations.training.activity import ActivityArrays, activity_read
from tests.factories import BookmarkFactory

pytestmark = pytest.mark.django_db


def _rows(arrays: ActivityArrays, prefix: str) -> list[tuple]:
    columns = [getattr(arrays, f.name) for f in fields(arrays) if f.name.startswith(prefix)]
    return sorted(zip(*(column.tolist() for column in columns), strict=True))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ranges only on PostgreSQL")
def test_reading_in_member_ranges_gives_the_same_rows(world, monkeypatch):
    BookmarkFactory()  # a member with no enrolment: beyond the enrolments' member ids
    whole = activity_read()
    monkeypatch.setattr(activity, "ROWS_PER_QUERY", 5)
    assert len(activity._member_ranges(rows_per_range=5)) > 3
    ranged = activity_read()
    for prefix in ("enrol_", "bookmark_", "dismiss_"):
        assert _rows(ranged, prefix) == _rows(whole, prefix)
    assert ranged.enrol_member.size == whole.enrol_member.size > 5
    assert ranged.bookmark_member.size == whole.bookmark_member.size == 1


def test_one_range_when_the_enrolments_fit_in_one_query(world):
    assert activity._member_ranges(rows_per_range=10**9) == [(0, 2**63 - 1)]


def test_ranges_cover_every_member_id(world):
    ranges = activity._member_ranges(rows_per_range=5)
    assert ranges[0][0] == 0 and ranges[-1][1] == 2**63 - 1
    assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(ranges))
    assert np.all(np.diff([low for low, _ in ranges]) > 0)
