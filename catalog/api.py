"""Catalog API: courses, skills, categories. Public and read-only.

Courses are addressed by id (`/api/v1/courses/42/`), the id the recommendation and event
endpoints use; the slug is in every course's body for building site links. Skills are addressed
by slug, as on the site and in the course list's `skill` filter.
"""

import copy
import functools
from collections.abc import Sequence
from typing import Any

from django.core.paginator import EmptyPage, Paginator
from django.db.models import QuerySet
from django.http import QueryDict
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.fields import empty
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors
from catalog.models import Course
from catalog.serializers import (
    CategorySerializer,
    CourseDetailSerializer,
    CourseListQuerySerializer,
    CourseSummarySerializer,
    SkillDetailQuerySerializer,
    SkillDetailSerializer,
    SkillListQuerySerializer,
    SkillSerializer,
    paginated,
)
from core.api_errors import error_responses


def query_params(request: Request, serializer_class: type[serializers.Serializer]) -> dict:
    """The request's query string, validated; a 400 with field messages otherwise.

    Most requests send none (a client polling its recommendations): an empty query string's
    values are validated once per serializer and copied (`_empty_query_values`), where building
    the serializer and its fields took a tenth of a millisecond each time."""
    if not request.query_params:
        values = _empty_query_values(serializer_class)
        if values is not None:
            return copy.deepcopy(values)
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@functools.cache
def _empty_query_values(serializer_class: type[serializers.Serializer]) -> dict | None:
    """What `serializer_class` validates an empty query string to; None when it refuses one
    (a required parameter), and when a default is computed at each call, which is not kept."""
    fields = serializer_class().fields.values()
    if any(field.default is not empty and callable(field.default) for field in fields):
        return None
    serializer = serializer_class(data=QueryDict())
    return dict(serializer.validated_data) if serializer.is_valid() else None


def paginated_body(
    request: Request,
    items: QuerySet | Sequence,
    *,
    page: int,
    page_size: int,
    item_serializer: type[serializers.Serializer],
) -> dict[str, Any]:
    paginator = Paginator(items, page_size)
    try:
        current = paginator.page(page)
    except EmptyPage as empty:
        raise exceptions.NotFound(
            f"There is no page {page}; there are {paginator.num_pages}."
        ) from empty

    def link(number: int) -> str:
        params = request.query_params.copy()
        params["page"] = str(number)
        return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")

    return {
        "count": paginator.count,
        "page": current.number,
        "page_size": page_size,
        "num_pages": paginator.num_pages,
        "next": link(current.next_page_number()) if current.has_next() else None,
        "previous": link(current.previous_page_number()) if current.has_previous() else None,
        "results": item_serializer(current.object_list, many=True).data,
    }


class PublicAPIView(APIView):
    permission_classes = [AllowAny]


class CourseListView(PublicAPIView):
    @extend_schema(
        operation_id="courses_list",
        tags=["catalog"],
        summary="Search and filter published courses",
        description=(
            "Every word of `search` must match the title, the description, or the name or a "
            "synonym of a skill the course is approved for; on PostgreSQL a course also matches "
            "by full-text search (title, skills, description, teacher, weighted in that order) "
            "and by trigram similarity, which forgives typos. `sort`: `relevance` (the default; "
            "newest first without `search`), `newest` or `popular`. For a signed-in member, "
            "results of similar relevance are ordered by what the member is likely to take. "
            "`q` is the deprecated former name of `search` and gives the same results."
        ),
        parameters=[
            CourseListQuerySerializer,
            # Replaces the serializer's `q` in the schema, to mark it deprecated.
            OpenApiParameter(
                "q",
                str,
                OpenApiParameter.QUERY,
                deprecated=True,
                description="Deprecated: use `search`, which it stands for.",
            ),
        ],
        responses={200: paginated(CourseSummarySerializer), **error_responses(400, 404, 429)},
    )
    def get(self, request: Request) -> Response:
        data = query_params(request, CourseListQuerySerializer)
        courses = self.courses(request, data)
        return Response(
            paginated_body(
                request,
                courses,
                page=data["page"],
                page_size=data["page_size"],
                item_serializer=CourseSummarySerializer,
            )
        )

    def courses(self, request: Request, data: dict) -> QuerySet[Course] | Sequence[Course]:
        """The results in the order served (a subclass above the catalog may re-order them)."""
        return selectors.courses_search(
            query=data["search"],
            skill=data.get("skill"),
            category=data.get("category"),
            level=data.get("level"),
            sort=data["sort"],
        )


class CourseDetailView(PublicAPIView):
    @extend_schema(
        operation_id="courses_retrieve",
        tags=["catalog"],
        summary="One published course by id",
        parameters=[OpenApiParameter("course_id", int, OpenApiParameter.PATH)],
        responses={200: CourseDetailSerializer, **error_responses(404, 429)},
    )
    def get(self, request: Request, course_id: int) -> Response:
        found = selectors.courses_in_bulk(course_ids=[course_id])
        if not found:
            raise exceptions.NotFound("No published course has this id.")
        return Response(CourseDetailSerializer(found[0]).data)


class SkillListView(PublicAPIView):
    @extend_schema(
        operation_id="skills_list",
        tags=["catalog"],
        summary="Skills with their course counts",
        description=(
            "Without `q`: every skill, by category then name. With `q`: skills whose name or a "
            "synonym contains it, names starting with it first (at most 20 matches)."
        ),
        parameters=[SkillListQuerySerializer],
        responses={200: paginated(SkillSerializer), **error_responses(400, 404, 429)},
    )
    def get(self, request: Request) -> Response:
        data = query_params(request, SkillListQuerySerializer)
        skills = selectors.skills_with_course_counts(query=data["q"])
        return Response(
            paginated_body(
                request,
                skills,
                page=data["page"],
                page_size=data["page_size"],
                item_serializer=SkillSerializer,
            )
        )


class SkillDetailView(PublicAPIView):
    @extend_schema(
        operation_id="skills_retrieve",
        tags=["catalog"],
        summary="One skill by slug, with its newest courses",
        parameters=[SkillDetailQuerySerializer],
        responses={200: SkillDetailSerializer, **error_responses(400, 404, 429)},
    )
    def get(self, request: Request, slug: str) -> Response:
        data = query_params(request, SkillDetailQuerySerializer)
        skill = selectors.skill_get_by_slug(slug=slug)
        if skill is None:
            raise exceptions.NotFound("No skill has this slug.")
        courses = selectors.courses_for_skill(skill=skill)
        skill.course_count = courses.count()
        skill.listed_courses = list(courses[: data["limit"]])
        return Response(SkillDetailSerializer(skill).data)


class CategoryListView(PublicAPIView):
    @extend_schema(
        operation_id="categories_list",
        tags=["catalog"],
        summary="Every category with course and skill counts",
        responses={200: CategorySerializer(many=True), **error_responses(429)},
    )
    def get(self, request: Request) -> Response:
        return Response(CategorySerializer(selectors.categories_with_counts(), many=True).data)
