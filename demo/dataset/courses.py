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

# The spawn key of the course wording's random stream.
TEXT_STREAM = 27


def _course_text(
    *,
    rng: np.random.Generator,
    text_rng: np.random.Generator,
    skills: list[DemoSkill],
    categories: list[str],
    titles: list[DemoTitle],
    titles_by_skill: dict[int, list[int]],
    course_skills: list[int],
    extra_skills: list[int],
    teacher: str,
    duration_minutes: int,
) -> tuple[str, str, str]:
    """Title, description and level of a course; the text names every skill it is tagged with.

    `rng` makes the draws that shape the dataset (the title's slot, the level, the audience),
    exactly as many as before the wording was varied, so members and activity drawn after the
    catalog stay the same for a seed; `text_rng` only picks wording.
    """
    primary = skills[course_skills[0]]
    users = titles_by_skill.get(course_skills[0], [])
    usable = [
        (variants, level, k)
        for variants, level, k in TITLE_TEMPLATES
        if k <= len(course_skills) and ("{Titles}" not in variants[0] or users)
    ]
    # Courses with several skills mostly get a title naming them together.
    if len(course_skills) > 1 and rng.random() < 0.6:
        usable = [u for u in usable if u[2] > 1] or usable
    variants, level, _k = usable[rng.integers(len(usable))]
    if level is None:
        level = LEVELS[rng.choice(3, p=[0.45, 0.4, 0.15])]
    audience = [titles[i] for i in rng.permutation(users)[:2]] if users else []
    labels = [skills[s].label for s in course_skills]
    topic = ADVANCED_TOPICS[rng.integers(len(ADVANCED_TOPICS))]
    title = _pick(text_rng, variants).format(
        A=labels[0],
        B=labels[1] if len(labels) > 1 else "",
        C=labels[2] if len(labels) > 2 else "",
        Titles=audience[0].plural if audience else "",
        topic=topic,
    )
    closing = int(rng.integers(3))
    category = categories[primary.category][:1].lower() + categories[primary.category][1:]
    who = join_names([t.plural for t in audience]) if audience else "professionals"
    fill = {"A": primary.label, "name": primary.name, "category": category, "who": who}
    fill["teacher"] = teacher
    paragraphs = [" ".join(_pick(text_rng, OPENINGS[level]).format(**fill).split())]

    outcomes = [
        outcome.format(**fill) for outcome in text_rng.permutation(OUTCOMES[level])[:3].tolist()
    ]
    learn = [f"You will learn to {join_names(outcomes)}."]
    if len(course_skills) > 1:
        others = join_names([_spoken(skills[s]) for s in course_skills[1:]])
        learn.append(_pick(text_rng, COMBINATIONS).format(A=primary.label, others=others))
    if extra_skills:
        mentioned = join_names([_spoken(skills[s]) for s in extra_skills])
        learn.append(_pick(text_rng, MENTIONS).format(others=mentioned))
    paragraphs.append(" ".join(learn))

    hours = duration_minutes / 60
    length = f"{duration_minutes} minutes" if duration_minutes < 90 else f"{hours:.1f} hours"
    chapters = max(2, duration_minutes // 20)
    paragraphs.append(
        _pick(text_rng, CLOSINGS[closing]).format(length=length, chapters=chapters, **fill)
    )
    return title, "\n\n".join(paragraphs), level


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _spoken(skill: DemoSkill) -> str:
    """A skill as the prose names it: its short label where that is one of its names people
    search for, else its full name (so the text still names every skill a tagger could match)."""
    if skill.label == skill.name or skill.label in skill.synonyms:
        return skill.label
    return skill.name


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
    # Wording only, from a stream of its own (see `_course_text`): a sequence derived from the
    # dataset's seed, which draws nothing from `rng`.
    seed_sequence = rng.bit_generator.seed_seq
    text_rng = np.random.default_rng(
        np.random.SeedSequence(
            seed_sequence.entropy, spawn_key=(*seed_sequence.spawn_key, TEXT_STREAM)
        )
    )
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
            text_rng=text_rng,
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
    *, rng: np.random.Generator, course_rows: list[DemoCourse], skills: list[DemoSkill]
) -> tuple[np.ndarray, sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]:
    """The hidden course-side truth: popularity, courses per skill, the skills a learner goes
    on to after each course, and courses per taste cluster.

    Popularity is Zipf-like, beginner courses ahead. A skill's courses weigh by popularity, less
    where the skill is not the primary one. After a course, a learner goes on with one of its
    skills, a related skill or a skill of its category (`_follow_on_skills`). Each taste cluster
    is a topic area (`_taste_clusters_draw`).
    """
    courses, n_skills = len(course_rows), len(skills)
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
            tag_vals.append(1.0 if position == 0 else 0.6)
    # Skills x courses: 1 for a course's primary skill, 0.6 for its others.
    teaches = sp.csr_matrix((tag_vals, (tag_rows, tag_cols)), shape=(n_skills, courses))
    skill_courses = row_normalize(teaches @ sp.diags(popularity))
    skill_courses.sort_indices()
    follow_on = _follow_on_skills(teaches=teaches, skills=skills)
    cluster_courses = _taste_clusters_draw(
        rng=rng, course_rows=course_rows, skills=skills, teaches=teaches, popularity=popularity
    )
    return popularity, skill_courses, follow_on, cluster_courses


