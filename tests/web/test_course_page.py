"""The course page: the course, its skills, the member's activity panel, similar courses."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Course, CourseSkill
from tests.factories import (
    PASSWORD,
    CategoryFactory,
    CourseFactory,
    CourseSkillFactory,
    SkillFactory,
    UserFactory,
)

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
