"""A member's own data: the export ("Download my data", `GET /api/v1/me/export/`) and the
account deletion (`DELETE /api/v1/me/`, "Delete my account", the member admin's action)."""

import datetime as dt
import json
import uuid

import numpy as np
import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import LearningPath, LearningPathStep
from members.models import ApiToken, FollowedPath, Member
from recommendations.digest.sending import digests_send
from recommendations.models import (
    ComposedPage,
    CourseFeedbackDay,
    DigestItem,
    DigestSend,
    Dismissal,
    Experiment,
    ExperimentAssignment,
    FeedbackEvent,
    MemberRecommendations,
    ReasonFeedback,
    TrainingRun,
)
from recommendations.ranker.serving import ranker_loads
from recommendations.serving.home_page import home_page_compose_next
from recommendations.training.learned import learned_models_loads
from recommendations.training.precompute import member_recommendations_refresh
from recommendations.training.runs import training_run_execute
from tests.factories import (
    PASSWORD,
    BookmarkFactory,
    EnrolmentFactory,
    FollowedSkillFactory,
    MemberFactory,
    MemberSkillFactory,
    UserFactory,
)
from tests.helpers import experiment_create, staff_with, token_client

User = get_user_model()


@pytest.fixture
def api(member):
    return token_client(member.user)


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def other_member(db):
    return MemberFactory()


def _impressions(member, world, *, count: int) -> None:
    """`count` impressions of one course on one page view, with their counts."""
    course, skill = world["courses"]["SQL Window Functions"], world["skills"]["SQL"]
    now, page_view = timezone.now(), uuid.uuid4()
    for index in range(count):
        FeedbackEvent.objects.create(
            kind=FeedbackEvent.Kind.IMPRESSION,
            member=member,
            course=course,
            page_view_id=page_view,
            reason="follow",
            reason_key=f"follow:{skill.pk}",
            strategy="rules",
            carousel_position=0,
            position=index,
            created_at=now - dt.timedelta(minutes=index),
        )
    CourseFeedbackDay.objects.create(
        member=member, course=course, day=now.date(), impressions=count
    )
    ReasonFeedback.objects.create(member=member, reason="follow", impressions=count)


def _history(member, world, *, events: int = 3) -> None:
    """Something of every kind the site keeps about a member."""
    courses, skills = world["courses"], world["skills"]
    now = timezone.now()
    FollowedSkillFactory(member=member, skill=skills["SQL"])
    MemberSkillFactory(member=member, skill=skills["Python"], weight=0.5)
    EnrolmentFactory(
        member=member,
        course=courses["SQL Essential Training"],
        enrolled_at=now - dt.timedelta(days=3),
        progress_percent=40,
    )
    BookmarkFactory(member=member, course=courses["Learning Python"], created_at=now)
    Dismissal.objects.create(member=member, course=courses["Photoshop Retouching"])
    path = LearningPath.objects.create(title="SQL from zero", slug=f"sql-from-zero-{member.pk}")
    LearningPathStep.objects.create(path=path, course=courses["SQL for Beginners"], position=1)
    FollowedPath.objects.create(member=member, path=path, followed_at=now)
    _impressions(member, world, count=events)
    experiment = Experiment.objects.filter(key="home").first() or experiment_create(
        ("control", "default", 1), key="home"
    )
    ExperimentAssignment.objects.create(
        experiment=experiment,
        member=member,
        variant=experiment.variants.get(code="control"),
        assigned_at=now,
    )


