"""Recommendations API: the member's carousels, similar courses, events, and admin endpoints."""

import itertools

from django.utils import timezone
from django_q.tasks import async_task
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from catalog.api import CourseListView, paginated_body, query_params
from catalog.selectors import courses_in_bulk
from catalog.serializers import PageQuerySerializer, paginated
from core.api_errors import error_responses
from core.api_permissions import staff_model_permission
from core.json_renderer import json_encoded
from core.throttling import RowRateThrottle
from members.api import request_member
from recommendations import api_selectors
from recommendations.data import HomePage
from recommendations.feedback.events import ACCEPTED, DUPLICATE, REJECTED, EventInput, events_ingest
from recommendations.models import PageView
from recommendations.serializers import (
    BatchRecommendationsInputSerializer,
    BatchRecommendationsSerializer,
    EventBatchInputSerializer,
    EventBatchResultSerializer,
    EventBatchSerializer,
    EventSerializer,
    HomePageSerializer,
    RecommendationsQuerySerializer,
    RerankInputSerializer,
    RerankSerializer,
    RetrainAcceptedSerializer,
    SimilarCourseSerializer,
    SimilarQuerySerializer,
    TrainingRunSerializer,
    home_page_data,
)
from recommendations.serving.deferred import (
    impressions_log_after_response,
    next_page_compose_after_response,
)
from recommendations.serving.home_page import home_page_for_member, home_page_serve
from recommendations.serving.personal_order import (
    courses_ordered_for_member,
    search_results_for_member,
)
from recommendations.serving.similar import courses_similar
from recommendations.serving.stored_carousels import page_rendition


def _home_page_body(page: HomePage) -> dict:
    carousels = []
    # Slots count the cards in `page.shown` order: the order the page view packs them.
    slots = itertools.count()
    for index, carousel in enumerate(page.carousels):
        carousels.append(
            {
                "reason": carousel.reason,
                "key": carousel.key,
                "label": carousel.label,
                "position": (
                    carousel.cards[0].shown.carousel_position if carousel.cards else index
                ),
                "courses": [
                    {
                        "rank": card.shown.position + 1,
                        "position": card.shown.position,
                        "slot": next(slots),
                        "score": card.score,
                        "explanation": card.explanation,
                        "course": card.course,
                    }
                    for card in carousel.cards
                ],
            }
        )
    return {"page_view_id": page.page_view_id, "carousels": carousels}


def _home_page_answer(page: HomePage, *, reason: str | None, limit: int) -> dict:
    """The answer's data for `page` (trimmed to `reason` and `limit`). Carousels kept per
    process for a stored page (`HomePage.renditions`) are encoded once per trim and time zone
    (the publication times' text depends on it), and kept with them: every answer after the
    first adds its page view id to them."""
    if page.renditions is None:
        return home_page_data(_home_page_body(page))
    carousels = page_rendition(
        page.renditions,
        ("api", reason, limit, timezone.get_current_timezone_name()),
        lambda: json_encoded(home_page_data(_home_page_body(page))["carousels"]),
    )
    return {"page_view_id": str(page.page_view_id), "carousels": carousels}


