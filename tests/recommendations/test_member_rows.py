"""Writing members' precomputed rows (`precompute.member_rows_write`): a refresh's few rows and
a shard's many replace what was there, the same way on every path."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from members.models import Member
from recommendations.models import MemberRecommendations, TrainingRun
from recommendations.training import precompute
from tests.factories import MemberFactory


def _run() -> TrainingRun:
    now = timezone.now()
    return TrainingRun.objects.create(
        status=TrainingRun.Status.SUCCEEDED, started_at=now, finished_at=now
    )


def _stored() -> dict[int, tuple[int, dt.datetime, bytes]]:
    return {
        row.member_id: (row.run_id, row.computed_at, bytes(row.payload))
        for row in MemberRecommendations.objects.all()
    }


@pytest.mark.parametrize(
    "count", [1, 3, precompute._ROWS_WRITTEN_DIRECTLY, precompute._ROWS_WRITTEN_DIRECTLY + 1]
)
def test_rows_replace_the_members_rows_and_leave_the_others(db, count):
    members = _members(count)
    bystander = MemberFactory().pk
    first, second = _run(), _run()
    earlier = timezone.now() - dt.timedelta(hours=1)
    precompute.member_rows_write(
        run_id=first.pk,
        rows=[(member_id, b"old") for member_id in [*members[:1], bystander]],
        now=earlier,
    )
    now = timezone.now()
    # Payloads of different lengths, with a zero byte: stored exactly as given.
    rows = [(member_id, b"\x00row" + bytes([n % 256]) * n) for n, member_id in enumerate(members)]

    precompute.member_rows_write(run_id=second.pk, rows=rows, now=now)

    stored = _stored()
    assert stored == {
        **{member_id: (second.pk, now, payload) for member_id, payload in rows},
        bystander: (first.pk, earlier, b"old"),
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the statements are PostgreSQL's")
def test_a_refresh_row_is_one_statement_and_a_shard_goes_through_copy(db):
    members = _members(precompute._ROWS_WRITTEN_DIRECTLY + 1)
    run = _run()
    with CaptureQueriesContext(connection) as few:
        precompute.member_rows_write(run_id=run.pk, rows=[(members[0], b"x")], now=timezone.now())
    writes = [q["sql"] for q in few.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(writes) == 1 and writes[0].startswith("INSERT INTO")
    with CaptureQueriesContext(connection) as many:
        precompute.member_rows_write(
            run_id=run.pk, rows=[(member_id, b"y") for member_id in members], now=timezone.now()
        )
    assert any("recommendation_stage" in q["sql"] for q in many.captured_queries)
    assert {bytes(p) for p in MemberRecommendations.objects.values_list("payload", flat=True)} == {
        b"y"
    }


def test_no_rows_write_nothing(db):
    run = _run()
    with CaptureQueriesContext(connection) as queries:
        precompute.member_rows_write(run_id=run.pk, rows=[], now=timezone.now())
    assert queries.captured_queries == []


def _members(count: int) -> list[int]:
    """`count` members, made in bulk: a shard's worth through the factory takes seconds."""
    template = MemberFactory()
    users = type(template.user).objects.bulk_create(
        [type(template.user)(username=f"row-member-{n}") for n in range(count - 1)]
    )
    created = Member.objects.bulk_create(
        [Member(user=user, title=template.title, industry=template.industry) for user in users]
    )
    return [template.pk, *(member.pk for member in created)]
