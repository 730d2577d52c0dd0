"""Issue 33's walk in a real browser: a Data Analyst sets the goal "Data Scientist" on the
profile, finds on "My goal" the skills the role asks for that they lack and a path whose steps
each teach one, finds the homepage's "Toward Data Scientist" carousel saying what each card
covers, finishes a course of the path and sees its skill ticked off on the next visit; and a
curated path made as an editor would is followed from /paths/ and shows the member's progress.

The homepage steps are the continue-learning walk's own functions.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from catalog.models import LearningPath, LearningPathStep
from members.models import Enrolment, FollowedPath, Member, OccupationSkill
from tests.browser.test_continue_learning_journey import carousel, go_home
from tests.factories import JobTitleFactory, MemberFactory, MemberSkillFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def scientist(world):
    """The Data Scientist occupation: SQL and Python in demand, Tableau ordinary (the world's
    courses teach all three)."""
    title = JobTitleFactory(name="Data Scientist")
    for name, weight, hot in [("SQL", 0.6, True), ("Python", 0.9, True), ("Tableau", 0.5, False)]:
        OccupationSkill.objects.create(
            job_title=title, skill=world["skills"][name], weight=weight, hot=hot
        )
    return title


@pytest.fixture
def analyst(world) -> Member:
    """A Data Analyst in Finance with SQL on their profile and no goal yet."""
    member = MemberFactory(user__username="noor", title=world["analyst"], industry=world["finance"])
    MemberSkillFactory(member=member, skill=world["skills"]["SQL"])
    return member


def set_goal_on_profile(page: Page, *, goal: str) -> None:
    """From the profile's "Your goal" section, aim for `goal`: "My goal" comes back."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Profile").click()
    section = page.locator("#goal")
    expect(section.get_by_role("heading", level=2)).to_have_text("Your goal")
    section.get_by_label("Role you are aiming for").fill(goal)
    section.get_by_role("button", name="Set my goal").click()
    expect(page).to_have_url(re.compile(r"/goal/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My goal")
    expect(page.get_by_role("status")).to_contain_text(f"Your goal is now {goal}.")


def open_my_goal(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My goal").click()
    expect(page).to_have_url(re.compile(r"/goal/$"))


def path_steps(page: Page) -> dict[str, str]:
    """My goal's path as {course title: the skills it covers, "Python, Tableau"}."""
    steps = {}
    for item in page.locator("#goal-path li").all():
        title = item.get_by_role("link").inner_text()
        meta = item.locator(".card-meta").inner_text()
        steps[title] = re.search(r"covers ([^·]+)", meta).group(1).strip()
    return steps


def enrol_and_finish(page: Page, *, course: str) -> None:
    """On `course`'s page: enrol, then mark it finished (htmx swaps the activity box)."""
    expect(page.get_by_role("heading", level=1)).to_have_text(course)
    page.wait_for_load_state()  # htmx has processed the buttons
    activity = page.locator("#course-activity")
    activity.get_by_role("button", name="Enrol").click()
    expect(activity).to_contain_text("Progress: 0%")
    activity.get_by_role("button", name="Mark finished").click()
    expect(activity).to_contain_text("Finished on")


def test_set_a_goal_see_the_gap_and_the_toward_carousel_then_finish_a_step(
    page: Page, world, scientist, analyst, login
):
    login(analyst.user)
    page.goto("/")
    expect(page.locator("section.carousel[data-reason='goal']")).to_have_count(0)

    set_goal_on_profile(page, goal="Data Scientist")
    analyst.refresh_from_db()
    assert (analyst.goal, analyst.goal_text) == (scientist, "Data Scientist")
    # The role's skills: Python and Tableau to learn (in demand first), SQL on the profile.
    expect(page.locator("#to-learn li")).to_have_text(["Python in demand", "Tableau"])
    expect(page.locator("#covered li")).to_have_text(["SQL (on your profile)"])
    expect(page.locator("#goal-share")).to_have_text("33%")
    steps = path_steps(page)
    assert steps, "My goal shows no path"
    # Every step names a skill of the gap, and the path covers the whole gap.
    covered_by_path = set()
    for title, covers in steps.items():
        names = set(covers.split(", "))
        assert names and names <= {"Python", "Tableau"}, (title, covers)
        covered_by_path |= names
    assert covered_by_path == {"Python", "Tableau"}

    # The homepage carries the path as "Toward Data Scientist", each card saying what it covers.
    go_home(page)
    toward = carousel(page, "Toward Data Scientist")
    expect(toward).to_have_count(1)
    cards = toward.locator("article")
    expect(cards.first).to_be_visible()
    for card in cards.all():
        title = card.locator(".card-title a").inner_text()
        assert title in steps, f"{title} is on the carousel but not on the path"
        expect(card.locator(".card-why")).to_have_text(
            f"Toward Data Scientist: covers {steps[title]}"
        )

    # Finish the path's Python course: on the next visit Python is covered, Tableau is left.
    python_course = next(title for title, covers in steps.items() if "Python" in covers)
    open_my_goal(page)
    page.locator("#goal-path").get_by_role("link", name=python_course, exact=True).click()
    enrol_and_finish(page, course=python_course)
    assert Enrolment.objects.get(member=analyst, course__title=python_course).completed_at

    open_my_goal(page)
    # No course of the world teaches both, so Tableau is left to learn.
    expect(page.locator("#to-learn li")).to_have_text(["Tableau"])
    expect(page.locator("#covered li").filter(has_text="Python")).to_have_text(
        "Python (from a finished course)"
    )
    after = path_steps(page)
    assert python_course not in after
    assert all(covers == "Tableau" for covers in after.values()), after


def test_a_curated_path_is_followed_and_shows_progress(page: Page, world, analyst, login):
    courses = world["courses"]
    # As an editor makes it in the admin: a published path, its courses in order.
    path = LearningPath.objects.create(
        title="SQL from zero", slug="sql-from-zero", description="The basics, then the rest."
    )
    for position, title in enumerate(["SQL for Beginners", "Advanced SQL for Analysts"], 1):
        LearningPathStep.objects.create(path=path, course=courses[title], position=position)
    login(analyst.user)
    page.goto("/")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Paths").click()
    expect(page).to_have_url(re.compile(r"/paths/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Learning paths")
    page.get_by_role("link", name="SQL from zero", exact=True).click()
    expect(page).to_have_url(re.compile(r"/paths/sql-from-zero/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("SQL from zero")
    progress = page.get_by_role("progressbar", name="Progress on SQL from zero")
    expect(progress).to_have_attribute("aria-valuenow", "0")
    expect(page.locator(".card-meta").first).to_have_text("0 of 2 courses finished")
    steps = page.locator("#path-steps li")
    expect(steps.get_by_role("link")).to_have_text(
        ["SQL for Beginners", "Advanced SQL for Analysts"]
    )
    expect(steps.locator(".card-meta")).to_have_text(
        [re.compile(r"· Not started$"), re.compile(r"· Not started$")]
    )

    page.get_by_role("button", name="Follow this path").click()
    expect(page.get_by_role("status")).to_contain_text("You now follow the path SQL from zero.")
    expect(page.get_by_role("button", name="Unfollow this path")).to_be_visible()
    assert FollowedPath.objects.filter(member=analyst, path=path).exists()

    steps.get_by_role("link", name="SQL for Beginners", exact=True).click()
    enrol_and_finish(page, course="SQL for Beginners")
    page.go_back()
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("SQL from zero")
    expect(progress).to_have_attribute("aria-valuenow", "1")
    expect(page.locator(".card-meta").first).to_have_text("1 of 2 courses finished")
    expect(steps.locator(".card-meta")).to_have_text(
        [re.compile(r"· Finished$"), re.compile(r"· Not started$")]
    )

    # "My goal" keeps the followed path, with its progress and the next course.
    open_my_goal(page)
    followed = page.locator("#followed-paths li")
    expect(followed.get_by_role("link", name="SQL from zero", exact=True)).to_be_visible()
    expect(followed).to_contain_text("1 of 2 courses finished")
    expect(followed.locator(".card-meta").last).to_have_text("Next: Advanced SQL for Analysts")
