"""Skill affinity: member skill vectors, skill IDF and member × course affinity scores.

The cold-start model: a member's skill vector (followed skills, profile skills and skills
inferred from their title/industry cohort) is matched against course skill tags, with rare
skills weighted up and ubiquitous ones down by an inverse document frequency over members.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from recommendations.engine.sparse_ops import (
    FloatArray,
    IntArray,
    Sparse,
    as_csr,
    group_matrix,
    l2_normalize_rows,
    presence,
    row_argmax,
    scale_columns,
    scale_rows,
    select_rows,
)

__all__ = [
    "affinity_scores",
    "cohort_skill_profiles",
    "idf_min_members",
    "member_affinity",
    "member_cohort_vectors",
    "member_skill_vector",
    "member_skill_vectors",
    "skill_contributions",
    "skill_idf",
    "top_contributing_skill",
]


def skill_idf(member_skill: Sparse, *, min_members: int = 1) -> FloatArray:
    """Smoothed inverse document frequency of each skill over members, shape (skills,).

    ``member_skill`` is (members × skills); any non-zero entry counts as holding the skill.
    ``idf[s] = log(1 + M / N(s))`` with M the number of members and N(s) the number holding s.
    Skills held by fewer than ``min_members`` members (always including N(s) = 0) get exactly 0:
    too rare to trust, and they would otherwise dominate every score they appear in.
    """
    held = presence(member_skill)
    n_members, n_skills = held.shape
    holders = np.bincount(held.indices, minlength=n_skills).astype(np.float64)
    idf = np.zeros(n_skills)
    kept = holders >= max(min_members, 1)
    idf[kept] = np.log1p(n_members / holders[kept])
    return idf


def idf_min_members(n_members: int, *, cap: int, share: float) -> int:
    """The rare-skill cutoff for ``skill_idf`` on a site of ``n_members``: ``share`` of the
    members, at least 1 and at most ``cap``.

    A fixed cutoff of a few members fits a large site, where a skill two people hold is noise;
    on a site of ten members it would zero most skills, and with them their carousels.
    """
    return int(min(max(cap, 1), max(1, math.floor(n_members * share))))


def cohort_skill_profiles(
    member_skill: Sparse,
    cohort_of_member: ArrayLike,
    *,
    n_cohorts: int,
    min_cohort_size: int = 1,
) -> sp.csr_array:
    """Share of each cohort's members holding each skill, shape (cohorts × skills).

    ``cohort_of_member`` (members,) gives a cohort index per member, -1 for none. Skill presence
    is binary, so a member with many skills counts no more than one with few. Cohorts with fewer
    than ``min_cohort_size`` members get an empty row: a handful of people is not a profile.
    """
    assignment = group_matrix(cohort_of_member, n_groups=n_cohorts)
    sizes = np.diff(assignment.indptr).astype(np.float64)
    factors = np.divide(1.0, sizes, out=np.zeros_like(sizes), where=sizes > 0)
    factors[sizes < min_cohort_size] = 0.0
    return scale_rows(assignment @ presence(member_skill), factors)


def member_cohort_vectors(levels: Sequence[tuple[ArrayLike, Sparse]]) -> sp.csr_array:
    """Inferred skill vector of each member from the first usable cohort, shape (members × skills).

    ``levels`` is the fallback chain, most specific first, e.g.
    ``[(title_industry_of_member, title_industry_profiles), (title_of_member, title_profiles),
    (industry_of_member, industry_profiles)]``. Each pair is a cohort index per member (-1 for
    none) and that cohort kind's profile matrix from :func:`cohort_skill_profiles`. A member takes
    the row of the first level whose cohort index is set *and* whose profile row is non-empty
    (so a too-small title+industry cohort falls through to the title); otherwise an empty row.
    """
    if not levels:
        raise ValueError("at least one cohort level is required")
    indexes = [np.asarray(index, dtype=np.int64) for index, _ in levels]
    profiles = [as_csr(profile) for _, profile in levels]
    n_members, n_skills = indexes[0].size, profiles[0].shape[1]
    if any(index.size != n_members for index in indexes):
        raise ValueError("every level needs one cohort index per member")
    if any(profile.shape[1] != n_skills for profile in profiles):
        raise ValueError("every level's profiles need the same number of skills")

    result = sp.csr_array((n_members, n_skills))
    unresolved = np.ones(n_members, dtype=bool)
    for index, profile in zip(indexes, profiles, strict=True):
        usable = np.zeros(n_members, dtype=bool)
        has_cohort = index >= 0
        usable[has_cohort] = np.diff(profile.indptr)[index[has_cohort]] > 0
        take = usable & unresolved
        result = result + select_rows(profile, np.where(take, index, -1))
        unresolved &= ~take
    return as_csr(result)


def member_skill_vectors(
    *,
    followed: Sparse,
    profile: Sparse,
    cohort: Sparse,
    weights: tuple[float, float, float] = (1.0, 0.6, 0.3),
) -> sp.csr_array:
    """Blend of a member's skill sources, shape (members × skills).

    ``weights`` are (followed, profile, cohort). Each source is L2-normalised per row before
    weighting, so a source listing many skills does not swamp one listing a few: each non-empty
    source contributes a vector of norm exactly its weight. The blend itself is not renormalised,
    so a member with more sources has a larger vector and higher absolute affinities; ranking
    within one member is unaffected.
    """
    sources = (followed, profile, cohort)
    shapes = {source.shape for source in sources}
    if len(shapes) != 1:
        raise ValueError(f"sources must have the same shape, got {sorted(shapes)}")
    blend = sp.csr_array(followed.shape)
    for weight, source in zip(weights, sources, strict=True):
        blend = blend + weight * l2_normalize_rows(source)
    return as_csr(blend)


def affinity_scores(member_vectors: Sparse, course_skill: Sparse, idf: ArrayLike) -> sp.csr_array:
    """IDF-weighted skill affinity ``M · diag(idf) · Cᵀ``, shape (members × courses).

    ``member_vectors`` is (members × skills), ``course_skill`` (courses × skills) built by the
    caller from approved tags (binary or confidence-weighted), ``idf`` (skills,). The result is
    sparse: a member scores only the courses sharing a weighted skill with them. It can still be
    large, so call it per member range.
    """
    # CSR @ CSR is much faster than CSR @ CSC (what ``.T`` alone gives).
    product = scale_columns(member_vectors, idf) @ as_csr(course_skill).T.tocsr()
    return as_csr(product, copy=False)


def member_skill_vector(
    *,
    followed: ArrayLike,
    profile: ArrayLike,
    cohort: ArrayLike,
    weights: tuple[float, float, float] = (1.0, 0.6, 0.3),
) -> FloatArray:
    """One member's blend as a dense vector (skills,): :func:`member_skill_vectors` for a single
    member, which a page view computes without building sparse matrices."""
    sources = [np.asarray(source, dtype=np.float64) for source in (followed, profile, cohort)]
    shapes = {source.shape for source in sources}
    if len(shapes) != 1 or sources[0].ndim != 1:
        raise ValueError(f"sources must be vectors of one length, got {sorted(shapes)}")
    blend = np.zeros(sources[0].size)
    for weight, source in zip(weights, sources, strict=True):
        norm = np.sqrt(np.dot(source, source))
        if norm > 0:
            blend += (weight / norm) * source
    return blend


def member_affinity(member_vector: ArrayLike, course_skill: Sparse, idf: ArrayLike) -> FloatArray:
    """One member's IDF-weighted affinity to every course (courses,): one row of
    :func:`affinity_scores`, dense."""
    weighted = np.asarray(member_vector, dtype=np.float64) * np.asarray(idf, dtype=np.float64)
    # A product needs no canonical form (duplicates add up either way); canonicalising a
    # snapshot's matrix on every page view would cost more than the product itself.
    if not (isinstance(course_skill, sp.csr_array) and course_skill.dtype == np.float64):
        course_skill = as_csr(course_skill)
    return np.asarray(course_skill @ weighted, dtype=np.float64)


def skill_contributions(
    member_vectors: Sparse,
    course_skill: Sparse,
    idf: ArrayLike,
    *,
    members: ArrayLike,
    courses: ArrayLike,
) -> sp.csr_array:
    """Per-skill terms of the affinity of each (member, course) pair, shape (pairs × skills).

    Row i holds ``member_vectors[members[i], s] * idf[s] * course_skill[courses[i], s]``; the row
    sums are the affinity scores. Pass only the followed (or profile) skills as ``member_vectors``
    to explain a recommendation by a skill the member chose themselves.
    """
    members = np.asarray(members, dtype=np.int64)
    courses = np.asarray(courses, dtype=np.int64)
    if members.shape != courses.shape:
        raise ValueError("members and courses must pair up")
    member_rows = select_rows(member_vectors, members)
    course_rows = select_rows(scale_columns(course_skill, idf), courses)
    return as_csr(member_rows.multiply(course_rows))


def top_contributing_skill(
    member_vectors: Sparse,
    course_skill: Sparse,
    idf: ArrayLike,
    *,
    members: ArrayLike,
    courses: ArrayLike,
) -> tuple[IntArray, FloatArray]:
    """The skill contributing most to each (member, course) pair's affinity, and its term.

    Returns (skill index (pairs,), contribution (pairs,)); ties go to the lower skill index, and
    pairs sharing no positively weighted skill get -1 and 0 ("Because you follow <skill>").
    """
    return row_argmax(
        skill_contributions(member_vectors, course_skill, idf, members=members, courses=courses)
    )
