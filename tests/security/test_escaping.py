"""User-supplied text is escaped wherever it is shown.

Course titles, descriptions and teachers, skill, synonym and category names, job titles and
industries all carry `<script>alert(1)</script>`; every page that shows them, including htmx
partials, flash messages, reflected search queries and the admin's changelists, contains the
escaped form and never the raw tag.
"""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog.models import CourseSkill
from members.models import Bookmark, Enrolment, FollowedSkill, MemberSkill
from recommendations.models import Dismissal
from tests.factories import CourseSkillFactory, MemberFactory, SkillSynonymFactory

PAYLOAD = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _assert_escaped(html: str, where: str) -> None:
    assert "<script>alert(1)" not in html, where
    assert ESCAPED in html, where


@pytest.fixture
def hostile(world, superuser):
    """The `world` catalog with hostile text in every user-supplied field a page shows."""
    skill = world["skills"]["Photoshop"]
    skill.name = f"Photoshop {PAYLOAD}"
    skill.description = f"Edits pictures {PAYLOAD}"
    skill.save()
    skill.category.name = f"Design {PAYLOAD}"
    skill.category.save()
    skill.related.add(world["skills"]["Illustrator"])
    world["skills"]["Illustrator"].name = f"Illustrator {PAYLOAD}"
    world["skills"]["Illustrator"].save()
    SkillSynonymFactory(skill=skill, name=f"PS {PAYLOAD}")
    newest = world["courses"]["Photoshop and Illustrator Together"]
    newest.title = f"Together {PAYLOAD}"
    newest.description = f"Layers and paths.\n\n{PAYLOAD}"
    newest.teacher = f"Teacher {PAYLOAD}"
    newest.save()
    newest.categories.add(skill.category)
    for title, course in world["courses"].items():
        if title.startswith("Photoshop ") and course != newest:
            course.title = f"{title} {PAYLOAD}"
            course.save()
    for key in ("analyst", "finance"):
        world[key].name = f"{world[key].name} {PAYLOAD}"
        world[key].save()

    member = MemberFactory(
        user__username="reader", title=world["analyst"], industry=world["finance"]
    )
    FollowedSkill.objects.create(member=member, skill=skill)
    MemberSkill.objects.create(member=member, skill=skill, weight=0.5)
    enrolled = world["courses"]["Illustrator Basics"]
    enrolled.title = f"Basics {PAYLOAD}"
    enrolled.save()
    Enrolment.objects.create(member=member, course=enrolled, enrolled_at=timezone.now())
    Bookmark.objects.create(member=member, course=enrolled, created_at=timezone.now())
    dismissed = world["courses"]["Illustrator Advanced"]
    dismissed.title = f"Advanced {PAYLOAD}"
    dismissed.save()
    Dismissal.objects.create(member=member, course=dismissed)
    CourseSkillFactory(
        course=newest,
        skill=world["skills"]["Tableau"],
        source=CourseSkill.Source.TAGGER,
        status=CourseSkill.Status.PENDING,
        confidence=0.6,
    )
    client = Client()
    client.force_login(member.user)
    admin = Client()
    admin.force_login(superuser)
    return {
        "member": client,
        "admin": admin,
        "skill": skill,
        "newest": newest,
        "title": world["analyst"],
    }


def _pages(hostile) -> dict[str, tuple[Client, str]]:
    member, skill, newest = hostile["member"], hostile["skill"], hostile["newest"]
    return {
        "visitor home": (Client(), "/"),
        "member home": (member, "/"),
        "course list": (member, reverse("catalog:course_list")),
        "course list, filtered by skill": (
            member,
            reverse("catalog:course_list") + f"?skill={skill.slug}",
        ),
        "course detail": (member, reverse("web:course_detail", args=[newest.slug])),
        "skill list": (Client(), reverse("catalog:skill_list")),
        "skill list, searched": (Client(), reverse("catalog:skill_list") + "?q=photoshop"),
        "skill detail": (Client(), reverse("catalog:skill_detail", args=[skill.slug])),
        "skill search partial": (Client(), reverse("catalog:skill_search") + "?q=photoshop"),
        "onboarding": (member, reverse("members:onboarding")),
        "onboarding title options": (
            member,
            reverse("members:title_search") + "?title=data",
        ),
        "onboarding suggestions": (
            member,
            reverse("members:title_suggestions") + f"?title={hostile['title'].name}",
        ),
        "onboarding selected skills": (
            member,
            reverse("members:selected_skills") + f"?skills={skill.pk}",
        ),
        "profile": (member, reverse("members:profile")),
        "profile skill options": (member, reverse("members:skill_options") + "?skill=photo"),
        "my learning": (member, reverse("members:my_learning")),
        "dismissed": (member, reverse("recommendations:dismissed")),
    }


