"""export_recommendations: one row per card, ids written safe from formula injection."""

import csv

from catalog.models import Course
from members.models import Member
from tests.helpers import command_run as run
from tests.helpers import new_analyst


def test_export_quotes_ids_that_start_like_a_formula_and_keeps_numbers(world, tmp_path):
    member = new_analyst(world, "SQL", "Python")
    Member.objects.filter(pk=member.pk).update(external_id="-M1")
    for course in Course.objects.all():
        Course.objects.filter(pk=course.pk).update(external_id=f'=HYPERLINK("x",{course.pk})')
    target = tmp_path / "recommendations.csv"

    out, _ = run("export_recommendations", str(target))

    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["member_id", "rank", "course_id", "reason", "score"]
    mine = [row for row in rows[1:] if row[0] == "'-M1"]
    assert mine, rows[:5]
    assert [int(row[1]) for row in mine] == list(range(1, len(mine) + 1))
    for _, _, course_id, reason, score in mine:
        assert course_id.startswith("'=HYPERLINK(")
        assert not reason.startswith(("=", "+", "-", "@"))
        float(score)  # a plain number, not quoted
    # Members without an external id are named by their database id, a plain number.
    others = {row[0] for row in rows[1:]} - {"'-M1"}
    assert all(member_id.isdecimal() for member_id in others)
    assert f"Wrote {len(rows) - 1} recommendations" in out
