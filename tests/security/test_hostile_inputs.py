"""Every URL of the site answers hostile input with a 4xx or a page, never a 500.

The test walks the URL resolver (config/urls.py and everything it includes: the pages, the htmx
partials, the API, and the admin's pages for the project's models: changelists, add, change,
delete and history) and sends, to every route:

- each path parameter replaced by hostile values (the rest of the path valid-looking);
- every parameter name the project reads (every field of its forms and serializers, and the
  names its views read directly) set to one hostile value at a time, in the query string of a
  GET and in the form body of a POST (and a JSON body for the API), once alone and once beside
  the values that switch a view to another branch (`action=refresh`, `confirm=yes`, ...);

signed out, signed in as a member, and signed in as staff (a superuser). A 4xx answer is fine;
an exception or a 5xx fails, and the failures of one route are listed together.
"""

import json
import re
import uuid
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import pytest
from django import forms
from django.apps import apps
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from rest_framework import serializers

from catalog.models import CourseSkill
from recommendations.models import Dismissal
from tests.factories import CourseFactory, CourseSkillFactory, MemberFactory, SkillFactory

PROJECT_PACKAGES = ("catalog", "members", "recommendations", "web", "core", "demo")

HOSTILE = {
    "superscript two": "²",
    "Arabic-Indic three": "٣",
    "5,000 digits": "9" * 5000,
    "20 digits": "9" * 20,
    "NUL": "1\x00",
    "10,000 characters": "x" * 10_000,
    "negative": "-1",
}
# Values that take a view down another branch, sent beside the hostile ones in a second round.
SWITCHES = {"action": "refresh", "mode": "follow", "confirm": "yes"}
# Names views read from request.GET / request.POST themselves (besides their forms' fields), and
# the admin changelist's own.
DIRECT_NAMES = {"page", "action", "q", "survivor", "confirm", "next", "p", "o", "e", "all"}
DIRECT_NAMES |= {"_selected_action", "select_across", "index", "_changelist_filters"}


def _project_classes(base: type) -> Iterator[type]:
    seen, todo = set(), [base]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
                if sub.__module__.startswith(PROJECT_PACKAGES):
                    yield sub


def _parameter_names() -> set[str]:
    names = set(DIRECT_NAMES)
    for form in _project_classes(forms.BaseForm):
        names |= set(getattr(form, "base_fields", {}))
    for serializer in _project_classes(serializers.Serializer):
        names |= set(getattr(serializer, "_declared_fields", {}))
        fields = getattr(getattr(serializer, "Meta", None), "fields", ())
        if isinstance(fields, list | tuple):
            names |= set(fields)
    return names


def _in_scope(entry: URLPattern, prefix: str) -> bool:
    if not prefix.startswith("admin/"):
        return True
    # The admin's pages for the project's models (changelists, add, change, delete, history) and
    # the admin views the project defines; the admin's index, login and the pages of other
    # packages' models are Django's and theirs.
    module = getattr(entry.callback, "__module__", "")
    name = entry.name or ""
    return module.startswith(PROJECT_PACKAGES) or name.split("_", 1)[0] in PROJECT_PACKAGES


def _routes() -> list[tuple[str, list]]:
    """(route, [(kind, name, converter) for each piece]) of every URL pattern in scope."""
    found = []

    def walk(resolver: URLResolver, prefix: str, pieces: list) -> None:
        for entry in resolver.url_patterns:
            pattern = entry.pattern
            route = prefix + str(pattern)
            if isinstance(pattern, RoutePattern):
                own = [("route", str(pattern), pattern.converters)]
            else:
                own = [("regex", str(pattern), None)]
            if isinstance(entry, URLResolver):
                walk(entry, route, pieces + own)
            elif _in_scope(entry, prefix):
                found.append((route, pieces + own))

    walk(get_resolver(), "", [])
    return found


ROUTES = _routes()
PARAMETER_NAMES = sorted(_parameter_names())


def test_the_walk_covers_the_site():
    routes = {route for route, _ in ROUTES}
    for expected in [
        "",
        "onboarding/selected/",
        "onboarding/suggestions/",
        "onboarding/",
        "profile/skills/remove/",
        "recommendations/courses/<id:course_id>/dismiss/",
        "recommendations/go/<uuid:page_view_id>/<id:course_id>/",
        "skills/<slug:slug>/",
        "skills/<slug:slug>/follow/",
        "profile/follows/add/",
        "admin/members/alternatetitle/",
        "admin/members/occupationskill/<path:object_id>/change/",
        "courses/",
        "api/v1/events/",
        "api/v1/me/onboarding/",
        "api/v1/courses/<id:course_id>/similar/",
        "admin/catalog/tagsuggestion/<id:pk>/<str:decision>/",
        "admin/recommendations/experiment/<id:experiment_id>/results/",
        "admin/catalog/skill/",
        "admin/catalog/course/<path:object_id>/change/",
        "admin/catalog/course/add/",
        "admin/members/member/<path:object_id>/delete/",
        "admin/recommendations/trainingrun/<path:object_id>/history/",
    ]:
        assert expected in routes
    assert {"skills", "industry", "skill", "page_view_id", "course_id"} <= set(PARAMETER_NAMES)


