"""Input and output serializers of the recommendations API (recommendations/api.py)."""

import datetime as dt
import functools

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from catalog.selectors import course_ids_published
from catalog.serializers import CourseSummarySerializer
from recommendations.api_selectors import REASON_FAMILIES
from recommendations.feedback.events import EVENT_KINDS, MAX_BATCH
from recommendations.models import TrainingRun

MAX_ID = 2**63 - 1
MAX_BATCH_MEMBERS = 100
MAX_RERANK_COURSES = 500
MAX_SIMILAR = 50


# Recommendations --------------------------------------------------------------------------------


class RecommendationsQuerySerializer(serializers.Serializer):
    reason = serializers.ChoiceField(
        choices=REASON_FAMILIES, required=False, help_text="Only carousels of this reason family."
    )
    limit = serializers.IntegerField(
        min_value=1,
        max_value=settings.RECOMMENDATIONS["CAROUSEL_SIZE"],
        default=settings.RECOMMENDATIONS["CAROUSEL_SIZE"],
        help_text="Courses per carousel.",
    )


class RecommendedCourseSerializer(serializers.Serializer):
    rank = serializers.IntegerField(help_text="1 for the carousel's first course.")
    position = serializers.IntegerField(help_text="0-based position in its carousel.")
    slot = serializers.IntegerField(
        help_text=(
            "0-based index of the card on this page view, counted over every carousel of the "
            "answer: send it with `page_view_id` in click, dismiss and undo_dismiss events."
        )
    )
    score = serializers.FloatField(help_text="Rank-scaled score of the course for this reason.")
    explanation = serializers.CharField(
        help_text=(
            "Why it is shown, as the homepage's card says it: e.g. Matches your skills: SQL, "
            "Tableau; Because you watched Intro to SQL; Popular with Data Analysts; 40% done."
        )
    )
    course = CourseSummarySerializer()


class CarouselSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Reason family: " + ", ".join(REASON_FAMILIES) + ".")
    key = serializers.CharField(help_text="The carousel's reason key, e.g. follow:42.")
    label = serializers.CharField(help_text="What the homepage shows, e.g. Because you follow SQL.")
    position = serializers.IntegerField(help_text="0-based carousel position on the homepage.")
    courses = RecommendedCourseSerializer(many=True)


class HomePageSerializer(serializers.Serializer):
    page_view_id = serializers.UUIDField(
        help_text="Send it with click (and other) events to attribute them to this page view."
    )
    carousels = CarouselSerializer(many=True)


_PUBLISHED_AT = CourseSummarySerializer().fields["published_at"]


def home_page_data(body: dict) -> dict:
    """`HomePageSerializer(body).data`, built directly.

    A recommendations response holds close to a hundred courses; walking the serializer's
    fields for each costs more than choosing them. The serializer stays the documented schema,
    and a test keeps the two outputs equal.
    """
    # Read once: the lookup walks asgiref's context-local storage, a hundred times a page.
    zone = timezone.get_current_timezone_name()
    return {
        "page_view_id": str(body["page_view_id"]),
        "carousels": [
            {
                "reason": carousel["reason"],
                "key": carousel["key"],
                "label": carousel["label"],
                "position": carousel["position"],
                "courses": [
                    {
                        "rank": card["rank"],
                        "position": card["position"],
                        "slot": card["slot"],
                        "score": float(card["score"]),
                        "explanation": card["explanation"],
                        "course": _course_summary_data(card["course"], zone=zone),
                    }
                    for card in carousel["courses"]
                ],
            }
            for carousel in body["carousels"]
        ],
    }


@functools.lru_cache(maxsize=16_384)
def _published_at_text(published_at: dt.datetime, zone: str) -> str:
    """The serializer field's text for a publication time, remembered: each response formats
    close to a hundred of them, mostly the same courses as the last one. `zone` (the active
    time zone, which the text depends on) is part of the key."""
    return _PUBLISHED_AT.to_representation(published_at)


def _course_summary_data(course, *, zone: str) -> dict:
    return {
        "id": course.pk,
        "slug": course.slug,
        "title": course.title,
        "level": course.level,
        "duration_minutes": course.duration_minutes,
        "teacher": course.teacher,
        "published_at": _published_at_text(course.published_at, zone),
        "skills": course.card_skills,
    }


class SimilarQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=MAX_SIMILAR, default=10)


class SimilarCourseSerializer(serializers.Serializer):
    score = serializers.FloatField(help_text="Cosine similarity of IDF-weighted skills, in (0, 1].")
    course = CourseSummarySerializer()


# Events -----------------------------------------------------------------------------------------


