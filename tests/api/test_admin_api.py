import re
from unittest import mock

import pytest
from django.utils import timezone

from recommendations.models import FeedbackEvent, TrainingRun
from recommendations.serving.home_page import home_page_for_member
from tests.factories import FollowedSkillFactory, MemberFactory, UserFactory
from tests.helpers import staff_with, token_client

ADMIN_CALLS = [
    ("post", "/api/v1/admin/retrain/", None),
    ("get", "/api/v1/admin/training-runs/", None),
    ("post", "/api/v1/admin/recommendations/", {"member_ids": [1]}),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS)
def test_admin_endpoints_refuse_members_and_visitors(api, anon, method, path, body):
    refused = getattr(api, method)(path, body, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"] == {
        "code": "permission_denied",
        "message": "You do not have permission to perform this action.",
        "fields": {},
    }
    assert getattr(anon, method)(path, body, format="json").status_code == 401
    assert not TrainingRun.objects.exists()


# Each endpoint with the permissions the admin asks for the same action: the first alone
# suffices, and so does each other one listed.
ADMIN_PERMISSIONS = {
    "/api/v1/admin/retrain/": ["recommendations.change_trainingrun"],
    "/api/v1/admin/training-runs/": [
        "recommendations.view_trainingrun",
        "recommendations.change_trainingrun",
    ],
    "/api/v1/admin/recommendations/": [
        "recommendations.view_memberrecommendations",
        "recommendations.change_memberrecommendations",
    ],
}
NO_SUCH_MEMBER = {"member_ids": [10**12]}


def _call(client, method, path, body):
    with mock.patch("recommendations.api.async_task", return_value="0" * 32) as queued:
        response = getattr(client, method)(path, body, format="json")
    return response, queued


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS)
def test_staff_without_the_admins_permission_get_403(db, method, path, body):
    # Every other recommendations permission, but not the one(s) this endpoint asks for.
    others = [
        perm
        for perms in ADMIN_PERMISSIONS.values()
        for perm in perms
        if perm not in ADMIN_PERMISSIONS[path]
    ] + ["recommendations.add_trainingrun", "recommendations.delete_trainingrun"]
    if path == "/api/v1/admin/retrain/":
        # The admin's view permission does not start a retrain there, nor here.
        others.append("recommendations.view_trainingrun")
    for perms in ([], others):
        response, queued = _call(token_client(staff_with(*perms)), method, path, body)
        assert response.status_code == 403, (perms, response.content)
        assert response.json()["error"]["code"] == "permission_denied"
        assert not queued.called


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS)
def test_staff_with_the_admins_permission_are_served(db, method, path, body):
    body = NO_SUCH_MEMBER if body else None
    expected = 202 if path.endswith("/retrain/") else 200
    for perm in ADMIN_PERMISSIONS[path]:
        response, queued = _call(token_client(staff_with(perm)), method, path, body)
        assert response.status_code == expected, (perm, response.content)
        assert queued.called == (expected == 202)


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS)
def test_the_permission_without_staff_status_or_an_active_account_is_refused(
    db, method, path, body
):
    body = NO_SUCH_MEMBER if body else None
    not_staff = staff_with(*ADMIN_PERMISSIONS[path])
    not_staff.is_staff = False
    not_staff.save()
    inactive = staff_with(*ADMIN_PERMISSIONS[path])
    client = token_client(inactive)
    inactive.is_active = False
    inactive.save()
    assert _call(token_client(not_staff), method, path, body)[0].status_code == 403
    # Token authentication refuses an inactive user before any permission is asked.
    assert _call(client, method, path, body)[0].status_code == 401
    superuser = UserFactory(is_staff=True, is_superuser=True)
    expected = 202 if path.endswith("/retrain/") else 200
    assert _call(token_client(superuser), method, path, body)[0].status_code == expected


def test_retrain_is_queued_and_answers_202_with_the_task_id(staff_api, world):
    response = staff_api.post("/api/v1/admin/retrain/")
    assert response.status_code == 202
    assert re.fullmatch(r"[0-9a-f]{32}", response.json()["task_id"])
    # The test settings run django-q2 tasks inline, so the queued retrain has already run.
    assert TrainingRun.objects.count() >= 1


def test_training_runs_newest_first_with_metrics(staff_api, db):
    now = timezone.now()
    older = TrainingRun.objects.create(
        status="failed", started_at=now - timezone.timedelta(days=1), message="no courses"
    )
    newer = TrainingRun.objects.create(
        status="succeeded", started_at=now, metrics={"precision_at_10": 0.25}, artifact=b"x" * 10
    )
    body = staff_api.get("/api/v1/admin/training-runs/", {"page_size": 1}).json()
    assert body["count"] == 2 and body["num_pages"] == 2
    assert [run["id"] for run in body["results"]] == [newer.pk]
    assert body["results"][0]["metrics"] == {"precision_at_10": 0.25}
    assert "artifact" not in body["results"][0]
    second = staff_api.get("/api/v1/admin/training-runs/", {"page_size": 1, "page": 2}).json()
    assert [(r["id"], r["status"], r["message"]) for r in second["results"]] == [
        (older.pk, "failed", "no courses")
    ]


def test_batch_recommendations_per_member_without_logging(staff_api, world):
    first = MemberFactory(title=world["analyst"], industry=world["finance"])
    FollowedSkillFactory(member=first, skill=world["skills"]["SQL"])
    second = MemberFactory(title=world["designer"], industry=world["media"])
    missing = second.pk + 1000
    response = staff_api.post(
        "/api/v1/admin/recommendations/",
        {"member_ids": [second.pk, missing, first.pk, second.pk], "limit": 3},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert [result["member_id"] for result in body["results"]] == [second.pk, first.pk]
    assert body["missing_member_ids"] == [missing]
    for result, member in zip(body["results"], (second, first), strict=True):
        expected = home_page_for_member(member=member)
        assert [
            (c["key"], [i["course"]["id"] for i in c["courses"]]) for c in result["carousels"]
        ] == [(c.key, [card.course.pk for card in c.cards[:3]]) for c in expected.carousels]
    assert not FeedbackEvent.objects.exists()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {"member_ids": list(range(1, 102))},
            {"member_ids": ["Ensure this field has no more than 100 elements."]},
        ),
        ({"member_ids": []}, {"member_ids": ["Ensure this field has at least 1 elements."]}),
        ({"member_ids": ["x"]}, {"member_ids.0": ["A valid integer is required."]}),
        (
            {"member_ids": [1], "limit": 99},
            {"limit": ["Ensure this value is less than or equal to 12."]},
        ),
    ],
)
def test_batch_recommendations_refuse_bad_input(staff_api, db, body, fields):
    response = staff_api.post("/api/v1/admin/recommendations/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == fields
