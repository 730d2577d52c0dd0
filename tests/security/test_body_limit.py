"""Request bodies under /api/ are limited to API_MAX_BODY_BYTES (1 MiB by default) before anything
reads or parses them (core/body_limit.py); the site's forms keep Django's own limits."""

import io
import json
import logging
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from members.api import TokenView
from recommendations.models import FeedbackEvent
from tests.factories import PASSWORD, MemberFactory
from tests.helpers import token_client

TOKEN = "/api/v1/auth/token/"
LIMIT = 1024 * 1024
FIVE_MIB = 5 * 1024 * 1024
TOO_LARGE = {
    "error": {
        "code": "request_too_large",
        "message": f"The request body is larger than the API accepts ({LIMIT} bytes).",
        "fields": {},
    }
}


class CountingStream(io.BytesIO):
    """A request body stream that records how many bytes were read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def _credentials_body(username: str, size: int) -> bytes:
    """Valid JSON credentials padded with trailing whitespace to exactly `size` bytes."""
    body = json.dumps({"username": username, "password": PASSWORD}).encode()
    assert len(body) <= size
    return body + b" " * (size - len(body))


def _post_sized(client: Client, path: str, stream: CountingStream, length: int, **extra):
    return client.generic(
        "POST",
        path,
        CONTENT_TYPE="application/json",
        **{"wsgi.input": stream, "CONTENT_LENGTH": str(length)},
        **extra,
    )


def _post_chunked(client: Client, path: str, stream: CountingStream, **extra):
    # What gunicorn hands over for `Transfer-Encoding: chunked`: no CONTENT_LENGTH, and a
    # wsgi.input that ends where the body ends.
    return client.generic(
        "POST",
        path,
        CONTENT_TYPE="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": stream, "wsgi.input_terminated": True},
        **extra,
    )


@pytest.fixture
def learner(db):
    return MemberFactory(user__username="learner").user


def test_the_default_limit_is_one_mebibyte(settings):
    assert settings.API_MAX_BODY_BYTES == LIMIT


def test_a_5_mib_body_is_refused_with_413_unread_and_the_view_never_runs(db, caplog):
    stream = CountingStream(b"{" + b" " * (FIVE_MIB - 1))
    caplog.set_level(logging.DEBUG)
    with mock.patch.object(TokenView, "post") as view:
        response = _post_sized(Client(), TOKEN, stream, FIVE_MIB)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == TOO_LARGE
    assert not view.called
    assert stream.bytes_read == 0
    assert not [record for record in caplog.records if record.exc_info]


def test_a_chunked_body_over_the_limit_is_refused_after_reading_limit_plus_one(db, caplog):
    stream = CountingStream(b"{" + b" " * (FIVE_MIB - 1))
    caplog.set_level(logging.DEBUG)
    with mock.patch.object(TokenView, "post") as view:
        response = _post_chunked(Client(), TOKEN, stream)
    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert not view.called
    assert stream.bytes_read == LIMIT + 1
    assert not [record for record in caplog.records if record.exc_info]


def test_a_body_exactly_at_the_limit_passes_and_one_byte_more_does_not(learner):
    at_limit = _credentials_body("learner", LIMIT)
    response = _post_sized(Client(), TOKEN, CountingStream(at_limit), LIMIT)
    assert response.status_code == 200, response.content
    assert _authenticates(response.json()["token"])
    over = at_limit + b" "
    response = _post_sized(Client(), TOKEN, CountingStream(over), LIMIT + 1)
    assert response.status_code == 413
    assert response.json() == TOO_LARGE


def test_a_chunked_body_within_the_limit_reaches_the_view(learner):
    stream = CountingStream(_credentials_body("learner", LIMIT))
    response = _post_chunked(Client(), TOKEN, stream)
    assert response.status_code == 200, response.content
    assert _authenticates(response.json()["token"])
    assert stream.bytes_read == LIMIT


def test_the_limit_comes_from_the_setting(learner, settings):
    settings.API_MAX_BODY_BYTES = 100
    body = _credentials_body("learner", 101)
    response = _post_sized(Client(), TOKEN, CountingStream(body), 101)
    assert response.status_code == 413
    assert response.json()["error"]["message"] == (
        "The request body is larger than the API accepts (100 bytes)."
    )
    body = _credentials_body("learner", 100)
    assert _post_sized(Client(), TOKEN, CountingStream(body), 100).status_code == 200


def test_an_oversized_event_batch_writes_nothing(member, world):
    course = world["courses"]["SQL Essential Training"]
    event = {"event_id": None, "type": "impression", "course_id": course.pk}
    events = [{**event, "event_id": f"00000000-0000-4000-8000-{i:012d}"} for i in range(500)]
    body = json.dumps({"events": events, "padding": " " * LIMIT}).encode()
    api = token_client(member.user)
    response = api.generic("POST", "/api/v1/events/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert not FeedbackEvent.objects.exists()


def test_site_forms_keep_djangos_limits(learner):
    # 2 MiB of form data: over the API's limit, under DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB).
    response = Client().post(
        reverse("members:login"), {"username": "learner", "password": "x" * (2 * LIMIT)}
    )
    assert response.status_code == 200
    assert b"request_too_large" not in response.content


def _authenticates(token: str) -> bool:
    """Whether the token the view issued signs a request in."""
    return Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
