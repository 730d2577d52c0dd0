"""A curator approves the automatic tagger's suggestion in the admin's review queue."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from catalog.models import CourseSkill
from tests.factories import CourseFactory, CourseSkillFactory, SkillFactory

pytestmark = pytest.mark.browser


def test_the_admin_approves_a_tag_suggestion(page: Page, login):
    admin = get_user_model().objects.create_superuser(
        username="curator", email="curator@example.com", password="curator-password-for-tests"
    )
    course = CourseFactory(title="Intro to Rust")
    # A title as long as the demo catalog's longest, which once pushed the buttons off screen.
    CourseSkillFactory(
        course=CourseFactory(
            title="From Voice over internet protocol VoIP system software to Enterprise "
            "resource planning ERP software: A Practical Path"
        ),
        skill=SkillFactory(name="Customer relationship management CRM software"),
        source=CourseSkill.Source.TAGGER,
        status=CourseSkill.Status.PENDING,
        confidence=0.5,
    )
    suggestion = CourseSkillFactory(
        course=course,
        skill=SkillFactory(name="Rust"),
        source=CourseSkill.Source.TAGGER,
        status=CourseSkill.Status.PENDING,
        confidence=0.83,
    )
    other = CourseSkillFactory(
        course=course,
        skill=SkillFactory(name="Cargo"),
        source=CourseSkill.Source.MODEL,
        status=CourseSkill.Status.PENDING,
        confidence=0.61,
    )
    page.goto(f"/courses/{course.slug}/")
    expect(page.locator(".course-detail")).to_contain_text("No skills have been confirmed")

    login(admin)
    page.goto("/admin/")
    page.get_by_role("link", name="Tag suggestions (review queue)").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)
    row = rows.filter(has=page.locator("td.field-skill", has_text="Rust"))
    expect(row).to_contain_text("0.83")
    # The decision is on screen without scrolling sideways (1280 px wide, both sidebars open).
    for button in page.get_by_role("button", name="Approve").all():
        box = button.bounding_box()
        assert box is not None and box["x"] + box["width"] <= page.viewport_size["width"]
    row.get_by_role("button", name="Approve").click()

    expect(page.locator(".messagelist")).to_contain_text("Rust on Intro to Rust: approved.")
    expect(rows.locator("td.field-skill")).to_have_text(
        ["Cargo", "Customer relationship management CRM software"]
    )
    suggestion.refresh_from_db()
    other.refresh_from_db()
    assert suggestion.status == CourseSkill.Status.APPROVED
    assert suggestion.reviewed_by == admin
    assert other.status == CourseSkill.Status.PENDING

    # The approved skill now describes the course on the site.
    page.goto(f"/courses/{course.slug}/")
    expect(page.locator(".course-detail .tags")).to_have_text("Rust")
