"""Basic accessibility: labelled form controls, alt text, visible keyboard focus, AA contrast.

The markup checks render every page (and htmx partial) with Django's test client and scan the
HTML; the keyboard check tabs through the homepage in Chromium; the contrast check computes
WCAG 2.x contrast ratios from the colours in static/css/site.css.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page, expect

from members.models import FollowedSkill
from recommendations.models import Dismissal
from tests.factories import BookmarkFactory, EnrolmentFactory, MemberFactory

SKIPPED_INPUT_TYPES = {"hidden"}
BUTTON_INPUT_TYPES = {"submit", "button", "reset", "image"}


class _Audit(HTMLParser):
    """Collects the controls, labels, images, buttons and links of one HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.referenced: set[str] = set()  # ids named by for=, aria-labelledby, aria-describedby
        self.label_for: set[str] = set()
        self.controls: list[dict] = []
        self.images: list[dict] = []
        self.named: list[dict] = []  # buttons and links: need text or aria-label
        self._label_depth = 0
        self._open_named: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if "id" in attributes:
            self.ids.append(attributes["id"])
        for name in ("aria-labelledby", "aria-describedby", "aria-controls"):
            self.referenced.update(attributes.get(name, "").split())
        if tag == "label" and attributes.get("for"):
            self.referenced.add(attributes["for"])
        if tag == "label":
            self._label_depth += 1
            if attributes.get("for"):
                self.label_for.add(attributes["for"])
        elif tag in {"input", "select", "textarea"}:
            kind = attributes.get("type", "text").lower() if tag == "input" else tag
            if kind in SKIPPED_INPUT_TYPES:
                return
            if kind in BUTTON_INPUT_TYPES:
                self.named.append(
                    {"tag": tag, "attrs": attributes, "text": attributes.get("value", "")}
                )
                return
            self.controls.append(
                {"tag": tag, "attrs": attributes, "wrapped": self._label_depth > 0}
            )
        elif tag == "img":
            self.images.append(attributes)
        elif tag in {"button", "a"} and (tag == "button" or "href" in attributes):
            entry = {"tag": tag, "attrs": attributes, "text": ""}
            self.named.append(entry)
            self._open_named.append(entry)

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label_depth = max(0, self._label_depth - 1)
        elif tag in {"button", "a"} and self._open_named:
            self._open_named.pop()

    def handle_data(self, data: str) -> None:
        for entry in self._open_named:
            entry["text"] += data

    def problems(self) -> list[str]:
        found = []
        # An id that a label or an aria attribute points at must name one element.
        duplicates = sorted({i for i in self.referenced if self.ids.count(i) > 1})
        if duplicates:
            found.append(f"ambiguous label or aria target ids: {duplicates}")
        ids = set(self.ids)
        dangling = sorted(self.referenced - ids)
        if dangling:
            found.append(f"label or aria references to missing ids: {dangling}")
        for control in self.controls:
            attrs = control["attrs"]
            labelled_by = attrs.get("aria-labelledby", "").split()
            if (
                (attrs.get("id") and attrs["id"] in self.label_for)
                or attrs.get("aria-label", "").strip()
                or (labelled_by and all(ref in ids for ref in labelled_by))
                or control["wrapped"]
            ):
                continue
            found.append(f"unlabelled <{control['tag']}> {attrs}")
        for image in self.images:
            if "alt" not in image:
                found.append(f"<img> without alt: {image}")
        for entry in self.named:
            if not (entry["text"].strip() or entry["attrs"].get("aria-label", "").strip()):
                found.append(f"<{entry['tag']}> without an accessible name: {entry['attrs']}")
        return found


def audit(html: str) -> list[str]:
    parser = _Audit()
    parser.feed(html)
    parser.close()
    return parser.problems()


def test_the_audit_flags_what_it_should():
    bad = """
      <label for="ok">OK</label><input id="ok" name="ok">
      <input name="nolabel" id="orphan">
      <select name="s"></select>
      <textarea aria-labelledby="missing"></textarea>
      <label>Wrapped <input name="wrapped"></label>
      <input type="hidden" name="h">
      <input type="search" aria-label="Find">
      <img src="x.png"><img src="y.png" alt="">
      <button></button><button aria-label="Close"></button><a href="/x"> </a>
      <label for="dup">Twice</label><input id="dup" name="a"><input id="dup" name="b">
      <p id="free"></p><p id="free"></p>
    """
    assert audit(bad) == [
        "ambiguous label or aria target ids: ['dup']",
        "label or aria references to missing ids: ['missing']",
        "unlabelled <input> {'name': 'nolabel', 'id': 'orphan'}",
        "unlabelled <select> {'name': 's'}",
        "unlabelled <textarea> {'aria-labelledby': 'missing'}",
        "<img> without alt: {'src': 'x.png'}",
        "<button> without an accessible name: {}",
        "<a> without an accessible name: {'href': '/x'}",
    ]


