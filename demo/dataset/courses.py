"""Courses: teachers, titles and descriptions from templates, the skills each teaches, their
tags (some left untagged for the tagger), and their popularity and taste-cluster weights."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import scipy.sparse as sp

from demo.dataset.common import (
    FIRST_NAMES,
    LAST_NAMES,
    join_names,
    row_normalize,
    unique_slugs,
    zipf_weights,
)
from demo.dataset.taxonomy import skill_titles_index, skill_weights_build
from demo.dataset.types import LEVELS, DemoCourse, DemoSkill, DemoTag, DemoTitle

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


CATALOG_WINDOW_DAYS = 3 * 365


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
    who = join_names([t.plural for t in audience]) if audience else "professionals"
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
        others = join_names([skills[s].name for s in course_skills[1:]])
        sentences.append(
            f"Along the way you combine {primary.label} with {others}, "
            "a pairing that comes up again and again in real projects."
        )
    if extra_skills:
        sentences.append(
            f"Examples also touch on {join_names([skills[s].name for s in extra_skills])}."
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


def teachers_draw(
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


def courses_draw(
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
    titles_by_skill = skill_titles_index(titles)
    teachers_by_category: dict[int, np.ndarray] = {
        c: np.flatnonzero(teacher_home == c) for c in range(len(categories))
    }

    skills_by_category: dict[int, list[int]] = {}
    for s, skill in enumerate(skills):
        skills_by_category.setdefault(skill.category, []).append(s)
    skill_weight = skill_weights_build(skills)
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
    course_slugs = unique_slugs([course.title for course in course_rows], 220)
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


def course_preferences_draw(
    *, rng: np.random.Generator, course_rows: list[DemoCourse], n_skills: int, n_teachers: int
) -> tuple[np.ndarray, sp.csr_matrix, sp.csr_matrix]:
    """The hidden course-side truth: popularity, courses per skill, courses per taste cluster.

    Popularity is Zipf-like, beginner courses ahead. A skill's courses weigh by popularity, less
    where the skill is not the primary one. Each taste cluster likes the courses of a few
    favourite teachers and a random handful, weighted by the square root of popularity.
    """
    courses = len(course_rows)
    level_appeal = {"beginner": 1.2, "intermediate": 1.0, "advanced": 0.7}
    popularity = zipf_weights(rng, courses, 0.75) * np.array(
        [level_appeal[course.level] for course in course_rows]
    )
    popularity /= popularity.sum()
    tag_rows, tag_cols, tag_vals = [], [], []
    for c, course in enumerate(course_rows):
        for position, s in enumerate(course.skills):
            tag_rows.append(s)
            tag_cols.append(c)
            tag_vals.append(popularity[c] * (1.0 if position == 0 else 0.6))
    skill_courses = row_normalize(
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
    cluster_courses = row_normalize(
        sp.csr_matrix(
            (np.sqrt(popularity[cluster_cols]), (cluster_rows, cluster_cols)),
            shape=(n_clusters, courses),
        )
    )
    return popularity, skill_courses, cluster_courses


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
