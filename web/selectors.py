"""Reads that span apps: everything the site holds about one member, as one JSON document.

`member_data_export` is what "Download my data" on the profile and `GET /api/v1/me/export/`
send (its schema: `web.serializers.MemberExportSerializer`, docs/api.md). The document is
written as it is read: each list is a query read in chunks and sent chunk by chunk, so a member
with years of feedback events costs neither a response held whole in memory nor one query per
row.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from django.db.models import QuerySet
from django.utils import timezone

from members.models import (
    ApiToken,
    Bookmark,
    Enrolment,
    FollowedPath,
    FollowedSkill,
    Member,
    MemberSkill,
)
from recommendations import engine
from recommendations.feedback.page_views import page_view_cards
from recommendations.models import (
    CourseFeedbackDay,
    DigestItem,
    DigestSend,
    Dismissal,
    ExperimentAssignment,
    FeedbackEvent,
    MemberRecommendations,
    PageView,
    PeoplePageView,
    PersonClick,
    PersonHidden,
    PersonSuggestion,
    ReasonFeedback,
)
from recommendations.serving.home_page import home_page_serve

EXPORT_FORMAT = "skillpath-member-export/1"
# Rows read per query round trip and sent per chunk of the response.
EXPORT_CHUNK_ROWS = 2000

# The reason family of a learned candidate in the stored row, as the homepage names it.
_FAMILY_REASONS = {
    engine.FAMILY_ALS: "als",
    engine.FAMILY_WATCHED: "watched",
    engine.FAMILY_TEXT: "text",
}

Row = dict[str, Any]


def _dumps(value: Any) -> bytes:
    # Datetimes as RFC 3339 with their offset (UTC), UUIDs as strings.
    return orjson.dumps(value)


def _rows(queryset: QuerySet, fields: dict[str, str]) -> Iterator[Row]:
    """The queryset's rows as {output name: value}, read `EXPORT_CHUNK_ROWS` at a time."""
    names = list(fields)
    for values in queryset.values_list(*fields.values()).iterator(chunk_size=EXPORT_CHUNK_ROWS):
        yield dict(zip(names, values, strict=True))


def _page_views(member: Member) -> Iterator[Row]:
    """The member's page views, oldest first, each with the cards it showed."""
    pages = (
        PageView.objects.filter(member=member)
        .order_by("created_at", "pk")
        .values_list("pk", "created_at", "channel", "variant_id", "courses", "slots", "labels")
    )
    for page_view_id, created_at, channel, variant_id, courses, slots, labels in pages.iterator(
        chunk_size=EXPORT_CHUNK_ROWS
    ):
        yield {
            "page_view_id": page_view_id,
            "created_at": created_at,
            "channel": channel,
            "variant_id": variant_id,
            "cards": [
                {
                    "course_id": card.course_id,
                    "reason": card.reason,
                    "reason_key": card.reason_key,
                    "strategy": card.strategy,
                    "carousel_position": card.carousel_position,
                    "position": card.position,
                }
                for card in page_view_cards(
                    courses=courses, slots=slots, labels=labels, variant_id=variant_id
                )
            ],
        }


def _json_list(rows: Iterator[Row]) -> Iterator[bytes]:
    yield b"["
    batch: list[bytes] = []
    first = True
    for row in rows:
        batch.append(_dumps(row))
        if len(batch) == EXPORT_CHUNK_ROWS:
            yield (b"" if first else b",") + b",".join(batch)
            batch, first = [], False
    if batch:
        yield (b"" if first else b",") + b",".join(batch)
    yield b"]"


def _account(member: Member) -> Row:
    user = member.user
    return {
        "username": user.get_username(),
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
    }


def _profile(member: Member) -> Row:
    return {
        "member_id": member.pk,
        "title": member.title_text,
        "occupation": (
            {"id": member.title.pk, "name": member.title.name} if member.title_id else None
        ),
        "industry": (
            {"id": member.industry.pk, "name": member.industry.name} if member.industry_id else None
        ),
        "seniority": member.seniority,
        "goal": member.goal_text,
        "goal_occupation": (
            {"id": member.goal.pk, "name": member.goal.name} if member.goal_id else None
        ),
        "onboarded_at": member.onboarded_at,
        "digest_opt_in": member.digest_opt_in,
        "created_at": member.created_at,
        "external_id": member.external_id,
        "people": {
            "discoverable": member.discoverable,
            "display_name": member.display_name,
            "shows_title": member.shows_title,
            "shows_skills": member.shows_skills,
            "shows_courses": member.shows_courses,
        },
    }


