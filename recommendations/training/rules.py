"""The rules snapshot: everything the homepage needs that depends on all members or courses
(IDF, cohort skill profiles, popularity, trends, skill and item similarity), built from the
database in a retrain and stored on its TrainingRun, so a page view only does per-member work."""

import datetime as dt

import numpy as np
import scipy.sparse as sp
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from catalog.models import Course, CourseSkill, Skill
from members.models import FollowedSkill, Member, MemberSkill
from recommendations import engine
from recommendations.data import RulesSnapshot
from recommendations.engine.positions import positions_of
from recommendations.training.activity import ActivityArrays, activity_read
from recommendations.training.artifacts import artifact_dumps, artifact_loads
from recommendations.training.table_arrays import query_arrays

SIMILAR_COURSES_PER_COURSE = 50


def _epoch(moment: dt.datetime) -> float:
    return moment.timestamp()


def _ids(queryset) -> np.ndarray:
    return np.fromiter(queryset.order_by("pk").values_list("pk", flat=True), dtype=np.int64)


def _pairs(rows, dtype=np.int64) -> tuple[np.ndarray, np.ndarray]:
    array = np.array(list(rows), dtype=dtype).reshape(-1, 2)
    return array[:, 0], array[:, 1]


def _indicator(
    rows: np.ndarray, cols: np.ndarray, *, shape: tuple[int, int], values: np.ndarray | None = None
) -> sp.csr_array:
    keep = (rows >= 0) & (cols >= 0)
    data = np.ones(int(keep.sum())) if values is None else values[keep]
    matrix = sp.csr_array((data, (rows[keep], cols[keep])), shape=shape)
    matrix.sum_duplicates()
    return matrix


def course_tag_filter() -> Q:
    """Tags that describe a course for recommendations: approved, or pending but confident."""
    min_confidence = settings.RECOMMENDATIONS["TAG_MIN_CONFIDENCE"]
    return Q(status=CourseSkill.Status.APPROVED) | Q(
        status=CourseSkill.Status.PENDING, confidence__gte=min_confidence
    )


def catalog_courses_read() -> tuple[np.ndarray, np.ndarray]:
    """Every course's id (ascending) and publication time (epoch seconds): the columns of the
    snapshot and of the learned models."""
    course_rows = np.array(
        [
            (pk, _epoch(published))
            for pk, published in Course.objects.values_list("pk", "published_at")
        ],
        dtype=np.float64,
    ).reshape(-1, 2)
    order = np.argsort(course_rows[:, 0], kind="stable")
    return course_rows[order, 0].astype(np.int64), course_rows[order, 1]


COURSE_LEVELS = {
    Course.Level.BEGINNER: engine.LEVEL_BEGINNER,
    Course.Level.INTERMEDIATE: engine.LEVEL_INTERMEDIATE,
    Course.Level.ADVANCED: engine.LEVEL_ADVANCED,
}


def course_levels_read(course_ids: np.ndarray) -> np.ndarray:
    """The level of each of `course_ids` (sorted), beginner for a course no longer there."""
    levels = np.full(course_ids.size, engine.LEVEL_BEGINNER, dtype=np.int8)
    rows = list(Course.objects.filter(pk__in=course_ids.tolist()).values_list("pk", "level"))
    if rows:
        positions = positions_of(course_ids, np.array([pk for pk, _ in rows], dtype=np.int64))
        values = np.array([COURSE_LEVELS.get(level, 0) for _, level in rows], dtype=np.int8)
        keep = positions >= 0
        levels[positions[keep]] = values[keep]
    return levels


