import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Course, CourseSkill
from tests.factories import (
    CategoryFactory,
    CourseFactory,
    CourseSkillFactory,
    SkillFactory,
    SkillSynonymFactory,
)

pytestmark = pytest.mark.django_db

COURSE_LIST = reverse("catalog:course_list")
SKILL_LIST = reverse("catalog:skill_list")
SKILL_SEARCH = reverse("catalog:skill_search")


def course_titles(response) -> list[str]:
    return [course.title for course in response.context["page"].object_list]


def days_ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


class TestCourseList:
    def test_lists_cards_with_meta_and_approved_skill_tags(self, client):
        course = CourseFactory(
            title="Intro to SQL",
            level=Course.Level.INTERMEDIATE,
            duration_minutes=95,
            teacher="Grace Hopper",
        )
        CourseSkillFactory(course=course, skill=SkillFactory(name="SQL"))
        CourseSkillFactory(
            course=course, skill=SkillFactory(name="Guesswork"), status=CourseSkill.Status.PENDING
        )

        response = client.get(COURSE_LIST)

        assert response.status_code == 200
        html = response.content.decode()
        assert "1 course</h2>" in html
        assert "Intro to SQL" in html
        assert "Intermediate · 95 min · Grace Hopper" in html
        assert '<li class="tag">SQL</li>' in html
        assert "Guesswork" not in html

    def test_search_box_filters_by_text(self, client):
        CourseFactory(title="Pivot tables")
        CourseFactory(title="Gardening")

        response = client.get(COURSE_LIST, {"q": "pivot"})

        assert course_titles(response) == ["Pivot tables"]
        assert "1 course</h2>" in response.content.decode()

    def test_search_by_skill_synonym(self, client):
        excel = SkillFactory(name="Microsoft Excel")
        SkillSynonymFactory(skill=excel, name="Spreadsheets")
        CourseSkillFactory(course=CourseFactory(title="Office"), skill=excel)
        CourseFactory(title="Other")

        assert course_titles(client.get(COURSE_LIST, {"q": "spreadsheets"})) == ["Office"]

    @pytest.mark.parametrize("value", ["python", "Python", "PYTHON "])
    def test_skill_filter_by_slug_or_name(self, client, value):
        python = SkillFactory(name="Python", slug="python")
        CourseSkillFactory(course=CourseFactory(title="Scripting"), skill=python)
        CourseFactory(title="Other")

        assert course_titles(client.get(COURSE_LIST, {"skill": value})) == ["Scripting"]

    def test_category_filter(self, client):
        category = CategoryFactory(name="Databases", slug="databases")
        CourseFactory(title="Filed").categories.add(category)
        CourseFactory(title="Other")

        response = client.get(COURSE_LIST, {"category": "databases"})

        assert course_titles(response) == ["Filed"]
        assert '<option value="databases" selected>Databases</option>' in response.content.decode()

    def test_level_filter(self, client):
        CourseFactory(title="Easy", level=Course.Level.BEGINNER)
        CourseFactory(title="Hard", level=Course.Level.ADVANCED)

        assert course_titles(client.get(COURSE_LIST, {"level": "advanced"})) == ["Hard"]

    @pytest.mark.parametrize(
        ("params", "field", "message"),
        [
            ({"skill": "no-such-skill"}, "skill", "No skill is called “no-such-skill”."),
            ({"category": "no-such-category"}, "category", "Select a valid choice."),
            ({"level": "expert"}, "level", "Select a valid choice."),
            ({"q": "x" * 201}, "q", "Ensure this value has at most 200 characters"),
        ],
    )
    def test_invalid_filter_shows_the_field_error(self, client, params, field, message):
        CourseFactory(title="Visible only without errors")

        response = client.get(COURSE_LIST, params)

        assert response.status_code == 200
        form = response.context["form"]
        assert list(form.errors) == [field]
        assert message in form.errors[field][0]
        html = response.content.decode()
        assert "Correct the highlighted filters" in html
        assert 'aria-invalid="true"' in html
        assert "Visible only without errors" not in html

    def test_paginates_and_keeps_filters_in_page_links(self, client, settings):
        settings.CATALOG_PAGE_SIZE = 2
        for n in range(5):
            CourseFactory(title=f"Data {n}", published_at=days_ago(n + 1))
        CourseFactory(title="Unrelated")

        first = client.get(COURSE_LIST, {"q": "data"})
        second = client.get(COURSE_LIST, {"q": "data", "page": 2})
        past_end = client.get(COURSE_LIST, {"q": "data", "page": 99})
        garbage = client.get(COURSE_LIST, {"q": "data", "page": "abc"})

        assert course_titles(first) == ["Data 0", "Data 1"]
        assert "5 courses</h2>" in first.content.decode()
        assert 'href="?q=data&amp;page=2"' in first.content.decode()
        assert "Page 1 of 3" in first.content.decode()
        assert course_titles(second) == ["Data 2", "Data 3"]
        assert 'href="?q=data&amp;page=1"' in second.content.decode()
        assert course_titles(past_end) == ["Data 4"]
        assert course_titles(garbage) == ["Data 0", "Data 1"]

    def test_no_match_message(self, client):
        response = client.get(COURSE_LIST, {"q": "nothing-here"})

        assert "0 courses</h2>" in response.content.decode()
        assert "No course matches" in response.content.decode()

    def test_every_filter_input_has_a_label(self, client):
        html = client.get(COURSE_LIST).content.decode()

        for field in ("q", "skill", "category", "level"):
            assert f'<label for="id_{field}">' in html
            assert f'id="id_{field}"' in html

    @pytest.mark.parametrize("params", [{}, {"q": "course", "level": "beginner"}])
    def test_query_count_does_not_grow_with_courses(
        self, client, django_assert_num_queries, settings, params
    ):
        def make_courses(count: int) -> None:
            for _ in range(count):
                course = CourseFactory()
                course.categories.add(CategoryFactory())
                for _ in range(3):
                    CourseSkillFactory(course=course)

        # COUNT for the paginator, the page of courses, their approved tags with skills, and the
        # category options of the filter form.
        make_courses(1)
        with django_assert_num_queries(4):
            assert client.get(COURSE_LIST, params).status_code == 200

        make_courses(settings.CATALOG_PAGE_SIZE + 5)
        with django_assert_num_queries(4):
            response = client.get(COURSE_LIST, params)
        assert len(response.context["page"].object_list) == settings.CATALOG_PAGE_SIZE


