import datetime as dt

import pytest
from django.utils import timezone

from catalog import selectors
from catalog.models import Course, CourseSkill
from tests.factories import (
    CategoryFactory,
    CourseFactory,
    CourseSkillFactory,
    EnrolmentFactory,
    SkillFactory,
    SkillSynonymFactory,
)

pytestmark = pytest.mark.django_db


def days_ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def titles(courses) -> list[str]:
    return [course.title for course in courses]


class TestCoursesSearch:
    def test_matches_title_and_description_case_insensitively(self):
        CourseFactory(title="Pivot Tables Deep Dive", description="Summaries.")
        CourseFactory(title="Budgeting", description="Uses PIVOT charts.")
        CourseFactory(title="Gardening", description="Soil.")

        result = selectors.courses_search(query="pivot")

        assert sorted(titles(result)) == ["Budgeting", "Pivot Tables Deep Dive"]

    def test_matches_approved_skill_name_only(self):
        python = SkillFactory(name="Python")
        approved = CourseFactory(title="Automate things", description="Scripts.")
        pending = CourseFactory(title="Maybe scripting", description="Perhaps.")
        rejected = CourseFactory(title="Not really", description="No.")
        CourseSkillFactory(course=approved, skill=python)
        CourseSkillFactory(course=pending, skill=python, status=CourseSkill.Status.PENDING)
        CourseSkillFactory(course=rejected, skill=python, status=CourseSkill.Status.REJECTED)

        assert titles(selectors.courses_search(query="python")) == ["Automate things"]

    def test_matches_synonym_of_an_approved_skill(self):
        excel = SkillFactory(name="Microsoft Excel")
        SkillSynonymFactory(skill=excel, name="Spreadsheets")
        course = CourseFactory(title="Office basics", description="Day one.")
        CourseSkillFactory(course=course, skill=excel)
        CourseFactory(title="Unrelated", description="Nothing.")

        assert titles(selectors.courses_search(query="spreadsheet")) == ["Office basics"]

    def test_every_word_must_match_somewhere(self):
        excel = SkillFactory(name="Excel")
        both = CourseFactory(title="Pivot tables", description="Summaries.")
        CourseSkillFactory(course=both, skill=excel)
        CourseFactory(title="Pivot in basketball", description="Footwork.")

        assert titles(selectors.courses_search(query="  excel   PIVOT ")) == ["Pivot tables"]

    def test_course_matching_several_ways_is_listed_once(self):
        sql = SkillFactory(name="SQL")
        SkillSynonymFactory(skill=sql, name="SQL queries")
        other = SkillFactory(name="PostgreSQL")
        course = CourseFactory(title="SQL for analysts", description="Write SQL.")
        CourseSkillFactory(course=course, skill=sql)
        CourseSkillFactory(course=course, skill=other)

        result = selectors.courses_search(query="sql")

        assert titles(result) == ["SQL for analysts"]
        assert result.count() == 1

    def test_empty_query_lists_published_courses_newest_first(self):
        CourseFactory(title="Old", published_at=days_ago(10))
        CourseFactory(title="New", published_at=days_ago(1))
        CourseFactory(title="Middle", published_at=days_ago(5))
        CourseFactory(title="Scheduled", published_at=timezone.now() + dt.timedelta(days=3))

        assert titles(selectors.courses_search(query="")) == ["New", "Middle", "Old"]

    def test_skill_filter_counts_approved_tags_only(self):
        skill = SkillFactory()
        taught = CourseFactory(title="Taught")
        suggested = CourseFactory(title="Suggested")
        CourseFactory(title="Untagged")
        CourseSkillFactory(course=taught, skill=skill)
        CourseSkillFactory(course=suggested, skill=skill, status=CourseSkill.Status.PENDING)

        assert titles(selectors.courses_search(query="", skill=skill)) == ["Taught"]

    def test_category_filter_takes_filed_courses_and_courses_teaching_its_skills(self):
        category = CategoryFactory(name="Spreadsheet software")
        filed = CourseFactory(title="Filed", published_at=days_ago(3))
        filed.categories.add(category)
        by_skill = CourseFactory(title="By skill", published_at=days_ago(2))
        CourseSkillFactory(course=by_skill, skill=SkillFactory(category=category))
        pending = CourseFactory(title="Pending tag", published_at=days_ago(1))
        CourseSkillFactory(
            course=pending,
            skill=SkillFactory(category=category),
            status=CourseSkill.Status.PENDING,
        )
        CourseFactory(title="Elsewhere").categories.add(CategoryFactory())

        result = selectors.courses_search(query="", category=category)

        assert titles(result) == ["By skill", "Filed"]

    def test_level_filter(self):
        CourseFactory(title="Easy", level=Course.Level.BEGINNER)
        CourseFactory(title="Hard", level=Course.Level.ADVANCED)

        assert titles(selectors.courses_search(query="", level="advanced")) == ["Hard"]

    def test_filters_combine_with_the_query(self):
        skill = SkillFactory(name="Python")
        match = CourseFactory(title="Python for data", level=Course.Level.INTERMEDIATE)
        wrong_level = CourseFactory(title="Python data basics", level=Course.Level.BEGINNER)
        CourseSkillFactory(course=match, skill=skill)
        CourseSkillFactory(course=wrong_level, skill=skill)

        result = selectors.courses_search(query="data", skill=skill, level="intermediate")

        assert titles(result) == ["Python for data"]

    def test_card_skills_are_prefetched_approved_only(self, django_assert_num_queries):
        for n in range(5):
            course = CourseFactory(title=f"Course {n}")
            CourseSkillFactory(course=course, skill=SkillFactory(name=f"Approved {n}"))
            CourseSkillFactory(
                course=course,
                skill=SkillFactory(name=f"Pending {n}"),
                status=CourseSkill.Status.PENDING,
            )

        with django_assert_num_queries(2):
            courses = list(selectors.courses_search(query=""))
            tag_names = [[tag.skill.name for tag in c.card_skill_tags] for c in courses]

        assert tag_names == [[f"Approved {n}"] for n in reversed(range(5))]


