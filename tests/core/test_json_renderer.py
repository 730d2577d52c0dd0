"""The API's renderer gives DRF's JSON renderer's bytes, faster."""

import datetime as dt
import decimal
import json
import uuid

import numpy as np
import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from core.json_renderer import OrjsonRenderer, json_encoded

MOMENT = dt.datetime(2026, 11, 22, 5, 30, 1, 250000, tzinfo=dt.UTC)

CASES = {
    "nested": {"a": [1, 2.5, True, None, {"b": "c"}], "empty": {}, "list": []},
    "unicode": {"title": "Données · 東京 · émoji 🎓", "quote": 'say "hi"\\n'},
    "separators": {"text": "line\u2028paragraph\u2029end"},
    "dates": {
        "utc": MOMENT,
        "offset": MOMENT.astimezone(dt.timezone(dt.timedelta(hours=2))),
        "naive": MOMENT.replace(tzinfo=None),
        "date": MOMENT.date(),
        "time": dt.time(7, 5),
        "duration": dt.timedelta(minutes=95),
    },
    "other types": {
        "uuid": uuid.UUID("2ba81c4e-da28-41ab-98a9-4e38c2d31d9e"),
        "decimal": decimal.Decimal("12.50"),
        "lazy": gettext_lazy("Not found."),
        "numpy": np.float64(0.25),
        "array": np.array([1, 2]),
        "tuple": (1, "two"),
        "bytes": b"raw",
    },
    "int keys": {1: "one", 2: "two"},
    "top-level list": [{"id": 1}, {"id": 2}],
    "numbers": {"big": 2**53 + 1, "negative": -7, "float": 0.1, "third": 1 / 3, "large": 1e22},
}


@pytest.mark.parametrize("data", CASES.values(), ids=CASES.keys())
def test_renders_the_same_bytes_as_drf(data):
    assert OrjsonRenderer().render(data) == JSONRenderer().render(data)


def test_exponents_are_spelled_differently_for_the_same_numbers():
    data = {"small": 1e-7, "tiny": 2.5e-300}
    assert OrjsonRenderer().render(data) == b'{"small":1e-7,"tiny":2.5e-300}'
    assert JSONRenderer().render(data) == b'{"small":1e-07,"tiny":2.5e-300}'
    assert json.loads(OrjsonRenderer().render(data)) == data


def test_utc_times_end_in_z_as_drf_writes_them():
    assert OrjsonRenderer().render({"at": MOMENT}) == b'{"at":"2026-11-22T05:30:01.250000Z"}'


@pytest.mark.parametrize(
    "part",
    [CASES["separators"], CASES["dates"], CASES["numbers"], CASES["top-level list"]],
    ids=["separators", "dates", "numbers", "list"],
)
@pytest.mark.parametrize("indent", [None, "application/json; indent=2"], ids=["compact", "indent"])
def test_a_part_encoded_once_is_written_as_drf_writes_it(part, indent):
    plain = {"id": uuid.UUID("2ba81c4e-da28-41ab-98a9-4e38c2d31d9e"), "part": part}
    encoded = {**plain, "part": json_encoded(part)}

    rendered = OrjsonRenderer().render(encoded, indent, {})

    assert rendered == JSONRenderer().render(plain, indent, {})
    # The same part in a second answer.
    assert OrjsonRenderer().render({"other": 1, "part": encoded["part"]}, indent, {}) == (
        JSONRenderer().render({"other": 1, "part": part}, indent, {})
    )


def test_nothing_renders_as_an_empty_body():
    assert OrjsonRenderer().render(None) == b""


def test_an_indented_answer_is_drfs_own():
    data = {"a": [1, 2]}
    rendered = OrjsonRenderer().render(data, "application/json; indent=2", {})
    assert rendered == JSONRenderer().render(data, "application/json; indent=2", {})
    assert rendered == b'{\n  "a": [\n    1,\n    2\n  ]\n}'


def test_non_finite_floats_render_as_null_where_drf_refuses():
    assert OrjsonRenderer().render({"x": float("nan"), "y": float("inf")}) == (
        b'{"x":null,"y":null}'
    )
    with pytest.raises(ValueError, match="not JSON compliant"):
        JSONRenderer().render({"x": float("nan")})


def test_an_object_neither_encoder_knows_is_refused():
    with pytest.raises(TypeError):
        OrjsonRenderer().render({"x": object()})


@pytest.mark.django_db
def test_the_api_answers_through_it():
    response = APIClient().get("/api/v1/skills/")
    assert response.status_code == 200
    assert isinstance(response.accepted_renderer, OrjsonRenderer)
    assert response["Content-Type"] == "application/json"
