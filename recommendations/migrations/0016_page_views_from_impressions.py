"""The served impressions (one FeedbackEvent per card) become page views (one PageView per page).

A served impression is one the site logged itself: it has its slot (carousel position and
position). Those of one page view (`page_view_id`; rows without one, by member and time) become
one row packed as recommendations/feedback/page_views.py describes, and the per-card rows are
deleted. Impressions without a slot (imported, or sent as events) stay events. The counts the
homepage reads (CourseFeedbackDay, ReasonFeedback) already hold every impression: unchanged.
The old rows did not say whether a page was the site's or an API answer: they become `web`.

PostgreSQL: two set-based statements (the packing in SQL, `int4send`/`int2send` writing the
big-endian records), whatever the table's size. Elsewhere (SQLite: the demo, tests) the rows
are read in page order, in chunks, and packed in Python the same way.
"""

import struct
import uuid

from django.db import migrations

_SERVED = "kind = 'impression' AND carousel_position IS NOT NULL AND position IS NOT NULL"
_CONTINUE = "continue"

_POSTGRESQL = f"""
WITH shown AS (
    SELECT
        COALESCE(
            page_view_id, md5(member_id::text || '/' || created_at::text)::uuid
        ) AS page,
        id, member_id, course_id, created_at, variant_id, reason, reason_key, strategy,
        carousel_position, position
    FROM recommendations_feedbackevent
    WHERE {_SERVED}
), labelled AS (
    SELECT shown.*,
        dense_rank() OVER (PARTITION BY page ORDER BY reason, reason_key, strategy) - 1 AS label
    FROM shown
), labels AS (
    SELECT page,
        jsonb_agg(jsonb_build_array(reason, reason_key, strategy) ORDER BY label) AS labels
    FROM (SELECT DISTINCT page, label, reason, reason_key, strategy FROM labelled) AS listed
    GROUP BY page
), pages AS (
    SELECT
        page,
        min(member_id) AS member_id,
        min(created_at) AS created_at,
        max(variant_id) FILTER (WHERE reason <> '{_CONTINUE}') AS variant_id,
        string_agg(int4send(course_id::integer), ''::bytea
            ORDER BY carousel_position, position, id) AS courses,
        string_agg(
            int2send(label::smallint) || int2send(carousel_position::smallint)
                || int2send(position::smallint),
            ''::bytea ORDER BY carousel_position, position, id
        ) AS slots,
        count(*) FILTER (WHERE reason <> '{_CONTINUE}') AS recommended
    FROM labelled
    GROUP BY page
)
INSERT INTO recommendations_pageview (
    id, member_id, created_at, channel, variant_id, courses, slots, labels, recommended
)
SELECT pages.page, member_id, created_at, 'web', variant_id, courses, slots, labels.labels,
    recommended
FROM pages JOIN labels USING (page)
"""

_CHUNK = 5000


def _page_key(page_view_id, member_id, created_at) -> uuid.UUID:
    if page_view_id is not None:
        return page_view_id
    return uuid.uuid5(uuid.NAMESPACE_URL, f"page-view:{member_id}/{created_at.isoformat()}")


def _packed(key: uuid.UUID, cards: list[tuple]) -> dict:
    """One page view's columns from its rows (member, course, time, variant, reason, reason
    key, strategy, carousel position, position), in page order."""
    labels: dict[tuple[str, str, str], int] = {}
    courses, slots, variants, recommended = [], [], set(), 0
    for _, course_id, _, variant_id, reason, reason_key, strategy, carousel, position in cards:
        label = labels.setdefault((reason, reason_key, strategy), len(labels))
        courses.append(struct.pack(">i", course_id))
        slots.append(struct.pack(">hhh", label, carousel, position))
        if reason != _CONTINUE:
            recommended += 1
            if variant_id is not None:
                variants.add(variant_id)
    return {
        "id": key,
        "member_id": min(card[0] for card in cards),
        "created_at": min(card[2] for card in cards),
        "channel": "web",
        "variant_id": max(variants) if variants else None,
        "courses": b"".join(courses),
        "slots": b"".join(slots),
        "labels": [list(label) for label in labels],
        "recommended": recommended,
    }


def _portable(apps) -> None:
    FeedbackEvent = apps.get_model("recommendations", "FeedbackEvent")
    PageView = apps.get_model("recommendations", "PageView")
    served = FeedbackEvent.objects.filter(
        kind="impression", carousel_position__isnull=False, position__isnull=False
    )
    rows = served.order_by(
        "page_view_id", "member_id", "created_at", "carousel_position", "position", "pk"
    ).values_list(
        "page_view_id",
        "member_id",
        "course_id",
        "created_at",
        "variant_id",
        "reason",
        "reason_key",
        "strategy",
        "carousel_position",
        "position",
    )
    pages: dict[uuid.UUID, list[tuple]] = {}
    for page_view_id, *card in rows.iterator(chunk_size=_CHUNK):
        key = _page_key(page_view_id, card[0], card[2])
        if key not in pages and len(pages) >= _CHUNK:
            # Rows come in page order: every page but the one being read is complete.
            PageView.objects.bulk_create([PageView(**_packed(k, c)) for k, c in pages.items()])
            pages = {}
        pages.setdefault(key, []).append(tuple(card))
    PageView.objects.bulk_create([PageView(**_packed(k, c)) for k, c in pages.items()])
    served.delete()


def page_views_from_impressions(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(_POSTGRESQL)
            cursor.execute(f"DELETE FROM recommendations_feedbackevent WHERE {_SERVED}")
        return
    _portable(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("recommendations", "0015_page_views"),
    ]

    operations = [
        # Irreversible: going back would need the per-card rows made again from the packing.
        migrations.RunPython(page_views_from_impressions),
    ]