class TestCourseAndSkillLookups:
    def test_course_get_by_slug(self):
        course = CourseFactory(slug="intro-sql")

        assert selectors.course_get_by_slug(slug="intro-sql") == course
        assert selectors.course_get_by_slug(slug="nope") is None

    def test_unpublished_course_only_with_include_unpublished(self):
        course = CourseFactory(slug="soon", published_at=timezone.now() + dt.timedelta(days=1))

        assert selectors.course_get_by_slug(slug="soon") is None
        assert selectors.course_get_by_slug(slug="soon", include_unpublished=True) == course

    def test_skill_get_by_slug(self):
        skill = SkillFactory(slug="python")

        assert selectors.skill_get_by_slug(slug="python") == skill
        assert selectors.skill_get_by_slug(slug="ruby") is None

    def test_course_approved_skills_most_confident_first(self):
        course = CourseFactory()
        low = SkillFactory(name="Low")
        high = SkillFactory(name="High")
        CourseSkillFactory(course=course, skill=low, confidence=0.4)
        CourseSkillFactory(course=course, skill=high, confidence=0.9)
        CourseSkillFactory(course=course, status=CourseSkill.Status.PENDING)
        CourseSkillFactory(course=course, status=CourseSkill.Status.REJECTED)

        assert selectors.course_approved_skills(course=course) == [high, low]

    def test_courses_for_skill(self):
        skill = SkillFactory()
        old = CourseFactory(title="Old", published_at=days_ago(9))
        new = CourseFactory(title="New", published_at=days_ago(1))
        pending = CourseFactory(title="Pending")
        for course in (old, new):
            CourseSkillFactory(course=course, skill=skill)
        CourseSkillFactory(course=pending, skill=skill, status=CourseSkill.Status.PENDING)

        assert titles(selectors.courses_for_skill(skill=skill)) == ["New", "Old"]