@pytest.fixture
def member_client(world):
    member = MemberFactory(user__username="reader", title=world["analyst"])
    FollowedSkill.objects.create(member=member, skill=world["skills"]["SQL"])
    EnrolmentFactory(member=member, course=world["courses"]["Learning Python"])
    BookmarkFactory(member=member, course=world["courses"]["Tableau Dashboards"])
    Dismissal.objects.create(member=member, course=world["courses"]["SQL Window Functions"])
    client = Client()
    client.force_login(member.user)
    return client


def _pages(world) -> list[tuple[str, str, str, dict]]:
    """(who, method, url, data) for every page and partial a person sees."""
    course = world["courses"]["SQL Essential Training"].slug
    skill = world["skills"]["SQL"]
    return [
        ("visitor", "get", "/", {}),
        ("visitor", "get", "/courses/", {}),
        ("visitor", "get", "/courses/?q=sql&level=beginner", {}),
        ("visitor", "get", f"/courses/{course}/", {}),
        ("visitor", "get", "/skills/", {}),
        ("visitor", "get", "/skills/?q=sql", {}),
        ("visitor", "get", f"/skills/{skill.slug}/", {}),
        ("visitor", "get", "/skills/search/?q=sq", {}),
        ("visitor", "get", "/accounts/login/", {}),
        ("visitor", "post", "/accounts/login/", {"username": "x", "password": "y"}),
        ("visitor", "get", "/accounts/signup/", {}),
        ("visitor", "post", "/accounts/signup/", {"username": "", "password1": "a"}),
        ("visitor", "get", "/accounts/password/reset/", {}),
        ("visitor", "post", "/accounts/password/reset/", {"email": "not an address"}),
        ("visitor", "get", "/accounts/password/reset/sent/", {}),
        ("visitor", "get", "/accounts/password/reset/MQ/not-a-token/", {}),
        ("visitor", "get", "/accounts/password/reset/done/", {}),
        ("member", "get", "/", {}),
        ("member", "get", f"/courses/{course}/", {}),
        ("member", "get", "/onboarding/", {}),
        (
            "member",
            "post",
            "/onboarding/",
            {"title": "Data Analyst", "q": "py", "action": "refresh"},
        ),
        ("member", "post", "/onboarding/", {"title": "Nobody", "action": "save"}),
        ("member", "get", "/onboarding/suggestions/?title=Data Analyst", {}),
        ("member", "get", f"/onboarding/selected/?skills={skill.pk}", {}),
        ("member", "get", "/skills/search/?q=sq&mode=follow", {}),
        ("member", "get", "/profile/", {}),
        ("member", "post", "/profile/skills/add/", {"skill": "Nonexistent"}),
        ("member", "post", "/profile/tokens/create/", {"name": "reports"}),
        ("member", "post", "/profile/tokens/create/", {"name": ""}),
        ("member", "get", "/accounts/password/change/", {}),
        ("member", "post", "/accounts/password/change/", {"old_password": "wrong"}),
        ("member", "get", "/profile/email/", {}),
        ("member", "post", "/profile/email/", {"email": "x", "password": "wrong"}),
        ("member", "get", "/my-learning/", {}),
        ("member", "get", "/recommendations/dismissed/", {}),
        ("member", "get", "/goal/", {}),
        ("member", "post", "/profile/goal/", {"goal": "Underwater Basket Weaver"}),
        ("member", "get", "/paths/", {}),
        ("member", "get", "/people/", {}),
        ("member", "post", "/profile/people/", {"discoverable": "on", "display_name": ""}),
    ]


def test_every_page_labels_its_controls_and_names_its_buttons(world, member_client):
    clients = {"visitor": Client(), "member": member_client}
    controls_seen = 0
    for who, method, url, data in _pages(world):
        response = getattr(clients[who], method)(url, data)
        assert response.status_code == 200, (who, method, url)
        html = response.content.decode()
        assert audit(html) == [], (who, method, url)
        controls_seen += len(re.findall(r"<(?:input|select|textarea)\b", html))
    assert controls_seen > 100


