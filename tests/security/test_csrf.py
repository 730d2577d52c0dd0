"""CSRF: every URL the site routes refuses a POST that carries no CSRF token.

The walk covers every pattern of `config.urls` (site pages, htmx endpoints, Django admin, the JSON
API): a logged-in superuser's client with `enforce_csrf_checks=True` posts to each without a
token and gets 403. Django's CsrfViewMiddleware refuses before any view runs, so the 403 does not
depend on the view's arguments; `test_the_site_views_that_accept_post_are_the_listed_ones`
proves which site views do accept a POST (a valid token gets past the check) so that a new
state-changing view cannot slip in unlisted, and `test_with_a_token_*` prove the refusals are
about the token and nothing else.
"""

import itertools
import re
import uuid
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern
from rest_framework.authentication import SessionAuthentication

from catalog.models import Course
from members.models import Enrolment
from recommendations.models import Dismissal
from tests.factories import CourseFactory, CourseSkillFactory, MemberFactory, SkillFactory

# A CSRF secret as Django stores it in the cookie; the same value is a valid token.
CSRF_SECRET = "Kx4Yp9Qe2Lm7Rt5Vw1Zb8Nc3Hd6Jf0Sa"

# The site's state-changing views: each one's forms and htmx requests carry the token.
STATE_CHANGING = {
    "members:signup",
    "members:login",
    "members:logout",
    "members:onboarding",
    "members:profile_skill_add",
    "members:profile_skill_remove",
    "members:profile_follow_add",
    "members:profile_follow_remove",
    "members:skill_follow",
    "members:skill_unfollow",
    "members:password_reset",
    "members:password_reset_confirm",
    "members:password_change",
    "members:email_change",
    "members:email_change_confirm",
    "members:digest_subscription",
    "members:goal_set",
    "members:goal_clear",
    "members:learning_path_follow",
    "members:learning_path_unfollow",
    "members:people_settings",
    "people:hide",
    "members:api_token_create",
    "members:api_token_revoke",
    "members:api_tokens_revoke_all",
    "members:enrol",
    "members:watch",
    "members:finish",
    "members:bookmark",
    "recommendations:dismiss",
    "recommendations:undo_dismiss",
    "web:account_delete",
}
# Views whose POST is authorised by a signed token in the URL, not by a session: the weekly
# email's unsubscribe link, which a mail client POSTs to with no cookie or CSRF token (RFC 8058's
# one-click). A forged POST cannot sign a token; without one the view refuses (400) and changes
# nothing (tests/recommendations/test_digest.py).
SIGNED_LINK_POSTS = {"digest:unsubscribe"}
# The API's answer for a path that names no endpoint: exempt, since it changes nothing and its
# 404 must be the API's JSON error for any POST, not the CSRF check's HTML page.
NOT_FOUND_POSTS = {"api/(?P<unmatched>[\\s\\S]*)$"}
# Read-only views with no method restriction: they render the same page for a POST as for a GET
# (the CSRF check still refuses a tokenless POST first). Not required to accept POST.
READ_ONLY_WITHOUT_METHOD_RESTRICTION = {
    "home",
    "catalog:course_list",
    "web:course_detail",
    "catalog:skill_list",
    "catalog:skill_detail",
    "catalog:skill_search",
}


@dataclass(frozen=True)
class Route:
    name: str  # namespace:name, or the route itself for unnamed patterns
    route: str  # the pattern as ResolverMatch.route spells it
    url: str  # a concrete URL that resolves to this pattern
    callback: object

    @property
    def is_admin(self) -> bool:
        return self.route.startswith("admin/")

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")


_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^)]*)\)")
_SAMPLES = ["1", "sample-slug", str(uuid.UUID(int=1))]


def _route_samples(pattern: RoutePattern) -> list[str]:
    """Concrete path pieces for a path() pattern: every combination of sample values."""
    text = str(pattern)
    count = len(_ROUTE_PARAM.findall(text))
    pieces = []
    for combination in itertools.product(_SAMPLES, repeat=count):
        values = iter(combination)
        pieces.append(_ROUTE_PARAM.sub(lambda _match, values=values: next(values), text))
    return pieces


