"""A realistic, reproducible demo dataset, built in memory from the vendored O*NET subset.

Django-free: `demo_dataset_build` returns plain Python objects and numpy/scipy arrays;
`demo/seed.py` writes them to the database. The same seed (and `now`) always gives the
same dataset.

Learner behaviour comes from HIDDEN preferences kept in `DemoDataset.preferences`:

- each member has a distribution over skills: mostly skills of their occupation (specific and
  "hot" ones weigh more, their profile skills more still), plus a few personal interests;
- each member belongs to a taste cluster that favours certain courses regardless of skills (the
  courses of a few favourite teachers and a random handful), which is signal only collaborative
  filtering can find;
- courses have a Zipf-like popularity.

A member's next course is drawn from a mixture: pick a preferred skill, then a course teaching it
(weighted by popularity); or a course the taste cluster favours; or a popular course.
`demo_relevance` returns exactly that mixture's probabilities, so a simulator can replay learners
and measure how close a recommender gets to the truth.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from demo.onet import OnetSubset, onet_subset_read

# Industry by SOC major group (first two digits of the O*NET-SOC code): a hand-written,
# deliberately coarse guess of where people in that group work, most likely first. O*NET's
# technology-skills files carry no industry data, so this is an assumption, not a statistic.
INDUSTRIES_BY_MAJOR_GROUP: dict[str, tuple[str, ...]] = {
    "11": ("Consulting", "Manufacturing", "Retail"),  # Management
    "13": ("Finance", "Consulting", "Government"),  # Business and financial operations
    "15": ("Technology", "Finance", "Consulting"),  # Computer and mathematical
    "17": ("Construction & Engineering", "Manufacturing", "Energy & Utilities"),
    "19": ("Research & Science", "Government", "Healthcare"),  # Life, physical, social science
    "21": ("Healthcare", "Government", "Education"),  # Community and social service
    "23": ("Government", "Consulting", "Finance"),  # Legal
    "25": ("Education",),
    "27": ("Media & Marketing", "Technology"),  # Arts, design, entertainment, media
    "29": ("Healthcare",),  # Healthcare practitioners
    "31": ("Healthcare",),  # Healthcare support
    "33": ("Government",),  # Protective service
    "35": ("Hospitality",),  # Food preparation and serving
    "37": ("Hospitality", "Construction & Engineering"),  # Building and grounds
    "39": ("Hospitality", "Media & Marketing"),  # Personal care and service
    "41": ("Retail", "Media & Marketing", "Finance"),  # Sales
    "43": ("Finance", "Healthcare", "Government"),  # Office and administrative support
    "45": ("Agriculture",),  # Farming, fishing, forestry
    "47": ("Construction & Engineering", "Energy & Utilities"),  # Construction and extraction
    "49": ("Manufacturing", "Transportation & Logistics", "Energy & Utilities"),
    "51": ("Manufacturing",),  # Production
    "53": ("Transportation & Logistics",),
    "55": ("Government",),  # Military
}
_INDUSTRY_SHARES = (0.6, 0.25, 0.15)

SENIORITIES = ("entry", "mid", "senior", "lead", "executive")
_SENIORITY_SHARES = (0.2, 0.4, 0.25, 0.12, 0.03)

LEVELS = ("beginner", "intermediate", "advanced")

_FIRST = """Ada Alan Amara Ana Andre Anika Ben Carla Chen Chloe Dana David Diego Elena Emeka Eva
Farah Felix Grace Hana Hugo Ines Ivan Jamal Jana Jonas Julia Kai Kenji Lara Leo Lina Lucas Maya Mei
Mira Nadia Noah Nora Omar Priya Rafael Rosa Sam Sara Sofia Tariq Tom Vera Yusuf Zoe"""
_LAST = """Adams Alvarez Bauer Becker Brown Castro Chen Cohen Costa Das Diaz Dubois Evans Fischer
Garcia Gupta Hansen Hughes Ito Jensen Kaur Khan Kim Kowalski Lee Lopez Martin Meyer Moreau Nakamura
Nguyen Novak Okafor Olsen Patel Perez Quinn Rossi Santos Schmidt Silva Singh Suzuki Tanaka Taylor
Walker Wang Weber Wilson Young Zhang"""
FIRST_NAMES = tuple(_FIRST.split())
LAST_NAMES = tuple(_LAST.split())

ADVANCED_TOPICS = (
    "Automation and Scripting",
    "Performance and Scale",
    "Beyond the Basics",
    "Real-World Workflows",
    "Troubleshooting and Optimization",
    "Expert Techniques",
    "Integration Patterns",
    "Working with Large Projects",
)

# (template, level or None for any, number of skills it names). {A}/{B}/{C} are skill labels,
# {Titles} a plural job title of an occupation that uses skill A, {topic} an advanced topic.
TITLE_TEMPLATES: tuple[tuple[str, str | None, int], ...] = (
    ("{A} Essential Training", "beginner", 1),
    ("Learning {A}", "beginner", 1),
    ("{A} Quick Start", "beginner", 1),
    ("{A} Fundamentals", "beginner", 1),
    ("{A} for Beginners", "beginner", 1),
    ("{A} for {Titles}", None, 1),
    ("{A} in the Workplace", None, 1),
    ("{A}: Tips, Tricks, and Techniques", "intermediate", 1),
    ("{A} Best Practices", "intermediate", 1),
    ("Advanced {A}: {topic}", "advanced", 1),
    ("Mastering {A}", "advanced", 1),
    ("{A} and {B} in Practice", "intermediate", 2),
    ("From {A} to {B}: A Practical Path", "intermediate", 2),
    ("Hands-On Projects with {A}, {B}, and {C}", "intermediate", 3),
)

# Interaction mixture: a preferred skill's course, a taste-cluster course, a popular course.
MIXTURE = (0.45, 0.45, 0.10)
_COMPLETION_BY_MODE = (0.5, 0.42, 0.22)
_BOOKMARK_BY_MODE = (0.12, 0.2, 0.06)

INTERACTION_WINDOW_DAYS = 270
CATALOG_WINDOW_DAYS = 3 * 365
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
    mode: np.ndarray  # int8: 0 skill, 1 taste cluster, 2 popularity (which part of MIXTURE)

    def __len__(self) -> int:
        return len(self.member)


@dataclass(frozen=True)
class DemoPreferences:
    """The hidden truth behind the interactions (never written to the database)."""

    skill_preference: sp.csr_matrix  # members x skills, rows sum to 1
    cluster: np.ndarray  # int32 taste cluster per member
    cluster_courses: sp.csr_matrix  # clusters x courses, rows sum to 1
    skill_courses: sp.csr_matrix  # skills x courses, rows sum to 1 (empty: no course)
    popularity: np.ndarray  # courses, sums to 1
    mixture: tuple[float, float, float]


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


def demo_slugify(*, text: str) -> str:
    """ASCII slug that keeps "C", "C++" and "C#" apart ("c", "cpp", "csharp")."""
    lowered = text.lower().replace("++", "pp").replace("#", "sharp").replace("+", "plus")
    return re.sub(r"[^a-z0-9]+", "-", lowered).strip("-") or "item"


def _unique_slugs(texts: list[str], max_length: int) -> list[str]:
    seen: set[str] = set()
    slugs = []
    for text in texts:
        base = demo_slugify(text=text)[: max_length - 8].strip("-")
        slug, n = base, 1
        while slug in seen:
            n += 1
            slug = f"{base}-{n}"
        seen.add(slug)
        slugs.append(slug)
    return slugs


def _epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _row_normalize(matrix: sp.csr_matrix) -> sp.csr_matrix:
    matrix = sp.csr_matrix(matrix, dtype=np.float64)
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    scale = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
    return sp.csr_matrix(sp.diags(scale) @ matrix)


def _csr_sample(rng: np.random.Generator, matrix: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """One column per entry of `rows`, drawn from that (normalised, non-empty) row's weights.

    All draws at once: each row's cumulative weights are shifted by the row number so a single
    sorted array covers every row, and `row + uniform` lands inside the right one.
    """
    indptr = matrix.indptr
    lengths = np.diff(indptr)
    row_of_entry = np.repeat(np.arange(matrix.shape[0]), lengths)
    cumulative = np.cumsum(matrix.data)
    before_row = np.concatenate([[0.0], cumulative])[indptr[:-1]]
    keys = row_of_entry + (cumulative - np.repeat(before_row, lengths))
    positions = np.searchsorted(keys, rows + rng.random(len(rows)), side="left")
    positions = np.clip(positions, indptr[rows], indptr[rows + 1] - 1)
    return matrix.indices[positions]


def _pick_rows_without_replacement(
    rng: np.random.Generator, weights: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """For each row of `weights` (rows x items), a mask of `counts[row]` items, weighted.

    Exponential keys divided by the weights, smallest first: the same law as drawing one item
    after another without replacement, vectorised over rows.
    """
    with np.errstate(divide="ignore"):
        keys = rng.exponential(size=weights.shape) / weights
    ranks = np.argsort(np.argsort(keys, axis=1), axis=1)
    return ranks < counts[:, None]


def _skill_label(name: str, synonyms: list[str]) -> str:
    options = [s for s in synonyms if 2 <= len(s) <= 24 and len(s) < len(name)]
    return min(options, key=lambda s: (len(s), s)) if options else name


def _zipf_weights(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    ranks = rng.permutation(n) + 1
    weights = 1.0 / ranks**exponent
    return weights / weights.sum()


def _join_names(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + (", and " if len(names) > 2 else " and ") + names[-1]


def _course_text(
    *,
    rng: np.random.Generator,
    skills: list[DemoSkill],
    categories: list[str],
    titles: list[DemoTitle],
    titles_by_skill: dict[int, list[int]],
    course_skills: list[int],
    extra_skills: list[int],
    teacher: str,
    duration_minutes: int,
) -> tuple[str, str, str]:
    """Title, description and level of a course; the text names every skill it is tagged with."""
    primary = skills[course_skills[0]]
    users = titles_by_skill.get(course_skills[0], [])
    usable = [
        (template, level, k)
        for template, level, k in TITLE_TEMPLATES
        if k <= len(course_skills) and ("{Titles}" not in template or users)
    ]
    # Courses with several skills mostly get a title naming them together.
    if len(course_skills) > 1 and rng.random() < 0.6:
        usable = [u for u in usable if u[2] > 1] or usable
    template, level, _k = usable[rng.integers(len(usable))]
    if level is None:
        level = LEVELS[rng.choice(3, p=[0.45, 0.4, 0.15])]
    audience = [titles[i] for i in rng.permutation(users)[:2]] if users else []
    labels = [skills[s].label for s in course_skills]
    title = template.format(
        A=labels[0],
        B=labels[1] if len(labels) > 1 else "",
        C=labels[2] if len(labels) > 2 else "",
        Titles=audience[0].plural if audience else "",
        topic=ADVANCED_TOPICS[rng.integers(len(ADVANCED_TOPICS))],
    )
    category = categories[primary.category][:1].lower() + categories[primary.category][1:]
    who = _join_names([t.plural for t in audience]) if audience else "professionals"
    if level == "beginner":
        opening = (
            f"New to {primary.name}? {teacher} walks you through the essentials of this "
            f"{category} used by {who}."
        )
    elif level == "intermediate":
        opening = (
            f"Already comfortable with {primary.name}? {teacher} shows how {who} get more done "
            f"with {primary.label} in day-to-day work."
        )
    else:
        opening = (
            f"This course is for experienced {primary.name} users who want to go deeper: "
            f"{teacher} covers the techniques {who} reach for on demanding projects."
        )
    sentences = [opening]
    if len(course_skills) > 1:
        others = _join_names([skills[s].name for s in course_skills[1:]])
        sentences.append(
            f"Along the way you combine {primary.label} with {others}, "
            "a pairing that comes up again and again in real projects."
        )
    if extra_skills:
        sentences.append(
            f"Examples also touch on {_join_names([skills[s].name for s in extra_skills])}."
        )
    hours = duration_minutes / 60
    length = f"{duration_minutes} minutes" if duration_minutes < 90 else f"{hours:.1f} hours"
    closing = (
        f"Includes {length} of short, practical videos and exercise files.",
        f"Each of its {max(2, duration_minutes // 20)} chapters ends with a hands-on challenge.",
        f"About {length} of video, with a quiz after every chapter.",
    )
    sentences.append(closing[rng.integers(len(closing))])
    return title, " ".join(sentences), level


def demo_dataset_build(
    *,
    members: int = 2000,
    courses: int = 600,
    interactions: int = 40_000,
    seed: int = 0,
    now: dt.datetime | None = None,
    subset: OnetSubset | None = None,
) -> DemoDataset:
    """The whole dataset at these sizes; the same seed and `now` always give the same one.

    `now` defaults to the current hour, `subset` to the vendored O*NET subset. The steps below
    share one random generator and draw from it in this order: reordering them, or the draws
    inside them, changes every dataset built from a given seed.
    """
    _sizes_check(members=members, courses=courses, interactions=interactions)
    if now is None:
        now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    if subset is None:
        subset = onet_subset_read()
    rng = np.random.default_rng(seed)
    now_s = _epoch(now)

    categories, skills = _skills_build(subset=subset)
    industries, titles = _titles_build(subset=subset, skills=skills)
    teachers, teacher_home = _teachers_draw(rng=rng, courses=courses, categories=categories)
    course_rows = _courses_draw(
        rng=rng,
        courses=courses,
        now_s=now_s,
        categories=categories,
        skills=skills,
        titles=titles,
        teachers=teachers,
        teacher_home=teacher_home,
    )
    popularity, skill_courses, cluster_courses = _course_preferences_draw(
        rng=rng, course_rows=course_rows, n_skills=len(skills), n_teachers=len(teachers)
    )
    member_rows, preference, cluster = _members_draw(
        rng=rng,
        members=members,
        now_s=now_s,
        skills=skills,
        titles=titles,
        title_skill_weights=_title_skill_weights(subset=subset, skills=skills, titles=titles),
        skill_courses=skill_courses,
        n_clusters=cluster_courses.shape[0],
    )
    preferences = DemoPreferences(
        skill_preference=preference,
        cluster=cluster,
        cluster_courses=cluster_courses,
        skill_courses=skill_courses,
        popularity=popularity,
        mixture=MIXTURE,
    )
    interaction_rows = _interactions_draw(
        rng=rng,
        count=interactions,
        preferences=preferences,
        courses=course_rows,
        joined_at=member_rows.joined_at,
        now_s=now_s,
    )
    return DemoDataset(
        seed=seed,
        now=now,
        categories=categories,
        skills=skills,
        industries=industries,
        titles=titles,
        teachers=teachers,
        courses=course_rows,
        members=member_rows,
        interactions=interaction_rows,
        preferences=preferences,
    )


def _sizes_check(*, members: int, courses: int, interactions: int) -> None:
    """ValueError unless sizes are positive and the enrolments fit in the (member, course) pairs."""
    if members < 1 or courses < 1 or interactions < 0:
        raise ValueError("members and courses must be positive, interactions non-negative")
    if interactions > 0.5 * members * courses:
        raise ValueError(
            f"{interactions} interactions cannot be spread over {members} members and "
            f"{courses} courses (at most half of all pairs)"
        )


def _skills_build(*, subset: OnetSubset) -> tuple[list[str], list[DemoSkill]]:
    """The taxonomy: categories (sorted, case aside) and the subset's skills, in its order.

    No random draws. Each skill gets a unique slug, a short label for course titles, its
    synonyms, and its related skills as indexes into the skill list.
    """
    categories = sorted({s.category for s in subset.skills}, key=str.lower)
    category_index = {name: i for i, name in enumerate(categories)}
    skill_index = {s.name: i for i, s in enumerate(subset.skills)}
    skill_slugs = _unique_slugs([s.name for s in subset.skills], 140)
    skills = [
        DemoSkill(
            name=s.name,
            slug=skill_slugs[i],
            label=_skill_label(s.name, subset.synonyms.get(s.name, [])),
            category=category_index[s.category],
            synonyms=tuple(subset.synonyms.get(s.name, [])),
            related=tuple(skill_index[o] for o, _ in subset.related.get(s.name, [])),
            occupation_count=s.occupation_count,
        )
        for i, s in enumerate(subset.skills)
    ]
    return categories, skills


def _titles_build(
    *, subset: OnetSubset, skills: list[DemoSkill]
) -> tuple[list[str], list[DemoTitle]]:
    """Industries (sorted) and one job title per O*NET occupation, in the subset's order.

    No random draws. A title's skills are its occupation's, its industries those of its SOC major
    group in `INDUSTRIES_BY_MAJOR_GROUP`, most likely first.
    """
    skill_index = {s.name: i for i, s in enumerate(skills)}
    industries = sorted({i for group in INDUSTRIES_BY_MAJOR_GROUP.values() for i in group})
    industry_index = {name: i for i, name in enumerate(industries)}
    titles = [
        DemoTitle(
            name=o.title,
            plural=o.plural,
            onet_code=o.code,
            skills=tuple(skill_index[name] for name in o.skills),
            industries=tuple(
                industry_index[i] for i in INDUSTRIES_BY_MAJOR_GROUP.get(o.major_group, ())
            ),
        )
        for o in subset.occupations
    ]
    return industries, titles


def _titles_by_skill(titles: list[DemoTitle]) -> dict[int, list[int]]:
    """For each skill, the titles (indexes, in order) whose occupation uses it."""
    titles_by_skill: dict[int, list[int]] = {}
    for t, title in enumerate(titles):
        for s in title.skills:
            titles_by_skill.setdefault(s, []).append(t)
    return titles_by_skill


def _title_skill_weights(
    *, subset: OnetSubset, skills: list[DemoSkill], titles: list[DemoTitle]
) -> list[np.ndarray]:
    """Per title, one weight per skill of `title.skills`: what the skill says about its holders.

    Specific skills (used by few titles) and O*NET's "hot" skills weigh more. No random draws.
    """
    skill_index = {s.name: i for i, s in enumerate(skills)}
    titles_by_skill = _titles_by_skill(titles)
    # How much a skill says about a person in that occupation: specific and "hot" skills more.
    hot = {(o.code, skill_index[name]) for o in subset.occupations for name in o.hot_skills}
    return [
        np.array(
            [
                math.log(1 + len(titles) / (1 + len(titles_by_skill[s])))
                * (2.0 if (title.onet_code, s) in hot else 1.0)
                for s in title.skills
            ]
        )
        for title in titles
    ]


def _skill_weight(skills: list[DemoSkill]) -> np.ndarray:
    """How common each skill is, summing to 1: its O*NET occupation count, damped."""
    skill_weight = np.array([s.occupation_count for s in skills], dtype=np.float64) ** 0.8
    skill_weight /= skill_weight.sum()
    return skill_weight


def _teachers_draw(
    *, rng: np.random.Generator, courses: int, categories: list[str]
) -> tuple[list[str], np.ndarray]:
    """Teachers (distinct first and last name pairs, about one per 12 courses, 12 to 400) and
    each one's home category, where most of their courses will be."""
    n_teachers = int(np.clip(courses // 12, 12, 400))
    name_pairs = rng.choice(len(FIRST_NAMES) * len(LAST_NAMES), size=n_teachers, replace=False)
    teachers = [
        f"{FIRST_NAMES[p // len(LAST_NAMES)]} {LAST_NAMES[p % len(LAST_NAMES)]}" for p in name_pairs
    ]
    teacher_home = rng.integers(len(categories), size=n_teachers)
    return teachers, teacher_home


def _courses_draw(
    *,
    rng: np.random.Generator,
    courses: int,
    now_s: int,
    categories: list[str],
    skills: list[DemoSkill],
    titles: list[DemoTitle],
    teachers: list[str],
    teacher_home: np.ndarray,
) -> list[DemoCourse]:
    """The catalog: each course's skills, teacher, length, publication date, text and tags.

    A course's primary skill is drawn by how common skills are, the others from its related
    skills or its category. Titles are unique (case aside), slugs too. Some recently published
    courses only have the tagger's pending suggestions, as if waiting for a curator.
    """
    n_skills = len(skills)
    n_teachers = len(teachers)
    titles_by_skill = _titles_by_skill(titles)
    teachers_by_category: dict[int, np.ndarray] = {
        c: np.flatnonzero(teacher_home == c) for c in range(len(categories))
    }

    skills_by_category: dict[int, list[int]] = {}
    for s, skill in enumerate(skills):
        skills_by_category.setdefault(skill.category, []).append(s)
    skill_weight = _skill_weight(skills)
    primaries = rng.choice(n_skills, size=courses, p=skill_weight)
    days_ago = CATALOG_WINDOW_DAYS * rng.random(courses) ** 1.4
    published = (now_s - days_ago * 86400).astype(np.int64)
    # Some recently published courses wait for a curator: only the tagger's suggestions so far.
    recent = np.flatnonzero(days_ago < 45)
    pending_only = set(recent[rng.random(len(recent)) < 0.35].tolist())
    if not pending_only and courses >= 20:
        pending_only = {int(np.argmin(days_ago))}

    course_rows: list[DemoCourse] = []
    used_titles: set[str] = set()
    for c in range(courses):
        primary = int(primaries[c])
        chosen, extra = _course_skills_draw(
            rng=rng,
            primary=primary,
            skills=skills,
            skills_by_category=skills_by_category,
            pending=c in pending_only,
        )
        duration = int(np.clip(round(rng.lognormal(math.log(75), 0.7) / 5) * 5, 10, 600))
        home = teachers_by_category.get(skills[primary].category, np.array([], dtype=int))
        teacher = int(
            home[rng.integers(len(home))]
            if len(home) and rng.random() < 0.7
            else rng.integers(n_teachers)
        )
        title, description, level = _course_text(
            rng=rng,
            skills=skills,
            categories=categories,
            titles=titles,
            titles_by_skill=titles_by_skill,
            course_skills=chosen,
            extra_skills=extra,
            teacher=teachers[teacher],
            duration_minutes=duration,
        )
        if level == "advanced":
            duration = int(min(600, round(duration * 1.3 / 5) * 5))
        year = dt.datetime.fromtimestamp(int(published[c]), dt.UTC).year
        title = _title_make_unique(title=title, year=year, used_titles=used_titles)
        tags = _course_tags_draw(rng=rng, chosen=chosen, extra=extra, pending=c in pending_only)
        course_rows.append(
            DemoCourse(
                title=title,
                slug="",
                description=description,
                level=level,
                duration_minutes=duration,
                teacher=teacher,
                published_at=int(published[c]),
                skills=tuple(chosen),
                tags=tags,
            )
        )
    course_slugs = _unique_slugs([course.title for course in course_rows], 220)
    return [
        dataclasses.replace(course, slug=slug)
        for course, slug in zip(course_rows, course_slugs, strict=True)
    ]


def _course_skills_draw(
    *,
    rng: np.random.Generator,
    primary: int,
    skills: list[DemoSkill],
    skills_by_category: dict[int, list[int]],
    pending: bool,
) -> tuple[list[int], list[int]]:
    """The skills a course teaches (1 to 4, `primary` first) and those its text also mentions.

    Further skills are mostly related to the previous one, else from the primary's category.
    Mentioned skills are random (right or wrong), for some courses and every pending one.
    """
    n_skills = len(skills)
    n_course_skills = int(rng.choice(4, p=[0.3, 0.35, 0.25, 0.1])) + 1
    chosen = [primary]
    for _ in range(n_course_skills - 1):
        pool = [r for r in skills[chosen[-1]].related if r not in chosen]
        if pool and rng.random() < 0.85:
            chosen.append(pool[rng.integers(len(pool))])
        else:
            same = [s for s in skills_by_category[skills[primary].category] if s not in chosen]
            if same:
                chosen.append(same[rng.integers(len(same))])
    extra: list[int] = []
    if rng.random() < 0.15 or pending:
        for _ in range(1 + int(rng.random() < 0.4)):
            candidate = int(rng.integers(n_skills))
            if candidate not in chosen and candidate not in extra:
                extra.append(candidate)
    return chosen, extra


def _title_make_unique(*, title: str, year: int, used_titles: set[str]) -> str:
    """`title`, else with its year, else with its year and a part number; adds it to the set."""
    if title.lower() in used_titles:
        title = f"{title} ({year})"
    n = 2
    while title.lower() in used_titles:
        title = f"{title.rsplit(' (', 1)[0]} ({year}, Part {n})"
        n += 1
    used_titles.add(title.lower())
    return title


def _course_tags_draw(
    *, rng: np.random.Generator, chosen: list[int], extra: list[int], pending: bool
) -> tuple[DemoTag, ...]:
    """A course's skill tags: the skills it teaches, approved by a taxonomist (or, while the
    course is pending, only suggested by the tagger), then the tagger's pending extra ones."""
    if pending:
        tags = tuple(
            DemoTag(s, "tagger", "pending", round(float(rng.uniform(0.6, 0.95)), 3)) for s in chosen
        )
    else:
        tags = tuple(DemoTag(s, "taxonomist", "approved", 1.0) for s in chosen)
    # The tagger's extra suggestions: text mentions, right or wrong, awaiting review.
    tags += tuple(
        DemoTag(s, "tagger", "pending", round(float(rng.uniform(0.4, 0.75)), 3)) for s in extra
    )
    return tags


def _course_preferences_draw(
    *, rng: np.random.Generator, course_rows: list[DemoCourse], n_skills: int, n_teachers: int
) -> tuple[np.ndarray, sp.csr_matrix, sp.csr_matrix]:
    """The hidden course-side truth: popularity, courses per skill, courses per taste cluster.

    Popularity is Zipf-like, beginner courses ahead. A skill's courses weigh by popularity, less
    where the skill is not the primary one. Each taste cluster likes the courses of a few
    favourite teachers and a random handful, weighted by the square root of popularity.
    """
    courses = len(course_rows)
    level_appeal = {"beginner": 1.2, "intermediate": 1.0, "advanced": 0.7}
    popularity = _zipf_weights(rng, courses, 0.75) * np.array(
        [level_appeal[course.level] for course in course_rows]
    )
    popularity /= popularity.sum()
    tag_rows, tag_cols, tag_vals = [], [], []
    for c, course in enumerate(course_rows):
        for position, s in enumerate(course.skills):
            tag_rows.append(s)
            tag_cols.append(c)
            tag_vals.append(popularity[c] * (1.0 if position == 0 else 0.6))
    skill_courses = _row_normalize(
        sp.csr_matrix((tag_vals, (tag_rows, tag_cols)), shape=(n_skills, courses))
    )

    n_clusters = int(np.clip(round(math.sqrt(courses) / 3), 4, 24))
    course_teacher = np.array([course.teacher for course in course_rows])
    cluster_rows, cluster_cols = [], []
    for k in range(n_clusters):
        favourite_teachers = rng.choice(n_teachers, size=min(3, n_teachers), replace=False)
        liked = np.isin(course_teacher, favourite_teachers) | (rng.random(courses) < 0.03)
        if not liked.any():
            liked[rng.integers(courses)] = True
        cluster_rows.extend([k] * int(liked.sum()))
        cluster_cols.extend(np.flatnonzero(liked).tolist())
    cluster_courses = _row_normalize(
        sp.csr_matrix(
            (np.sqrt(popularity[cluster_cols]), (cluster_rows, cluster_cols)),
            shape=(n_clusters, courses),
        )
    )
    return popularity, skill_courses, cluster_courses


def _members_draw(
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
        profile_mask = _pick_rows_without_replacement(rng, weights, n_profile)
        rows, cols = np.nonzero(profile_mask)
        profile_parts.append((who[rows], title_skills[cols]))
        # What they want to learn leans on what they already have, but is not the same.
        boosted = weights * np.where(profile_mask, 3.0, 1.0) * skill_has_course[title_skills]
        n_pref = (6 + rng.poisson(4, size=len(who))).clip(
            max=int((skill_has_course[title_skills]).sum())
        )
        pref_mask = _pick_rows_without_replacement(rng, boosted, n_pref)
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
    skill_weight = _skill_weight(skills)
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
    empty = np.flatnonzero(np.diff(preference.indptr) == 0)
    if len(empty):
        # Everyone wants something: fall back to the most taught skill.
        fallback = int(np.argmax(np.diff(skill_courses.indptr)))
        preference = preference + sp.csr_matrix(
            (np.ones(len(empty)), (empty, np.full(len(empty), fallback))),
            shape=(members, n_skills),
        )
    preference = _row_normalize(preference)
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


def _interactions_draw(
    *,
    rng: np.random.Generator,
    count: int,
    preferences: DemoPreferences,
    courses: list[DemoCourse],
    joined_at: np.ndarray,
    now_s: int,
) -> DemoInteractions:
    """`count` enrolments with their dates, progress, watch time, completion and bookmark.

    Each is dated after the member joined and the course was published, within the last
    INTERACTION_WINDOW_DAYS, more often recently. Sorted by member, then enrolment date.
    """
    member, course, mode = _interaction_pairs_draw(
        rng=rng,
        count=count,
        preferences=preferences,
        n_members=len(joined_at),
        n_courses=len(courses),
    )
    n = len(member)

    published = np.array([c.published_at for c in courses], dtype=np.int64)[course]
    duration_s = np.array([c.duration_minutes for c in courses], dtype=np.int64)[course] * 60
    earliest = np.maximum.reduce(
        [np.full(n, now_s - INTERACTION_WINDOW_DAYS * 86400), published, joined_at[member]]
    )
    earliest = np.minimum(earliest, now_s - 60)
    # Activity grows towards the present: more recent enrolments are more frequent.
    enrolled = np.ceil(now_s - (now_s - earliest) * rng.random(n) ** 1.5).astype(np.int64)
    remaining = now_s - enrolled

    p_complete = np.array(_COMPLETION_BY_MODE)[mode] * np.clip(1.15 - duration_s / 48_000, 0.4, 1.1)
    completed = rng.random(n) < p_complete
    progress = np.where(
        completed, 100, 1 + np.floor(98 * rng.beta(0.9, 1.6, size=n)).astype(np.int64)
    ).astype(np.int16)
    watched = np.where(
        completed,
        duration_s * rng.uniform(0.95, 1.2, size=n),
        duration_s * progress / 100 * rng.uniform(0.85, 1.1, size=n),
    ).astype(np.int32)
    completed_at = np.where(
        completed,
        np.minimum(now_s, enrolled + np.maximum(duration_s, remaining * rng.beta(1.2, 5, size=n))),
        NO_TIME,
    ).astype(np.int64)
    last_watched = np.where(
        completed, completed_at, enrolled + (remaining * rng.beta(1.0, 3.0, size=n))
    ).astype(np.int64)
    bookmarked = rng.random(n) < np.array(_BOOKMARK_BY_MODE)[mode]
    before = rng.random(n) < 0.5
    bookmark_time = np.where(
        before,
        earliest + (enrolled - earliest) * rng.random(n),
        enrolled + remaining * 0.3 * rng.random(n),
    ).astype(np.int64)
    order = np.lexsort((enrolled, member))
    return DemoInteractions(
        member=member[order],
        course=course[order],
        enrolled_at=enrolled[order],
        progress_percent=progress[order],
        watched_seconds=watched[order],
        last_watched_at=last_watched[order],
        completed_at=completed_at[order],
        bookmarked_at=np.where(bookmarked, bookmark_time, NO_TIME)[order],
        mode=mode[order],
    )


def _interaction_pairs_draw(
    *,
    rng: np.random.Generator,
    count: int,
    preferences: DemoPreferences,
    n_members: int,
    n_courses: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`count` distinct (member, course) pairs and the part of MIXTURE each was drawn from.

    A member by activity (lognormal), a part of the mixture, then a course from that part of the
    hidden preferences. Rounds of draws go on until there are enough distinct pairs; a pair
    drawn again keeps its first draw.
    """
    activity = rng.lognormal(0.0, 0.9, size=n_members)
    activity /= activity.sum()
    global_popularity = sp.csr_matrix(preferences.popularity[None, :])
    accepted_pairs = np.empty(0, dtype=np.int64)
    accepted_modes = np.empty(0, dtype=np.int8)
    for _round in range(60):
        missing = count - len(accepted_pairs)
        if missing <= 0:
            break
        size = int(missing * 1.3) + 256
        member = rng.choice(n_members, size=size, p=activity)
        mode = rng.choice(3, size=size, p=preferences.mixture).astype(np.int8)
        course = np.empty(size, dtype=np.int64)
        by_skill = mode == 0
        skill = _csr_sample(rng, preferences.skill_preference, member[by_skill])
        course[by_skill] = _csr_sample(rng, preferences.skill_courses, skill)
        by_taste = mode == 1
        course[by_taste] = _csr_sample(
            rng, preferences.cluster_courses, preferences.cluster[member[by_taste]]
        )
        by_popularity = mode == 2
        course[by_popularity] = _csr_sample(
            rng, global_popularity, np.zeros(int(by_popularity.sum()), dtype=np.int64)
        )
        pairs = member.astype(np.int64) * n_courses + course
        _, first = np.unique(pairs, return_index=True)
        first.sort()
        fresh = first[~np.isin(pairs[first], accepted_pairs)]
        accepted_pairs = np.concatenate([accepted_pairs, pairs[fresh]])
        accepted_modes = np.concatenate([accepted_modes, mode[fresh]])
    if len(accepted_pairs) < count:
        raise RuntimeError("could not draw enough distinct (member, course) pairs")
    pairs, mode = accepted_pairs[:count], accepted_modes[:count]
    member = (pairs // n_courses).astype(np.int32)
    course = (pairs % n_courses).astype(np.int32)
    return member, course, mode


def demo_relevance(*, dataset: DemoDataset, members: np.ndarray | list[int] | int) -> np.ndarray:
    """True relevance of every course for the given members (rows sum to 1).

    The probability that a member's next course, under the hidden preferences, is each course:
    the same mixture the interactions were drawn from (before removing courses already taken).
    One member gives a vector, several give a (members x courses) matrix.
    """
    prefs = dataset.preferences
    single = np.isscalar(members)
    rows = np.atleast_1d(np.asarray(members, dtype=np.int64))
    by_skill = (prefs.skill_preference[rows] @ prefs.skill_courses).toarray()
    by_taste = prefs.cluster_courses[prefs.cluster[rows]].toarray()
    w_skill, w_taste, w_popular = prefs.mixture
    relevance = w_skill * by_skill + w_taste * by_taste + w_popular * prefs.popularity[None, :]
    return relevance[0] if single else relevance


def demo_member_username(*, index: int) -> str:
    """Username of the generated member at `index` (0-based): member000001, member000002..."""
    return f"member{index + 1:06d}"