def test_htmx_fragments_label_their_controls(world, member_client):
    course = world["courses"]["SQL Essential Training"]
    dismissed = member_client.post(
        reverse("recommendations:dismiss", args=[course.pk]), headers={"HX-Request": "true"}
    )
    enrolled = member_client.post(
        reverse("members:enrol", args=[course.slug]), headers={"HX-Request": "true"}
    )
    people_settings = member_client.post(
        reverse("members:people_settings"),
        {"discoverable": "on", "display_name": ""},
        headers={"HX-Request": "true"},
    )
    for response in (dismissed, enrolled, people_settings):
        assert response.status_code == 200
        assert audit(response.content.decode()) == []


def test_the_lockout_page_is_accessible(db, settings):
    settings.AXES_ENABLED = True
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/accounts/login/", {"username": "who", "password": "nope"})
    assert response.status_code == 429
    html = response.content.decode()
    assert '<div role="alert" id="locked-out">' in html
    assert audit(html) == []


# Colour contrast (WCAG 2.x relative luminance)

CSS = Path(settings.BASE_DIR, "static", "css", "site.css").read_text()


def _luminance(colour: str) -> float:
    value = colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _custom_properties() -> dict[str, str]:
    root = re.search(r":root\s*\{(?P<body>[^}]*)\}", CSS).group("body")
    return dict(re.findall(r"--([\w-]+)\s*:\s*(#[0-9a-fA-F]{3,6})\b", root))


PROPS = _custom_properties()


def _resolve(value: str) -> str | None:
    value = value.strip()
    match = re.fullmatch(r"var\(--([\w-]+)\)", value)
    if match:
        return PROPS[match.group(1)]
    return value if re.fullmatch(r"#[0-9a-fA-F]{3,6}", value) else None


def _rules() -> list[tuple[str, dict[str, str]]]:
    rules = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", re.sub(r"/\*.*?\*/", "", CSS)):
        declarations = dict(
            (name.strip(), value.strip())
            for name, value in re.findall(r"([\w-]+)\s*:\s*([^;]+)", body)
        )
        rules.append((selector.strip(), declarations))
    return rules


# Backgrounds that never hold text: the progress bar's track (checked as a graphic; its fill is
# an SVG rect).
NOT_TEXT = {".progress"}


def test_the_theme_defines_the_text_colours():
    assert {"fg", "muted", "bg", "panel", "accent", "accent-fg", "danger", "ok"} <= set(PROPS)


@pytest.mark.parametrize(
    ("text", "background"),
    [
        ("fg", "bg"),
        ("fg", "panel"),
        ("muted", "bg"),  # meta lines, footer, help text
        ("muted", "panel"),
        ("accent", "bg"),  # links
        ("accent", "panel"),  # header navigation
        ("accent-fg", "accent"),  # buttons
        ("danger", "bg"),  # form errors
        ("ok", "bg"),
    ],
)
def test_theme_text_on_background_passes_aa(text, background):
    ratio = contrast(PROPS[text], PROPS[background])
    assert ratio >= 4.5, f"--{text} on --{background}: {ratio:.2f}"


def _inherited_colour(selector: str, rules: list[tuple[str, dict[str, str]]]) -> str:
    """The text colour a rule without `color` gets from a base rule of the same element
    (`.button` for `.button.danger`), else the page's --fg."""
    best, colour = "", PROPS["fg"]
    for part in (piece.strip() for piece in selector.split(",")):
        for other, declarations in rules:
            if "color" not in declarations:
                continue
            for base in (piece.strip() for piece in other.split(",")):
                follows = part[len(base) : len(base) + 1]
                extends = part.startswith(base) and follows in {".", ":", "["}
                if extends and len(base) > len(best):
                    best, colour = base, _resolve(declarations["color"]) or colour
    return colour


def test_every_coloured_rule_passes_aa():
    """Each rule that sets a background: its own text colour (or the inherited --fg) and any
    link colour on it reach 4.5:1."""
    checked = []
    rules = _rules()
    for selector, declarations in rules:
        background = declarations.get("background-color") or declarations.get("background")
        if selector in NOT_TEXT or background is None or _resolve(background) is None:
            continue
        back = _resolve(background)
        if "color" in declarations:
            front = _resolve(declarations["color"])
        else:
            front = _inherited_colour(selector, rules)
        ratio = contrast(front, back)
        checked.append(selector)
        assert ratio >= 4.5, f"{selector}: {front} on {back} = {ratio:.2f}"
        if "color" not in declarations and front == PROPS["fg"]:
            link = contrast(PROPS["accent"], back)
            assert link >= 4.5, f"links in {selector}: {link:.2f}"
    assert {
        ".button, button.button, input[type=submit]",
        ".button.danger",
        ".message-error",
        ".tag",
    } <= set(checked)


