"""Issue 27's walk in a real browser, on a site whose taxonomy is loaded (`load_taxonomy`'s
service, as the first step of a real install): sign up, type a job title as free text, pick
suggested skills, enrol in a course and find it under "Continue learning", follow another skill
from its page (htmx swaps the button in place) and find that skill's carousel on the homepage.

The steps before following are the continue-learning walk's own functions.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from members.models import FollowedSkill, Member
from members.services import taxonomy_load
from tests.browser.test_continue_learning_journey import (
    answer_onboarding,
    carousel,
    enrol_and_start,
    go_home,
    sign_up,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def taxonomy(world):
    """The vendored O*NET taxonomy over the test world: the world's Data Analyst and its skills
    are matched by name, and every other occupation, alternate title and occupation skill is
    added (about 60,000 rows, a few seconds)."""
    taxonomy_load()
    return world


def follow_from_skill_page(page: Page, *, skill: str) -> None:
    """Find `skill` in the skill list's search, open its page and press Follow."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Skills").click()
    page.get_by_role("searchbox", name="Search skills", exact=True).fill(skill)
    page.get_by_role("button", name="Search").click()
    page.locator(".skill-list").get_by_role("link", name=skill, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(skill)
    page.wait_for_load_state()  # htmx has processed the button
    follow = page.locator("#skill-follow")
    follow.get_by_role("button", name="Follow", exact=True).click()
    # Swapped in place: no page load, the same skill page now offers Unfollow.
    expect(follow.get_by_role("button", name="Unfollow", exact=True)).to_be_visible()
    expect(follow).to_contain_text(f"You follow {skill}.")
    expect(page.get_by_role("heading", level=1)).to_have_text(skill)


def test_first_hour_typed_title_continue_learning_and_a_followed_skills_carousel(
    page: Page, taxonomy
):
    sign_up(page, username="maya")
    # A title as people type it, found by fuzzy matching among the loaded titles.
    answer_onboarding(page, title="Sr. Data Analyst", skills=["SQL", "Python"], industry="Finance")

    member = Member.objects.select_related("title").get(user__username="maya")
    assert member.title_text == "Sr. Data Analyst"
    assert member.title == taxonomy["analyst"]
    assert member.title.onet_code  # the world's Data Analyst is now O*NET's occupation

    enrol_and_start(page, label="Because you follow SQL", course="SQL for Beginners")
    go_home(page)
    first = page.locator("section.carousel").first
    expect(first.get_by_role("heading", level=2)).to_have_text("Continue learning")
    expect(first.get_by_role("link", name="SQL for Beginners", exact=True)).to_have_count(1)
    expect(carousel(page, "Because you follow Photoshop")).to_have_count(0)

    follow_from_skill_page(page, skill="Photoshop")
    assert set(
        FollowedSkill.objects.filter(member=member).values_list("skill__name", flat=True)
    ) == {"SQL", "Python", "Photoshop"}

    go_home(page)
    photoshop = carousel(page, "Because you follow Photoshop")
    expect(photoshop).to_have_count(1)
    expect(photoshop.get_by_role("link", name=re.compile("Photoshop")).first).to_be_visible()
    # Continue learning stays first.
    first = page.locator("section.carousel").first
    expect(first.get_by_role("heading", level=2)).to_have_text("Continue learning")