def _member_keyed_rows(*, user_id: int, member_id: int, username: str) -> dict[str, int]:
    """Rows of every installed model that point at the user or the member (walked through the
    models' relations, so a table added later is checked too), their sessions and their login
    records. Empty when nothing of them is left."""
    found = {}
    targets = {User: user_id, Member: member_id}
    for model in apps.get_models(include_auto_created=True):
        for target, key in targets.items():
            if model is target:
                count = model._default_manager.filter(pk=key).count()
                if count:
                    found[model._meta.label] = count
        for field in model._meta.get_fields():
            if not (field.concrete and field.is_relation and field.related_model in targets):
                continue
            count = model._default_manager.filter(
                **{field.attname: targets[field.related_model]}
            ).count()
            if count:
                found[f"{model._meta.label}.{field.name}"] = count
    sessions = sum(
        1
        for session in Session.objects.all()
        if session.get_decoded().get("_auth_user_id") == str(user_id)
    )
    if sessions:
        found["sessions"] = sessions
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        count = model.objects.filter(username=username).count()
        if count:
            found[model._meta.label] = count
    return found


def _login_records(username: str) -> None:
    common = {
        "username": username,
        "ip_address": "10.0.0.1",
        "user_agent": "test",
        "http_accept": "*/*",
        "path_info": "/accounts/login/",
    }
    AccessLog.objects.create(**common)
    AccessFailureLog.objects.create(**common)
    AccessAttempt.objects.create(**common, get_data="", post_data="", failures_since_start=1)


def _artifact_member_ids(run: TrainingRun) -> set[int]:
    """Member ids in the run's stored artifacts (read back: an instance may lack them)."""
    run = TrainingRun.objects.get(pk=run.pk)
    held: set[int] = set()
    if run.model_artifact:
        held |= set(learned_models_loads(bytes(run.model_artifact)).member_ids.tolist())
    if run.ranker_artifact:
        ranker = ranker_loads(bytes(run.ranker_artifact))
        if ranker is not None:
            held |= set(np.asarray(ranker.member_ids).tolist())
    return held


# Deletion through the API


@pytest.fixture
def learning(settings):
    """Retrains on the small `world` learn a model (it holds few interactions)."""
    settings.RECOMMENDATIONS = {**settings.RECOMMENDATIONS, "LEARNED_MIN_INTERACTIONS": 10}


def test_delete_me_removes_every_row_and_the_next_retrain_leaves_no_artifact_holding_them(
    world, learning
):
    member = MemberFactory(title=world["analyst"], industry=world["finance"])
    keeper = MemberFactory(title=world["analyst"], industry=world["finance"])
    # A run holds every member there is when it trains; the history comes after, so the
    # small world's evaluation (and the model it learns) stays the same in both retrains.
    served = training_run_execute(trigger="test")
    assert served.is_active and served.kind == TrainingRun.Kind.LEARNED, served.message
    _history(member, world)
    _impressions(keeper, world, count=3)
    assert member_recommendations_refresh(member_id=member.pk)
    older = TrainingRun.objects.create(
        status=TrainingRun.Status.SUCCEEDED,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        artifact=b"snapshot",
        model_artifact=b"models",
    )
    assert member.pk in _artifact_member_ids(served)
    assert MemberRecommendations.objects.filter(member=member).exists()
    assert home_page_compose_next(member=member)
    assert ComposedPage.objects.filter(member=member).exists()
    Member.objects.filter(pk__in=[member.pk, keeper.pk]).update(digest_opt_in=True)
    assert digests_send().sent == 2
    sent = DigestSend.objects.get(member=member)
    user_id, member_id, username = member.user_id, member.pk, member.user.username
    _login_records(username)
    site = Client()
    assert site.login(username=username, password=PASSWORD)
    api = token_client(member.user)
    before = _member_keyed_rows(user_id=user_id, member_id=member_id, username=username)
    for table in (
        "members.Member",
        "members.FollowedSkill.member",
        "members.FollowedPath.member",
        "members.MemberSkill.member",
        "members.Enrolment.member",
        "members.Bookmark.member",
        "members.ApiToken.user",
        "recommendations.Dismissal.member",
        "recommendations.FeedbackEvent.member",
        "recommendations.CourseFeedbackDay.member",
        "recommendations.ReasonFeedback.member",
        "recommendations.MemberRecommendations.member",
        "recommendations.ComposedPage.member",
        "recommendations.ExperimentAssignment.member",
        "recommendations.DigestSend.member",
        "sessions",
        "axes.AccessLog",
        "axes.AccessAttempt",
    ):
        assert table in before, table

    response = api.delete("/api/v1/me/", {"password": PASSWORD}, format="json")

    assert response.status_code == 204
    assert _member_keyed_rows(user_id=user_id, member_id=member_id, username=username) == {}
    # What the digest showed goes with it (keyed to the digest, not the member).
    assert not DigestItem.objects.filter(send_id=sent.pk).exists()
    assert DigestSend.objects.filter(member=keeper).exists()
    # The other member keeps everything.
    assert Member.objects.filter(pk=keeper.pk).exists()
    assert FeedbackEvent.objects.filter(member=keeper).count() == 3
    # The run that could be pruned at once is; the serving one keeps serving, marked.
    older.refresh_from_db()
    assert (older.artifact, older.model_artifact, older.ranker_artifact) == (None, None, None)
    served.refresh_from_db()
    assert served.is_active and served.holds_deleted_members and served.model_artifact
    # Neither the token nor the password opens anything any more.
    assert api.get("/api/v1/me/").status_code == 401
    assert not Client().login(username=username, password=PASSWORD)
    assert (
        APIClient()
        .post("/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json")
        .status_code
        == 400
    )

    replacement = training_run_execute(trigger="test")

    assert replacement.is_active
    served.refresh_from_db()
    assert (served.artifact, served.model_artifact, served.ranker_artifact) == (None, None, None)
    assert not served.holds_deleted_members
    for run in TrainingRun.objects.all():
        assert member_id not in _artifact_member_ids(run), run
    assert keeper.pk in _artifact_member_ids(replacement)


