"""Property-based run of schemathesis against the project's own OpenAPI schema.

Every operation is called with generated input (valid and invalid) by an authenticated member
and by staff; whatever it sends, the API answers without a server error, with a status the schema
documents, a body matching the documented schema and the documented content type.
"""

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import FollowedSkillFactory, MemberFactory
from tests.helpers import STAFF_API_PERMISSIONS, staff_with, token_client

# Examples per operation and phase; with 17 operations this is several hundred requests.
MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# Loaded at collection: serving the schema reads no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())


def _token(client) -> str:
    return client._credentials["HTTP_AUTHORIZATION"]


@pytest.fixture
def keep_test_connection():
    """Keep the test's database connection open across requests, as Django's test client does.

    A plain WSGI handler closes connections when a request finishes; on PostgreSQL that would
    close the connection holding the test's transaction.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(world, keep_test_connection):
    member = MemberFactory(title=world["analyst"], industry=world["finance"])
    FollowedSkillFactory(member=member, skill=world["skills"]["SQL"])
    return {
        "member": _token(token_client(member.user)),
        "staff": _token(token_client(staff_with(*STAFF_API_PERMISSIONS))),
    }


def _aim_at_real_rows(case, world) -> None:
    """Point half the generated ids at rows that exist, so the fuzzing reaches past the 404s
    into the code that reads and changes real courses (random integers almost never exist)."""
    course_ids = sorted(course.pk for course in world["courses"].values())
    params = case.path_parameters or {}
    if isinstance(params.get("course_id"), int) and params["course_id"] % 2 == 0:
        params["course_id"] = course_ids[params["course_id"] % len(course_ids)]
    if isinstance(params.get("slug"), str) and len(params["slug"]) % 2 == 0:
        params["slug"] = "sql"
    events = case.body.get("events") if isinstance(case.body, dict) else None
    for event in events if isinstance(events, list) else []:
        if isinstance(event, dict) and isinstance(event.get("course_id"), int):
            event["course_id"] = course_ids[event["course_id"] % len(course_ids)]


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_every_generated_request_without_a_server_error(case, tokens, world):
    _aim_at_real_rows(case, world)
    # Staff fuzzes the admin endpoints, except the retrain queue: test settings run tasks
    # inline, so every call would be a full retrain (its own tests cover it).
    staff = case.path.startswith("/api/v1/admin/") and case.path != "/api/v1/admin/retrain/"
    response = case.call(headers={"Authorization": tokens["staff" if staff else "member"]})
    case.validate_response(response, checks=CHECKS)
