"""The course page: the course, its skills, the member's activity panel, similar courses."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog.models import Course, CourseSkill
from catalog.selectors import course_approved_skills
from members.models import Enrolment
from recommendations.serving.similar import courses_similar
from recommendations.training.runs import training_run_execute
from tests.factories import (
    PASSWORD,
    BookmarkFactory,
    CategoryFactory,
    CourseFactory,
    CourseSkillFactory,
    EnrolmentFactory,
    MemberFactory,
    SkillFactory,
    UserFactory,
)
from web import course_page
from web.course_page import course_page_read

pytestmark = pytest.mark.django_db


class TestCourseDetail:
    def test_shows_the_course(self, client):
        category = CategoryFactory(name="Databases")
        course = CourseFactory(
            title="Intro to SQL",
            slug="intro-to-sql",
            description="First line.\nSecond line.\n\nNew paragraph.",
            level=Course.Level.ADVANCED,
            duration_minutes=42,
            teacher="Edgar Codd",
            published_at=dt.datetime(2024, 3, 5, 12, tzinfo=dt.UTC),
        )
        course.categories.add(category)
        sql = SkillFactory(name="SQL", slug="sql")
        CourseSkillFactory(course=course, skill=sql)
        CourseSkillFactory(
            course=course,
            skill=SkillFactory(name="Hidden guess"),
            status=CourseSkill.Status.PENDING,
        )

        response = client.get(reverse("web:course_detail", args=["intro-to-sql"]))

        assert response.status_code == 200
        html = response.content.decode()
        assert "<h1>Intro to SQL</h1>" in html
        assert "<p>First line.<br>Second line.</p>\n\n<p>New paragraph.</p>" in html
        assert "<dd>Advanced</dd>" in html
        assert "<dd>42 min</dd>" in html
        assert "<dd>Edgar Codd</dd>" in html
        assert "5 March 2024" in html
        assert "<dd>Databases</dd>" in html
        assert f'<a href="{reverse("catalog:skill_detail", args=["sql"])}">SQL</a>' in html
        assert "Hidden guess" not in html

    def test_description_and_title_are_escaped(self, client):
        CourseFactory(
            slug="xss",
            title="<b>Bold</b>",
            description="<script>alert('x')</script>\nafter",
        )

        html = client.get(reverse("web:course_detail", args=["xss"])).content.decode()

        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;<br>after" in html
        assert "&lt;b&gt;Bold&lt;/b&gt;" in html

    def test_anonymous_visitor_gets_a_login_link(self, client):
        CourseFactory(slug="sql")
        url = reverse("web:course_detail", args=["sql"])

        html = client.get(url).content.decode()

        login = reverse("members:login")
        assert f'href="{login}?next=/courses/sql/"' in html
        assert "Log in to enrol" in html
        assert 'id="course-activity"' not in html

    def test_member_sees_the_activity_panel(self, member_client, member):
        course = CourseFactory(slug="sql")

        response = member_client.get(reverse("web:course_detail", args=["sql"]))

        activity = response.context["activity"]
        assert activity.course == course
        assert activity.enrolment is None
        assert 'id="course-activity"' in response.content.decode()
        assert "Log in to enrol" not in response.content.decode()

    def test_user_without_member_profile_gets_one_and_the_panel(self, client):
        # Accounts made outside sign-up (createsuperuser, admin) get their member row on first use.
        user = UserFactory()
        client.login(username=user.username, password=PASSWORD)
        course = CourseFactory(slug="sql")

        response = client.get(reverse("web:course_detail", args=["sql"]))

        assert response.status_code == 200
        assert response.context["activity"].course == course
        assert response.context["activity"].enrolment is None
        assert user.member.pk is not None
        assert 'id="course-activity"' in response.content.decode()

    def test_unknown_slug_is_404(self, client):
        assert client.get(reverse("web:course_detail", args=["nope"])).status_code == 404

    def test_unpublished_course_is_404_except_for_staff(self, client, admin_client):
        CourseFactory(slug="soon", published_at=timezone.now() + dt.timedelta(days=2))
        url = reverse("web:course_detail", args=["soon"])

        assert client.get(url).status_code == 404
        assert admin_client.get(url).status_code == 200


@pytest.fixture
def card_cache_on(settings):
    from catalog.card_cache import card_cache

    settings.CATALOG_CARD_CACHE = True
    card_cache.clear()
    yield
    card_cache.clear()


class TestCoursePageReads:
    """The page in one statement on PostgreSQL (`web/course_page.py`), cards from the cache."""

    def test_queries_per_page_are_constant(self, world, card_cache_on, django_assert_num_queries):
        training_run_execute(trigger="test")
        member = MemberFactory()
        signed_in = Client()
        signed_in.login(username=member.user.username, password=PASSWORD)
        course = world["courses"]["SQL Essential Training"]
        EnrolmentFactory(member=member, course=course, progress_percent=40)
        url = reverse("web:course_detail", args=[course.slug])
        Client().get(url)  # the card cache and the serving state fill once per process
        signed_in.get(url)
        postgresql = connection.vendor == "postgresql"

        # PostgreSQL: the page's one statement. Elsewhere: the course, its categories, its
        # skills, its similar row and the catalog revision.
        with django_assert_num_queries(1 if postgresql else 5):
            anonymous = Client().get(url)
        # And the session, the user with their member, the enrolment and the bookmark.
        with django_assert_num_queries(3 if postgresql else 9):
            mine = signed_in.get(url)

        expected = [item.course.pk for item in courses_similar(course=course, limit=6)]
        assert expected and [c.pk for c in anonymous.context["similar"]] == expected
        assert [c.pk for c in mine.context["similar"]] == expected
        assert mine.context["activity"].enrolment.progress_percent == 40
        assert "Progress: 40%" in mine.content.decode()

    def test_the_page_shows_what_the_pieces_selectors_read(self, world):
        training_run_execute(trigger="test")
        member = MemberFactory()
        course = world["courses"]["Python and SQL in Practice"]
        course.categories.add(CategoryFactory(name="Zeta"), CategoryFactory(name="Alpha"))
        EnrolmentFactory(member=member, course=course, progress_percent=55)
        BookmarkFactory(member=member, course=course)

        page = course_page_read(slug=course.slug, member=member)

        assert page.course == course and page.course.description == course.description
        assert page.categories == sorted(c.name for c in course.categories.all())
        assert [(s.pk, s.slug, s.name) for s in page.skills] == [
            (s.pk, s.slug, s.name) for s in course_approved_skills(course=course)
        ]
        assert page.activity.enrolment.progress_percent == 55 and page.activity.bookmarked
        assert [c.pk for c in page.similar] == [
            item.course.pk for item in courses_similar(course=course, limit=6)
        ]
        assert course_page_read(slug=course.slug, member=None).activity is None
        assert course_page_read(slug="nope", member=member) is None

    @pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the one-statement path is PostgreSQL's"
    )
    def test_the_statement_reads_what_the_orm_reads(self, world):
        training_run_execute(trigger="test")
        member = MemberFactory()
        course = world["courses"]["Python and SQL in Practice"]
        course.categories.add(CategoryFactory(name="Zeta"))
        EnrolmentFactory(member=member, course=course, progress_percent=55)
        BookmarkFactory(member=member, course=course)
        soon = CourseFactory(published_at=timezone.now() + dt.timedelta(days=1))

        def read(reader, **kwargs):
            found = reader(**kwargs)
            if found is None:
                return None
            course, categories, skills, activity, payload, _ = found
            return (
                {f.attname: getattr(course, f.attname) for f in Course._meta.concrete_fields},
                categories,
                [(s.pk, s.slug, s.name) for s in skills],
                activity
                and (
                    activity.bookmarked,
                    {
                        f.attname: getattr(activity.enrolment, f.attname)
                        for f in Enrolment._meta.concrete_fields
                    }
                    if activity.enrolment
                    else None,
                ),
                payload,
            )

        for kwargs in (
            {"slug": course.slug, "member": member, "include_unpublished": False},
            {"slug": course.slug, "member": None, "include_unpublished": False},
            {"slug": course.slug, "member": MemberFactory(), "include_unpublished": False},
            {"slug": soon.slug, "member": None, "include_unpublished": False},
            {"slug": soon.slug, "member": None, "include_unpublished": True},
        ):
            portable = read(course_page._course_page_portable, **kwargs)
            single = read(course_page._course_page_postgresql, now=timezone.now(), **kwargs)
            assert single == portable, kwargs