# After a course: one of its own skills, a related skill, or another skill of its category.
_FOLLOW_ON_SHARES = (0.6, 0.25, 0.15)


def _follow_on_skills(*, teaches: sp.csr_matrix, skills: list[DemoSkill]) -> sp.csr_matrix:
    """Courses x skills, rows summing to 1: what a learner who took a course goes on to learn.

    Learners move through a topic: mostly a skill the course taught (its primary one first), else
    a skill related to those, else another skill of the course's categories. Only skills some
    course teaches count, so every row leads to a course. No random draws.
    """
    n_skills = len(skills)
    taught = (np.diff(teaches.indptr) > 0).astype(np.float64)
    own = row_normalize(teaches.T.tocsr())
    rows, cols = [], []
    by_category: dict[int, list[int]] = {}
    for s, skill in enumerate(skills):
        rows.extend([s] * len(skill.related))
        cols.extend(skill.related)
        by_category.setdefault(skill.category, []).append(s)
    related = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_skills, n_skills))
    rows, cols = [], []
    for members in by_category.values():
        for s in members:
            rows.extend([s] * (len(members) - 1))
            cols.extend(t for t in members if t != s)
    same_category = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_skills, n_skills))
    w_own, w_related, w_category = _FOLLOW_ON_SHARES
    follow_on = (
        w_own * own
        + w_related * row_normalize(own @ row_normalize(related @ sp.diags(taught)))
        + w_category * row_normalize(own @ row_normalize(same_category @ sp.diags(taught)))
    )
    follow_on = row_normalize(follow_on)
    follow_on.eliminate_zeros()
    follow_on.sort_indices()
    return follow_on


# A taste cluster's topic area: its anchor skills weigh most, their related skills and the
# other skills of their categories less.
_AREA_WEIGHTS = (1.0, 0.5, 0.1)

# A course of one of the cluster's favourite teachers weighs this much more.
_FAVOURITE_TEACHER_BOOST = 3.0


