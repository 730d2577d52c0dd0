"""Issue 31's walk in a real browser: a member switches discoverability on from the profile's
"People to learn with" section (htmx swaps the section), finds on the People page members who
learn what they learn, each with a reason and shown by the name they chose (never a username
or an email), hides one (htmx swaps the card) and a reload keeps them hidden. Without
JavaScript the settings form and Hide post and the page comes back.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from members.models import FollowedSkill, Member
from members.services import member_people_settings_set
from recommendations.models import PersonHidden, PersonSuggestion
from tests.browser.test_continue_learning_journey import go_home
from tests.browser.test_learner_journey import _assert_same_document, _set_marker
from tests.factories import MemberFactory

pytestmark = pytest.mark.browser


def _follow(member: Member, world, *names: str) -> None:
    for name in names:
        FollowedSkill.objects.create(member=member, skill=world["skills"][name])


@pytest.fixture
def learners(world) -> list[Member]:
    """Two discoverable analysts of the world who follow SQL and Python, shown by the names
    they chose, through the service the profile and the API call."""
    people = world["analysts"][:2]
    for member, name in zip(people, ["Priya R.", "Tomasz K."], strict=True):
        _follow(member, world, "SQL", "Python")
        member_people_settings_set(
            member=member,
            discoverable=True,
            display_name=name,
            shows_title=True,
            shows_skills=True,
            shows_courses=True,
        )
    return people


@pytest.fixture
def sam(world) -> Member:
    """The signed-in analyst: follows SQL and Python too, not discoverable yet."""
    member = MemberFactory(user__username="sam", title=world["analyst"], industry=world["finance"])
    _follow(member, world, "SQL", "Python")
    return member


def people_settings_section(page: Page):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Profile").click()
    section = page.locator("#people-settings")
    expect(section.get_by_role("heading", level=2)).to_have_text("People to learn with")
    return section


def become_discoverable(page: Page, *, display_name: str) -> None:
    """From the profile's "People to learn with" section; htmx swaps the section in place."""
    section = people_settings_section(page)
    page.wait_for_load_state()  # htmx has processed the form
    section.get_by_label("Let other members find me to learn with").check()
    section.get_by_label("Name other members see").fill(display_name)
    section.get_by_label("Show the skills I follow").check()
    _set_marker(page)
    section.get_by_role("button", name="Save").click()
    expect(section.get_by_role("status")).to_have_text("Saved.")
    _assert_same_document(page)
    expect(section.get_by_label("Let other members find me to learn with")).to_be_checked()
    expect(section.get_by_label("Name other members see")).to_have_value(display_name)


def open_people(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    expect(page).to_have_url(re.compile(r"/people/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("People to learn with")


def test_become_discoverable_see_people_with_reasons_and_hide_one(
    page: Page, world, learners, sam, login
):
    login(sam.user)
    page.goto("/")
    open_people(page)
    expect(page.get_by_role("link", name="Become discoverable")).to_be_visible()
    expect(page.locator(".person-card")).to_have_count(0)

    # A name that is the username is refused on the field, and nothing is saved.
    section = people_settings_section(page)
    page.wait_for_load_state()
    section.get_by_label("Let other members find me to learn with").check()
    section.get_by_label("Name other members see").fill("SAM")
    section.get_by_role("button", name="Save").click()
    expect(section).to_contain_text("Choose a name other than your username")
    expect(section.get_by_label("Name other members see")).to_have_attribute("aria-invalid", "true")
    sam.refresh_from_db()
    assert not sam.discoverable

    become_discoverable(page, display_name="Sam L.")
    sam.refresh_from_db()
    assert (sam.discoverable, sam.display_name) == (True, "Sam L.")
    # Switching on computed Sam's people at once (the task runs inline in the tests).
    assert PersonSuggestion.objects.filter(member=sam).exists()

    # The homepage's block shows them (sharing two skills and the occupation is a good match)
    # and leads to the People page.
    go_home(page)
    block = page.locator("section.people-block")
    expect(block.get_by_role("heading", level=2)).to_have_text("People to learn with")
    assert sorted(block.locator(".person-card h3").all_inner_texts()) == ["Priya R.", "Tomasz K."]
    block.get_by_role("link", name="See everyone we suggest").click()
    expect(page).to_have_url(re.compile(r"/people/$"))
    cards = page.locator("#people .person-card")
    expect(cards.first).to_be_visible()
    expect(cards).to_have_count(2)
    assert sorted(cards.get_by_role("heading").all_inner_texts()) == ["Priya R.", "Tomasz K."]
    for card in cards.all():
        expect(card.locator(".card-why").first).to_have_text(
            re.compile(r"^You both follow (SQL and Python|Python and SQL)$")
        )
    shown = page.locator("main").inner_text()
    for member in learners:
        assert member.user.username not in shown
        assert member.user.email not in shown
    assert "@" not in shown

    priya = learners[0]
    card = page.locator(f"#person-card-{priya.pk}")
    _set_marker(page)
    card.get_by_role("button", name="Hide Priya R.").click()
    # Swapped in place by htmx (no page load): the card says so, the other card stays.
    hidden = page.get_by_role("status").filter(has_text="You won't see this person again.")
    expect(hidden).to_be_visible()
    expect(page.locator(f"#person-card-{priya.pk}")).to_have_count(0)
    expect(page.locator(f"#person-card-{learners[1].pk}")).to_be_visible()
    _assert_same_document(page)
    assert PersonHidden.objects.filter(member=sam, person=priya).exists()

    page.reload()
    expect(cards.get_by_role("heading")).to_have_text(["Tomasz K."])
    expect(page.get_by_text("Priya R.")).to_have_count(0)
