"""Authentication, the error shape, refusals common to every endpoint, schema and docs."""

import datetime as dt
import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from members.models import ApiToken
from members.services import api_token_digest
from tests.factories import PASSWORD, UserFactory
from tests.helpers import token_client


def error(response) -> dict:
    return response.json()["error"]


def test_no_credentials_is_401_with_the_error_shape_and_a_token_challenge(anon, db):
    response = anon.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "error": {
            "code": "not_authenticated",
            "message": "Authentication credentials were not provided.",
            "fields": {},
        }
    }


def test_an_unknown_token_is_401(anon, db):
    anon.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = anon.get("/api/v1/me/")
    assert response.status_code == 401
    assert error(response) == {
        "code": "authentication_failed",
        "message": "Invalid token.",
        "fields": {},
    }


def test_token_obtain_returns_a_new_hashed_expiring_token_each_time(anon, member, settings):
    settings.API_TOKEN_TTL_HOURS = 2
    body = {"username": member.user.username, "password": PASSWORD}
    first = anon.post("/api/v1/auth/token/", body, format="json")
    again = anon.post("/api/v1/auth/token/", body, format="json")
    assert first.status_code == again.status_code == 200
    assert set(first.json()) == {"token", "expires"}
    assert first.json()["token"] != again.json()["token"]
    stored = ApiToken.objects.get(digest=api_token_digest(key=first.json()["token"]))
    # Only the digest is kept, never the key.
    assert first.json()["token"] not in {stored.digest, stored.prefix}
    assert stored.expires_at - stored.created_at == dt.timedelta(hours=2)
    assert first.json()["expires"] == stored.expires_at.isoformat().replace("+00:00", "Z")
    for token in (first.json()["token"], again.json()["token"]):
        anon.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert anon.get("/api/v1/me/").status_code == 200


