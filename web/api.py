"""The API endpoints that span apps: the member's data export, the account deletion and the
member's goal (set in `members`, its gap and path planned by `recommendations`).

`/api/v1/me/` is the members app's profile endpoint (`members.api.MeView`) with DELETE added
here: deleting an account removes rows of members and recommendations together, which only
this layer may do.
"""

from django.contrib.auth import authenticate
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_errors import error_responses
from members import api as members_api
from members.services import member_goal_clear, member_goal_set
from recommendations.serving.goal import goal_for_member
from web.selectors import member_data_export
from web.serializers import (
    AccountDeleteSerializer,
    GoalInputSerializer,
    GoalSerializer,
    MemberExportSerializer,
    goal_data,
)
from web.services import accounts_delete

WRONG_PASSWORD = "The password is not correct."


def password_confirmed(request, *, password: str) -> bool:
    """Whether `password` is the signed-in user's. Through `authenticate`, so the login rate
    limit (django-axes) counts wrong guesses here as it counts them at the login form."""
    user = request.user
    confirmed = authenticate(request, username=user.get_username(), password=password)
    return confirmed is not None and confirmed.pk == user.pk


def export_filename() -> str:
    return f"skillpath-my-data-{timezone.now():%Y-%m-%d}.json"


def export_response(request, *, member) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        member_data_export(member=member), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{export_filename()}"'
    # What a member downloads about themselves is no one else's to keep.
    response["Cache-Control"] = "no-store"
    return response


class MeView(members_api.MeView):
    @extend_schema(
        operation_id="me_destroy",
        tags=["me"],
        summary="Delete the account and everything the site holds about the member",
        description=(
            "Needs the account's password. Removes the account, the member and every row "
            "keyed to them (activity, feedback events, stored recommendations, experiment "
            "assignments, API tokens, sessions, login records). Training runs that may hold "
            "the member are pruned, the active one once the next retrain replaces it. A wrong "
            "password is a 400 on `password` and counts toward the login lockout."
        ),
        request=AccountDeleteSerializer,
        responses={204: None, **error_responses(400, 401, 403, 415, 429)},
        examples=[OpenApiExample("Password", value={"password": "…"}, request_only=True)],
    )
    def delete(self, request: Request) -> Response:
        serializer = AccountDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not password_confirmed(request._request, password=serializer.validated_data["password"]):
            raise exceptions.ValidationError({"password": [WRONG_PASSWORD]})
        accounts_delete(users=[request.user])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeGoalView(APIView):
    @extend_schema(
        operation_id="me_goal_retrieve",
        tags=["me"],
        summary="The member's goal role, their skill gap to it and the path planned to close it",
        description=(
            "`skills`: the role's skills (its O*NET technology skills, weighted by how many "
            "members with that title have each, in-demand ones first), each covered when the "
            "member has it on their profile, follows it or finished a course teaching it. "
            "`path`: courses covering the skills still to learn, in order (the homepage's "
            '"Toward" carousel shows its next steps). Without a goal: empty fields.'
        ),
        responses={200: GoalSerializer, **error_responses(401, 403)},
    )
    def get(self, request: Request) -> Response:
        member = members_api.request_member(request)
        return Response(goal_data(goal_for_member(member=member)))

    @extend_schema(
        operation_id="me_goal_set",
        tags=["me"],
        summary="Set the member's goal role",
        description="A goal that matches no occupation is a 400 on `goal`; the old goal stays.",
        request=GoalInputSerializer,
        responses={200: GoalSerializer, **error_responses(400, 401, 403, 415)},
        examples=[OpenApiExample("Goal", value={"goal": "Data Scientist"}, request_only=True)],
    )
    def put(self, request: Request) -> Response:
        member = members_api.request_member(request)
        serializer = GoalInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member_goal_set(member=member, text=serializer.validated_data["goal"])
        return Response(goal_data(goal_for_member(member=member)))

    @extend_schema(
        operation_id="me_goal_clear",
        tags=["me"],
        summary="Clear the member's goal role",
        responses={204: None, **error_responses(401, 403)},
    )
    def delete(self, request: Request) -> Response:
        member_goal_clear(member=members_api.request_member(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeExportView(APIView):
    @extend_schema(
        operation_id="me_export",
        tags=["me"],
        summary="Everything the site holds about the member, as one JSON document",
        description=(
            "The signed-in member's own data only: account, profile, current recommendations "
            "with their reasons, followed and profile skills, enrolments with progress, "
            "bookmarks, dismissals, experiment assignments, API tokens (prefixes), feedback "
            "counts and every feedback event. Streamed: a long history is sent as it is read. "
            "Sent as an attachment (`Content-Disposition`)."
        ),
        responses={
            200: OpenApiResponse(response=MemberExportSerializer),
            **error_responses(401, 403),
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        return export_response(request, member=members_api.request_member(request))
