"""The JSON API's people: the member's suggested people with their reasons, and hiding or
opening one (`/api/v1/people/...`). Throttled per user (`people`, `people_actions`)."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core.api_errors import error_responses
from members.api import request_member
from recommendations.models import PeoplePageView
from recommendations.people.services import people_page_view_log, person_click_log, person_hide
from recommendations.people.serving import people_for_member


class PersonReasonSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["skills", "courses", "title", "industry", "learned"])
    text = serializers.CharField(help_text='Why, in one line: "You both follow SQL and Tableau".')


class SuggestedCourseSerializer(serializers.Serializer):
    title = serializers.CharField()
    slug = serializers.CharField()


class SuggestedPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="member_id", help_text="The person's member id.")
    display_name = serializers.CharField(help_text="The name they chose; never a username.")
    title = serializers.CharField(help_text="Their job title, empty when they do not show it.")
    skills = serializers.ListField(
        child=serializers.CharField(), help_text="Skills they follow, if they show them."
    )
    courses_in_progress = SuggestedCourseSerializer(
        source="courses", many=True, help_text="If they show them."
    )
    reasons = PersonReasonSerializer(many=True, help_text="Strongest first; at least one.")
    family = serializers.ChoiceField(
        choices=["learned", "rules"], help_text="Learned from co-enrolment, or rule-based."
    )


class PeopleSerializer(serializers.Serializer):
    page_view_id = serializers.UUIDField(
        allow_null=True, help_text="Send it with clicks and hides; null when nobody is shown."
    )
    people = SuggestedPersonSerializer(many=True)


class PersonActionSerializer(serializers.Serializer):
    page_view_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="The page view that showed the person."
    )


class PeopleView(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "people"

    @extend_schema(
        operation_id="people_list",
        tags=["people"],
        summary="People to learn with",
        description=(
            "The member's suggested people, best first, each with its reasons (strongest "
            "first). Empty unless the member is discoverable (`PATCH /api/v1/me/`): only "
            "discoverable members get people and are suggested. A person shows their display "
            "name and what they chose to show; never a username or email. The answer is "
            "logged as one page view (its `page_view_id`)."
        ),
        responses={200: PeopleSerializer, **error_responses(401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        member = request_member(request)
        people = people_for_member(
            member=member, limit=settings.RECOMMENDATIONS["PEOPLE_PAGE_SHOWN"]
        )
        page_view_id = people_page_view_log(
            member=member,
            surface=PeoplePageView.Surface.API,
            shown=[person.member_id for person in people],
        )
        return Response(PeopleSerializer({"page_view_id": page_view_id, "people": people}).data)


class PersonHideView(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "people_actions"

    @extend_schema(
        operation_id="people_hide",
        tags=["people"],
        summary="Never suggest this person again",
        request=PersonActionSerializer,
        responses={204: None, **error_responses(400, 401, 403, 404, 415, 429)},
    )
    def post(self, request: Request, person_id: int) -> Response:
        serializer = PersonActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        hidden = person_hide(
            member=request_member(request),
            person_id=person_id,
            page_view_id=serializer.validated_data.get("page_view_id"),
        )
        if hidden is None:
            raise exceptions.NotFound("No such person among your suggestions.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class PersonClickView(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "people_actions"

    @extend_schema(
        operation_id="people_click",
        tags=["people"],
        summary="The member opened a suggested person",
        description="Recorded only when `page_view_id` is the member's and showed the person.",
        request=PersonActionSerializer,
        responses={204: None, **error_responses(400, 401, 403, 404, 415, 429)},
    )
    def post(self, request: Request, person_id: int) -> Response:
        serializer = PersonActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        page_view_id = serializer.validated_data.get("page_view_id")
        if page_view_id is None:
            raise exceptions.ValidationError({"page_view_id": ["Needed to record a click."]})
        click = person_click_log(
            member=request_member(request), page_view_id=page_view_id, person_id=person_id
        )
        if click is None:
            raise exceptions.NotFound("That page view did not show this person.")
        return Response(status=status.HTTP_204_NO_CONTENT)
