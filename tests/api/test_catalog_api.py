import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import CourseFactory, CourseSkillFactory, SkillSynonymFactory


def titles(response) -> list[str]:
    return [course["title"] for course in response.json()["results"]]


def test_course_list_is_public_newest_first_with_approved_skills(anon, world):
    CourseSkillFactory(
        course=world["courses"]["Tableau Dashboards"],
        skill=world["skills"]["SQL"],
        status="pending",
    )
    response = anon.get("/api/v1/courses/", {"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["page"], body["page_size"], body["num_pages"]) == (18, 1, 2, 9)
    assert body["previous"] is None
    assert body["next"] == "http://testserver/api/v1/courses/?page_size=2&page=2"
    assert titles(response) == ["Photoshop and Illustrator Together", "Illustrator Advanced"]
    tableau = anon.get("/api/v1/courses/", {"search": "tableau"}).json()["results"]
    assert [skill["slug"] for skill in tableau[0]["skills"]] == ["tableau"]


def test_course_search_filters_and_pages(anon, world):
    found = anon.get("/api/v1/courses/", {"search": "sql window"})
    assert titles(found) == ["SQL Window Functions"]
    by_skill = anon.get("/api/v1/courses/", {"skill": "python", "page_size": 100})
    assert set(titles(by_skill)) == {
        "Python for Data Analysis",
        "Learning Python",
        "Python and SQL in Practice",
        "Python Scripting",
        "Python Testing",
    }
    by_category = anon.get("/api/v1/courses/", {"category": "design", "page_size": 100})
    assert by_category.json()["count"] == 7
    assert anon.get("/api/v1/courses/", {"level": "advanced"}).json()["count"] == 0
    second = anon.get("/api/v1/courses/", {"page_size": 10, "page": 2})
    assert len(second.json()["results"]) == 8


def test_course_search_by_synonym(anon, world):
    SkillSynonymFactory(skill=world["skills"]["Photoshop"], name="Adobe PS")
    assert anon.get("/api/v1/courses/", {"search": "adobe"}).json()["count"] == 5


@pytest.mark.parametrize(
    "params",
    [
        {"page_size": 100},
        {"page_size": 100, "sort": "newest"},
        {"page_size": 100, "sort": "popular", "category": "design"},
        {"page_size": 3, "page": 2},
    ],
)
@pytest.mark.parametrize("words", ["sql", "python data", "adobe ps", "no such words", ""])
def test_q_is_the_same_search_as_search(anon, world, words, params):
    SkillSynonymFactory(skill=world["skills"]["Photoshop"], name="Adobe PS")
    by_search = anon.get("/api/v1/courses/", {"search": words, **params})
    by_q = anon.get("/api/v1/courses/", {"q": words, **params})
    both = anon.get("/api/v1/courses/", {"search": words, "q": words, **params})
    assert by_search.status_code == by_q.status_code == both.status_code
    if by_search.status_code == 404:  # fewer results than the page asked for, all three alike
        assert by_search.json() == by_q.json() == both.json()
        return
    assert by_search.json()["count"] == by_q.json()["count"] == both.json()["count"]
    assert titles(by_search) == titles(by_q) == titles(both)
    if words == "sql" and "category" not in params:
        assert by_search.json()["count"] > 0  # a search that finds something is compared too


def test_the_schema_documents_search_and_marks_q_deprecated(anon, db):
    schema = anon.get("/api/schema/?format=json").json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/courses/"]["get"]["parameters"]}
    search, q = parameters["search"], parameters["q"]
    assert (search["in"], search["schema"]["type"]) == ("query", "string")
    assert "deprecated" not in search
    assert search["description"].startswith("Search words")
    assert (q["in"], q["schema"]["type"], q["deprecated"]) == ("query", "string", True)
    assert "use `search`" in q["description"]
    description = schema["paths"]["/api/v1/courses/"]["get"]["description"]
    assert "Every word of `search`" in description


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"skill": "cobol"}, "skill", "No skill has the slug “cobol”."),
        ({"category": "nope"}, "category", "Object with slug=nope does not exist."),
        ({"category": "de\x00sign"}, "category", "Object with slug=de\x00sign does not exist."),
        ({"skill": "s\x00ql"}, "skill", "Null characters are not allowed."),
        ({"search": "s\x00ql"}, "search", "Null characters are not allowed."),
        ({"q": "s\x00ql"}, "q", "Null characters are not allowed."),
        ({"search": "x" * 201}, "search", "Ensure this field has no more than 200 characters."),
        (
            {"search": "sql", "q": "python"},
            "q",
            "`q` is the deprecated name of `search`; give one of them.",
        ),
        ({"level": "expert"}, "level", '"expert" is not a valid choice.'),
        ({"sort": "cheapest"}, "sort", '"cheapest" is not a valid choice.'),
        ({"page_size": "101"}, "page_size", "Ensure this value is less than or equal to 100."),
        ({"page": "0"}, "page", "Ensure this value is greater than or equal to 1."),
        ({"page": "two"}, "page", "A valid integer is required."),
    ],
)
def test_course_list_refuses_bad_filters_with_field_errors(anon, world, params, field, message):
    response = anon.get("/api/v1/courses/", params)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {field: [message]}