def test_focus_outline_and_graphics_reach_3_to_1():
    focus = next(
        declarations["outline"]
        for selector, declarations in _rules()
        if ":focus-visible" in selector and "outline" in declarations
    )
    colour = _resolve(focus.split()[-1])
    for background in ("bg", "panel"):
        assert contrast(colour, PROPS[background]) >= 3.0, background
    assert contrast(PROPS["ok"], PROPS["panel"]) >= 3.0  # progress fill on its track


def test_contrast_formula_matches_wcag_reference_values():
    assert round(contrast("#000000", "#ffffff"), 2) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48  # the classic just-failing grey
    assert contrast("#ffffff", "#ffffff") == 1.0


# Keyboard focus, in the browser

FOCUSABLE = (
    "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), "
    "select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])"
)


@pytest.mark.browser
def test_keyboard_reaches_every_control_on_the_homepage_with_a_visible_focus(
    page: Page, world, login
):
    member = MemberFactory(user__username="keys", title=world["analyst"])
    FollowedSkill.objects.create(member=member, skill=world["skills"]["Photoshop"])
    login(member.user)
    page.goto("/")
    expect(page.locator("section.carousel").first).to_be_visible()
    expected = page.eval_on_selector_all(
        FOCUSABLE,
        "els => els.filter(e => e.getClientRects().length).map(e => e.outerHTML.slice(0, 120))",
    )
    assert len(expected) > 20

    seen = []
    for _ in range(len(expected) + 5):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
                const e = document.activeElement;
                if (!e || e === document.body) return null;
                const style = getComputedStyle(e);
                const box = e.getBoundingClientRect();
                return {
                    html: e.outerHTML.slice(0, 120), tag: e.tagName,
                    outline: style.outlineStyle, width: parseFloat(style.outlineWidth),
                    onScreen: box.right > 0 && box.bottom > 0 && box.width > 0,
                };
            }"""
        )
        if focused is None or (seen and focused["html"] == seen[0]["html"]):
            break
        seen.append(focused)

    assert [item["html"] for item in seen] == expected  # all of them, in document order
    assert {item["tag"] for item in seen} <= {"A", "BUTTON", "INPUT", "SELECT", "TEXTAREA"}
    assert "Skip to content" in seen[0]["html"]
    for item in seen:
        assert item["outline"] != "none" and item["width"] >= 2, item["html"]
        assert item["onScreen"], item["html"]


@pytest.mark.browser
def test_a_long_card_title_is_cut_at_three_lines_keeps_its_text_and_an_unclipped_focus(
    page: Page, world, login
):
    long_title = (
        "From Voice over internet protocol VoIP system software to Enterprise resource "
        "planning ERP software and Customer relationship management CRM software: "
        "A Practical Path for Photoshop Users"
    )
    course = world["courses"]["Photoshop Retouching"]
    course.title = long_title
    course.save()
    member = MemberFactory(user__username="reader", title=world["analyst"])
    FollowedSkill.objects.create(member=member, skill=world["skills"]["Photoshop"])
    login(member.user)
    page.goto("/")
    link = page.locator(f"#rec-card-{course.pk} h3 a")
    expect(link).to_be_visible()

    link.focus()
    shape = link.evaluate(
        """a => {
            const style = getComputedStyle(a);
            const card = a.closest('article');
            const ancestors = [];
            for (let e = a.parentElement; e !== card; e = e.parentElement) {
                ancestors.push(getComputedStyle(e).overflow);
            }
            return {
                height: a.getBoundingClientRect().height,
                lineHeight: parseFloat(style.lineHeight),
                scrollHeight: a.scrollHeight,
                text: a.textContent.trim(),
                outline: style.outlineStyle,
                ancestorsOverflow: ancestors,
                // Per card of the row: space between its action and its bottom edge.
                dismissGaps: [...card.parentElement.querySelectorAll('article')].map(
                    other => Math.round(
                        other.getBoundingClientRect().bottom
                        - other.querySelector('form:last-child').getBoundingClientRect().bottom
                        - parseFloat(getComputedStyle(other).paddingBottom)
                        - parseFloat(getComputedStyle(other).borderBottomWidth)
                    )
                ),
            };
        }"""
    )
    assert round(shape["height"] / shape["lineHeight"]) == 3
    assert shape["scrollHeight"] > shape["height"]  # the rest is there, only not shown
    assert shape["text"] == long_title  # what a screen reader reads: the whole title
    assert shape["outline"] == "solid"
    assert shape["ancestorsOverflow"] == ["visible"]  # nothing between link and card clips it
    # Cards of a row are as tall as its tallest; each one's action sits on its last line.
    assert len(shape["dismissGaps"]) > 1
    assert set(shape["dismissGaps"]) == {0}