def _taste_clusters_draw(
    *,
    rng: np.random.Generator,
    course_rows: list[DemoCourse],
    skills: list[DemoSkill],
    teaches: sp.csr_matrix,
    popularity: np.ndarray,
) -> sp.csr_matrix:
    """Clusters x courses, rows summing to 1: the courses each taste cluster favours.

    A cluster is a community around a topic area (two anchor skills, drawn by how many courses
    teach them, with their related skills and categories) and three favourite teachers of that
    area, weighted by the square root of popularity: signal a member's own profile does not
    give away, which only collaborative filtering can find, yet on one subject.
    """
    courses, n_skills = len(course_rows), len(skills)
    n_clusters = int(np.clip(round(math.sqrt(courses) / 3), 4, 24))
    course_count = np.asarray((teaches > 0).sum(axis=1)).ravel().astype(np.float64)
    course_teacher = np.array([course.teacher for course in course_rows])
    category = np.array([skill.category for skill in skills])
    course_skills = (teaches > 0).T.tocsr().astype(np.float64)
    n_anchors = min(2, int((course_count > 0).sum()))
    w_anchor, w_related, w_category = _AREA_WEIGHTS
    cluster_rows = []
    for _k in range(n_clusters):
        anchors = rng.choice(
            n_skills, size=n_anchors, replace=False, p=course_count / course_count.sum()
        )
        area = np.where(np.isin(category, category[anchors]), w_category, 0.0)
        area[[r for a in anchors for r in skills[a].related]] = w_related
        area[anchors] = w_anchor
        # A course weighs by the closest of its skills to the area.
        closeness = np.asarray(course_skills.multiply(area[None, :]).max(axis=1).todense()).ravel()
        liked = np.flatnonzero(closeness > 0)
        area_teachers = np.unique(course_teacher[liked])
        favourites = rng.choice(area_teachers, size=min(3, len(area_teachers)), replace=False)
        boost = np.where(np.isin(course_teacher, favourites), _FAVOURITE_TEACHER_BOOST, 1.0)
        cluster_rows.append(closeness * boost * np.sqrt(popularity))
    cluster_courses = row_normalize(sp.csr_matrix(np.array(cluster_rows)))
    cluster_courses.sort_indices()
    return cluster_courses


# (title wordings, level or None for any, number of skills it names). {A}/{B}/{C} are skill
# labels, {Titles} a plural job title of an occupation that uses skill A, {topic} an advanced
# topic. The dataset's draws pick a slot; the wording stream picks one of its wordings.
TITLE_TEMPLATES: tuple[tuple[tuple[str, ...], str | None, int], ...] = (
    (
        (
            "{A} Essential Training",
            "{A}: The Essentials",
            "Getting Started with {A}",
            "Your First Week with {A}",
        ),
        "beginner",
        1,
    ),
    (("Learning {A}", "Introduction to {A}", "{A} from Scratch", "Discover {A}"), "beginner", 1),
    (("{A} Quick Start", "{A} Crash Course", "First Steps in {A}"), "beginner", 1),
    (("{A} Fundamentals", "{A} Foundations", "Understanding {A}", "{A} Basics"), "beginner", 1),
    (("{A} for Beginners", "{A} Made Simple", "A Gentle Introduction to {A}"), "beginner", 1),
    (
        (
            "{A} for {Titles}",
            "{A} Skills for {Titles}",
            "What {Titles} Need to Know About {A}",
            "{A} on the Job for {Titles}",
        ),
        None,
        1,
    ),
    (
        ("{A} in the Workplace", "{A} at Work", "Practical {A}", "{A} for Busy Professionals"),
        None,
        1,
    ),
    (
        (
            "{A}: Tips, Tricks, and Techniques",
            "{A} Tips and Shortcuts",
            "Getting More Out of {A}",
            "Working Smarter with {A}",
        ),
        "intermediate",
        1,
    ),
    (
        (
            "{A} Best Practices",
            "{A} Done Right",
            "Common {A} Mistakes and How to Avoid Them",
            "{A}: Beyond Your First Project",
        ),
        "intermediate",
        1,
    ),
    (("Advanced {A}: {topic}", "{A} Deep Dive: {topic}", "{A} in Depth: {topic}"), "advanced", 1),
    (
        ("Mastering {A}", "{A} Masterclass", "{A} for Power Users", "{A} Under the Hood"),
        "advanced",
        1,
    ),
    (
        (
            "{A} and {B} in Practice",
            "Using {A} with {B}",
            "Connecting {A} and {B}",
            "{A} and {B} for Everyday Work",
        ),
        "intermediate",
        2,
    ),
    (
        (
            "From {A} to {B}",
            "{A} and {B}: A Practical Workflow",
            "Building a Workflow with {A} and {B}",
            "{B} for {A} Users",
        ),
        "intermediate",
        2,
    ),
    (
        (
            "Hands-On Projects with {A}, {B}, and {C}",
            "Real-World Projects: {A}, {B}, and {C}",
            "{A}, {B}, and {C}: A Project Course",
        ),
        "intermediate",
        3,
    ),
)