class RecommendationsView(APIView):
    # Per user: every call writes its ~100 courses as impressions.
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "recommendations"

    @extend_schema(
        operation_id="recommendations_retrieve",
        tags=["recommendations"],
        summary="The member's homepage carousels",
        description=(
            "Exactly the carousels the homepage shows this member, in the same order, each with "
            "its reason family, reason key and label: first `continue` (Continue learning: the "
            "member's started, unfinished courses, most recently watched first) when there are "
            "any, then the recommendations. Each course carries `explanation`, the short line "
            "the homepage's card shows. Every returned course is logged as an "
            "impression of this page view (one stored row for the whole answer), as the homepage "
            "does; send `page_view_id` (and the card's `slot`) with click events so they are "
            "attributed to the card that showed the course."
        ),
        parameters=[RecommendationsQuerySerializer],
        responses={200: HomePageSerializer, **error_responses(400, 401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        data = query_params(request, RecommendationsQuerySerializer)
        member = request_member(request)
        whole = home_page_serve(member=member, reuse_composed=True, mark_pending=True)
        page = api_selectors.home_page_trim(
            page=whole, reason=data.get("reason"), limit=data["limit"]
        )
        response = Response(_home_page_answer(page, reason=data.get("reason"), limit=data["limit"]))
        # Only what the response holds was shown, so only that is an impression.
        impressions_log_after_response(
            response,
            member=member,
            page_view_id=page.page_view_id,
            shown=page.shown,
            channel=PageView.Channel.API,
        )
        next_page_compose_after_response(response, member=member, served=whole)
        return response


class CourseSearchView(CourseListView):
    """`GET /api/v1/courses/`: the catalog's search, with a signed-in member's results by
    relevance re-ordered for them among results of similar relevance (as on the site)."""

    def courses(self, request: Request, data: dict):
        results = super().courses(request, data)
        if request.user.is_authenticated and data["search"].strip() and data["sort"] == "relevance":
            return search_results_for_member(member=request_member(request), results=results)
        return results


class RerankView(APIView):
    @extend_schema(
        operation_id="recommendations_rerank",
        tags=["recommendations"],
        summary="Any list of courses, ordered for the member",
        description=(
            "Up to 500 published course ids (a partner's list, an email's picks), returned in "
            "the order the member is most likely to take them, each with its score and the "
            "reason it ranks under, as the homepage would give it. Scores come from the "
            "member's skills, their learned recommendations (computed at the last retrain) and "
            "the site's popularity and newness; nothing is logged as an impression. Unknown or "
            "unpublished ids are refused."
        ),
        request=RerankInputSerializer,
        responses={200: RerankSerializer, **error_responses(400, 401, 403, 415)},
        examples=[
            OpenApiExample("Three courses", value={"course_ids": [12, 7, 31]}, request_only=True)
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = RerankInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ordered = courses_ordered_for_member(
            member=request_member(request), course_ids=serializer.validated_data["course_ids"]
        )
        results = [
            {
                "rank": rank,
                "course_id": item.course_id,
                "score": item.score,
                "reason": item.reason,
                "reason_key": item.reason_key,
                "label": item.label,
            }
            for rank, item in enumerate(ordered, start=1)
        ]
        return Response(RerankSerializer({"results": results}).data)


class SimilarCoursesView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="courses_similar",
        tags=["catalog"],
        summary="Courses similar to a course",
        description="By shared skills (IDF-weighted cosine), from the active model; best first.",
        parameters=[
            OpenApiParameter("course_id", int, OpenApiParameter.PATH),
            SimilarQuerySerializer,
        ],
        responses={200: SimilarCourseSerializer(many=True), **error_responses(400, 404, 429)},
    )
    def get(self, request: Request, course_id: int) -> Response:
        data = query_params(request, SimilarQuerySerializer)
        found = courses_in_bulk(course_ids=[course_id])
        if not found:
            raise exceptions.NotFound("No published course has this id.")
        similar = courses_similar(course=found[0], limit=data["limit"])
        return Response(SimilarCourseSerializer(similar, many=True).data)


class EventRowsThrottle(RowRateThrottle):
    scope = "event_rows"


class EventsView(APIView):
    # Batches per user, then (once the envelope is read) the events in them.
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "events"

    @extend_schema(
        operation_id="events_create",
        tags=["events"],
        summary="Report a batch of events (idempotent)",
        description=(
            "Up to 500 events, applied in order. Each has a client-generated `event_id`: an id "
            "already stored answers `duplicate` and changes nothing, so a batch can be retried "
            "safely. A malformed or refused event is `rejected` with a reason and does not stop "
            "the others; the request itself fails (400) only when the envelope is wrong. "
            "Events count against a per-user rate (`API_THROTTLE_EVENT_ROWS`, 1000 a minute by "
            "default): a batch that does not fit is refused whole (429, `Retry-After`) and "
            "nothing of it is applied.\n\n"
            "Types: `impression` (for surfaces the server did not render; recommendations "
            "responses are logged already), `click` (needs the `page_view_id` that showed the "
            "course, and optionally its `slot`), `enrol`, `watch` (`value`: furthest point "
            "reached, in percent), `finish`, "
            "`bookmark`, `unbookmark`, `dismiss` (not interested), `undo_dismiss`."
        ),
        request=EventBatchSerializer,
        responses={
            200: EventBatchResultSerializer,
            **error_responses(400, 401, 403, 415, 429),
        },
        examples=[
            OpenApiExample(
                "A click then an enrolment",
                value={
                    "events": [
                        {
                            "event_id": "0b5bd9b4-34c8-4c43-9b43-2f0f2a4e3f61",
                            "type": "click",
                            "course_id": 17,
                            "page_view_id": "6f1c1f3e-8d5e-4b7a-9a4c-3c2b1d0e9f8a",
                        },
                        {
                            "event_id": "a3c3a3e2-5d1b-4e0e-8f2a-7b6c5d4e3f2a",
                            "type": "enrol",
                            "course_id": 17,
                        },
                    ]
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        envelope = EventBatchInputSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        raw_events = envelope.validated_data["events"]
        EventRowsThrottle().take(request, rows=len(raw_events))
        results: list[dict | None] = [None] * len(raw_events)
        parsed: list[tuple[int, EventInput]] = []
        # One serializer reads every valid event: `run_validation` is what `is_valid` runs, and
        # a new serializer per event deep-copied its fields each time (a tenth of a small
        # batch's time). An invalid event gets its own, whose `errors` word the refusal.
        reader = EventSerializer()
        for index, raw in enumerate(raw_events):
            try:
                data = reader.run_validation(raw)
            except exceptions.ValidationError:
                refused = EventSerializer(data=raw)
                refused.is_valid()
                results[index] = _invalid_result(index, raw, refused.errors)
            else:
                parsed.append(
                    (
                        index,
                        EventInput(
                            event_id=data["event_id"],
                            kind=data["type"],
                            course_id=data["course_id"],
                            page_view_id=data["page_view_id"],
                            slot=data["slot"],
                            value=data["value"],
                        ),
                    )
                )
        member = request_member(request)
        if parsed:
            outcomes = events_ingest(member=member, events=[event for _, event in parsed])
            for (index, _), outcome in zip(parsed, outcomes, strict=True):
                results[index] = {
                    "index": index,
                    "event_id": outcome.event_id,
                    "status": outcome.status,
                    "reason": outcome.reason or None,
                    "message": outcome.message or None,
                    "fields": {},
                }
        body = {
            "accepted": sum(r["status"] == ACCEPTED for r in results),
            "duplicate": sum(r["status"] == DUPLICATE for r in results),
            "rejected": sum(r["status"] == REJECTED for r in results),
            "results": results,
        }
        response = Response(EventBatchResultSerializer(body).data)
        if body["accepted"]:
            # Clicks and activity change the member's next homepage; compose it again if they
            # are browsing (their enrolments and the like also do, from `member_refresh`).
            next_page_compose_after_response(response, member=member, only_if_stored=True)
        return response


def _invalid_result(index: int, raw: object, errors: dict) -> dict:
    event_id = None
    if isinstance(raw, dict) and "event_id" not in errors:
        event_id = EventSerializer().fields["event_id"].to_internal_value(raw.get("event_id"))
    return {
        "index": index,
        "event_id": event_id,
        "status": REJECTED,
        "reason": "invalid",
        "message": "This event is not valid; see `fields`.",
        "fields": {
            field: [str(message) for message in messages] for field, messages in errors.items()
        },
    }


# Admin ------------------------------------------------------------------------------------------


# Each asks the model permission the admin asks for the same thing (recommendations/admin.py):
# its "Start a retrain" button needs change on training runs; its changelists need view (or
# change) on training runs and on members' stored recommendations.


class RetrainView(APIView):
    permission_classes = [staff_model_permission("recommendations.change_trainingrun")]

    @extend_schema(
        operation_id="admin_retrain",
        tags=["admin"],
        summary="Queue a retrain (staff with change permission on training runs)",
        description="Enqueues recommendations.tasks.retrain on the django-q2 cluster.",
        request=None,
        responses={202: RetrainAcceptedSerializer, **error_responses(401, 403)},
    )
    def post(self, request: Request) -> Response:
        task_id = async_task("recommendations.tasks.retrain", task_name="retrain (API)")
        return Response({"task_id": task_id}, status=status.HTTP_202_ACCEPTED)


class TrainingRunListView(APIView):
    permission_classes = [
        staff_model_permission(
            "recommendations.view_trainingrun", "recommendations.change_trainingrun"
        )
    ]

    @extend_schema(
        operation_id="admin_training_runs_list",
        tags=["admin"],
        summary="Training runs with their metrics, newest first (staff who may view training runs)",
        parameters=[PageQuerySerializer],
        responses={
            200: paginated(TrainingRunSerializer),
            **error_responses(400, 401, 403, 404),
        },
    )
    def get(self, request: Request) -> Response:
        data = query_params(request, PageQuerySerializer)
        return Response(
            paginated_body(
                request,
                api_selectors.training_runs_recent(),
                page=data["page"],
                page_size=data["page_size"],
                item_serializer=TrainingRunSerializer,
            )
        )


class BatchRecommendationsView(APIView):
    permission_classes = [
        staff_model_permission(
            "recommendations.view_memberrecommendations",
            "recommendations.change_memberrecommendations",
        )
    ]

    @extend_schema(
        operation_id="admin_recommendations_batch",
        tags=["admin"],
        summary="Recommendations for up to 100 members (staff who may view member recommendations)",
        description=(
            "Each member's homepage carousels, as `/recommendations/` would return them to that "
            "member. Nothing is logged as an impression: the caller has shown nothing yet."
        ),
        request=BatchRecommendationsInputSerializer,
        responses={
            200: BatchRecommendationsSerializer,
            **error_responses(400, 401, 403, 415),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = BatchRecommendationsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        wanted = list(dict.fromkeys(data["member_ids"]))
        members = api_selectors.members_in_bulk(member_ids=wanted)
        results = []
        for member_id in wanted:
            if member_id not in members:
                continue
            page = api_selectors.home_page_trim(
                page=home_page_for_member(member=members[member_id]),
                reason=data.get("reason"),
                limit=data["limit"],
            )
            results.append({"member_id": member_id, **_home_page_body(page)})
        body = {
            "results": results,
            "missing_member_ids": [pk for pk in wanted if pk not in members],
        }
        return Response(BatchRecommendationsSerializer(body).data)
