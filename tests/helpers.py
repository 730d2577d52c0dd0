"""Plain functions shared by test modules of more than one file (fixtures shared by more than
one folder live in tests/conftest.py; objects are built with tests/factories.py)."""

import datetime as dt
import io
import uuid
from pathlib import Path

from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.utils import timezone
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate

from members.models import FollowedSkill
from members.services import api_token_create
from recommendations.api import RecommendationsView
from recommendations.feedback.page_views import page_view_cards
from recommendations.models import (
    CourseFeedbackDay,
    Experiment,
    ExperimentVariant,
    PageView,
    ReasonFeedback,
)
from tests.factories import MemberFactory, UserFactory


def token_client(user) -> APIClient:
    """An API client authenticated as `user` with a new token."""
    client = APIClient()
    _, key = api_token_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


# What the API's admin endpoints ask of a staff account (core/api_permissions.py).
STAFF_API_PERMISSIONS = [
    "recommendations.change_trainingrun",
    "recommendations.view_memberrecommendations",
]


def staff_with(*perms: str):
    """A staff user (not a superuser) holding `perms`, each "app_label.codename"."""
    user = UserFactory(is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def new_analyst(world, *follow: str):
    """A new Data Analyst in Finance of the `world` fixture, following the skills named."""
    member = MemberFactory(title=world["analyst"], industry=world["finance"])
    for name in follow:
        FollowedSkill.objects.create(member=member, skill=world["skills"][name])
    return member


def response_close(response):
    """`response.close()` as the WSGI server calls it, keeping the test's database connection:
    the request_finished handler that returns it would close the test's transaction (Django's
    test client disconnects it the same way)."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def recommendations_served(member):
    """The recommendations API's rendered response for `member`, not closed yet (see
    `response_close`)."""
    request = APIRequestFactory().get("/api/v1/recommendations/")
    force_authenticate(request, user=member.user)
    response = RecommendationsView.as_view()(request)
    response.render()
    return response


def page_view_pending(page_view_id: str) -> bool:
    """Whether some database session holds the page view's pending lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND ((classid::bigint << 32) | objid::bigint) = %s",
            [uuid.UUID(page_view_id).int & (2**63 - 1)],
        )
        return cursor.fetchone()[0] > 0


def experiment_create(
    *variants, key="exp", starts=None, ends=None, exploration=0.0, channel="homepage"
) -> Experiment:
    """An experiment on `channel` (started a day ago unless `starts`) with `variants` as
    (code, strategy, weight) tuples, the first one its control."""
    now = timezone.now()
    experiment = Experiment.objects.create(
        name=key,
        key=key,
        starts_at=starts or now - dt.timedelta(days=1),
        ends_at=ends,
        exploration_share=exploration,
        channel=channel,
    )
    for index, (code, strategy, weight) in enumerate(variants):
        ExperimentVariant.objects.create(
            experiment=experiment,
            code=code,
            strategy=strategy,
            weight=weight,
            is_control=index == 0,
        )
    return experiment


def shown_cards(**filters) -> list[tuple]:
    """The cards of the page views matching `filters`, oldest page first, each as (page view
    id, course, reason, reason key, strategy, carousel position, position, variant)."""
    return [
        (
            page.pk,
            card.course_id,
            card.reason,
            card.reason_key,
            card.strategy,
            card.carousel_position,
            card.position,
            card.variant_id,
        )
        for page in PageView.objects.filter(**filters).order_by("created_at", "pk")
        for card in page_view_cards(
            courses=page.courses, slots=page.slots, labels=page.labels, variant_id=page.variant_id
        )
    ]


def feedback_counts_read() -> dict[str, list[tuple]]:
    """The homepage's impression and click counts read back, for tests that compare them."""
    return {
        "course_days": sorted(
            CourseFeedbackDay.objects.values_list(
                "member_id", "course_id", "day", "impressions", "clicks"
            )
        ),
        "reasons": sorted(
            ReasonFeedback.objects.values_list("member_id", "reason", "impressions", "clicks")
        ),
    }


def csv_file_write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    """`text` as a UTF-8 file in `tmp_path`, for the import commands."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def command_run(*args: str) -> tuple[str, str]:
    """A management command's (stdout, stderr), without its progress bar."""
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# The Content-Security-Policy every page carries (config/settings.py), directive by directive.
CSP_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def csp_directives(header: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header as {directive: its values}."""
    return {name: values for name, *values in (part.split() for part in header.split(";"))}