def rules_snapshot_build(
    *,
    now: dt.datetime | None = None,
    activity: ActivityArrays | None = None,
    courses: tuple[np.ndarray, np.ndarray] | None = None,
) -> RulesSnapshot:
    """Read the catalog (unless `courses` is given: see `catalog_courses_read`), members and
    activity, and compute every all-members statistic."""
    config = settings.RECOMMENDATIONS
    now = now or timezone.now()
    now_s = _epoch(now)

    course_ids, course_published = courses if courses is not None else catalog_courses_read()
    skill_ids = _ids(Skill.objects.all())
    n_courses, n_skills = course_ids.size, skill_ids.size

    tag_course, tag_skill = _pairs(
        CourseSkill.objects.filter(course_tag_filter()).values_list("course_id", "skill_id")
    )
    course_skill = _indicator(
        positions_of(course_ids, tag_course),
        positions_of(skill_ids, tag_skill),
        shape=(n_courses, n_skills),
    )

    member_table = query_arrays(
        columns=[
            ("id", "id", "int"),
            ("title", "COALESCE(title_id, -1)", "int"),
            ("industry", "COALESCE(industry_id, -1)", "int"),
        ],
        source=Member._meta.db_table,
    )
    member_rows = np.stack([member_table["id"], member_table["title"], member_table["industry"]], 1)
    member_rows = member_rows[np.argsort(member_rows[:, 0], kind="stable")]
    member_ids, member_title, member_industry = member_rows.T
    n_members = member_ids.size

    held = [("member", "member_id", "int"), ("skill", "skill_id", "int")]
    profile = query_arrays(columns=held, source=MemberSkill._meta.db_table)
    followed = query_arrays(columns=held, source=FollowedSkill._meta.db_table)
    held_member = np.concatenate([profile["member"], followed["member"]])
    held_skill = np.concatenate([profile["skill"], followed["skill"]])
    member_skill = engine.presence(
        _indicator(
            positions_of(member_ids, held_member),
            positions_of(skill_ids, held_skill),
            shape=(n_members, n_skills),
        )
    )
    idf = engine.skill_idf(
        member_skill,
        min_members=engine.idf_min_members(
            n_members, cap=config["IDF_MIN_MEMBERS"], share=config["IDF_MIN_MEMBERS_SHARE"]
        ),
    )

    title_ids = np.unique(member_title[member_title >= 0])
    industry_ids = np.unique(member_industry[member_industry >= 0])
    title_of_member = positions_of(title_ids, member_title)
    industry_of_member = positions_of(industry_ids, member_industry)
    has_pair = (title_of_member >= 0) & (industry_of_member >= 0)
    pair_keys = np.unique(
        np.stack([member_title[has_pair], member_industry[has_pair]], axis=1), axis=0
    ).reshape(-1, 2)
    pair_of_member = np.full(n_members, -1, dtype=np.int64)
    if pair_keys.size:
        encoded_keys = pair_keys[:, 0] * (industry_ids.max() + 1) + pair_keys[:, 1]
        encoded_members = member_title * (industry_ids.max() + 1) + member_industry
        pair_of_member[has_pair] = positions_of(encoded_keys, encoded_members[has_pair])

    min_cohort = config["COHORT_MIN_SIZE"]
    pair_profiles = engine.cohort_skill_profiles(
        member_skill, pair_of_member, n_cohorts=len(pair_keys), min_cohort_size=min_cohort
    )
    title_profiles = engine.cohort_skill_profiles(
        member_skill, title_of_member, n_cohorts=title_ids.size, min_cohort_size=min_cohort
    )
    industry_profiles = engine.cohort_skill_profiles(
        member_skill, industry_of_member, n_cohorts=industry_ids.size, min_cohort_size=min_cohort
    )

    if activity is None:
        activity = activity_read()
    window_start = now_s - config["POPULAR_WINDOW_DAYS"] * 86400.0
    recent = activity.enrol_started >= window_start
    event_member = positions_of(member_ids, activity.enrol_member[recent])
    event_course = positions_of(course_ids, activity.enrol_course[recent])
    event_time = activity.enrol_started[recent]
    known = (event_member >= 0) & (event_course >= 0)
    event_member, event_course, event_time = (
        event_member[known],
        event_course[known],
        event_time[known],
    )
    member_course = _indicator(event_member, event_course, shape=(n_members, n_courses))
    popularity = engine.popularity_scores(member_course)
    half_life = config["TRENDING_HALF_LIFE_DAYS"]
    title_trending = engine.cohort_trending_scores(
        event_member,
        event_course,
        event_time,
        cohort_of_member=title_of_member,
        n_cohorts=title_ids.size,
        n_courses=n_courses,
        now=now_s,
        half_life_days=half_life,
        min_cohort_size=min_cohort,
    )
    industry_trending = engine.cohort_trending_scores(
        event_member,
        event_course,
        event_time,
        cohort_of_member=industry_of_member,
        n_cohorts=industry_ids.size,
        n_courses=n_courses,
        now=now_s,
        half_life_days=half_life,
        min_cohort_size=min_cohort,
    )
    course_similarity = engine.course_similarity_by_skills(
        course_skill, idf, top_k=SIMILAR_COURSES_PER_COURSE
    )
    return RulesSnapshot(
        built_at=now_s,
        course_ids=course_ids,
        course_published=course_published,
        skill_ids=skill_ids,
        course_skill=course_skill,
        idf=idf,
        title_ids=title_ids,
        industry_ids=industry_ids,
        pair_title=pair_keys[:, 0].copy(),
        pair_industry=pair_keys[:, 1].copy(),
        pair_profiles=pair_profiles,
        title_profiles=title_profiles,
        industry_profiles=industry_profiles,
        popularity=np.asarray(popularity, dtype=np.float64),
        title_trending=sp.csr_array(title_trending),
        industry_trending=sp.csr_array(industry_trending),
        course_similarity=course_similarity,
        similar_courses=course_similarity,
        course_bucket=engine.skill_set_bucket_ids(course_skill),
        course_level=course_levels_read(course_ids),
    )


def similar_courses_blend(*, learned: sp.csr_array, by_skills: sp.csr_array) -> sp.csr_array:
    """Rows of the learned similarity where a course has any, skill-similarity rows elsewhere."""
    has_learned = np.diff(learned.indptr) > 0
    keep = sp.diags_array(has_learned.astype(np.float64))
    fallback = sp.diags_array((~has_learned).astype(np.float64))
    return engine.as_csr(keep @ learned + fallback @ by_skills)


def rules_snapshot_dumps(snapshot: RulesSnapshot) -> bytes:
    values = {
        name: getattr(snapshot, name)
        for name in RulesSnapshot.__dataclass_fields__
        if name != "built_at"
    }
    values["built_at"] = np.array([snapshot.built_at])
    return artifact_dumps(values)


def rules_snapshot_loads(payload: bytes) -> RulesSnapshot:
    values = artifact_loads(payload)
    values["built_at"] = float(values["built_at"][0])
    # Snapshots stored before the learned similarity existed.
    values.setdefault("similar_courses", values["course_similarity"])
    # Snapshots stored before course levels: every course reads as a beginner's.
    values.setdefault("course_level", np.zeros(values["course_ids"].size, dtype=np.int8))
    return RulesSnapshot(**values)


def rules_snapshot_problems(snapshot: RulesSnapshot) -> list[str]:
    """Sanity checks a snapshot must pass before it may serve."""
    problems = []
    if snapshot.course_ids.size == 0:
        problems.append("the catalog has no courses")
    if not np.all(np.isfinite(snapshot.idf)):
        problems.append("IDF has non-finite values")
    if not np.all(np.isfinite(snapshot.popularity)):
        problems.append("popularity has non-finite values")
    return problems