def _recommendations(member: Member, now: dt.datetime) -> Row:
    """The homepage's carousels as the member would get them now (without logging them as
    shown), and the learned candidates the active run stored for them."""
    page = home_page_serve(member=member, now=now, reuse_composed=True)
    carousels = [
        {
            "reason": carousel.reason,
            "key": carousel.key,
            "label": carousel.label,
            "courses": [
                {
                    "course_id": card.course.pk,
                    "title": card.course.title,
                    "score": float(card.score),
                    "explanation": card.explanation,
                }
                for card in carousel.cards
            ],
        }
        for carousel in page.carousels
    ]
    stored = (
        MemberRecommendations.objects.filter(member=member)
        .values_list("run_id", "computed_at", "payload")
        .first()
    )
    learned = None
    if stored is not None:
        run_id, computed_at, payload = stored
        records = engine.candidates_decode(payload)
        learned = {
            "run_id": run_id,
            "computed_at": computed_at,
            "candidates": [
                {
                    "course_id": course,
                    "reason": _FAMILY_REASONS.get(family, str(family)),
                    "anchor_course_id": anchor if anchor >= 0 else None,
                    "score": score,
                }
                for course, anchor, score, family in zip(
                    records["course"].tolist(),
                    records["anchor"].tolist(),
                    records["score"].tolist(),
                    records["family"].tolist(),
                    strict=True,
                )
            ],
        }
    return {"homepage": carousels, "learned_row": learned}


