"""Routes reversed once per process (core/url_patterns.py) give what `reverse` gives."""

import pytest
from django.template import engines
from django.test.utils import override_script_prefix
from django.urls import path, register_converter, reverse

from core.url_patterns import url_fixed, url_format_reverse, url_pattern
from tests.factories import CourseFactory


class _HexConverter:
    regex = "[0-9a-f]+"

    def to_python(self, value: str) -> int:
        return int(value, 16)

    def to_url(self, value: int) -> str:
        return format(value, "x")


register_converter(_HexConverter, "hexid_for_url_pattern_tests")


def _nothing(request):
    raise AssertionError("never resolved")


# Routes for the refused cases of url_format_reverse (used through @pytest.mark.urls).
urlpatterns = [
    path("918273645/<int:course_id>/", _nothing, name="stand_in_in_prefix"),
    path("hex/<hexid_for_url_pattern_tests:course_id>/", _nothing, name="converted"),
    path("fixed/", _nothing, name="fixed"),
]


def test_url_format_reverse_leaves_one_field_per_argument():
    assert (
        url_format_reverse(
            viewname="recommendations:click", arguments=("page_view_id", "course_id")
        )
        == "/recommendations/go/{page_view_id}/{course_id}/"
    )
    assert (
        url_format_reverse(viewname="web:course_detail", arguments=("slug",)) == "/courses/{slug}/"
    )


@pytest.mark.urls("tests.core.test_url_patterns")
def test_url_format_reverse_refuses_a_stand_in_that_is_not_in_the_url_exactly_once():
    with pytest.raises(ValueError, match="stand_in_in_prefix: the course_id stand-in"):
        url_format_reverse(viewname="stand_in_in_prefix", arguments=("course_id",))
    with pytest.raises(ValueError, match="converted: the course_id stand-in"):
        url_format_reverse(viewname="converted", arguments=("course_id",))


def test_kept_patterns_follow_the_script_prefix_and_the_urlconf():
    assert url_fixed("catalog:course_list") == reverse("catalog:course_list")
    with override_script_prefix("/skillpath/"):
        assert url_fixed("catalog:course_list") == reverse("catalog:course_list")
        assert url_fixed("catalog:course_list").startswith("/skillpath/")
        assert url_pattern("web:course_detail", "slug") == "/skillpath/courses/{slug}/"
    assert url_fixed("catalog:course_list") == "/courses/"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("core.url_patterns.get_urlconf", lambda: "tests.core.test_url_patterns")
        patch.setattr(
            "django.urls.base.get_urlconf", lambda default=None: "tests.core.test_url_patterns"
        )
        assert url_fixed("fixed") == "/fixed/"


def test_the_fixed_url_tag_and_the_course_card_filter_equal_url_tags(db):
    course = CourseFactory(slug="learning-python-3")
    template = engines["django"].from_string(
        "{% load url_patterns course_cards %}"
        "{% fixed_url 'members:profile' %}|{% url 'members:profile' %}|"
        "{{ course|course_detail_url }}|{% url 'web:course_detail' course.slug %}"
    )
    fixed, reversed_, card, detail = template.render({"course": course}).split("|")
    assert (fixed, card) == (reversed_, detail) == ("/profile/", "/courses/learning-python-3/")


@pytest.mark.parametrize(
    "viewname",
    [
        "members:enrol",
        "members:watch",
        "members:finish",
        "members:bookmark",
        "catalog:skill_detail",
    ],
)
def test_the_slug_url_tag_equals_the_url_tag(viewname):
    template = engines["django"].from_string(
        "{% load url_patterns %}{% slug_url name slug %}|{% url name slug %}"
    )
    with override_script_prefix("/app/"):
        tagged, reversed_ = template.render({"name": viewname, "slug": "data-science_2"}).split("|")
    assert tagged == reversed_
    assert tagged.startswith("/app/") and "/data-science_2/" in tagged
