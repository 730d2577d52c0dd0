"""The dataset's plain dataclasses (skills, titles, courses, members, interactions, hidden
preferences) and the value sets they use."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

SENIORITIES = ("entry", "mid", "senior", "lead", "executive")


LEVELS = ("beginner", "intermediate", "advanced")


NO_TIME = -1  # in epoch-second arrays: "no value" (never completed, not bookmarked, ...)


@dataclass(frozen=True)
class DemoSkill:
    name: str
    slug: str
    label: str  # the name people say, for course titles: "Excel", "SQL", "AWS"
    category: int
    synonyms: tuple[str, ...]
    related: tuple[int, ...]
    occupation_count: int


@dataclass(frozen=True)
class DemoTitle:
    name: str
    plural: str
    onet_code: str
    skills: tuple[int, ...]
    industries: tuple[int, ...]


@dataclass(frozen=True)
class DemoTag:
    skill: int
    source: str  # "taxonomist" or "tagger"
    status: str  # "approved" or "pending"
    confidence: float


@dataclass(frozen=True)
class DemoCourse:
    title: str
    slug: str
    description: str
    level: str
    duration_minutes: int
    teacher: int
    published_at: int  # epoch seconds
    skills: tuple[int, ...]  # the skills it really teaches, primary first
    tags: tuple[DemoTag, ...]


@dataclass(frozen=True)
class DemoMembers:
    """One row per member in the arrays; profile/followed skills as parallel COO arrays."""

    title: np.ndarray  # int32 index into DemoDataset.titles
    industry: np.ndarray  # int32 index into DemoDataset.industries
    seniority: np.ndarray  # int8 index into SENIORITIES
    first_name: np.ndarray  # int16 index into FIRST_NAMES
    last_name: np.ndarray  # int16 index into LAST_NAMES
    joined_at: np.ndarray  # int64 epoch seconds
    onboarded_at: np.ndarray  # int64 epoch seconds, NO_TIME when not onboarded
    profile_member: np.ndarray
    profile_skill: np.ndarray
    profile_weight: np.ndarray  # in (0, 1]
    profile_imported: np.ndarray  # bool: source "import" rather than "self"
    followed_member: np.ndarray
    followed_skill: np.ndarray

    def __len__(self) -> int:
        return len(self.title)


@dataclass(frozen=True)
class DemoInteractions:
    """One enrolment per row; (member, course) pairs are unique."""

    member: np.ndarray  # int32
    course: np.ndarray  # int32
    enrolled_at: np.ndarray  # int64 epoch seconds
    progress_percent: np.ndarray  # int16, 1..100
    watched_seconds: np.ndarray  # int32
    last_watched_at: np.ndarray  # int64
    completed_at: np.ndarray  # int64, NO_TIME unless progress is 100
    bookmarked_at: np.ndarray  # int64, NO_TIME when not bookmarked
    mode: (
        np.ndarray
    )  # int8: which part of activity.MIXTURE (skill, follow-on, taste, popular, noise)

    def __len__(self) -> int:
        return len(self.member)


@dataclass(frozen=True)
class DemoPreferences:
    """The hidden truth behind the interactions (never written to the database)."""

    skill_preference: sp.csr_matrix  # members x skills, rows sum to 1
    cluster: np.ndarray  # int32 taste cluster per member
    cluster_courses: sp.csr_matrix  # clusters x courses, rows sum to 1
    skill_courses: sp.csr_matrix  # skills x courses, rows sum to 1 (empty: no course)
    follow_on_skills: sp.csr_matrix  # courses x skills learnt next, rows sum to 1
    popularity: np.ndarray  # courses, sums to 1
    mixture: tuple[float, float, float, float, float]


@dataclass(frozen=True)
class DemoDataset:
    seed: int
    now: dt.datetime
    categories: list[str]
    skills: list[DemoSkill]
    industries: list[str]
    titles: list[DemoTitle]
    teachers: list[str]
    courses: list[DemoCourse]
    members: DemoMembers
    interactions: DemoInteractions
    preferences: DemoPreferences