@pytest.fixture
def objects(db):
    skill = SkillFactory(name="Probe", slug="probe")
    course = CourseFactory(title="Probe", slug="probe")
    member = MemberFactory(user__username="prober")
    staff = get_user_model().objects.create_superuser(
        username="staff-prober", email="staff@example.com", password="staff-password-for-tests"
    )
    MemberFactory(user=staff)
    dismissal = Dismissal.objects.create(member=member, course=CourseFactory())
    tag = CourseSkillFactory(
        course=course, skill=skill, source=CourseSkill.Source.TAGGER, confidence=0.7
    )
    valid = {
        "course_id": str(course.pk),
        "dismissal_id": str(dismissal.pk),
        "pk": str(tag.pk),
        "slug": "probe",
        "decision": "approve",
        "page_view_id": str(uuid.uuid4()),
    }
    return {"member": member.user, "staff": staff, "valid": valid}


def _piece(kind: str, text: str, converters, values: dict[str, str]) -> str:
    if kind == "regex":
        return quote(values.get("__regex__", "no-such-endpoint/"), safe="/")
    for name in converters or {}:
        text = re.sub(rf"<(?:\w+:)?{name}>", quote(values.get(name, "1"), safe=""), text)
    return text


def _path(pieces: list, values: dict[str, str]) -> str:
    return "/" + "".join(_piece(kind, text, conv, values) for kind, text, conv in pieces)


def _parameters(pieces: list) -> list[str]:
    names = []
    for kind, _text, converters in pieces:
        names += list(converters or {}) if kind == "route" else ["__regex__"]
    return names


def _an_object_id(route: str) -> str:
    """A row that exists, for the admin's change, delete and history pages of the route's model;
    the hostile values then reach that row's form."""
    match = re.match(r"admin/(\w+)/(\w+)/", route)
    if not match:
        return "1"
    model = apps.get_model(match[1], match[2])
    pk = model.objects.order_by("pk").values_list("pk", flat=True).first()
    return "1" if pk is None else str(pk)


@pytest.mark.parametrize("who", ["visitor", "member", "staff"])
@pytest.mark.parametrize(("route", "pieces"), ROUTES, ids=[route or "/" for route, _ in ROUTES])
def test_hostile_input_never_gets_a_500(objects, who, route, pieces):
    user = objects.get(who)
    client = Client()
    failures: list[str] = []

    def send(method: str, path: str, data=None, label: str = "", *, as_json: bool = False):
        if user is not None:
            client.force_login(user)  # again each time: one route is the logout
        try:
            if method == "GET":
                query = urlencode(data or {}, doseq=True)
                response = client.get(f"{path}?{query}" if query else path)
            elif as_json:
                response = client.post(path, json.dumps(data), content_type="application/json")
            else:
                response = client.post(path, data or {})
        except Exception as error:  # every failure is listed, not only the first
            failures.append(f"{method} {path[:80]} {label}: {type(error).__name__}: {error}"[:400])
            return
        if response.status_code >= 500:
            failures.append(f"{method} {path[:80]} {label}: {response.status_code}")

    valid = {**objects["valid"], "object_id": _an_object_id(route)}
    path = _path(pieces, valid)
    is_api = route.startswith("api/")
    for parameter in _parameters(pieces):
        for label, value in HOSTILE.items():
            hostile_path = _path(pieces, {**valid, parameter: value})
            for method in ("GET", "POST"):
                send(method, hostile_path, label=f"<{parameter}>={label}")
    for label, value in HOSTILE.items():
        alone = dict.fromkeys(PARAMETER_NAMES, value)
        switched = {**alone, **SWITCHES}
        for data, how in ((alone, "alone"), (switched, "with switches")):
            send("GET", path, data, f"query {label} {how}")
            send("POST", path, data, f"form {label} {how}")
        if is_api:
            send("POST", path, alone, f"JSON {label}", as_json=True)
            send(
                "POST",
                path,
                {name: [value] for name in PARAMETER_NAMES},
                f"JSON [{label}]",
                as_json=True,
            )
    assert failures == []