def _regex_sample(pattern: RegexPattern) -> str:
    def group(match: re.Match) -> str:
        body = match.group("body")
        # An alternation of names (the admin's app_list): the first one.
        if re.fullmatch(r"[\w|]+", body):
            return body.split("|")[0]
        return "no-such-page"

    return _REGEX_GROUP.sub(group, str(pattern)).lstrip("^").rstrip("$")


def _join(route: str, pattern: str) -> str:
    # As ResolverMatch.route joins nested patterns: a regex's leading ^ is dropped.
    return route + pattern.removeprefix("^") if route else pattern


def _route_of(path: str) -> str | None:
    try:
        return resolve("/" + path).route
    except Resolver404:
        return None


def _routes() -> list[Route]:
    routes = []

    def walk(resolver: URLResolver, prefixes: list[list[str]], route: str, namespace: list[str]):
        for entry in resolver.url_patterns:
            pieces = (
                _route_samples(entry.pattern)
                if isinstance(entry.pattern, RoutePattern)
                else [_regex_sample(entry.pattern)]
            )
            candidates = [prefix + piece for prefix in prefixes for piece in pieces]
            if isinstance(entry, URLResolver):
                inner = [*namespace, entry.namespace] if entry.namespace else namespace
                walk(entry, candidates, _join(route, str(entry.pattern)), inner)
                continue
            assert isinstance(entry, URLPattern)
            full_route = _join(route, str(entry.pattern))
            url = next(
                ("/" + candidate for candidate in candidates if _route_of(candidate) == full_route),
                None,
            )
            assert url is not None, f"no sample URL resolves to {full_route}: {candidates}"
            name = ":".join([*namespace, entry.name]) if entry.name else full_route
            routes.append(Route(name=name, route=full_route, url=url, callback=entry.callback))

    walk(get_resolver(), [""], "", [])
    return routes


ROUTES = _routes()
SITE_ROUTES = [route for route in ROUTES if not route.is_admin and not route.is_api]


def _is_drf_view(route: Route) -> bool:
    return hasattr(route.callback, "cls") and getattr(route.callback, "csrf_exempt", False)


def _session_authenticated(response) -> bool:
    """Whether the DRF view that answered would authenticate this request by its session."""
    view = response.renderer_context["view"]
    return any(isinstance(auth, SessionAuthentication) for auth in view.get_authenticators())


@pytest.fixture
def csrf_client(superuser):
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    return client


def _with_token(client: Client) -> Client:
    client.cookies["csrftoken"] = CSRF_SECRET
    return client


def test_the_walk_covers_every_kind_of_route():
    names = {route.name for route in ROUTES}
    assert names >= STATE_CHANGING
    assert names >= READ_ONLY_WITHOUT_METHOD_RESTRICTION
    assert {"admin:catalog_tagsuggestion_review", "admin:catalog_course_change"} <= names
    assert any(route.is_api for route in ROUTES)
    # The concrete URLs resolve back to their own pattern (no two routes share one URL).
    assert len({route.url for route in ROUTES}) == len(ROUTES)