def test_delete_me_with_a_wrong_password_is_refused_and_deletes_nothing(api, member):
    response = api.delete("/api/v1/me/", {"password": "not-it"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"password": ["The password is not correct."]}
    assert Member.objects.filter(pk=member.pk).exists()
    assert User.objects.filter(pk=member.user_id).exists()


def test_delete_me_without_a_password_is_a_field_error(api, member):
    response = api.delete("/api/v1/me/", {}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["password"]
    assert Member.objects.filter(pk=member.pk).exists()


def test_delete_me_needs_authentication(anon, member):
    response = anon.delete("/api/v1/me/", {"password": PASSWORD}, format="json")
    assert response.status_code == 401
    assert Member.objects.filter(pk=member.pk).exists()


def test_delete_me_with_another_members_password_is_refused(api, member, other_member):
    other_member.user.set_password("the-other-ones-password")
    other_member.user.save()
    response = api.delete("/api/v1/me/", {"password": "the-other-ones-password"}, format="json")
    assert response.status_code == 400
    assert Member.objects.filter(pk__in=[member.pk, other_member.pk]).count() == 2


def test_wrong_passwords_count_toward_the_login_lockout(settings, api, member):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 2
    assert api.delete("/api/v1/me/", {"password": "guess"}, format="json").status_code == 400
    # The failure that reaches the limit locks the account out, as at the login form ...
    response = api.delete("/api/v1/me/", {"password": "guess"}, format="json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "locked_out"
    # ... and then even the right password is refused.
    response = api.delete("/api/v1/me/", {"password": PASSWORD}, format="json")
    assert response.status_code == 429
    assert Member.objects.filter(pk=member.pk).exists()


# Deletion on the site


def test_delete_my_account_page_asks_for_the_password(member_client):
    response = member_client.get(reverse("web:account_delete"))
    assert response.status_code == 200
    assert b'name="password"' in response.content
    assert b"Delete my account" in response.content


def test_delete_my_account_with_a_wrong_password_shows_the_error(member_client, member):
    response = member_client.post(reverse("web:account_delete"), {"password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"password": ["The password is not correct."]}
    assert Member.objects.filter(pk=member.pk).exists()


def test_delete_my_account_signs_out_and_login_fails(member_client, member):
    username = member.user.username
    response = member_client.post(reverse("web:account_delete"), {"password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert not Member.objects.filter(pk=member.pk).exists()
    assert "_auth_user_id" not in member_client.session
    assert member_client.get(reverse("members:profile")).status_code == 302
    assert not Client().login(username=username, password=PASSWORD)


def test_account_pages_need_login(client):
    for name in ("web:account_delete", "web:account_export"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response.url.startswith(reverse("members:login"))


def test_profile_links_the_download_and_the_deletion(member_client):
    content = member_client.get(reverse("members:profile")).content.decode()
    assert reverse("web:account_export") in content
    assert reverse("web:account_delete") in content


# Deletion from the admin


def _admin_delete(client, *members, confirm: bool):
    data = {"action": "delete_accounts", "_selected_action": [m.pk for m in members]}
    if confirm:
        data["confirm"] = "yes"
    return client.post(reverse("admin:members_member_changelist"), data)


def test_admin_action_confirms_then_deletes(client, world):
    admin = staff_with("members.view_member", "members.delete_member")
    client.force_login(admin)
    member = MemberFactory()
    _history(member, world)
    user_id, username = member.user_id, member.user.username
    page = _admin_delete(client, member, confirm=False)
    assert page.status_code == 200
    assert username in page.content.decode()
    assert Member.objects.filter(pk=member.pk).exists()
    done = _admin_delete(client, member, confirm=True)
    assert done.status_code == 302
    assert _member_keyed_rows(user_id=user_id, member_id=member.pk, username=username) == {}


def test_admin_action_needs_the_delete_permission(db, client):
    viewer = staff_with("members.view_member")
    client.force_login(viewer)
    member = MemberFactory()
    response = _admin_delete(client, member, confirm=True)
    # Without the permission the action is not offered (nor Django's own "Delete selected"):
    # the changelist comes back without actions, and nothing is deleted.
    assert response.status_code == 200
    assert response.context["action_form"] is None
    assert Member.objects.filter(pk=member.pk).exists()
    assert User.objects.filter(pk=member.user_id).exists()


def test_admin_action_refuses_a_superuser_to_a_staff_member(db, client):
    admin = staff_with("members.view_member", "members.delete_member")
    client.force_login(admin)
    boss = MemberFactory(user=UserFactory(is_superuser=True, is_staff=True))
    _admin_delete(client, boss, confirm=True)
    assert Member.objects.filter(pk=boss.pk).exists()


def test_admin_action_refuses_the_admins_own_account(db, client):
    admin = staff_with("members.view_member", "members.delete_member")
    own = MemberFactory(user=admin)
    client.force_login(admin)
    _admin_delete(client, own, confirm=True)
    assert Member.objects.filter(pk=own.pk).exists()


# Export


def test_export_holds_the_members_data_and_nobody_elses(world, learning):
    member = MemberFactory(title=world["analyst"], industry=world["finance"])
    other = MemberFactory()
    assert training_run_execute(trigger="test").kind == TrainingRun.Kind.LEARNED
    _history(member, world, events=5)
    _history(other, world, events=2)
    assert member_recommendations_refresh(member_id=member.pk)
    ApiToken.objects.filter(user=member.user).delete()
    api = token_client(member.user)

    response = api.get("/api/v1/me/export/")

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="skillpath-my-data-')
    body = json.loads(b"".join(response.streaming_content))
    assert body["format"] == "skillpath-member-export/1"
    assert body["account"]["username"] == member.user.username
    assert body["profile"]["member_id"] == member.pk
    assert body["profile"]["occupation"] == {"id": world["analyst"].pk, "name": "Data Analyst"}
    assert [row["skill"] for row in body["followed_skills"]] == ["SQL"]
    assert [row["path"] for row in body["followed_paths"]] == ["SQL from zero"]
    assert body["profile"]["goal"] == "" and body["profile"]["goal_occupation"] is None
    assert [(row["skill"], row["weight"]) for row in body["profile_skills"]] == [("Python", 0.5)]
    assert [(row["course"], row["progress_percent"]) for row in body["enrolments"]] == [
        ("SQL Essential Training", 40)
    ]
    assert [row["course"] for row in body["bookmarks"]] == ["Learning Python"]
    assert [row["course"] for row in body["dismissals"]] == ["Photoshop Retouching"]
    assert len(body["feedback_events"]) == 5
    assert {row["kind"] for row in body["feedback_events"]} == {"impression"}
    assert body["feedback_by_reason"] == [{"reason": "follow", "impressions": 5, "clicks": 0}]
    assert [row["impressions"] for row in body["feedback_by_day"]] == [5]
    assert [(row["experiment"], row["variant"]) for row in body["experiment_assignments"]] == [
        ("home", "control")
    ]
    assert len(body["api_tokens"]) == 1 and "digest" not in body["api_tokens"][0]
    homepage = body["recommendations"]["homepage"]
    assert homepage and all(carousel["label"] and carousel["courses"] for carousel in homepage)
    assert all(card["explanation"] for carousel in homepage for card in carousel["courses"])
    learned = body["recommendations"]["learned_row"]
    assert learned["run_id"] == TrainingRun.objects.get(is_active=True).pk
    assert {row["reason"] for row in learned["candidates"]} <= {"als", "watched", "text"}
    # Nothing of the other member's.
    other_events = {str(e) for e in other.feedback_events.values_list("event_id", flat=True)}
    assert not other_events & {row["event_id"] for row in body["feedback_events"]}
    assert other.user.username not in json.dumps(body)


def test_export_streams_a_long_history_in_chunks(api, member, world, settings, monkeypatch):
    monkeypatch.setattr("web.selectors.EXPORT_CHUNK_ROWS", 10)
    course = world["courses"]["SQL Window Functions"]
    now = timezone.now()
    FeedbackEvent.objects.bulk_create(
        FeedbackEvent(
            kind=FeedbackEvent.Kind.IMPRESSION,
            member=member,
            course=course,
            created_at=now - dt.timedelta(seconds=index),
        )
        for index in range(45)
    )
    response = api.get("/api/v1/me/export/")
    chunks = list(response.streaming_content)
    body = json.loads(b"".join(chunks))
    assert len(body["feedback_events"]) == 45
    # Oldest first.
    times = [row["created_at"] for row in body["feedback_events"]]
    assert times == sorted(times)
    # The 45 events went out as 5 chunks of at most 10, not as one.
    assert sum(1 for chunk in chunks if chunk.count(b'"event_id"') == 10) == 4


def test_export_needs_authentication(anon):
    assert anon.get("/api/v1/me/export/").status_code == 401


def test_export_ignores_an_id_in_the_query(api, member, other_member):
    body = json.loads(
        b"".join(api.get(f"/api/v1/me/export/?member={other_member.pk}").streaming_content)
    )
    assert body["profile"]["member_id"] == member.pk


def test_download_my_data_on_the_site(member_client, member):
    response = member_client.get(reverse("web:account_export"))
    assert response.status_code == 200
    body = json.loads(b"".join(response.streaming_content))
    assert body["account"]["username"] == member.user.username
    assert response["Cache-Control"] == "no-store"


def test_export_and_delete_are_in_the_openapi_schema(anon):
    schema = anon.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "delete" in schema["paths"]["/api/v1/me/"]
    export = schema["paths"]["/api/v1/me/export/"]["get"]
    ref = export["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/MemberExport")
    fields = schema["components"]["schemas"]["MemberExport"]["properties"]
    assert {"enrolments", "followed_skills", "feedback_events", "recommendations"} <= set(fields)
