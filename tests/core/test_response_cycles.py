"""core/response_cycles.py: a rendered API response and a page's template context leave no
reference cycle behind, so their data is freed by reference counting, not by the cyclic garbage
collector."""

import gc
import io
import re
import sys
import weakref

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.handlers.wsgi import WSGIHandler
from django.core.paginator import Paginator
from django.core.signals import request_started
from django.db import close_old_connections
from django.shortcuts import render
from django.test import RequestFactory
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from catalog.forms import CourseFilterForm
from catalog.models import Course
from core.response_cycles import api_response_cycles_break, template_render
from tests.factories import CategoryFactory

MIDDLEWARE = "core.response_cycles.api_response_cycles_break"


def _cyclic_garbage_of_one_request(path: str) -> list:
    """What only the cycle collector would free of one request through the WSGI handler, called
    as gunicorn calls it (body read, then close()), not through the test client, which keeps
    references of its own."""
    handler = WSGIHandler()
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
    }
    statuses = []
    # As Django's test client does: the request must not close the test's connection.
    request_started.disconnect(close_old_connections)
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        result = handler(environ, lambda status, headers, exc_info=None: statuses.append(status))
        body = b"".join(result)
        result.close()
        del result
        gc.collect()
        garbage = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
        request_started.connect(close_old_connections)
    assert statuses == ["200 OK"], (statuses, body[:200])
    return garbage


@pytest.mark.django_db
def test_an_api_response_and_its_data_are_not_left_to_the_cycle_collector():
    CategoryFactory.create_batch(3)
    assert MIDDLEWARE in settings.MIDDLEWARE

    garbage = _cyclic_garbage_of_one_request("/api/v1/categories/")

    assert not [thing for thing in garbage if type(thing) is Response]


@pytest.mark.django_db
def test_without_it_drf_leaves_the_response_in_a_cycle(settings):
    # Why the middleware is there: the same request without it.
    CategoryFactory.create_batch(3)
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != MIDDLEWARE]

    garbage = _cyclic_garbage_of_one_request("/api/v1/categories/")

    assert [thing for thing in garbage if type(thing) is Response]


class _Echo(APIView):
    authentication_classes = ()
    permission_classes = ()

    def get(self, request):
        return Response({"answer": [1, 2, 3]})


def test_a_rendered_response_keeps_its_data_and_drops_the_references_back():
    view = _Echo.as_view()
    response = api_response_cycles_break(lambda request: view(request).render())(
        APIRequestFactory().get("/echo/")
    )

    assert response.data == {"answer": [1, 2, 3]}
    assert response.content == b'{"answer":[1,2,3]}'
    view = response.renderer_context["view"]
    assert "response" not in response.renderer_context
    assert view.response is None
    assert view.request.parser_context == {}


def test_an_unrendered_response_keeps_what_rendering_it_needs():
    view = _Echo.as_view()
    response = api_response_cycles_break(view)(APIRequestFactory().get("/echo/"))

    assert response.renderer_context["view"].response is response
    assert response.render().content == b'{"answer":[1,2,3]}'


class _Shown:
    """A value a view passes to its template."""


def _cyclic_garbage_of_one_rendering(render_page) -> tuple[list, bool]:
    """What only the cycle collector would free of one rendering, and whether a value the view
    passed is still alive after it (a leak would also keep it out of the garbage)."""
    request = RequestFactory().get("/courses/")
    request.user = AnonymousUser()
    shown = _Shown()
    alive = weakref.ref(shown)
    context = {
        "form": CourseFilterForm({}),
        "page": Paginator(Course.objects.none(), 10).get_page(1),
        "shown": shown,
    }
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        response = render_page(request, "catalog/course_list.html", context)
        assert response.status_code == 200 and b"<html" in response.content
        del response, context, shown
        gc.collect()
        return list(gc.garbage), alive() is not None
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


@pytest.mark.django_db
def test_template_render_renders_what_render_does_and_frees_the_context():
    garbage, alive = _cyclic_garbage_of_one_rendering(template_render)

    assert not [thing for thing in garbage if type(thing) is _Shown]
    assert not alive


@pytest.mark.django_db
def test_djangos_render_leaves_the_context_in_a_cycle():
    # Why the views use template_render: the same rendering through Django's shortcut.
    garbage, _ = _cyclic_garbage_of_one_rendering(render)

    assert [thing for thing in garbage if type(thing) is _Shown]


@pytest.mark.django_db
def test_template_render_gives_the_same_page_as_render():
    request = RequestFactory().get("/courses/")
    request.user = AnonymousUser()
    context = {
        "form": CourseFilterForm({}),
        "page": Paginator(Course.objects.none(), 10).get_page(1),
    }
    ours = template_render(request, "catalog/course_list.html", context)
    djangos = render(request, "catalog/course_list.html", context)
    assert (ours.status_code, ours["Content-Type"]) == (
        djangos.status_code,
        djangos["Content-Type"],
    )
    # The CSRF token (64 letters and digits) is masked anew each time it is asked for; the
    # rest is the same page.
    token = re.compile(rb"\b[A-Za-z0-9]{64}\b")
    assert len(token.findall(ours.content)) >= 2
    assert token.sub(b"", ours.content) == token.sub(b"", djangos.content)
