"""The homepage's first stage: everything a page depends on for one member, in one read.

On PostgreSQL one prepared statement returns the member's followed and profile skills,
enrolments, dismissals, precomputed row, discounted courses, per-reason feedback, the catalog
revision and the stored next page (and can take the page view's pending lock); elsewhere one
ORM query each.
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Sum

from catalog.card_cache import catalog_revision_current
from core.prepared_statements import prepared_cursor
from members.models import Enrolment, FollowedSkill, MemberSkill, OccupationSkill
from recommendations.models import (
    ComposedPage,
    CourseFeedbackDay,
    Dismissal,
    MemberRecommendations,
    ReasonFeedback,
)
from recommendations.serving.pending import page_view_pending_lock_key
from recommendations.serving.stored_pages import (
    StoredPage,
)


@dataclass(frozen=True)
class MemberServingInputs:
    """What one page view reads of a member besides the member row itself."""

    # (skill id, name), newest follow first.
    followed: list[tuple[int, str]]
    # (skill id, weight, name), heaviest first.
    profile: list[tuple[int, float, str]]
    # (course id, title) of enrolled courses (in progress or finished), newest first.
    enrolled: list[tuple[int, str]]
    dismissed: list[int]
    # The precomputed learned candidates (None when not asked for or not computed yet).
    learned_payload: bytes | None
    # (course id, impressions) of the courses the impression discount applies to: shown more
    # than the threshold within the window and never clicked in it. None: not read, the member's
    # stored page being in its steady window (`stored_steady_between`); `member_discounted_read`
    # reads them when the page is composed after all.
    discounted: list[tuple[int, int]] | None
    # Reason family: (impressions, clicks), all time.
    reason_feedback: dict[str, tuple[int, int]]
    # The catalog's revision (see `CatalogRevision`), for the card cache: read here, it costs
    # no round trip of its own. None: no revision row.
    catalog_revision: int | None
    # The member's stored next page (`stored_pages`), if any.
    composed: StoredPage | None = None
    # (course id, progress percent) of the courses started and not finished, the most recently
    # watched (else enrolled) first: the "Continue learning" row (`continuing`).
    in_progress: list[tuple[int, int]] = field(default_factory=list)
    # (skill id, O*NET weight, hot, name) of the member's goal role's skills (`goal_id`), by
    # skill id; empty without a goal.
    goal_skills: list[tuple[int, float, bool, str]] = field(default_factory=list)


def member_serving_inputs(
    *,
    member_id: int,
    window_start: dt.date,
    discount_threshold: int,
    with_learned: bool,
    pending_page_view_id: uuid.UUID | None = None,
    goal_id: int | None = None,
    stored_steady_between: tuple[dt.datetime, dt.datetime] | None = None,
) -> MemberServingInputs:
    """The member's skills, courses, precomputed row and feedback counts for one page view,
    and the skills of their goal role (`goal_id`: `Member.goal_id`, read with the member row).

    Ties in every ordering go to the lower id, so both database paths agree row for row. Only
    discounted courses come back: a member who visits often has thousands of shown courses,
    and the others would multiply their scores by 1.

    `pending_page_view_id`: on PostgreSQL the same statement marks that page view pending
    (`pending`), as `page_view_pending_mark` would with a round trip of its own. Elsewhere
    impressions are written before the response and nothing is marked.

    `stored_steady_between`: (earliest, latest) composition time of a stored page served
    whatever its impressions (`stored_pages`' steady seconds). On PostgreSQL, when the
    member's stored page was composed in it, the discounted courses are not read (`discounted`
    is None): summing the member's impressions over the window is most of the statement's time
    for a member who visits often, and such a page is served without them unless something
    else changed. Elsewhere they are always read.
    """
    if connection.vendor == "postgresql":
        return _member_serving_inputs_postgresql(
            member_id=member_id,
            window_start=window_start,
            discount_threshold=discount_threshold,
            with_learned=with_learned,
            pending_page_view_id=pending_page_view_id,
            goal_id=goal_id,
            stored_steady_between=stored_steady_between,
        )
    return _member_serving_inputs_portable(
        member_id=member_id,
        window_start=window_start,
        discount_threshold=discount_threshold,
        with_learned=with_learned,
        goal_id=goal_id,
    )


# One statement, one row: eleven reads on every page view (the catalog revision is the card
# cache's, the stored page `stored_pages`'), where each ORM query would cost a round trip
# plus building its SQL and converting its rows in Python. Lists come back as JSON or arrays,
# which psycopg decodes in C. Skill names are looked up per skill: as a join, the prepared
# (generic) plan hashes the whole skills table for a member's handful of skills.
_MEMBER_INPUTS_COLUMNS = """\
    (SELECT json_agg(
            json_build_array(f.skill_id, (SELECT name FROM catalog_skill WHERE id = f.skill_id))
            ORDER BY f.followed_at DESC, f.skill_id)
        FROM members_followedskill f WHERE f.member_id = %(member)s),
    (SELECT json_agg(
            json_build_array(
                p.skill_id, p.weight, (SELECT name FROM catalog_skill WHERE id = p.skill_id)
            )
            ORDER BY p.weight DESC, p.skill_id)
        FROM members_memberskill p WHERE p.member_id = %(member)s),
    (SELECT json_agg(json_build_array(e.course_id, c.title)
            ORDER BY e.enrolled_at DESC, e.course_id)
        FROM members_enrolment e JOIN catalog_course c ON c.id = e.course_id
        WHERE e.member_id = %(member)s),
    ARRAY(SELECT course_id FROM recommendations_dismissal
        WHERE member_id = %(member)s ORDER BY course_id),
    CASE WHEN %(learned)s THEN (SELECT payload FROM recommendations_memberrecommendations
        WHERE member_id = %(member)s) END,
    discounted.ids,
    discounted.impressions,
    (SELECT json_agg(json_build_array(reason, impressions, clicks) ORDER BY reason)
        FROM recommendations_reasonfeedback WHERE member_id = %(member)s),
    (SELECT revision FROM catalog_catalogrevision WHERE id = 1),
    page.digest,
    page.composed_at,
    page.layout,
    page.digest_without_impressions,
    (SELECT json_agg(json_build_array(e.course_id, e.progress_percent)
            ORDER BY COALESCE(e.last_watched_at, e.enrolled_at) DESC, e.course_id)
        FROM members_enrolment e
        WHERE e.member_id = %(member)s AND e.completed_at IS NULL),
    (SELECT json_agg(
            json_build_array(
                o.skill_id, o.weight, o.hot, (SELECT name FROM catalog_skill WHERE id = o.skill_id)
            )
            ORDER BY o.skill_id)
        FROM members_occupationskill o WHERE o.job_title_id = %(goal)s)"""


# The discounted courses are summed only when the stored page cannot be served on its digest
# without the impressions: composed outside the steady window (%(steady_from)s to %(steady_to)s,
# NULL for none), or stored without that digest. `steady.skipped` depends on the outer row
# alone, so PostgreSQL checks it once before the sum (a one-time filter), and a skipped sum
# costs nothing; it also tells a skipped sum from one that found no course.
_MEMBER_INPUTS_FROM = """
FROM (VALUES (1)) AS one (x)
LEFT JOIN recommendations_composedpage page ON page.member_id = %(member)s
CROSS JOIN LATERAL (
    SELECT COALESCE(
        page.composed_at BETWEEN %(steady_from)s::timestamptz AND %(steady_to)s::timestamptz
            AND page.digest_without_impressions <> ''::bytea,
        false
    ) AS skipped
) AS steady
CROSS JOIN LATERAL (
    SELECT array_agg(course_id ORDER BY course_id) AS ids,
        array_agg(impressions ORDER BY course_id) AS impressions
    FROM (
        SELECT course_id, SUM(impressions) AS impressions
        FROM recommendations_coursefeedbackday
        WHERE member_id = %(member)s AND day > %(window_start)s
        GROUP BY course_id
        HAVING SUM(clicks) = 0 AND SUM(impressions) > %(threshold)s
    ) AS per_course
    WHERE NOT steady.skipped
) AS discounted
"""


_MEMBER_INPUTS_SQL = (
    f"SELECT\n{_MEMBER_INPUTS_COLUMNS},\n    steady.skipped,\n    NULL{_MEMBER_INPUTS_FROM}"
)
# The same, marking a page view pending (`pending`): its lock is taken with the reads.
_MEMBER_INPUTS_MARKING_SQL = (
    f"SELECT\n{_MEMBER_INPUTS_COLUMNS},\n    steady.skipped,\n"
    f"    pg_advisory_lock(%(pending)s){_MEMBER_INPUTS_FROM}"
)


def _member_serving_inputs_postgresql(
    *,
    member_id: int,
    window_start: dt.date,
    discount_threshold: int,
    with_learned: bool,
    pending_page_view_id: uuid.UUID | None = None,
    goal_id: int | None = None,
    stored_steady_between: tuple[dt.datetime, dt.datetime] | None = None,
) -> MemberServingInputs:
    steady_from, steady_to = stored_steady_between or (None, None)
    params = {
        "member": member_id,
        "window_start": window_start,
        "threshold": discount_threshold,
        "learned": with_learned,
        "goal": goal_id,
        "steady_from": steady_from,
        "steady_to": steady_to,
    }
    statement = _MEMBER_INPUTS_SQL
    if pending_page_view_id is not None:
        params["pending"] = page_view_pending_lock_key(pending_page_view_id)
        statement = _MEMBER_INPUTS_MARKING_SQL
    with prepared_cursor() as cursor:
        cursor.execute(statement, params)
        (
            followed,
            profile,
            enrolled,
            dismissed,
            payload,
            ids,
            counts,
            reasons,
            catalog_revision,
            composed_digest,
            composed_at,
            composed_layout,
            composed_digest_without_impressions,
            in_progress,
            goal_skills,
            discount_skipped,
            _,  # the lock's (void) result, or NULL
        ) = cursor.fetchone()
    return MemberServingInputs(
        followed=[(skill_id, name) for skill_id, name in followed or []],
        profile=[(skill_id, float(weight), name) for skill_id, weight, name in profile or []],
        enrolled=[(course_id, title) for course_id, title in enrolled or []],
        dismissed=list(dismissed),
        learned_payload=bytes(payload) if payload is not None else None,
        discounted=None if discount_skipped else list(zip(ids or [], counts or [], strict=True)),
        reason_feedback={reason: (shown, clicks) for reason, shown, clicks in reasons or []},
        catalog_revision=catalog_revision,
        composed=(
            StoredPage(
                bytes(composed_digest),
                composed_at,
                bytes(composed_layout),
                bytes(composed_digest_without_impressions),
            )
            if composed_digest is not None
            else None
        ),
        in_progress=[(course_id, progress) for course_id, progress in in_progress or []],
        goal_skills=[
            (skill_id, float(weight), hot, name)
            for skill_id, weight, hot, name in goal_skills or []
        ],
    )


def _member_serving_inputs_portable(
    *,
    member_id: int,
    window_start: dt.date,
    discount_threshold: int,
    with_learned: bool,
    goal_id: int | None = None,
) -> MemberServingInputs:
    """The same reads through the ORM, one query each (SQLite: the demo and local tests)."""
    # One read of the enrolments gives both lists: every enrolment newest first, and the
    # unfinished ones by last activity, ordered as the PostgreSQL statement orders them.
    enrolments = list(
        Enrolment.objects.filter(member_id=member_id)
        .order_by("-enrolled_at", "course_id")
        .values_list(
            "course_id",
            "course__title",
            "progress_percent",
            "completed_at",
            "last_watched_at",
            "enrolled_at",
        )
    )
    unfinished = sorted(
        (row for row in enrolments if row[3] is None),
        key=lambda row: (-(row[4] or row[5]).timestamp(), row[0]),
    )
    learned_payload = None
    if with_learned:
        learned_payload = (
            MemberRecommendations.objects.filter(member_id=member_id)
            .values_list("payload", flat=True)
            .first()
        )
    return MemberServingInputs(
        followed=list(
            FollowedSkill.objects.filter(member_id=member_id)
            .order_by("-followed_at", "skill_id")
            .values_list("skill_id", "skill__name")
        ),
        profile=[
            (skill_id, float(weight), name)
            for skill_id, weight, name in MemberSkill.objects.filter(member_id=member_id)
            .order_by("-weight", "skill_id")
            .values_list("skill_id", "weight", "skill__name")
        ],
        enrolled=[(course_id, title) for course_id, title, *_ in enrolments],
        dismissed=list(
            Dismissal.objects.filter(member_id=member_id)
            .order_by("course_id")
            .values_list("course_id", flat=True)
        ),
        learned_payload=bytes(learned_payload) if learned_payload is not None else None,
        discounted=member_discounted_read(
            member_id=member_id, window_start=window_start, discount_threshold=discount_threshold
        ),
        reason_feedback={
            reason: (impressions, clicks)
            for reason, impressions, clicks in ReasonFeedback.objects.filter(member_id=member_id)
            .order_by("reason")
            .values_list("reason", "impressions", "clicks")
        },
        catalog_revision=catalog_revision_current(),
        composed=_stored_page_portable(member_id),
        in_progress=[(row[0], row[2]) for row in unfinished],
        # A query only for a member with a goal.
        goal_skills=[]
        if goal_id is None
        else [
            (skill_id, float(weight), hot, name)
            for skill_id, weight, hot, name in OccupationSkill.objects.filter(job_title_id=goal_id)
            .order_by("skill_id")
            .values_list("skill_id", "weight", "hot", "skill__name")
        ],
    )


def _stored_page_portable(member_id: int) -> StoredPage | None:
    row = (
        ComposedPage.objects.filter(member_id=member_id)
        .values_list("digest", "composed_at", "layout", "digest_without_impressions")
        .first()
    )
    if row is None:
        return None
    return StoredPage(bytes(row[0]), row[1], bytes(row[2]), bytes(row[3]))


def member_discounted_read(
    *, member_id: int, window_start: dt.date, discount_threshold: int
) -> list[tuple[int, int]]:
    """(course id, impressions) of the courses the impression discount applies to, by course
    id, as `MemberServingInputs.discounted` holds them: what a page view reads on its own when
    its inputs were read without them and it composes its page after all."""
    return list(
        CourseFeedbackDay.objects.filter(member_id=member_id, day__gt=window_start)
        .values("course_id")
        .annotate(impressions=Sum("impressions"), clicks=Sum("clicks"))
        .filter(clicks=0, impressions__gt=discount_threshold)
        .order_by("course_id")
        .values_list("course_id", "impressions")
    )
