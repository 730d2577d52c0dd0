"""`catalog.api.query_params`: a query string validated, the empty one validated once."""

import itertools

import pytest
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from catalog.api import query_params
from recommendations.serializers import RecommendationsQuerySerializer

_ticks = itertools.count()


class _WithList(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), default=[])
    size = serializers.IntegerField(default=5)


class _Required(serializers.Serializer):
    q = serializers.CharField()


class _Computed(serializers.Serializer):
    tick = serializers.IntegerField(default=lambda: next(_ticks))


def _request(query: str = "") -> Request:
    return Request(APIRequestFactory().get(f"/anything/{query}"))


def test_an_empty_query_string_gives_what_the_serializer_gives():
    expected = RecommendationsQuerySerializer(data={})
    assert expected.is_valid()

    for _ in range(2):  # the first call validates, the second copies
        assert query_params(_request(), RecommendationsQuerySerializer) == expected.validated_data


def test_each_call_gets_its_own_copy():
    first = query_params(_request(), _WithList)
    first["ids"].append(7)
    first["size"] = 9

    assert query_params(_request(), _WithList) == {"ids": [], "size": 5}


def test_a_query_string_is_validated_as_it_comes():
    assert query_params(_request("?ids=3&ids=4&size=2"), _WithList) == {"ids": [3, 4], "size": 2}
    with pytest.raises(ValidationError) as refused:
        query_params(_request("?size=many"), _WithList)
    assert "size" in refused.value.detail


def test_a_required_parameter_is_still_refused_every_time():
    for _ in range(2):
        with pytest.raises(ValidationError) as refused:
            query_params(_request(), _Required)
        assert "q" in refused.value.detail


def test_a_computed_default_is_computed_for_each_request():
    first = query_params(_request(), _Computed)["tick"]

    assert query_params(_request(), _Computed)["tick"] == first + 1


class _Counted(serializers.Serializer):
    size = serializers.IntegerField(default=5)
    built = 0

    def __init__(self, *args, **kwargs):
        type(self).built += 1
        super().__init__(*args, **kwargs)


def test_an_empty_query_string_builds_no_serializer_after_the_first():
    query_params(_request(), _Counted)
    built = _Counted.built

    assert query_params(_request(), _Counted) == {"size": 5}
    assert _Counted.built == built
    query_params(_request("?size=3"), _Counted)
    assert _Counted.built == built + 1
