import pytest
from django.urls import resolve
from django.urls.exceptions import Resolver404

from core.inputs import MAX_ID, id_parse, ids_parse, value_shown, whole_number_parse


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1),
        ("42", 42),
        (7, 7),
        (str(MAX_ID), MAX_ID),
        ("0", None),
        (str(MAX_ID + 1), None),
        ("9" * 20, None),
        ("9" * 5000, None),
        ("²", None),
        ("٣", None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1\x00", None),
        ("1.0", None),
        ("", None),
        ("x" * 10_000, None),
    ],
)
def test_id_parse_takes_ascii_digits_within_64_bits(raw, expected):
    assert id_parse(raw) == expected


def test_whole_number_parse_applies_its_bounds():
    assert whole_number_parse("100", min_value=1, max_value=100) == 100
    assert whole_number_parse("101", min_value=1, max_value=100) is None
    assert whole_number_parse("0", min_value=1, max_value=100) is None
    assert whole_number_parse("0100", min_value=1, max_value=100) is None  # longer than 100
    assert whole_number_parse("٣", max_value=100) is None


def test_ids_parse_leaves_out_what_is_not_an_id():
    assert ids_parse(["3", "²", "3", "9" * 30, "4"]) == {3, 4}


def test_value_shown_cuts_long_values_and_shows_nul():
    assert value_shown("abc") == "abc"
    assert value_shown("9" * 5000) == "9" * 24 + "…"
    assert value_shown("1\x00") == "1\\x00"


@pytest.mark.parametrize(
    "path",
    [
        "/recommendations/courses/" + "9" * 19 + "/dismiss/",
        "/recommendations/courses/²/dismiss/",
        "/api/v1/courses/" + "9" * 5000 + "/",
    ],
)
def test_id_converter_does_not_match_oversized_or_unicode_ids(path):
    if path.startswith("/api/"):
        assert resolve(path).url_name != "course"
    else:
        with pytest.raises(Resolver404):
            resolve(path)


def test_id_converter_matches_18_digits():
    match = resolve("/recommendations/courses/" + "9" * 18 + "/dismiss/")
    assert match.kwargs == {"course_id": int("9" * 18)}