class TestSkills:
    def test_skills_search_ranks_prefix_then_shorter_names(self):
        SkillFactory(name="SPSS Python plugin")
        SkillFactory(name="Python")
        SkillFactory(name="Python Pandas")
        SkillFactory(name="Ruby")

        names = [s.name for s in selectors.skills_search(query="py")]

        assert names == ["Python", "Python Pandas", "SPSS Python plugin"]

    def test_skills_search_matches_synonyms_once(self):
        excel = SkillFactory(name="Microsoft Excel")
        SkillSynonymFactory(skill=excel, name="Excel spreadsheets")
        SkillSynonymFactory(skill=excel, name="Spreadsheet software")

        assert selectors.skills_search(query="spreadsheet") == [excel]

    def test_skills_search_empty_query_and_limit(self):
        for n in range(5):
            SkillFactory(name=f"Data {n}")

        assert selectors.skills_search(query="   ") == []
        assert len(selectors.skills_search(query="data", limit=3)) == 3

    def test_skills_with_course_counts(self):
        category_a = CategoryFactory(name="A tools")
        category_b = CategoryFactory(name="B tools")
        python = SkillFactory(name="Python", category=category_b)
        excel = SkillFactory(name="Excel", category=category_a)
        idle = SkillFactory(name="Idle", category=category_b)
        CourseSkillFactory(skill=python)
        CourseSkillFactory(skill=python)
        CourseSkillFactory(skill=python, status=CourseSkill.Status.PENDING)
        CourseSkillFactory(
            skill=python, course=CourseFactory(published_at=timezone.now() + dt.timedelta(days=1))
        )
        CourseSkillFactory(skill=excel)

        skills = selectors.skills_with_course_counts()

        assert [(s, s.course_count) for s in skills] == [(excel, 1), (idle, 0), (python, 2)]

    def test_skills_with_course_counts_for_a_query_keeps_search_ranking(self):
        SkillFactory(name="Big data")
        data = SkillFactory(name="Data")
        CourseSkillFactory(skill=data)

        skills = selectors.skills_with_course_counts(query="data")

        assert [(s.name, s.course_count) for s in skills] == [("Data", 1), ("Big data", 0)]

    def test_categories_with_counts(self):
        tools = CategoryFactory(name="Tools")
        empty = CategoryFactory(name="Empty")
        filed = CourseFactory()
        filed.categories.add(tools)
        skill = SkillFactory(category=tools)
        SkillFactory(category=tools)
        # Filed and tagged: still one course.
        CourseSkillFactory(course=filed, skill=skill)
        CourseSkillFactory(skill=skill)
        CourseSkillFactory(skill=skill, status=CourseSkill.Status.REJECTED)
        unpublished = CourseFactory(published_at=timezone.now() + dt.timedelta(days=1))
        unpublished.categories.add(tools)

        categories = list(selectors.categories_with_counts())

        assert categories == [empty, tools]
        assert [(c.course_count, c.skill_count) for c in categories] == [(0, 0), (2, 2)]


class TestPopularAndNewest:
    def test_courses_popular_counts_enrolments_since(self):
        since = days_ago(7)
        hot = CourseFactory(title="Hot")
        warm = CourseFactory(title="Warm")
        stale = CourseFactory(title="Stale")
        for _ in range(3):
            EnrolmentFactory(course=hot, enrolled_at=days_ago(1))
        EnrolmentFactory(course=warm, enrolled_at=days_ago(2))
        for _ in range(5):
            EnrolmentFactory(course=stale, enrolled_at=days_ago(30))
        EnrolmentFactory(course=warm, enrolled_at=days_ago(40))

        popular = selectors.courses_popular(limit=10, since=since)

        assert titles(popular) == ["Hot", "Warm"]
        assert [c.recent_enrolments for c in popular] == [3, 1]

    def test_courses_popular_limit_and_tie_break_by_newer(self):
        older = CourseFactory(title="Older", published_at=days_ago(20))
        newer = CourseFactory(title="Newer", published_at=days_ago(2))
        third = CourseFactory(title="Third", published_at=days_ago(1))
        for course in (older, newer, third):
            EnrolmentFactory(course=course, enrolled_at=days_ago(1))

        assert titles(selectors.courses_popular(limit=2, since=days_ago(7))) == ["Third", "Newer"]

    def test_courses_newest(self):
        CourseFactory(title="A", published_at=days_ago(3))
        CourseFactory(title="B", published_at=days_ago(1))
        CourseFactory(title="C", published_at=days_ago(2))
        CourseFactory(title="Future", published_at=timezone.now() + dt.timedelta(hours=1))

        assert titles(selectors.courses_newest(limit=2)) == ["B", "C"]

    def test_courses_in_bulk_keeps_order_and_skips_unknown(self):
        a = CourseFactory(title="A")
        b = CourseFactory(title="B")
        hidden = CourseFactory(published_at=timezone.now() + dt.timedelta(days=1))

        result = selectors.courses_in_bulk(course_ids=[b.pk, 999_999, hidden.pk, a.pk])

        assert titles(result) == ["B", "A"]
        assert result[0].card_skill_tags == []