@pytest.mark.parametrize("route", ROUTES, ids=[route.name for route in ROUTES])
@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_post_without_a_csrf_token_is_refused(csrf_client, route, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    response = csrf_client.post(route.url, {"anything": "1"}, headers=headers)
    if route.name in SIGNED_LINK_POSTS:
        assert response.status_code == 400, route.name
        return
    if route.name in NOT_FOUND_POSTS:
        assert response.status_code == 404, route.name
        assert response.json()["error"]["code"] == "not_found"
        return
    if _is_drf_view(route) and not _session_authenticated(response):
        # A DRF view that does not authenticate this request by its session cookie (the token
        # endpoint authenticates by the posted password) cannot be driven by a forged request.
        assert response.status_code in {400, 401, 403, 405, 415}, route.name
        assert response.renderer_context["request"].user.is_anonymous
        return
    assert response.status_code == 403
    if _is_drf_view(route):
        # DRF views are csrf_exempt and enforce CSRF in SessionAuthentication instead.
        assert "CSRF Failed" in str(response.data)
    else:
        assert b"CSRF verification failed" in response.content


@pytest.mark.parametrize("name", sorted(STATE_CHANGING))
def test_anonymous_post_without_a_csrf_token_is_refused(db, name):
    route = next(route for route in ROUTES if route.name == name)
    response = Client(enforce_csrf_checks=True).post(route.url, {"username": "someone"})
    assert response.status_code == 403
    assert b"CSRF verification failed" in response.content


def test_the_site_views_that_accept_post_are_the_listed_ones(superuser):
    CourseSkillFactory()  # the member homepage needs a catalog to render
    accepting = set()
    for route in SITE_ROUTES:
        # A fresh session per route: a POST to logout must not log the next probe out.
        client = _with_token(Client(enforce_csrf_checks=True))
        client.force_login(superuser)
        response = client.post(route.url, headers={"X-CSRFToken": CSRF_SECRET})
        assert response.status_code != 403, route.name
        if response.status_code != 405:
            accepting.add(route.name)
    assert accepting >= STATE_CHANGING | SIGNED_LINK_POSTS
    assert accepting - STATE_CHANGING - SIGNED_LINK_POSTS <= READ_ONLY_WITHOUT_METHOD_RESTRICTION


@pytest.fixture
def member_with_token_client(db):
    member = MemberFactory()
    client = _with_token(Client(enforce_csrf_checks=True))
    client.force_login(member.user)
    return member, client


def test_with_a_token_course_activity_forms_and_htmx_posts_go_through(member_with_token_client):
    member, client = member_with_token_client
    course = CourseFactory()
    refused = client.post(f"/learning/{course.slug}/enrol/")
    assert refused.status_code == 403
    assert not Enrolment.objects.filter(member=member).exists()

    form = client.post(f"/learning/{course.slug}/enrol/", {"csrfmiddlewaretoken": CSRF_SECRET})
    assert form.status_code == 302
    assert Enrolment.objects.filter(member=member, course=course).exists()

    # htmx sends the token in the X-CSRFToken header (base.html's hx-headers).
    htmx = client.post(
        f"/learning/{course.slug}/finish/",
        headers={"HX-Request": "true", "X-CSRFToken": CSRF_SECRET},
    )
    assert htmx.status_code == 200
    assert Enrolment.objects.get(member=member, course=course).completed_at is not None


def test_with_a_token_dismiss_and_undo_go_through(member_with_token_client):
    member, client = member_with_token_client
    course = CourseFactory()
    assert client.post(f"/recommendations/courses/{course.pk}/dismiss/").status_code == 403
    assert not Dismissal.objects.exists()

    response = client.post(
        f"/recommendations/courses/{course.pk}/dismiss/",
        headers={"HX-Request": "true", "X-CSRFToken": CSRF_SECRET},
    )
    assert response.status_code == 200
    dismissal = Dismissal.objects.get(member=member, course=course)

    undo_url = f"/recommendations/dismissals/{dismissal.pk}/undo/"
    assert client.post(undo_url, headers={"HX-Request": "true"}).status_code == 403
    assert Dismissal.objects.filter(pk=dismissal.pk).exists()
    response = client.post(undo_url, headers={"HX-Request": "true", "X-CSRFToken": CSRF_SECRET})
    assert response.status_code == 200
    assert not Dismissal.objects.exists()


def test_with_a_token_profile_and_onboarding_forms_go_through(member_with_token_client):
    member, client = member_with_token_client
    skill = SkillFactory(name="Kotlin")
    data = {"skill": "Kotlin", "weight": "0.5"}
    assert client.post("/profile/skills/add/", data).status_code == 403
    assert not member.profile_skills.exists()
    response = client.post("/profile/skills/add/", {**data, "csrfmiddlewaretoken": CSRF_SECRET})
    assert response.status_code == 302
    assert list(member.profile_skills.values_list("skill__name", flat=True)) == ["Kotlin"]

    onboarding = {"title": member.title.name, "skills": [skill.pk], "action": "save"}
    assert client.post("/onboarding/", onboarding).status_code == 403
    assert not member.followed_skills.exists()
    response = client.post("/onboarding/", {**onboarding, "csrfmiddlewaretoken": CSRF_SECRET})
    assert response.status_code == 302
    assert list(member.followed_skills.values_list("skill__name", flat=True)) == ["Kotlin"]


def test_with_a_token_follow_forms_and_htmx_posts_go_through(member_with_token_client):
    member, client = member_with_token_client
    skill = SkillFactory(name="Kotlin", slug="kotlin")
    assert client.post("/skills/kotlin/follow/").status_code == 403
    assert not member.followed_skills.exists()
    form = client.post("/skills/kotlin/follow/", {"csrfmiddlewaretoken": CSRF_SECRET})
    assert form.status_code == 302
    assert list(member.followed_skills.values_list("skill__name", flat=True)) == ["Kotlin"]

    unfollow = "/skills/kotlin/unfollow/"
    assert client.post(unfollow, headers={"HX-Request": "true"}).status_code == 403
    htmx = client.post(unfollow, headers={"HX-Request": "true", "X-CSRFToken": CSRF_SECRET})
    assert htmx.status_code == 200
    assert not member.followed_skills.exists()

    add = {"skills": [skill.pk]}
    assert client.post("/profile/follows/add/", add).status_code == 403
    assert not member.followed_skills.exists()
    response = client.post("/profile/follows/add/", {**add, "csrfmiddlewaretoken": CSRF_SECRET})
    assert response.status_code == 302
    remove = {"skill": skill.pk}
    assert client.post("/profile/follows/remove/", remove).status_code == 403
    assert member.followed_skills.exists()
    response = client.post(
        "/profile/follows/remove/", {**remove, "csrfmiddlewaretoken": CSRF_SECRET}
    )
    assert response.status_code == 302
    assert not member.followed_skills.exists()


def test_with_a_token_logout_login_and_signup_go_through(member_with_token_client):
    _, client = member_with_token_client
    assert client.post("/accounts/logout/").status_code == 403
    assert client.get("/my-learning/").status_code == 200  # still logged in
    assert client.post("/accounts/logout/", {"csrfmiddlewaretoken": CSRF_SECRET}).status_code == 302
    assert client.get("/my-learning/").status_code == 302  # logged out

    signup = {
        "username": "newcomer",
        "email": "newcomer@example.com",
        "password1": "a-long-enough-passphrase",
        "password2": "a-long-enough-passphrase",
    }
    assert client.post("/accounts/signup/", signup).status_code == 403
    assert not get_user_model().objects.filter(username="newcomer").exists()
    response = client.post("/accounts/signup/", {**signup, "csrfmiddlewaretoken": CSRF_SECRET})
    assert response.status_code == 302
    assert get_user_model().objects.filter(username="newcomer").exists()

    fresh = _with_token(Client(enforce_csrf_checks=True))
    login = {"username": "newcomer", "password": "a-long-enough-passphrase"}
    assert fresh.post("/accounts/login/", login).status_code == 403
    response = fresh.post("/accounts/login/", {**login, "csrfmiddlewaretoken": CSRF_SECRET})
    assert response.status_code == 302
    assert fresh.get("/my-learning/").status_code == 200


def test_state_changing_templates_carry_the_token(member_with_token_client):
    """Every POST form the member pages render includes the token; htmx gets it from <body>."""
    _, client = member_with_token_client
    course = CourseFactory()
    pages = ["/", f"/courses/{course.slug}/", "/profile/", "/onboarding/", "/my-learning/"]
    forms_seen = 0
    for url in pages:
        html = client.get(url).content.decode()
        assert 'hx-headers=\'{"X-CSRFToken": "' in html, url
        for form in re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S):
            if re.search(r'method="post"', form[: form.index(">")]):
                forms_seen += 1
                assert 'name="csrfmiddlewaretoken"' in form, (url, form[:200])
    assert forms_seen >= 8
    assert Course.objects.count() == 1
