"""A new learner's first hour in a real browser: sign up, answer the onboarding questionnaire,
land on a homepage whose cards say why they are shown, enrol in a course and start it, and find
it first on the homepage under "Continue learning".

Each step is its own function taking the page, so a longer walk (a typed job title, following a
skill from its page) can chain them with its own steps.
"""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from members.models import Enrolment, Member

pytestmark = pytest.mark.browser


def carousel(page: Page, label: str) -> Locator:
    heading = page.get_by_role("heading", name=label, exact=True)
    return page.locator("section.carousel").filter(has=heading)


def sign_up(page: Page, *, username: str) -> None:
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Password:", exact=True).fill("a-long-enough-passphrase")
    page.get_by_label("Password confirmation").fill("a-long-enough-passphrase")
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/onboarding/$"))


def answer_onboarding(page: Page, *, title: str, skills: list[str], industry: str) -> None:
    """Pick the title, check the suggested `skills`, pick the industry, save: the homepage."""
    # htmx must have processed the page before typing sends requests (see the learner journey).
    page.wait_for_load_state()
    page.get_by_label("Job title").fill(title)
    suggested = page.locator("#suggested-skills")
    for name in skills:
        suggested.get_by_label(name, exact=True).check()
        expect(page.locator("#selected-skills").get_by_label(name, exact=True)).to_be_checked()
    page.get_by_label("Industry").select_option(label=industry)
    page.get_by_role("button", name="Save my answers").click()
    expect(page).to_have_url(re.compile(r"/$"))


def enrol_and_start(page: Page, *, label: str, course: str) -> None:
    """From the homepage carousel `label`, open `course`, enrol and watch a little of it."""
    carousel(page, label).get_by_role("link", name=course, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(course)
    activity = page.locator("#course-activity")
    activity.get_by_role("button", name="Enrol").click()
    expect(activity).to_contain_text("Progress: 0%")
    activity.get_by_role("button", name="Watch 10 min").click()
    expect(activity).to_contain_text(re.compile(r"Progress: [1-9]\d?%"))


def go_home(page: Page) -> None:
    page.get_by_role("link", name="SkillPath").click()
    expect(page).to_have_url(re.compile(r"/$"))


def test_sign_up_onboard_enrol_and_continue_learning(page: Page, world):
    sign_up(page, username="lin")
    answer_onboarding(page, title="Data Analyst", skills=["SQL"], industry="Finance")

    # The first homepage: recommendations, each card saying why, no Continue learning yet.
    follow_sql = carousel(page, "Because you follow SQL")
    expect(follow_sql).to_have_count(1)
    expect(page.locator("section.carousel").first).not_to_have_attribute("data-reason", "continue")
    beginners = follow_sql.locator("article").filter(
        has=page.get_by_role("link", name="SQL for Beginners", exact=True)
    )
    expect(beginners.locator(".card-why")).to_have_text("Matches your skills: SQL")

    enrol_and_start(page, label="Because you follow SQL", course="SQL for Beginners")
    go_home(page)

    # Continue learning comes first, with the course and how far the learner got.
    first = page.locator("section.carousel").first
    expect(first.get_by_role("heading", level=2)).to_have_text("Continue learning")
    card = first.locator("article").filter(
        has=page.get_by_role("link", name="SQL for Beginners", exact=True)
    )
    expect(card).to_have_count(1)
    expect(card.locator(".card-why")).to_have_text(re.compile(r"^[1-9]\d?% done$"))
    # Its own course is neither dismissible there nor recommended again below.
    expect(card.get_by_role("button", name="Not interested in SQL for Beginners")).to_have_count(0)
    expect(page.get_by_role("link", name="SQL for Beginners", exact=True)).to_have_count(1)

    member = Member.objects.get(user__username="lin")
    enrolment = Enrolment.objects.get(member=member, course=world["courses"]["SQL for Beginners"])
    assert enrolment.completed_at is None
    assert enrolment.progress_percent > 0
    expect(card.locator(".card-why")).to_have_text(f"{enrolment.progress_percent}% done")
