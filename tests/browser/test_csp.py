"""The pages keep to the Content-Security-Policy (config/settings.py): each sends the header, and a
real Chromium reports no violation while it loads and uses them: the homepage, a course page,
onboarding (with its htmx updates), the admin (index, a changelist with its chart, a change
form) and the API docs page (Swagger UI)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import Page, expect

from recommendations.models import TrainingRun
from tests.factories import MemberFactory
from tests.helpers import CSP_POLICY, csp_directives

pytestmark = pytest.mark.browser


# Every violation the document reports, whether or not the console shows it.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}`
  );
});
"""


@pytest.fixture
def watched(context):
    """The page, and a function that returns the CSP violations seen so far (console and
    events)."""
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text)
            if "Content Security Policy" in message.text
            or "Content-Security-Policy" in message.text
            else None
        ),
    )
    headers: list[str | None] = []
    page.on(
        "response",
        lambda response: (
            headers.append(response.headers.get("content-security-policy"))
            if response.request.resource_type == "document"
            else None
        ),
    )

    def violations() -> list[str]:
        return console + page.evaluate("() => window.__cspViolations")

    return page, violations, headers


def _visit(page: Page, path: str, headers: list) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    page.wait_for_load_state("networkidle")
    assert csp_directives(headers[-1]) == CSP_POLICY, path


def test_site_pages_keep_to_the_policy(watched, world, login):
    page, violations, headers = watched
    course = world["courses"]["SQL Essential Training"]
    _visit(page, "/", headers)
    _visit(page, f"/courses/{course.slug}/", headers)
    member = MemberFactory(user__username="ada")
    login(member.user)
    _visit(page, "/onboarding/", headers)
    # htmx still works: the title's suggestions, checking one, the selected list following it.
    page.get_by_label("Job title").fill("Data Analyst")
    suggested = page.locator("#suggested-skills")
    expect(suggested.get_by_role("heading")).to_have_text("Skills for Data Analyst")
    suggested.get_by_label("SQL", exact=True).check()
    expect(page.locator("#selected-skills").get_by_label("SQL", exact=True)).to_be_checked()
    _visit(page, "/", headers)
    assert violations() == []


def test_admin_and_api_docs_keep_to_the_policy(watched, login, db):
    page, violations, headers = watched
    now = timezone.now()
    for day in range(3):
        TrainingRun.objects.create(
            status="succeeded",
            kind="learned",
            started_at=now - timezone.timedelta(days=3 - day),
            metrics={
                "als": {"hit_rate": 0.2 + day / 10, "ndcg": 0.1 + day / 20},
                "popularity": {"hit_rate": 0.15},
            },
        )
    admin = get_user_model().objects.create_superuser(
        username="root", email="root@example.com", password="root-password-for-tests"
    )
    login(admin)
    _visit(page, "/admin/", headers)
    _visit(page, "/admin/recommendations/trainingrun/", headers)
    expect(page.locator("svg.chart polyline")).to_have_count(3)
    # The stylesheet that replaced the inline <style> applies: lines in their series' colour,
    # not filled.
    line = page.locator("svg.chart polyline").first
    assert line.evaluate("element => getComputedStyle(element).stroke") == "rgb(65, 118, 144)"
    assert line.evaluate("element => getComputedStyle(element).fill") == "none"
    _visit(page, "/admin/catalog/course/add/", headers)
    _visit(page, "/api/docs/", headers)
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    expect(
        page.locator(".swagger-ui .opblock-summary-path").filter(
            has_text=re.compile(r"^/api/v1/courses/$")
        )
    ).to_have_count(1)
    assert violations() == []


def test_following_from_a_skill_page_and_the_profile_keep_to_the_policy(watched, world, login):
    """The Follow button and the profile's skill picker, with htmx: each swap happens in place
    and nothing breaks the policy."""
    page, violations, headers = watched
    member = MemberFactory(user__username="ada")
    login(member.user)
    _visit(page, "/skills/sql/", headers)
    follow = page.locator("#skill-follow")
    follow.get_by_role("button", name="Follow", exact=True).click()
    expect(follow.get_by_role("button", name="Unfollow", exact=True)).to_be_visible()

    _visit(page, "/profile/", headers)
    section = page.locator("#followed-skills-section")
    expect(section.locator("#followed-skills").get_by_role("link")).to_have_text(["SQL"])
    # The questionnaire's skill search fills the picker as the member types.
    section.get_by_label("Find a skill to follow").fill("photo")
    # The catalog's search results name each skill's category: "Photoshop (Design)".
    section.locator("#follow-results").get_by_label(re.compile(r"^Photoshop \(")).check()
    section.get_by_role("button", name="Follow the ticked skills").click()
    expect(section.locator("#followed-skills").get_by_role("link")).to_have_text(
        ["Photoshop", "SQL"]
    )
    section.get_by_role("button", name="Stop following SQL").click()
    expect(section.locator("#followed-skills").get_by_role("link")).to_have_text(["Photoshop"])
    # Swapped in place, never a page load: still the first profile URL, no query string.
    expect(page).to_have_url(re.compile(r"/profile/$"))
    followed = member.followed_skills.values_list("skill__name", flat=True)
    assert list(followed) == ["Photoshop"]
    assert violations() == []