class TestSkillList:
    def test_groups_skills_by_category_with_counts(self, client):
        tools = CategoryFactory(name="Tools")
        langs = CategoryFactory(name="Languages")
        python = SkillFactory(name="Python", slug="python", category=langs)
        SkillFactory(name="Excel", category=tools)
        CourseSkillFactory(skill=python)
        CourseSkillFactory(skill=python)

        response = client.get(SKILL_LIST)

        html = response.content.decode()
        assert response.status_code == 200
        assert html.index(">Languages</h2>") < html.index(">Tools</h2>")
        assert '<a href="/skills/python/">Python</a>' in html
        assert "· 2 courses" in html
        assert "· 0 courses" in html

    def test_search(self, client):
        SkillFactory(name="Python")
        SkillFactory(name="Excel")

        response = client.get(SKILL_LIST, {"q": "pyth"})

        assert [s.name for s in response.context["skills"]] == ["Python"]
        assert "Skills matching “pyth”" in response.content.decode()

    def test_search_too_long_shows_error(self, client):
        response = client.get(SKILL_LIST, {"q": "p" * 121})

        assert response.status_code == 200
        assert list(response.context["form"].errors) == ["q"]
        assert response.context["skills"] == []
        html = response.content.decode()
        assert 'aria-invalid="true" aria-describedby="id_q_error"' in html
        assert '<ul class="errorlist" id="id_q_error">' in html


class TestSkillDetail:
    def test_shows_skill_synonyms_related_and_courses(self, client, settings):
        settings.CATALOG_PAGE_SIZE = 2
        skill = SkillFactory(name="Python", slug="python", category=CategoryFactory(name="Langs"))
        SkillSynonymFactory(skill=skill, name="Py")
        SkillSynonymFactory(skill=skill, name="CPython")
        skill.related.add(SkillFactory(name="Pandas", slug="pandas"))
        for n in range(3):
            CourseSkillFactory(
                skill=skill, course=CourseFactory(title=f"Py {n}", published_at=days_ago(n + 1))
            )
        CourseSkillFactory(skill=skill, status=CourseSkill.Status.REJECTED)

        url = reverse("catalog:skill_detail", args=["python"])
        first = client.get(url)
        second = client.get(url, {"page": 2})

        html = first.content.decode()
        assert "<h1>Python</h1>" in html
        assert "Category: Langs" in html
        assert "Also known as: CPython, Py" in html
        assert '<a href="/skills/pandas/">Pandas</a>' in html
        assert "Courses teaching Python (3)" in html
        assert course_titles(first) == ["Py 0", "Py 1"]
        assert course_titles(second) == ["Py 2"]
        assert 'href="/courses/?skill=python"' in html

    def test_unknown_slug_is_404(self, client):
        assert client.get(reverse("catalog:skill_detail", args=["nope"])).status_code == 404


class TestSkillSearchPartial:
    def test_lists_matches_as_items(self, client):
        skill = SkillFactory(name="Python", slug="python", category=CategoryFactory(name="Langs"))

        response = client.get(SKILL_SEARCH, {"q": "pyt"}, HTTP_HX_REQUEST="true")

        html = response.content.decode()
        assert response.status_code == 200
        assert f'data-skill-id="{skill.pk}" data-skill-slug="python"' in html
        assert "Python" in html and "(Langs)" in html
        assert 'type="checkbox"' not in html
        assert "<html" not in html

    def test_follow_mode_adds_labelled_checkboxes(self, client):
        skill = SkillFactory(name="Python")

        html = client.get(SKILL_SEARCH, {"q": "pyt", "mode": "follow"}).content.decode()

        checkbox_id = f"skill-search-{skill.pk}"
        assert (
            f'<input type="checkbox" name="skills" value="{skill.pk}" id="{checkbox_id}">' in html
        )
        assert f'<label for="{checkbox_id}">Python' in html

    def test_empty_query_is_an_empty_list(self, client):
        SkillFactory(name="Python")

        response = client.get(SKILL_SEARCH, {"q": "  "})

        assert response.status_code == 200
        assert response.content.decode().strip() == ""

    def test_no_match_says_so(self, client):
        html = client.get(SKILL_SEARCH, {"q": "zzz"}).content.decode()

        assert "data-skill-id" not in html
        assert "No skill matches “zzz”." in html

    def test_returns_at_most_twenty(self, client):
        for n in range(25):
            SkillFactory(name=f"Data {n:02d}")

        html = client.get(SKILL_SEARCH, {"q": "data"}).content.decode()

        assert html.count("data-skill-id=") == 20

    def test_escapes_skill_names(self, client):
        SkillFactory(name="<img src=x onerror=alert(1)>")

        html = client.get(SKILL_SEARCH, {"q": "img"}).content.decode()

        assert "<img" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html

    def test_invalid_mode_is_refused(self, client):
        SkillFactory(name="Python")

        response = client.get(SKILL_SEARCH, {"q": "pyt", "mode": "delete"})

        assert response.status_code == 400
        assert "data-skill-id" not in response.content.decode()