def test_a_page_past_the_end_is_404(anon, world):
    response = anon.get("/api/v1/courses/", {"page": 3, "page_size": 10})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "There is no page 3; there are 2."


def test_course_detail_by_id(anon, world):
    course = world["courses"]["Python and SQL in Practice"]
    response = anon.get(f"/api/v1/courses/{course.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == "python-and-sql-in-practice"
    assert body["description"] == "Learn everything about Python and SQL in Practice."
    assert body["url"] == "/courses/python-and-sql-in-practice/"
    assert sorted(skill["name"] for skill in body["skills"]) == ["Python", "SQL"]
    assert body["categories"] == []


def test_unknown_and_unpublished_courses_are_404(anon, world):
    future = CourseFactory(published_at=timezone.now() + dt.timedelta(days=3))
    for course_id in (future.pk, 987654):
        response = anon.get(f"/api/v1/courses/{course_id}/")
        assert response.status_code == 404
        assert response.json()["error"] == {
            "code": "not_found",
            "message": "No published course has this id.",
            "fields": {},
        }


def test_skills_list_and_search(anon, world):
    everything = anon.get("/api/v1/skills/").json()
    assert [(s["slug"], s["course_count"]) for s in everything["results"]] == [
        ("python", 5),
        ("sql", 6),
        ("tableau", 1),
        ("illustrator", 3),
        ("photoshop", 5),
    ]
    found = anon.get("/api/v1/skills/", {"q": "illu"}).json()["results"]
    assert [skill["name"] for skill in found] == ["Illustrator"]


def test_skill_detail_embeds_its_newest_courses(anon, world):
    response = anon.get("/api/v1/skills/sql/", {"limit": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["course_count"] == 6
    assert [course["title"] for course in body["courses"]] == [
        "SQL for Beginners",
        "Python and SQL in Practice",
    ]
    assert body["category"] == {
        "id": world["skills"]["SQL"].category_id,
        "slug": "data",
        "name": "Data",
    }


def test_unknown_skill_is_404_and_bad_limit_400(anon, world):
    assert anon.get("/api/v1/skills/cobol/").status_code == 404
    response = anon.get("/api/v1/skills/sql/", {"limit": 1000})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "limit": ["Ensure this value is less than or equal to 100."]
    }


def test_categories_with_counts(anon, world):
    assert [
        (c["slug"], c["course_count"], c["skill_count"])
        for c in anon.get("/api/v1/categories/").json()
    ] == [("data", 11, 3), ("design", 7, 2)]


def test_similar_courses_by_shared_skills(anon, world):
    course = world["courses"]["Photoshop and Illustrator Together"]
    response = anon.get(f"/api/v1/courses/{course.pk}/similar/", {"limit": 6})
    assert response.status_code == 200
    body = response.json()
    assert len(body) == 6
    assert all(0 < item["score"] <= 1 for item in body)
    assert [item["score"] for item in body] == sorted(
        (item["score"] for item in body), reverse=True
    )
    design = {
        "Photoshop Essential Training",
        "Photoshop for Designers",
        "Photoshop Retouching",
        "Photoshop Compositing",
        "Illustrator Basics",
        "Illustrator Advanced",
    }
    assert {item["course"]["title"] for item in body} == design
    assert course.pk not in {item["course"]["id"] for item in body}


def test_similar_courses_refusals(anon, world):
    course = world["courses"]["Learning Python"]
    assert anon.get("/api/v1/courses/424242/similar/").status_code == 404
    response = anon.get(f"/api/v1/courses/{course.pk}/similar/", {"limit": 0})
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "limit": ["Ensure this value is greater than or equal to 1."]
    }
