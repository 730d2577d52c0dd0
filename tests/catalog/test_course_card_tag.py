"""`{% course_card %}`: the include's card, rendered once per process for each distinct content."""

import pytest
from django.template import Context, Template

from catalog.templatetags import course_cards
from tests.factories import CourseFactory

pytestmark = pytest.mark.django_db

SKILLS = [{"id": 1, "slug": "sql", "name": "SQL"}, {"id": 2, "slug": "python", "name": "Python"}]


@pytest.fixture(autouse=True)
def empty_cache():
    course_cards._cards.clear()
    yield
    course_cards._cards.clear()


def _tag(course) -> str:
    return Template("{% load course_cards %}{% course_card course %}").render(
        Context({"course": course})
    )


def _include(course) -> str:
    return Template('{% include "_course_card.html" %}').render(Context({"course": course}))


@pytest.mark.parametrize("skills", [SKILLS, [], None], ids=["skills", "no skills", "unread"])
def test_the_tag_renders_what_the_include_renders(skills):
    course = CourseFactory(title="Intro to SQL", teacher="Ada Lovelace", duration_minutes=45)
    if skills is not None:
        course.card_skills = skills

    assert _tag(course) == _include(course)
    # Kept, and served from the cache the second time.
    assert len(course_cards._cards) == 1
    assert _tag(course) == _include(course)


def test_an_edited_course_shows_its_new_card_at_once():
    course = CourseFactory(title="Intro to SQL")
    course.card_skills = SKILLS
    first = _tag(course)

    course.title = "SQL from Scratch"
    course.card_skills = SKILLS[:1]
    second = _tag(course)

    assert "SQL from Scratch" in second and "Intro to SQL" not in second
    assert "Python" in first and "Python" not in second
    assert second == _include(course)


def test_the_card_text_is_escaped():
    course = CourseFactory(title="<script>alert(1)</script>", teacher="Tom & Jerry")

    html = _tag(course)

    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Tom &amp; Jerry" in html


def test_a_full_cache_drops_its_older_half(monkeypatch):
    monkeypatch.setattr(course_cards, "CARD_CACHE_SIZE", 4)
    courses = [CourseFactory() for _ in range(5)]

    for course in courses:
        _tag(course)

    # The fifth card found four: the first two went, the newer two and the fifth stayed.
    assert [content.pk for content in course_cards._cards] == [c.pk for c in courses[2:]]
    assert _tag(courses[0]) == _include(courses[0])