PAGE_NAMES = [
    "visitor home",
    "member home",
    "course list",
    "course list, filtered by skill",
    "course detail",
    "skill list",
    "skill list, searched",
    "skill detail",
    "skill search partial",
    "onboarding",
    "onboarding title options",
    "onboarding suggestions",
    "onboarding selected skills",
    "profile",
    "profile skill options",
    "my learning",
    "dismissed",
]

ADMIN_CHANGELISTS = [
    "catalog_course",
    "catalog_skill",
    "catalog_category",
    "catalog_skillsynonym",
    "catalog_courseskill",
    "catalog_tagsuggestion",
    "members_jobtitle",
    "members_industry",
    "members_member",
    "members_memberskill",
    "members_followedskill",
    "members_enrolment",
    "members_bookmark",
    "recommendations_dismissal",
]


def test_the_page_list_is_complete(hostile):
    assert sorted(_pages(hostile)) == sorted(PAGE_NAMES)


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_pages_escape_user_text(hostile, name):
    client, url = _pages(hostile)[name]
    response = client.get(url)
    assert response.status_code == 200, name
    _assert_escaped(response.content.decode(), name)


def test_home_carousel_labels_and_cards_are_escaped(hostile):
    html = hostile["member"].get("/").content.decode()
    _assert_escaped(html, "home")
    assert f"Because you follow Photoshop {ESCAPED}</h2>" in html
    carousel = html[html.index("Because you follow Photoshop") :].split("</section>")[0]
    assert carousel.count(f" {ESCAPED}</a>") >= 3  # its cards' titles


def test_course_detail_escapes_every_field(hostile):
    newest = hostile["newest"]
    html = hostile["member"].get(reverse("web:course_detail", args=[newest.slug]))
    html = html.content.decode()
    for text in (
        f"<h1>Together {ESCAPED}</h1>",
        f"<dd>Teacher {ESCAPED}</dd>",
        f"<dd>Design {ESCAPED}</dd>",
        f"<p>{ESCAPED}</p>",  # the description, through |linebreaks
        f">Photoshop {ESCAPED}</a>",
    ):
        assert text in html


@pytest.mark.parametrize(
    "url",
    [
        "/courses/?q=" + PAYLOAD,
        "/skills/?q=" + PAYLOAD,
        "/skills/search/?q=" + PAYLOAD,
        "/profile/skills/options/?skill=" + PAYLOAD,
        "/onboarding/suggestions/?title=" + PAYLOAD,
    ],
)
def test_reflected_queries_are_escaped(hostile, url):
    response = hostile["member"].get(url)
    assert response.status_code in (200, 204)
    assert "<script>alert(1)" not in response.content.decode()


def test_reflected_form_input_is_escaped(hostile):
    html = hostile["member"].post(
        reverse("members:onboarding"),
        {"title": PAYLOAD, "q": PAYLOAD, "action": "refresh"},
    )
    _assert_escaped(html.content.decode(), "onboarding refresh")
    signup = Client().post(
        reverse("members:signup"),
        {"username": PAYLOAD, "email": "x@example.com", "password1": "a", "password2": "b"},
    )
    assert signup.status_code == 200
    _assert_escaped(signup.content.decode(), "signup")
    profile = hostile["member"].post(reverse("members:profile_skill_add"), {"skill": PAYLOAD})
    assert profile.status_code == 200
    _assert_escaped(profile.content.decode(), "profile skill add")


def test_dismiss_card_and_message_are_escaped(hostile):
    newest = hostile["newest"]
    url = reverse("recommendations:dismiss", args=[newest.pk])
    card = hostile["member"].post(url, headers={"HX-Request": "true"})
    assert card.status_code == 200
    _assert_escaped(card.content.decode(), "dismissed card")
    Dismissal.objects.filter(course=newest).delete()
    followed = hostile["member"].post(url, follow=True)
    html = followed.content.decode()
    _assert_escaped(html, "dismiss message")
    assert f"“Together {ESCAPED}” won&#x27;t be recommended to you again." in html


@pytest.mark.parametrize("model", ADMIN_CHANGELISTS)
def test_admin_changelists_escape_user_text(hostile, model):
    response = hostile["admin"].get(reverse(f"admin:{model}_changelist"))
    assert response.status_code == 200
    _assert_escaped(response.content.decode(), model)


def test_admin_change_forms_escape_user_text(hostile):
    newest, skill = hostile["newest"], hostile["skill"]
    for url in (
        reverse("admin:catalog_course_change", args=[newest.pk]),
        reverse("admin:catalog_skill_change", args=[skill.pk]),
    ):
        response = hostile["admin"].get(url)
        assert response.status_code == 200
        _assert_escaped(response.content.decode(), url)


def test_the_fixture_really_stores_the_raw_tag(hostile):
    # Escaping happens on output: the database holds the text as typed.
    hostile["newest"].refresh_from_db()
    assert hostile["newest"].title == f"Together {PAYLOAD}"
    assert hostile["newest"].published_at > timezone.now() - dt.timedelta(days=6)