class TestCourseCards:
    CARD_VALUES = ("id", "title", "slug", "level", "duration_minutes", "teacher", "published_at")

    def test_course_cards_by_id_returns_exactly_the_requested_existing_courses(self):
        first, second, _other = CourseFactory(), CourseFactory(), CourseFactory()
        unpublished = CourseFactory(published_at=timezone.now() + dt.timedelta(days=3))
        missing = unpublished.pk + 1000

        cards = selectors.course_cards_by_id(
            course_ids=[second.pk, missing, first.pk, unpublished.pk, first.pk]
        )

        assert set(cards) == {first.pk, second.pk, unpublished.pk}
        assert all(isinstance(course, Course) for course in cards.values())
        assert {pk: course.pk for pk, course in cards.items()} == {
            first.pk: first.pk,
            second.pk: second.pk,
            unpublished.pk: unpublished.pk,
        }

    def test_course_cards_by_id_of_nothing_or_only_unknown_ids(self, django_assert_num_queries):
        with django_assert_num_queries(0):
            assert selectors.course_cards_by_id(course_ids=[]) == {}
            assert selectors.course_cards_by_id(course_ids=iter(())) == {}
        assert selectors.course_cards_by_id(course_ids=[987654]) == {}

    def test_course_cards_load_the_card_fields_and_defer_the_rest(self, django_assert_num_queries):
        saved = CourseFactory(
            title="Window functions",
            level=Course.Level.ADVANCED,
            duration_minutes=95,
            teacher="Grace Hopper",
            description="Rows, frames and ranks.",
            published_at=days_ago(4),
        )
        saved.refresh_from_db()

        # The course row and its approved skills (the card cache is off in tests).
        with django_assert_num_queries(2):
            course = selectors.course_cards_by_id(course_ids=[saved.pk])[saved.pk]
            loaded = {name: getattr(course, name) for name in self.CARD_VALUES}

        assert loaded == {name: getattr(saved, name) for name in self.CARD_VALUES}
        assert loaded["title"] == "Window functions"
        assert loaded["level"] == Course.Level.ADVANCED
        assert loaded["duration_minutes"] == 95
        assert "description" in course.get_deferred_fields()
        assert course.get_deferred_fields() == {
            "external_id",
            "description",
            "created_at",
            "updated_at",
        }
        assert course._state.adding is False
        with django_assert_num_queries(1):
            assert course.description == "Rows, frames and ranks."
        assert "description" not in course.get_deferred_fields()

    def test_card_skills_list_approved_tags_most_confident_first_then_by_name(self):
        course = CourseFactory()
        untagged = CourseFactory()
        only_pending = CourseFactory()
        sql = SkillFactory(name="SQL", slug="sql")
        bi = SkillFactory(name="BI", slug="bi")
        excel = SkillFactory(name="Excel", slug="excel")
        CourseSkillFactory(course=course, skill=excel, confidence=0.7)
        CourseSkillFactory(course=course, skill=sql, confidence=0.9)
        CourseSkillFactory(course=course, skill=bi, confidence=0.7)
        CourseSkillFactory(course=course, status=CourseSkill.Status.PENDING, confidence=1.0)
        CourseSkillFactory(course=course, status=CourseSkill.Status.REJECTED, confidence=1.0)
        CourseSkillFactory(course=only_pending, skill=sql, status=CourseSkill.Status.PENDING)
        # Another course's approved tag stays with that course.
        CourseSkillFactory(course=CourseFactory(), skill=sql)

        cards = selectors.course_cards_by_id(course_ids=[course.pk, untagged.pk, only_pending.pk])

        assert {pk: card.card_skills for pk, card in cards.items()} == {
            course.pk: [
                {"id": sql.pk, "slug": "sql", "name": "SQL"},
                {"id": bi.pk, "slug": "bi", "name": "BI"},
                {"id": excel.pk, "slug": "excel", "name": "Excel"},
            ],
            untagged.pk: [],
            only_pending.pk: [],
        }


def test_courses_published_by_id_are_the_orms_rows_and_leave_out_unknown_and_future_ones(
    django_assert_num_queries,
):
    published = CourseFactory(published_at=timezone.now() - dt.timedelta(days=3))
    other = CourseFactory(published_at=timezone.now() - dt.timedelta(minutes=1))
    future = CourseFactory(published_at=timezone.now() + dt.timedelta(days=1))

    ids = {published.pk, other.pk, future.pk, future.pk + 1000}
    # Outside query capture, as served: on PostgreSQL a prepared statement (a captured query
    # runs on the ordinary cursor, core/prepared_statements.py).
    found = selectors.courses_published_by_id(course_ids=ids)
    with django_assert_num_queries(1):
        assert selectors.courses_published_by_id(course_ids=ids).keys() == found.keys()

    assert sorted(found) == sorted([published.pk, other.pk])
    for course in (published, other):
        expected = Course.objects.values().get(pk=course.pk)
        got = found[course.pk]
        assert isinstance(got, Course) and not got._state.adding
        assert {f.attname: getattr(got, f.attname) for f in Course._meta.concrete_fields} == (
            expected
        )
    assert found[published.pk].published_at.tzinfo is not None
    assert selectors.courses_published_by_id(course_ids=[]) == {}
