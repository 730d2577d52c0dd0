import csv
import io

import pytest

from core.csv_export import SpreadsheetCsvWriter, csv_cell_number, csv_cell_text


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil.example")', '\'=HYPERLINK("http://evil.example")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Python", "Python"),
        ("C++", "C++"),
        ("a=b", "a=b"),
        ("'quoted", "'quoted"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_free_text_cells_that_start_like_a_formula_get_a_quote(value, written):
    assert csv_cell_text(value) == written


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (-0.25, "-0.25"),
        ("-0.123456", "-0.123456"),
        (3, "3"),
        (1.0, "1.0"),
        (1e-05, "1e-05"),
        ("-1.5E+3", "-1.5E+3"),
        # Not a number after all: treated as text.
        ("-1+2", "'-1+2"),
        ("=1", "'=1"),
        ("-", "'-"),
        ("+5", "'+5"),
    ],
)
def test_numeric_cells_keep_negative_numbers_and_quote_anything_else(value, written):
    assert csv_cell_number(value) == written


def test_the_writer_applies_each_columns_rule():
    handle = io.StringIO()
    writer = SpreadsheetCsvWriter(
        handle, columns=["id", "score"], numeric={"score"}, lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows([["-M1", -0.5], ["=cmd()", "=cmd()"], ["ok", 2]])
    assert list(csv.reader(io.StringIO(handle.getvalue()))) == [
        ["id", "score"],
        ["'-M1", "-0.5"],
        ["'=cmd()", "'=cmd()"],
        ["ok", "2"],
    ]


def test_the_writer_refuses_rows_of_the_wrong_width_and_unknown_numeric_columns():
    writer = SpreadsheetCsvWriter(io.StringIO(), columns=["a", "b"])
    with pytest.raises(ValueError, match="1 cells for 2 columns"):
        writer.writerow(["x"])
    with pytest.raises(ValueError, match="numeric columns not in the header"):
        SpreadsheetCsvWriter(io.StringIO(), columns=["a"], numeric={"b"})
