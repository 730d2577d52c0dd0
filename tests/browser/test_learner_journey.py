"""A learner's journey in a real browser: sign up, onboarding, homepage carousels with their
reasons, dismiss and undo through htmx, open a course, enrol, watch, finish, and see it leave the
recommendations."""

import re

import pytest
from playwright.sync_api import Page, expect

from members.models import Enrolment, FollowedSkill, Member
from recommendations.models import Dismissal
from tests.factories import MemberFactory

pytestmark = pytest.mark.browser

MARKER = "set before the click; a page load would wipe it"


def _set_marker(page: Page) -> None:
    page.evaluate("marker => { window.__sameDocument = marker; }", MARKER)


def _assert_same_document(page: Page) -> None:
    assert page.evaluate("() => window.__sameDocument") == MARKER


def _carousel(page: Page, label: str):
    heading = page.get_by_role("heading", name=label, exact=True)
    return page.locator("section.carousel").filter(has=heading)


def _analyst_following(world, *skills: str) -> Member:
    member = MemberFactory(user__username="ada", title=world["analyst"], industry=world["finance"])
    for name in skills:
        FollowedSkill.objects.create(member=member, skill=world["skills"][name])
    return member


def test_sign_up_and_onboarding_fill_the_homepage(page: Page, world):
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Password:", exact=True).fill("a-long-enough-passphrase")
    page.get_by_label("Password confirmation").fill("a-long-enough-passphrase")
    page.get_by_role("button", name="Sign up").click()

    expect(page).to_have_url(re.compile(r"/onboarding/$"))
    # Typing before htmx has processed the page (at DOMContentLoaded, after the deferred
    # scripts) would send no request: wait for it, as a learner's typing speed does.
    page.wait_for_load_state()
    expect(page.get_by_role("status")).to_contain_text("Welcome!")
    # The job title drives the suggestions (htmx, as the title is typed).
    page.get_by_label("Job title").fill("Data Analyst")
    suggested = page.locator("#suggested-skills")
    expect(suggested.get_by_role("heading")).to_have_text("Skills for Data Analyst")
    suggested.get_by_label("SQL", exact=True).check()
    expect(page.locator("#selected-skills").get_by_label("SQL", exact=True)).to_be_checked()
    # Search all skills (htmx search-as-you-type) and follow one of the results.
    page.get_by_label("Search all skills").fill("photo")
    result = page.locator("#skill-results").get_by_label("Photoshop (Design)")
    result.check()
    selected = page.locator("#selected-skills")
    expect(selected.get_by_label("Photoshop", exact=True)).to_be_checked()
    page.get_by_label("Industry").select_option(label="Finance")
    page.get_by_role("button", name="Save my answers").click()

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("status")).to_contain_text("Your recommendations now follow")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome back, grace")
    for label, course in [
        ("Because you follow Photoshop", "Photoshop for Designers"),
        ("Because you follow SQL", "SQL for Beginners"),
    ]:
        carousel = _carousel(page, label)
        expect(carousel).to_have_count(1)
        expect(carousel.get_by_role("link", name=course, exact=True)).to_be_visible()
    member = Member.objects.get(user__username="grace")
    assert member.title == world["analyst"]
    assert member.industry == world["finance"]
    assert member.onboarded_at is not None
    assert set(member.followed_skills.values_list("skill__name", flat=True)) == {
        "Photoshop",
        "SQL",
    }


def test_dismiss_and_undo_swap_the_card_in_place(page: Page, world, login):
    member = _analyst_following(world, "Photoshop")
    course = world["courses"]["Photoshop for Designers"]
    login(member.user)
    page.goto("/")
    carousel = _carousel(page, "Because you follow Photoshop")
    card = carousel.locator(f"#rec-card-{course.pk}")
    expect(card.get_by_role("link", name="Photoshop for Designers")).to_be_visible()
    _set_marker(page)

    card.get_by_role("button", name="Not interested in Photoshop for Designers").click()
    expect(card).to_contain_text("You won't see “Photoshop for Designers” again.")
    _assert_same_document(page)
    assert Dismissal.objects.filter(member=member, course=course).exists()

    card.get_by_role("button", name="Undo").click()
    expect(
        card.get_by_role("button", name="Not interested in Photoshop for Designers")
    ).to_be_visible()
    expect(card.get_by_role("link", name="Photoshop for Designers")).to_be_visible()
    _assert_same_document(page)
    assert not Dismissal.objects.filter(member=member).exists()

    # Dismissed for good: the next homepage no longer shows it.
    card.get_by_role("button", name="Not interested in Photoshop for Designers").click()
    expect(card).to_contain_text("again.")
    _assert_same_document(page)
    page.reload()
    expect(page.locator(f"#rec-card-{course.pk}")).to_have_count(0)
    expect(_carousel(page, "Because you follow Photoshop")).to_have_count(1)


def test_open_enrol_watch_finish_and_the_course_leaves_the_recommendations(
    page: Page, world, login
):
    member = _analyst_following(world, "Photoshop")
    course = world["courses"]["Photoshop Retouching"]
    login(member.user)
    page.goto("/")
    carousel = _carousel(page, "Because you follow Photoshop")
    carousel.get_by_role("link", name="Photoshop Retouching", exact=True).click()

    expect(page).to_have_url(re.compile(rf"/courses/{course.slug}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Photoshop Retouching")
    activity = page.locator("#course-activity")
    expect(activity).to_contain_text("Not enrolled yet.")
    _set_marker(page)
    activity.get_by_role("button", name="Enrol").click()
    expect(activity).to_contain_text("Progress: 0%")
    activity.get_by_role("button", name="Watch 10 min").click()
    expect(activity).to_contain_text("Progress: 17%")
    expect(activity.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "17")
    activity.get_by_role("button", name="Mark finished").click()
    expect(activity).to_contain_text("Finished on")
    expect(activity.get_by_role("button", name="Watch 10 min")).to_have_count(0)
    _assert_same_document(page)
    enrolment = Enrolment.objects.get(member=member, course=course)
    assert enrolment.completed_at is not None

    page.get_by_role("link", name="SkillPath").click()
    expect(_carousel(page, "Because you follow Photoshop")).to_have_count(1)
    expect(page.locator(f"#rec-card-{course.pk}")).to_have_count(0)
    expect(page.get_by_role("link", name="Photoshop Retouching")).to_have_count(0)

    page.get_by_role("link", name="My learning").click()
    finished = page.locator("#finished")
    expect(finished.get_by_role("link", name="Photoshop Retouching")).to_be_visible()
    expect(page.locator("#in-progress")).to_contain_text("Nothing in progress.")
