"""One member cannot reach another's data through the site's pages, and the admin is staff-only.

Site URLs carry no member or user ids: every member page reads the logged-in member. The one id
a member can type that belongs to someone, a dismissal id, is checked against the owner.
"""

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from catalog.models import CourseSkill
from members.models import Enrolment, MemberSkill
from recommendations.models import Dismissal
from tests.factories import (
    BookmarkFactory,
    CourseFactory,
    CourseSkillFactory,
    EnrolmentFactory,
    FollowedSkillFactory,
    MemberFactory,
    MemberSkillFactory,
    SkillFactory,
    UserFactory,
)


def _client_for(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


@pytest.fixture
def alice(db):
    return MemberFactory(user__username="alice")


@pytest.fixture
def bob(db):
    return MemberFactory(user__username="bob")


def _site_route_params() -> dict[str, set[str]]:
    params: dict[str, set[str]] = {}

    def walk(resolver: URLResolver, prefix: str) -> None:
        for entry in resolver.url_patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                if route not in {"admin/", "api/"}:
                    walk(entry, route)
                continue
            assert isinstance(entry, URLPattern)
            params[route] = set(re.findall(r"<(?:\w+:)?(\w+)>", route))

    walk(get_resolver(), "")
    return params


def test_site_urls_carry_no_member_or_user_ids():
    params = _site_route_params()
    assert "recommendations/dismissals/<id:dismissal_id>/undo/" in params
    every_param = set().union(*params.values())
    # dismissal_id and token_id name the signed-in member's own rows (another's is a 404).
    # uidb64 (a user's id) comes only with the reset `token` made for that user's current
    # password hash, or the page answers "this link does not work"; the email change's `token`
    # is signed and refused for any account but the signed-in one (tests/members); the weekly
    # digest's `token`s are signed (a digest's course link, a member's unsubscribe link) and
    # can do nothing but record a click or turn the email off (tests/recommendations).
    # person_id is a discoverable member's id, and every page keyed on it answers 404 unless
    # that person is among the signed-in member's current suggestions (a click on one is
    # recorded only against a page view that showed them): tests/recommendations/test_people.py.
    assert every_param == {
        "person_id",
        "slug",
        "course_id",
        "dismissal_id",
        "token_id",
        "page_view_id",
        "uidb64",
        "token",
    }


def test_undoing_another_members_dismissal_is_404_and_keeps_it(alice, bob):
    course = CourseFactory()
    theirs = Dismissal.objects.create(member=bob, course=course)
    client = _client_for(alice)
    for headers in ({}, {"HX-Request": "true"}):
        response = client.post(
            reverse("recommendations:undo_dismiss", args=[theirs.pk]), headers=headers
        )
        assert response.status_code == 404
    assert Dismissal.objects.filter(pk=theirs.pk, member=bob).exists()
    # The owner can.
    response = _client_for(bob).post(reverse("recommendations:undo_dismiss", args=[theirs.pk]))
    assert response.status_code == 302
    assert not Dismissal.objects.exists()


def test_dismissed_list_shows_only_ones_own(alice, bob):
    mine, theirs = CourseFactory(title="Mine to skip"), CourseFactory(title="Theirs to skip")
    Dismissal.objects.create(member=alice, course=mine)
    Dismissal.objects.create(member=bob, course=theirs)
    html = _client_for(alice).get(reverse("recommendations:dismissed")).content.decode()
    assert "Mine to skip" in html
    assert "Theirs to skip" not in html


def test_my_learning_shows_only_ones_own(alice, bob):
    EnrolmentFactory(member=alice, course=CourseFactory(title="Alice in progress"))
    BookmarkFactory(member=alice, course=CourseFactory(title="Alice bookmarked"))
    EnrolmentFactory(member=bob, course=CourseFactory(title="Bob in progress"))
    finished = EnrolmentFactory(member=bob, course=CourseFactory(title="Bob finished"))
    finished.completed_at = finished.enrolled_at
    finished.progress_percent = 100
    finished.save()
    BookmarkFactory(member=bob, course=CourseFactory(title="Bob bookmarked"))

    html = _client_for(alice).get(reverse("members:my_learning")).content.decode()
    assert "Alice in progress" in html
    assert "Alice bookmarked" in html
    for title in ("Bob in progress", "Bob finished", "Bob bookmarked"):
        assert title not in html


def test_profile_shows_only_ones_own_skills(alice, bob):
    FollowedSkillFactory(member=alice, skill=SkillFactory(name="Alice follows"))
    MemberSkillFactory(member=alice, skill=SkillFactory(name="Alice holds"))
    FollowedSkillFactory(member=bob, skill=SkillFactory(name="Bob follows"))
    MemberSkillFactory(member=bob, skill=SkillFactory(name="Bob holds"))
    html = _client_for(alice).get(reverse("members:profile")).content.decode()
    assert "<h1>alice</h1>" in html
    assert "Alice follows" in html and "Alice holds" in html
    assert "Bob follows" not in html and "Bob holds" not in html
    assert bob.title.name not in html


def test_removing_a_skill_only_touches_ones_own_profile(alice, bob):
    shared = SkillFactory(name="Shared skill")
    MemberSkillFactory(member=bob, skill=shared)
    response = _client_for(alice).post(
        reverse("members:profile_skill_remove"), {"skill": shared.pk}
    )
    assert response.status_code == 302
    assert MemberSkill.objects.filter(member=bob, skill=shared).exists()


def test_course_activity_only_writes_ones_own(alice, bob):
    course = CourseFactory()
    EnrolmentFactory(member=bob, course=course)
    client = _client_for(alice)
    for action in ("enrol", "watch", "finish", "bookmark"):
        response = client.post(reverse(f"members:{action}", args=[course.slug]))
        assert response.status_code == 302
    bobs = Enrolment.objects.get(member=bob, course=course)
    assert bobs.completed_at is None
    assert bobs.progress_percent == 0
    assert not bob.bookmarks.exists()
    assert Enrolment.objects.get(member=alice, course=course).completed_at is not None
    # And Alice's course page shows her progress, not Bob's.
    html = client.get(reverse("web:course_detail", args=[course.slug])).content.decode()
    assert "Finished on" in html
    assert "Remove bookmark" in html


def test_recommendations_follow_only_ones_own_dismissals(world):
    alice, bob = (
        MemberFactory(user__username=name, title=world["analyst"], industry=world["finance"])
        for name in ("alice", "bob")
    )
    for member in (alice, bob):
        FollowedSkillFactory(member=member, skill=world["skills"]["Photoshop"])
    dismissed = world["courses"]["Photoshop for Designers"]
    kept = world["courses"]["Photoshop Retouching"]
    Dismissal.objects.create(member=bob, course=dismissed)

    alice_home = _client_for(alice).get("/").content.decode()
    bob_home = _client_for(bob).get("/").content.decode()
    assert "Welcome back, alice" in alice_home
    assert "Welcome back, bob" in bob_home
    for home in (alice_home, bob_home):
        assert "Because you follow Photoshop" in home
        assert f'id="rec-card-{kept.pk}"' in home
    assert f'id="rec-card-{dismissed.pk}"' in alice_home
    assert f'id="rec-card-{dismissed.pk}"' not in bob_home


# Admin


def _admin_urls() -> list[str]:
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    return urls


ADMIN_URLS = _admin_urls()


@pytest.mark.parametrize("url", ADMIN_URLS)
def test_admin_pages_send_members_to_the_admin_login(alice, url):
    response = _client_for(alice).get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login") + "?next=")


@pytest.mark.parametrize("url", ADMIN_URLS)
def test_admin_pages_send_visitors_to_the_admin_login(db, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login") + "?next=")


def test_admin_login_refuses_a_member_with_the_right_password(alice):
    response = Client().post(
        reverse("admin:login"),
        {"username": "alice", "password": "correct-horse-battery-staple"},
    )
    assert response.status_code == 200
    assert b"Please enter the correct username and password for a staff account" in (
        response.content
    )


def test_a_member_cannot_review_tag_suggestions(alice):
    tag = CourseSkillFactory(
        source=CourseSkill.Source.TAGGER, status=CourseSkill.Status.PENDING, confidence=0.7
    )
    url = reverse("admin:catalog_tagsuggestion_review", args=[tag.pk, "approve"])
    response = _client_for(alice).post(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    tag.refresh_from_db()
    assert tag.status == CourseSkill.Status.PENDING


def test_staff_without_permissions_get_403_on_changelists_and_reviews(db):
    staff = UserFactory(is_staff=True)
    tag = CourseSkillFactory(
        source=CourseSkill.Source.TAGGER, status=CourseSkill.Status.PENDING, confidence=0.7
    )
    client = Client()
    client.force_login(staff)
    assert client.get(reverse("admin:catalog_course_changelist")).status_code == 403
    assert client.get(reverse("admin:members_member_changelist")).status_code == 403
    url = reverse("admin:catalog_tagsuggestion_review", args=[tag.pk, "approve"])
    assert client.post(url).status_code == 403
    tag.refresh_from_db()
    assert tag.status == CourseSkill.Status.PENDING

    # With the permission the same request goes through: the 403 was about the permission.
    staff.user_permissions.add(Permission.objects.get(codename="change_tagsuggestion"))
    client.force_login(staff)
    assert client.post(url).status_code == 302
    tag.refresh_from_db()
    assert tag.status == CourseSkill.Status.APPROVED
