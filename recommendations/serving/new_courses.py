"""Courses added to the catalog since the serving snapshot was built, folded into it at once.

A retrain's snapshot knows the catalog as it was when the retrain read it; a course created or
imported later would wait for the next retrain to appear anywhere. `snapshot_with_new_courses`
gives the page a copy of the snapshot with those courses appended: their publication time
(so they score in "New"), their tags (so they are candidates of the carousels of the skills
they teach), no popularity or trend yet (nobody has taken them), and empty rows of item
similarity (the course page finds their similar courses by text, `similar.py`). The next
retrain folds them in normally.

Cost: the catalog revision (`CatalogRevision`) is already read by the page's inputs statement,
so an unchanged catalog costs nothing. When the revision moves, the first page view in this
process reads the courses created since the snapshot (one query, and one more for their tags
when there are any) and keeps the result for that revision, like the card cache.
"""

import datetime as dt
import threading
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from catalog.models import Course, CourseSkill
from recommendations import engine
from recommendations.data import RulesSnapshot
from recommendations.engine.positions import positions_of
from recommendations.training.rules import COURSE_LEVELS, course_tag_filter

# A course written before the snapshot was built but committed after its catalog read is
# missing from the snapshot too; its `created_at` is the time of its INSERT, so reading courses
# created from a little before the snapshot (and leaving out those it holds) catches it.
CREATED_SLACK = dt.timedelta(hours=1)

_lock = threading.Lock()
# (snapshot, catalog revision) -> the snapshot with the courses created since.
_kept: dict[str, object] = {"snapshot": None, "revision": None, "extended": None}


def snapshot_with_new_courses(
    *, snapshot: RulesSnapshot, catalog_revision: int | None
) -> RulesSnapshot:
    """`snapshot` with every course it does not hold appended (see the module docstring); the
    snapshot itself when there is none. Kept per catalog revision; None (no revision row, a
    flushed database) reads afresh."""
    if catalog_revision is not None:
        with _lock:
            if _kept["snapshot"] is snapshot and _kept["revision"] == catalog_revision:
                return _kept["extended"]  # type: ignore[return-value]
    extended = _extended(snapshot)
    if catalog_revision is not None:
        with _lock:
            _kept.update(snapshot=snapshot, revision=catalog_revision, extended=extended)
    return extended


def _extended(snapshot: RulesSnapshot) -> RulesSnapshot:
    since = dt.datetime.fromtimestamp(snapshot.built_at, tz=dt.UTC) - CREATED_SLACK
    rows = np.array(
        [
            (pk, published.timestamp(), COURSE_LEVELS.get(level, engine.LEVEL_BEGINNER))
            for pk, published, level in Course.objects.filter(created_at__gte=since).values_list(
                "pk", "published_at", "level"
            )
        ],
        dtype=np.float64,
    ).reshape(-1, 3)
    new_ids = rows[:, 0].astype(np.int64)
    fresh = snapshot.course_positions(new_ids) < 0
    if not fresh.any():
        return snapshot
    new_ids, new_published = new_ids[fresh], rows[fresh, 1]
    new_levels = rows[fresh, 2].astype(np.int8)
    tags = np.array(
        list(
            CourseSkill.objects.filter(course_tag_filter(), course_id__in=new_ids.tolist())
            .values_list("course_id", "skill_id")
            .order_by()
        ),
        dtype=np.int64,
    ).reshape(-1, 2)
    return snapshot_courses_appended(
        snapshot,
        course_ids=new_ids,
        published=new_published,
        levels=new_levels,
        tag_course=tags[:, 0],
        tag_skill=tags[:, 1],
    )


def snapshot_courses_appended(
    snapshot: RulesSnapshot,
    *,
    course_ids: np.ndarray,
    published: np.ndarray,
    levels: np.ndarray,
    tag_course: np.ndarray,
    tag_skill: np.ndarray,
) -> RulesSnapshot:
    """`snapshot` with courses it does not hold added, kept sorted by id: their publication
    times (epoch seconds), levels (`engine.LEVEL_*`) and their (course id, skill id) tags;
    skills the snapshot does not know are left out. They have no popularity, trend or item
    similarity yet."""
    by_id = np.argsort(course_ids, kind="stable")
    course_ids, published, levels = course_ids[by_id], published[by_id], levels[by_id]
    n_old, n_new = snapshot.course_ids.size, course_ids.size
    n_all, n_skills = n_old + n_new, snapshot.skill_ids.size
    all_ids = np.concatenate([snapshot.course_ids, course_ids])
    # New courses usually have the highest ids, so this is the identity; an explicit id below
    # the snapshot's highest still keeps every array sorted by id, as `positions_of` needs.
    order = np.argsort(all_ids, kind="stable")
    tag_rows = positions_of(course_ids, tag_course)
    skill_columns = snapshot.skill_positions(tag_skill)
    keep = (tag_rows >= 0) & (skill_columns >= 0)
    new_rows = sp.csr_array(
        (np.ones(int(keep.sum())), (tag_rows[keep], skill_columns[keep])),
        shape=(n_new, n_skills),
    )
    new_rows.sum_duplicates()
    course_skill = engine.as_csr(sp.vstack([snapshot.course_skill, new_rows], format="csr")[order])

    def columns_padded(matrix: sp.csr_array) -> sp.csr_array:
        padded = sp.csr_array(
            (matrix.data, matrix.indices, matrix.indptr), shape=(matrix.shape[0], n_all)
        )
        return engine.as_csr(padded[:, order])

    def square_padded(matrix: sp.csr_array) -> sp.csr_array:
        rows = sp.vstack([matrix, sp.csr_array((n_new, n_old))], format="csr")
        return columns_padded(engine.as_csr(rows[order]))

    return replace(
        snapshot,
        course_ids=all_ids[order],
        course_published=np.concatenate([snapshot.course_published, published])[order],
        course_skill=course_skill,
        popularity=np.concatenate([snapshot.popularity, np.zeros(n_new)])[order],
        title_trending=columns_padded(snapshot.title_trending),
        industry_trending=columns_padded(snapshot.industry_trending),
        course_similarity=square_padded(snapshot.course_similarity),
        similar_courses=square_padded(snapshot.similar_courses),
        course_bucket=engine.skill_set_bucket_ids(course_skill),
        course_level=np.concatenate([snapshot.course_level, levels.astype(np.int8)])[order],
    )
