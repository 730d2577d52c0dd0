"""With JavaScript off, the site still reads and the forms still work (htmx only enhances)."""

import re

import pytest
from playwright.sync_api import Page, expect

from members.models import FollowedSkill
from members.services import member_people_settings_set
from recommendations.models import Dismissal, PersonHidden
from tests.factories import MemberFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def context(browser, live_server, transactional_db):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(5_000)
    yield context
    context.close()


def _scripts_ran(page: Page) -> bool:
    # htmx marks processed elements and fires requests; with scripts off, the marker that
    # base.html's htmx would leave never appears. A <noscript> check is not needed: evaluate
    # still runs (it is Playwright's, not the page's), so ask whether htmx was defined.
    return page.evaluate("() => typeof window.htmx !== 'undefined'")


def test_a_visitor_reads_home_courses_a_course_and_skills(page: Page, world):
    page.goto("/")
    assert not _scripts_ran(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Learn the skills your work needs")
    expect(page.locator("section.carousel h2")).to_have_text(["Popular", "New"])
    nav = page.get_by_role("navigation", name="Main")

    nav.get_by_role("link", name="Courses").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Courses")
    expect(page.locator("#results-heading")).to_have_text("18 courses")
    page.get_by_role("searchbox", name="Search", exact=True).fill("window")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"q=window"))
    page.get_by_role("link", name="SQL Window Functions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("SQL Window Functions")
    expect(page.locator(".course-description")).to_contain_text("Learn everything about")
    page.get_by_role("link", name="SQL", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("SQL")
    expect(page.locator("#skill-courses-heading")).to_have_text("Courses teaching SQL (6)")
    nav.get_by_role("link", name="Skills").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Skills")
    expect(page.locator(".skill-group h2")).to_have_text(["Data", "Design"])
    page.get_by_role("searchbox", name="Search skills", exact=True).fill("photo")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("Skills matching “photo”")
    page.locator(".skill-list").get_by_role("link", name="Photoshop").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Photoshop")


def test_a_member_onboards_and_dismisses_without_javascript(page: Page, world, login):
    member = MemberFactory(user__username="nojs", title=None, industry=None)
    login(member.user)
    page.goto("/onboarding/")
    assert not _scripts_ran(page)
    page.get_by_label("Job title").fill("Graphic Designer")
    page.get_by_role("button", name="Show suggested skills").click()
    suggested = page.locator("#suggested-skills")
    expect(suggested.get_by_role("heading")).to_have_text("Skills for Graphic Designer")
    page.get_by_label("Search all skills").fill("sql")
    page.get_by_role("button", name="Search", exact=True).click()
    page.locator("#skill-results").get_by_label("SQL", exact=True).check()
    page.get_by_role("button", name="Save my answers").click()

    expect(page).to_have_url(re.compile(r"/$"))
    followed = FollowedSkill.objects.filter(member=member).values_list("skill__name", flat=True)
    assert list(followed) == ["SQL"]
    carousel = page.locator("section.carousel").filter(
        has=page.get_by_role("heading", name="Because you follow SQL")
    )
    course = world["courses"]["SQL for Beginners"]
    carousel.get_by_role("button", name="Not interested in SQL for Beginners").click()
    # Without htmx the form posts and lands on the dismissed list.
    expect(page).to_have_url(re.compile(r"/recommendations/dismissed/$"))
    expect(page.get_by_role("status")).to_contain_text(
        "“SQL for Beginners” won't be recommended to you again."
    )
    assert Dismissal.objects.filter(member=member, course=course).exists()
    page.get_by_role("button", name="Undo").click()
    expect(page.locator(".dismissed-list")).to_have_text("Nothing dismissed.")
    assert not Dismissal.objects.exists()


def test_a_member_follows_from_a_skill_page_and_edits_follows_without_javascript(
    page: Page, world, login
):
    member = MemberFactory(user__username="nojs-follow")
    login(member.user)
    page.goto("/skills/photoshop/")
    assert not _scripts_ran(page)
    page.get_by_role("button", name="Follow", exact=True).click()
    # The form posts and the skill page comes back, now offering Unfollow.
    expect(page).to_have_url(re.compile(r"/skills/photoshop/$"))
    expect(page.get_by_role("status")).to_contain_text("You follow Photoshop")
    expect(page.get_by_role("button", name="Unfollow", exact=True)).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Profile").click()
    page.get_by_label("Find a skill to follow").fill("sql")
    page.locator("#follow-search").get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/profile/\?q=sql"))
    page.locator("#follow-results").get_by_label("SQL", exact=True).check()
    page.get_by_role("button", name="Follow the ticked skills").click()
    expect(page.get_by_role("status")).to_contain_text("You now follow SQL.")
    followed = page.locator("#followed-skills").get_by_role("link")
    expect(followed).to_have_text(["Photoshop", "SQL"])

    page.get_by_role("button", name="Stop following Photoshop").click()
    expect(page.get_by_role("status")).to_contain_text("You no longer follow Photoshop.")
    expect(followed).to_have_text(["SQL"])
    names = FollowedSkill.objects.filter(member=member).values_list("skill__name", flat=True)
    assert list(names) == ["SQL"]


def test_a_member_becomes_discoverable_and_hides_a_person_without_javascript(
    page: Page, world, login
):
    priya = world["analysts"][0]
    FollowedSkill.objects.create(member=priya, skill=world["skills"]["SQL"])
    member_people_settings_set(
        member=priya,
        discoverable=True,
        display_name="Priya R.",
        shows_title=False,
        shows_skills=True,
        shows_courses=False,
    )
    member = MemberFactory(user__username="nojs-people")
    FollowedSkill.objects.create(member=member, skill=world["skills"]["SQL"])
    login(member.user)
    page.goto("/profile/")
    assert not _scripts_ran(page)
    section = page.locator("#people-settings")
    section.get_by_label("Let other members find me to learn with").check()
    section.get_by_role("button", name="Save").click()
    # Refused without a name: the profile comes back with the field's error, nothing saved.
    expect(page).to_have_url(re.compile(r"/profile/people/$"))
    expect(section).to_contain_text("Choose the name other members will see to be discoverable.")
    member.refresh_from_db()
    assert not member.discoverable

    section.get_by_label("Let other members find me to learn with").check()
    section.get_by_label("Name other members see").fill("Nojs N.")
    section.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/profile/#people-settings$"))
    expect(page.get_by_role("status")).to_contain_text("Your people settings are saved.")
    expect(section.get_by_label("Let other members find me to learn with")).to_be_checked()
    member.refresh_from_db()
    assert (member.discoverable, member.display_name) == (True, "Nojs N.")

    section.get_by_role("link", name="See people to learn with").click()
    card = page.locator(f"#person-card-{priya.pk}")
    expect(card.locator(".card-why")).to_have_text(["You both follow SQL"])
    card.get_by_role("button", name="Hide Priya R.").click()
    # Without htmx the form posts and the People page comes back without them.
    expect(page).to_have_url(re.compile(r"/people/$"))
    expect(page.get_by_role("status")).to_contain_text("You won't see this person again.")
    expect(page.locator(".person-card")).to_have_count(0)
    assert PersonHidden.objects.filter(member=member, person=priya).exists()
