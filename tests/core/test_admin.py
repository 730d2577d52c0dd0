"""core.admin.CheckedModelAdmin: the admin's own inputs (initial values from the query string,
autocomplete boxes re-rendered with what was posted, ids beyond 64 bits) are checked, and valid
ones still work."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from catalog.models import CourseSkill
from tests.factories import CourseFactory, SkillFactory

ADD = "/admin/catalog/courseskill/add/"


@pytest.fixture
def curator(db) -> Client:
    client = Client()
    client.force_login(
        get_user_model().objects.create_superuser("curator", "c@example.com", "curator-password")
    )
    return client


def _initial(response, name: str):
    return response.context["adminform"].form.initial.get(name)


def test_a_valid_initial_value_from_the_query_string_is_kept(curator):
    course = CourseFactory(title="Probe")
    response = curator.get(ADD, {"course": course.pk, "confidence": "0.5"})
    assert response.status_code == 200
    assert _initial(response, "course") == str(course.pk)
    assert _initial(response, "confidence") == "0.5"
    assert "Probe" in response.content.decode()  # the autocomplete box shows the chosen course


@pytest.mark.parametrize("value", ["²", "9" * 20, "1\x00", "x" * 10_000, "-1"])
def test_a_refused_initial_value_is_dropped_not_a_500(curator, value):
    response = curator.get(ADD, {"course": value, "skill": value, "created_at": value})
    assert response.status_code == 200
    assert _initial(response, "course") is None
    assert _initial(response, "skill") is None


@pytest.mark.parametrize("value", ["²", "9" * 20])
def test_a_refused_posted_id_is_a_field_error(curator, value):
    skill = SkillFactory()
    response = curator.post(ADD, {"course": value, "skill": skill.pk, "source": "manual"})
    assert response.status_code == 200  # the form again, with its errors
    errors = response.context["adminform"].form.errors
    assert "course" in errors
    assert not CourseSkill.objects.exists()


def test_an_id_beyond_64_bits_in_the_path_is_not_found(curator):
    response = curator.get(f"/admin/catalog/courseskill/{'9' * 20}/change/")
    assert response.status_code == 302  # the admin's "doesn't exist" redirect to the list
    response = curator.get(f"/admin/recommendations/memberrecommendations/{'9' * 20}/change/")
    assert response.status_code == 302