def _sections(member: Member) -> list[tuple[str, Callable[[], Iterator[Row]]]]:
    """Each list of the document: its name and its rows, read when its turn comes."""
    mine = {"member": member}
    return [
        (
            "followed_skills",
            lambda: _rows(
                FollowedSkill.objects.filter(**mine).order_by("followed_at", "pk"),
                {"skill_id": "skill_id", "skill": "skill__name", "followed_at": "followed_at"},
            ),
        ),
        (
            "followed_paths",
            lambda: _rows(
                FollowedPath.objects.filter(**mine).order_by("followed_at", "pk"),
                {"path_id": "path_id", "path": "path__title", "followed_at": "followed_at"},
            ),
        ),
        (
            "profile_skills",
            lambda: _rows(
                MemberSkill.objects.filter(**mine).order_by("created_at", "pk"),
                {
                    "skill_id": "skill_id",
                    "skill": "skill__name",
                    "source": "source",
                    "weight": "weight",
                    "created_at": "created_at",
                },
            ),
        ),
        (
            "enrolments",
            lambda: _rows(
                Enrolment.objects.filter(**mine).order_by("enrolled_at", "pk"),
                {
                    "course_id": "course_id",
                    "course": "course__title",
                    "enrolled_at": "enrolled_at",
                    "progress_percent": "progress_percent",
                    "watched_seconds": "watched_seconds",
                    "last_watched_at": "last_watched_at",
                    "completed_at": "completed_at",
                },
            ),
        ),
        (
            "bookmarks",
            lambda: _rows(
                Bookmark.objects.filter(**mine).order_by("created_at", "pk"),
                {"course_id": "course_id", "course": "course__title", "created_at": "created_at"},
            ),
        ),
        (
            "dismissals",
            lambda: _rows(
                Dismissal.objects.filter(**mine).order_by("created_at", "pk"),
                {"course_id": "course_id", "course": "course__title", "created_at": "created_at"},
            ),
        ),
        (
            "experiment_assignments",
            lambda: _rows(
                ExperimentAssignment.objects.filter(**mine).order_by("assigned_at", "pk"),
                {
                    "experiment": "experiment__key",
                    "variant": "variant__code",
                    "strategy": "variant__strategy",
                    "assigned_at": "assigned_at",
                },
            ),
        ),
        (
            "api_tokens",
            lambda: _rows(
                ApiToken.objects.filter(user_id=member.user_id).order_by("created_at", "pk"),
                {"prefix": "prefix", "created_at": "created_at", "expires_at": "expires_at"},
            ),
        ),
        (
            "feedback_by_reason",
            lambda: _rows(
                ReasonFeedback.objects.filter(**mine).order_by("reason"),
                {"reason": "reason", "impressions": "impressions", "clicks": "clicks"},
            ),
        ),
        (
            "feedback_by_day",
            lambda: _rows(
                CourseFeedbackDay.objects.filter(**mine).order_by("day", "course_id"),
                {
                    "day": "day",
                    "course_id": "course_id",
                    "impressions": "impressions",
                    "clicks": "clicks",
                },
            ),
        ),
        ("page_views", lambda: _page_views(member)),
        (
            "people_suggestions",
            lambda: _rows(
                PersonSuggestion.objects.filter(**mine).order_by("rank"),
                {
                    "person_id": "person_id",
                    "rank": "rank",
                    "family": "family",
                    "computed_at": "computed_at",
                },
            ),
        ),
        (
            "people_hidden",
            lambda: _rows(
                PersonHidden.objects.filter(**mine).order_by("created_at", "pk"),
                {"person_id": "person_id", "created_at": "created_at"},
            ),
        ),
        (
            "people_page_views",
            lambda: _rows(
                PeoplePageView.objects.filter(**mine).order_by("created_at", "pk"),
                {"id": "id", "surface": "surface", "created_at": "created_at"},
            ),
        ),
        (
            "people_clicks",
            lambda: _rows(
                PersonClick.objects.filter(**mine).order_by("created_at", "pk"),
                {
                    "page_view_id": "page_view_id",
                    "person_id": "person_id",
                    "created_at": "created_at",
                },
            ),
        ),
        (
            "digests",
            lambda: _rows(
                DigestSend.objects.filter(**mine).order_by("week", "pk"),
                {
                    "digest_id": "pk",
                    "week": "week",
                    "state": "state",
                    "strategy": "strategy",
                    "variant_id": "variant_id",
                    "claimed_at": "claimed_at",
                    "sent_at": "sent_at",
                },
            ),
        ),
        (
            "digest_courses",
            lambda: _rows(
                DigestItem.objects.filter(send__member=member).order_by("send__week", "position"),
                {
                    "digest_id": "send_id",
                    "position": "position",
                    "carousel_position": "carousel_position",
                    "course_id": "course_id",
                    "course": "course__title",
                    "reason": "reason",
                    "reason_key": "reason_key",
                    "clicked_at": "clicked_at",
                },
            ),
        ),
        (
            "feedback_events",
            lambda: _rows(
                FeedbackEvent.objects.filter(**mine).order_by("created_at", "pk"),
                {
                    "event_id": "event_id",
                    "kind": "kind",
                    "course_id": "course_id",
                    "page_view_id": "page_view_id",
                    "reason": "reason",
                    "reason_key": "reason_key",
                    "strategy": "strategy",
                    "carousel_position": "carousel_position",
                    "position": "position",
                    "value": "value",
                    "variant_id": "variant_id",
                    "created_at": "created_at",
                },
            ),
        ),
    ]


def member_data_export(*, member: Member, now: dt.datetime | None = None) -> Iterator[bytes]:
    """The member's data as one JSON object, in chunks of bytes (see the module docstring).

    The account, profile and recommendations are read before the first chunk is sent; each list
    is read when its turn comes. Only `member`'s own rows are read: the caller decides whose
    data it is (the signed-in member's, never one named in a request).
    """
    now = now or timezone.now()
    member = Member.objects.select_related("user", "title", "industry", "goal").get(pk=member.pk)
    head = {
        "format": EXPORT_FORMAT,
        "exported_at": now,
        "account": _account(member),
        "profile": _profile(member),
        "recommendations": _recommendations(member, now),
    }
    # The head's closing brace is left off: the lists follow in the same object.
    yield _dumps(head)[:-1]
    for name, rows in _sections(member):
        yield b',"' + name.encode() + b'":'
        yield from _json_list(rows())
    yield b"}"