# The description's first paragraph, per level: what the course is and who it is for. Each
# names the main skill in full once ({name}), as catalogs name the product they teach.
OPENINGS: dict[str, tuple[str, ...]] = {
    "beginner": (
        "New to {A}? In this course {teacher} walks you through the essentials of {name}, the "
        "{category} that {who} rely on every day. No previous experience is needed.",
        "{A} can look intimidating at first. {teacher} starts from a blank screen and shows, "
        "one step at a time, how {who} use {name} to get real work done.",
        "This course is a friendly first look at {name}. {teacher} explains the ideas behind "
        "it in plain language, then shows you the handful of tasks {who} do most often.",
    ),
    "intermediate": (
        "Already comfortable with the basics of {A}? {teacher} shows how {who} get more done "
        "with {name}, with workflows you can reuse the next morning.",
        "You know your way around {A}, but it still takes longer than it should. {teacher} "
        "shares the habits and shortcuts that experienced {who} use to work faster in {name}.",
        "This course picks up where the introductions to {A} leave off. Working through "
        "realistic examples, {teacher} shows how {who} apply {name} to everyday problems.",
    ),
    "advanced": (
        "This course is for experienced {A} users who want to go deeper. {teacher} covers the "
        "techniques {who} reach for on demanding projects with {name}.",
        "When a project outgrows the defaults, {A} has more to offer than most people use. "
        "{teacher} explores the advanced side of {name}, as seasoned {who} use it.",
        "Aimed at people who already use {A} daily, this course takes on the hard cases: "
        "{teacher} works through the problems {who} meet with {name} on large, long-lived "
        "projects.",
    ),
}

# What a course teaches, per level: three of these make the second paragraph.
OUTCOMES: dict[str, tuple[str, ...]] = {
    "beginner": (
        "find your way around {A} and set it up the way you work",
        "complete the everyday tasks {who} do most often",
        "avoid the mistakes new users make",
        "save, organise and share your work with colleagues",
        "read and change work someone else started",
        "know where to look when something does not behave as expected",
    ),
    "intermediate": (
        "speed up routine work with shortcuts and templates",
        "solve the problems that come up in real projects",
        "hand work over to colleagues cleanly",
        "check your results before they reach anyone else",
        "organise larger pieces of work so they stay easy to change",
        "choose between several ways of doing the same thing",
    ),
    "advanced": (
        "automate the steps you repeat every week",
        "keep large projects fast and maintainable",
        "diagnose problems quickly and fix them at their cause",
        "set up conventions your whole team can follow",
        "integrate {A} with the other tools in your stack",
        "review other people's work with an expert eye",
    ),
}

COMBINATIONS: tuple[str, ...] = (
    "Along the way you combine {A} with {others}, a combination that comes up again and again "
    "in real projects.",
    "Several chapters show how {A} works together with {others}.",
    "You also see where {others} fit in, and how to move work between them and {A}.",
)

MENTIONS: tuple[str, ...] = (
    "Examples also touch on {others}.",
    "A few demonstrations use {others} as well.",
)

# The last paragraph: format and length, by the dataset's draw of one of three closings.
CLOSINGS: tuple[tuple[str, ...], ...] = (
    (
        "The course includes {length} of short, practical videos and exercise files you can "
        "follow along with.",
        "Expect {length} of video in short lessons, with exercise files for every chapter.",
    ),
    (
        "Each of its {chapters} chapters ends with a hands-on challenge and its solution.",
        "It is organised in {chapters} chapters; each one ends with a short challenge so you "
        "can try what you learned.",
    ),
    (
        "About {length} of video, with a quiz after every chapter to check your understanding.",
        "Plan on about {length}, including a quiz at the end of each chapter.",
    ),
)