class EventSerializer(serializers.Serializer):
    event_id = serializers.UUIDField(help_text="Client-generated; the same id is stored once.")
    type = serializers.ChoiceField(choices=EVENT_KINDS)
    course_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    page_view_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The recommendations response it came from; required for click.",
    )
    slot = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        max_value=2**15 - 1,
        help_text=(
            "The card's `slot` on that page view (click, dismiss, undo_dismiss): the event is "
            "attributed to exactly that card, which must show `course_id`. Without it, the "
            "course's first card on the page view."
        ),
    )
    value = serializers.FloatField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        max_value=100,
        help_text="watch only (and required there): the furthest point reached, in percent.",
    )

    def validate(self, data: dict) -> dict:
        if data["type"] == "watch" and data["value"] is None:
            raise serializers.ValidationError({"value": "A watch event needs its progress."})
        if data["type"] != "watch" and data["value"] is not None:
            raise serializers.ValidationError({"value": "Only watch events carry a value."})
        if data["slot"] is not None and data["page_view_id"] is None:
            raise serializers.ValidationError({"slot": "A slot needs the page_view_id it is on."})
        return data


class EventBatchInputSerializer(serializers.Serializer):
    """The envelope as parsed: each item is then read on its own, so that one malformed event
    is refused alone instead of failing the batch."""

    events = serializers.ListField(
        child=serializers.JSONField(), min_length=1, max_length=MAX_BATCH
    )


class EventBatchSerializer(serializers.Serializer):
    """The request as documented."""

    events = EventSerializer(many=True, min_length=1, max_length=MAX_BATCH)


class EventResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The event's index in the batch.")
    event_id = serializers.UUIDField(allow_null=True, help_text="Null when it was unreadable.")
    status = serializers.ChoiceField(choices=["accepted", "duplicate", "rejected"])
    reason = serializers.CharField(
        allow_null=True,
        help_text=(
            "For rejected events: invalid, unknown_course, no_impression, unknown_slot (beyond "
            "the page view's cards), slot_mismatch (the slot showed another course), "
            "already_logged, not_dismissed or event_id_taken."
        ),
    )
    message = serializers.CharField(allow_null=True)
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Field messages of an invalid event.",
    )


class EventBatchResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = EventResultSerializer(many=True, help_text="One per event, in batch order.")


# Admin ------------------------------------------------------------------------------------------


class RetrainAcceptedSerializer(serializers.Serializer):
    task_id = serializers.CharField(help_text="The django-q2 task id.")


class TrainingRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrainingRun
        fields = [
            "id",
            "kind",
            "status",
            "is_active",
            "params",
            "metrics",
            "message",
            "started_at",
            "finished_at",
            "duration_seconds",
        ]


class BatchRecommendationsInputSerializer(RecommendationsQuerySerializer):
    member_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        min_length=1,
        max_length=MAX_BATCH_MEMBERS,
    )


class MemberHomePageSerializer(HomePageSerializer):
    member_id = serializers.IntegerField()


class BatchRecommendationsSerializer(serializers.Serializer):
    results = MemberHomePageSerializer(many=True, help_text="In the order asked, once per member.")
    missing_member_ids = serializers.ListField(
        child=serializers.IntegerField(), help_text="Asked for, but no such member."
    )


# Rerank ----------------------------------------------------------------------------------------


class RerankInputSerializer(serializers.Serializer):
    course_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        min_length=1,
        max_length=MAX_RERANK_COURSES,
        help_text=(
            f"Ids of published courses, at most {MAX_RERANK_COURSES}; an id given twice is "
            "ranked once."
        ),
    )

    def validate_course_ids(self, value: list[int]) -> list[int]:
        wanted = list(dict.fromkeys(value))
        published = course_ids_published(course_ids=wanted)
        refused = [course_id for course_id in wanted if course_id not in published]
        if refused:
            shown = ", ".join(str(course_id) for course_id in refused[:20])
            more = f" and {len(refused) - 20} more" if len(refused) > 20 else ""
            raise serializers.ValidationError(f"No published course has the id {shown}{more}.")
        return wanted


class RerankedCourseSerializer(serializers.Serializer):
    rank = serializers.IntegerField(help_text="1 for the course the member is likeliest to take.")
    course_id = serializers.IntegerField()
    score = serializers.FloatField(
        help_text=(
            "1/k for the k-th best of the list under its reason; 0 for a course the member "
            "finished, is taking or dismissed."
        )
    )
    reason = serializers.CharField(
        allow_null=True, help_text="The reason family it ranks under (null: none)."
    )
    reason_key = serializers.CharField(allow_null=True)
    label = serializers.CharField(
        allow_null=True, help_text='The reason as the homepage words it ("Because you follow SQL").'
    )


class RerankSerializer(serializers.Serializer):
    results = RerankedCourseSerializer(many=True, help_text="Every course asked for, best first.")