def test_an_expired_token_is_401(api, member):
    ApiToken.objects.update(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    assert error(response)["message"] == "Token expired; obtain a new one."


def test_token_obtain_refuses_wrong_password_and_missing_fields(anon, member):
    wrong = anon.post(
        "/api/v1/auth/token/",
        {"username": member.user.username, "password": "nope"},
        format="json",
    )
    assert wrong.status_code == 400
    assert error(wrong) == {
        "code": "invalid",
        "message": "Unable to log in with these credentials.",
        "fields": {},
    }
    missing = anon.post("/api/v1/auth/token/", {}, format="json")
    assert missing.status_code == 400
    assert error(missing)["fields"] == {
        "username": ["This field is required."],
        "password": ["This field is required."],
    }
    assert not ApiToken.objects.exists()


def test_a_revoked_token_no_longer_authenticates_and_others_stay(api, member):
    other = token_client(member.user)
    assert api.delete("/api/v1/auth/token/").status_code == 204
    assert ApiToken.objects.filter(user=member.user).count() == 1
    assert api.get("/api/v1/me/").status_code == 401
    assert other.get("/api/v1/me/").status_code == 200


def test_malformed_json_is_400_parse_error(api):
    response = api.generic(
        "PUT", "/api/v1/me/onboarding/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert error(response)["code"] == "parse_error"
    assert error(response)["message"].startswith("JSON parse error")


def test_a_form_body_is_415(api):
    response = api.post(
        "/api/v1/events/", "events=1", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert error(response)["code"] == "unsupported_media_type"


def test_wrong_method_is_405(api):
    # (DELETE /api/v1/me/ deletes the account: tests/web/test_accounts.py.)
    response = api.delete("/api/v1/me/learning/")
    assert response.status_code == 405
    assert error(response) == {
        "code": "method_not_allowed",
        "message": 'Method "DELETE" not allowed.',
        "fields": {},
    }


def test_an_unknown_api_path_is_a_json_404(api):
    response = api.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "No API endpoint at this path.", "fields": {}}
    }


def test_a_post_without_trailing_slash_is_a_404_that_says_so(api):
    response = api.post("/api/v1/events", {"events": []}, format="json")
    assert response.status_code == 404
    assert error(response)["message"] == (
        "No API endpoint at this path. Did you mean /api/v1/events/ ? "
        "Every API path ends with a slash."
    )


def test_a_signed_in_post_to_a_path_with_a_refused_id_is_a_json_404_not_a_csrf_page(member):
    # A session-authenticated browser posting without a CSRF token to a path that names no
    # endpoint (a person id that is not a number) gets the API's 404, not Django's HTML 403.
    client = Client(enforce_csrf_checks=True)
    client.login(username=member.user.username, password=PASSWORD)
    response = client.post("/api/v1/people/%C2%84/click/", {}, content_type="application/json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert error(response)["code"] == "not_found"


def test_an_id_too_large_for_the_database_is_404(api):
    assert api.get("/api/v1/courses/99999999999999999999999/").status_code == 404
    assert api.get("/api/v1/courses/99999999999999999999999/similar/").status_code == 404


def test_session_authentication_needs_the_csrf_token_for_writes(member):
    client = Client(enforce_csrf_checks=True)
    client.login(username=member.user.username, password=PASSWORD)
    assert client.get("/api/v1/me/").status_code == 200
    response = client.put("/api/v1/me/onboarding/", json.dumps({}), content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "CSRF" in response.json()["error"]["message"]


def test_anonymous_requests_are_throttled(anon, db):
    from rest_framework.throttling import AnonRateThrottle

    limit = int(AnonRateThrottle().get_rate().split("/")[0])
    statuses = [anon.get("/api/v1/categories/").status_code for _ in range(limit + 1)]
    assert statuses[:limit] == [200] * limit
    assert statuses[limit] == 429
    last = anon.get("/api/v1/categories/")
    assert error(last)["code"] == "throttled"
    assert int(last.headers["Retry-After"]) > 0


def test_schema_documents_every_endpoint_with_errors(anon, db):
    response = anon.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert sorted(paths) == [
        "/api/v1/admin/recommendations/",
        "/api/v1/admin/retrain/",
        "/api/v1/admin/training-runs/",
        "/api/v1/auth/password-reset/",
        "/api/v1/auth/token/",
        "/api/v1/categories/",
        "/api/v1/courses/",
        "/api/v1/courses/{course_id}/",
        "/api/v1/courses/{course_id}/similar/",
        "/api/v1/events/",
        "/api/v1/me/",
        "/api/v1/me/export/",
        "/api/v1/me/goal/",
        "/api/v1/me/learning/",
        "/api/v1/me/onboarding/",
        "/api/v1/me/password/",
        "/api/v1/people/",
        "/api/v1/people/{person_id}/click/",
        "/api/v1/people/{person_id}/hide/",
        "/api/v1/recommendations/",
        "/api/v1/recommendations/rerank/",
        "/api/v1/skills/",
        "/api/v1/skills/{slug}/",
        "/api/v1/titles/",
    ]
    for path, operations in paths.items():
        for method, operation in operations.items():
            errors = [code for code in operation["responses"] if code.startswith("4")]
            assert errors, f"{method.upper()} {path} documents no error response"
            for code in errors:
                schema = operation["responses"][code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}


@pytest.mark.django_db
def test_docs_page_renders_with_local_assets_only():
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "https://" not in page
    # Its script is a file of its own (no inline script, for the Content-Security-Policy).
    assert '<script src="/api/docs/?script="></script>' in page
    assert "<script>" not in page and "<style" not in page
    script = APIClient().get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()


def test_a_member_without_member_row_gets_one(db):
    user = UserFactory()
    client = APIClient()
    client.force_authenticate(user)
    response = client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["username"] == user.username
    assert response.json()["needs_onboarding"] is True


def test_token_obtain_works_for_a_client_that_also_holds_a_session(member):
    client = Client(enforce_csrf_checks=True)
    client.login(username=member.user.username, password=PASSWORD)
    response = client.post(
        "/api/v1/auth/token/",
        json.dumps({"username": member.user.username, "password": PASSWORD}),
        content_type="application/json",
    )
    assert response.status_code == 200
    key = response.json()["token"]
    assert ApiToken.objects.get(user=member.user).digest == api_token_digest(key=key)


def test_a_path_with_a_newline_is_a_json_404(api):
    response = api.get("/api/v1/skills/a%0A/")
    assert response.status_code == 404
    assert error(response)["code"] == "not_found"


def test_server_errors_keep_the_json_shape_under_api_and_the_page_elsewhere(rf):
    from core.api_errors import server_error

    api = server_error(rf.get("/api/v1/recommendations/"))
    assert api.status_code == 500
    assert json.loads(api.content)["error"]["code"] == "server_error"
    site = server_error(rf.get("/"))
    assert site.status_code == 500
    assert b"<html" in site.content.lower()
