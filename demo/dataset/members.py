"""Members: title, industry and seniority, their profile skills, their hidden preferences
(occupation skills, personal interests, a taste cluster) and the skills they follow."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from demo.dataset.common import (
    FIRST_NAMES,
    LAST_NAMES,
    pick_rows_without_replacement,
    row_normalize,
)
from demo.dataset.taxonomy import skill_weights_build
from demo.dataset.types import NO_TIME, SENIORITIES, DemoMembers, DemoSkill, DemoTitle

_INDUSTRY_SHARES = (0.6, 0.25, 0.15)


_SENIORITY_SHARES = (0.2, 0.4, 0.25, 0.12, 0.03)

# The shape of the gamma focus a member gives each skill category: under 1, so most members
# lean on one or two subjects.
_FOCUS_SHAPE = 0.5


def members_draw(
    *,
    rng: np.random.Generator,
    members: int,
    now_s: int,
    skills: list[DemoSkill],
    titles: list[DemoTitle],
    title_skill_weights: list[np.ndarray],
    skill_courses: sp.csr_matrix,
    n_clusters: int,
) -> tuple[DemoMembers, sp.csr_matrix, np.ndarray]:
    """Members with their profile and followed skills, and the hidden truth behind them.

    Returns the members, their skill preferences (members x skills, rows sum to 1) and their
    taste clusters. Technology-heavy titles are the common ones, give or take chance.
    """
    skill_has_course = np.diff(skill_courses.indptr) > 0
    # Common titles on a skills platform are the technology-heavy ones, give or take chance.
    title_rank = np.argsort(
        np.argsort(-np.array([len(t.skills) for t in titles]) * rng.lognormal(0, 0.5, len(titles)))
    )
    title_share = 1.0 / (title_rank + 1) ** 0.8
    title_of = rng.choice(len(titles), size=members, p=title_share / title_share.sum())
    seniority = rng.choice(len(SENIORITIES), size=members, p=_SENIORITY_SHARES).astype(np.int8)
    joined = (now_s - 720 * 86400 * rng.random(members) ** 0.7).astype(np.int64)
    cluster = rng.integers(n_clusters, size=members).astype(np.int32)

    industry_of, profile_parts, pref_parts = _member_title_skills_draw(
        rng=rng,
        members=members,
        titles=titles,
        title_of=title_of,
        title_skill_weights=title_skill_weights,
        skill_has_course=skill_has_course,
    )
    profile_member = np.concatenate([p[0] for p in profile_parts]).astype(np.int32)
    profile_skill = np.concatenate([p[1] for p in profile_parts]).astype(np.int32)
    order = np.lexsort((profile_skill, profile_member))
    profile_member, profile_skill = profile_member[order], profile_skill[order]
    profile_weight = np.round(np.clip(rng.beta(2.0, 1.2, size=len(order)), 0.05, 1.0), 2)
    profile_imported = rng.random(len(order)) < 0.3

    preference = _member_preferences_draw(
        rng=rng,
        members=members,
        skills=skills,
        skill_courses=skill_courses,
        pref_parts=pref_parts,
    )
    followed_member, followed_skill, onboarded = _followed_skills_draw(
        rng=rng, members=members, preference=preference, joined=joined, now_s=now_s
    )
    member_rows = DemoMembers(
        title=title_of.astype(np.int32),
        industry=industry_of,
        seniority=seniority,
        first_name=rng.integers(len(FIRST_NAMES), size=members).astype(np.int16),
        last_name=rng.integers(len(LAST_NAMES), size=members).astype(np.int16),
        joined_at=joined,
        onboarded_at=onboarded,
        profile_member=profile_member,
        profile_skill=profile_skill,
        profile_weight=profile_weight,
        profile_imported=profile_imported,
        followed_member=followed_member,
        followed_skill=followed_skill,
    )
    return member_rows, preference, cluster


def _member_title_skills_draw(
    *,
    rng: np.random.Generator,
    members: int,
    titles: list[DemoTitle],
    title_of: np.ndarray,
    title_skill_weights: list[np.ndarray],
    skill_has_course: np.ndarray,
) -> tuple[
    np.ndarray, list[tuple[np.ndarray, np.ndarray]], list[tuple[np.ndarray, np.ndarray, np.ndarray]]
]:
    """Title by title: its members' industries, profile skills and job-related preferences.

    Returns the industry per member, then (member, skill) parts of the profile skills (3 to 10
    of the title's skills, weighted) and (member, skill, strength) parts of the preferences
    (skills of the title that some course teaches, leaning on the profile skills).
    """
    industry_of = np.empty(members, dtype=np.int32)
    profile_parts: list[tuple[np.ndarray, np.ndarray]] = []
    pref_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for t, title in enumerate(titles):
        who = np.flatnonzero(title_of == t)
        if not len(who):
            continue
        shares = np.array(_INDUSTRY_SHARES[: len(title.industries)])
        industry_of[who] = np.array(title.industries)[
            rng.choice(len(title.industries), size=len(who), p=shares / shares.sum())
        ]
        title_skills = np.array(title.skills)
        weights = np.broadcast_to(title_skill_weights[t], (len(who), len(title_skills)))
        n_profile = rng.integers(3, 11, size=len(who)).clip(max=len(title_skills))
        profile_mask = pick_rows_without_replacement(rng, weights, n_profile)
        rows, cols = np.nonzero(profile_mask)
        profile_parts.append((who[rows], title_skills[cols]))
        # What they want to learn leans on what they already have, but is not the same.
        boosted = weights * np.where(profile_mask, 3.0, 1.0) * skill_has_course[title_skills]
        n_pref = (6 + rng.poisson(4, size=len(who))).clip(
            max=int((skill_has_course[title_skills]).sum())
        )
        pref_mask = pick_rows_without_replacement(rng, boosted, n_pref)
        rows, cols = np.nonzero(pref_mask)
        strength = rng.gamma(0.8, size=len(rows)) * boosted[rows, cols] / weights.max()
        pref_parts.append((who[rows], title_skills[cols], strength))
    return industry_of, profile_parts, pref_parts


def _member_preferences_draw(
    *,
    rng: np.random.Generator,
    members: int,
    skills: list[DemoSkill],
    skill_courses: sp.csr_matrix,
    pref_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> sp.csr_matrix:
    """Each member's hidden skill preferences (members x skills, rows sum to 1, sorted).

    The job-related preferences in `pref_parts`, plus personal interests: a skill related to one
    they want, or any skill by how common it is. Only skills some course teaches count; a member
    left with none wants the most taught skill.
    """
    n_skills = len(skills)
    skill_weight = skill_weights_build(skills)
    skill_has_course = np.diff(skill_courses.indptr) > 0
    pref_member = np.concatenate([p[0] for p in pref_parts])
    pref_skill = np.concatenate([p[1] for p in pref_parts])
    pref_value = np.concatenate([p[2] for p in pref_parts])
    # Personal interests outside the job: a skill related to one they want, or any skill.
    n_interests = 1 + rng.poisson(1.0, size=members)
    interest_member = np.repeat(np.arange(members), n_interests)
    related = np.full((n_skills, 5), -1)
    for s, skill in enumerate(skills):
        related[s, : len(skill.related)] = skill.related[:5]
    pref_csr = sp.csr_matrix((pref_value, (pref_member, pref_skill)), shape=(members, n_skills))
    starts, lengths = pref_csr.indptr[interest_member], np.diff(pref_csr.indptr)[interest_member]
    offsets = (rng.random(len(starts)) * np.maximum(lengths, 1)).astype(np.int64)
    anchor = np.where(
        lengths > 0,
        pref_csr.indices[np.minimum(starts + offsets, max(pref_csr.nnz - 1, 0))],
        rng.choice(n_skills, size=len(starts), p=skill_weight),
    )
    via_related = related[anchor, rng.integers(5, size=len(anchor))]
    global_pick = rng.choice(n_skills, size=len(anchor), p=skill_weight)
    interest_skill = np.where(
        (via_related >= 0) & (rng.random(len(anchor)) < 0.5), via_related, global_pick
    )
    interest_value = rng.gamma(0.8, size=len(interest_skill)) * 0.6
    keep = skill_has_course[interest_skill]
    preference = sp.csr_matrix(
        (
            np.concatenate([pref_value, interest_value[keep]]),
            (
                np.concatenate([pref_member, interest_member[keep]]),
                np.concatenate([pref_skill, interest_skill[keep]]),
            ),
        ),
        shape=(members, n_skills),
    )
    preference.sum_duplicates()
    # A learner studies a few subjects at a time: each member weighs each skill category by a
    # focus of their own (gamma, most small, a few large), so their wants cluster by subject.
    entry_member = np.repeat(np.arange(members), np.diff(preference.indptr))
    category = np.array([skill.category for skill in skills], dtype=np.int64)
    subject = entry_member * (int(category.max()) + 1) + category[preference.indices]
    subjects, which = np.unique(subject, return_inverse=True)
    preference.data *= rng.gamma(_FOCUS_SHAPE, size=len(subjects))[which]
    empty = np.flatnonzero(np.diff(preference.indptr) == 0)
    if len(empty):
        # Everyone wants something: fall back to the most taught skill.
        fallback = int(np.argmax(np.diff(skill_courses.indptr)))
        preference = preference + sp.csr_matrix(
            (np.ones(len(empty)), (empty, np.full(len(empty), fallback))),
            shape=(members, n_skills),
        )
    preference = row_normalize(preference)
    preference.sort_indices()
    return preference


def _followed_skills_draw(
    *,
    rng: np.random.Generator,
    members: int,
    preference: sp.csr_matrix,
    joined: np.ndarray,
    now_s: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Followed skills (member, skill; sorted) and when each member finished onboarding.

    Most members answered the onboarding questionnaire with 3 to 6 skills they want, drawn by
    preference; the others never onboarded (NO_TIME).
    """
    # Followed skills: most members answered the onboarding questionnaire with skills they want.
    follows = rng.random(members) < 0.8
    entry_member = np.repeat(np.arange(members), np.diff(preference.indptr))
    with np.errstate(divide="ignore"):
        keys = rng.exponential(size=len(entry_member)) / preference.data
    order = np.lexsort((keys, entry_member))
    rank = np.arange(len(order)) - preference.indptr[entry_member[order]]
    n_follow = rng.integers(3, 7, size=members)
    picked = order[(rank < n_follow[entry_member[order]]) & follows[entry_member[order]]]
    followed_member = entry_member[picked].astype(np.int32)
    followed_skill = preference.indices[picked].astype(np.int32)
    order = np.lexsort((followed_skill, followed_member))
    followed_member, followed_skill = followed_member[order], followed_skill[order]
    has_follow = np.zeros(members, dtype=bool)
    has_follow[followed_member] = True
    onboarded = np.where(
        has_follow, np.minimum(joined + rng.integers(60, 3 * 3600, size=members), now_s), NO_TIME
    ).astype(np.int64)
    return followed_member, followed_skill, onboarded
