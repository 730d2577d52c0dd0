"""The taxonomy part: skills (with synonyms) from the O*NET subset, job titles with their
industries, and the title-to-skill weights members are drawn from."""

from __future__ import annotations

import math

import numpy as np

from demo.dataset.common import unique_slugs
from demo.dataset.types import DemoSkill, DemoTitle
from demo.onet import OnetSubset

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


def _skill_label(name: str, synonyms: list[str]) -> str:
    options = [s for s in synonyms if 2 <= len(s) <= 24 and len(s) < len(name)]
    return min(options, key=lambda s: (len(s), s)) if options else name


def skills_build(*, subset: OnetSubset) -> tuple[list[str], list[DemoSkill]]:
    """The taxonomy: categories (sorted, case aside) and the subset's skills, in its order.

    No random draws. Each skill gets a unique slug, a short label for course titles, its
    synonyms, and its related skills as indexes into the skill list.
    """
    categories = sorted({s.category for s in subset.skills}, key=str.lower)
    category_index = {name: i for i, name in enumerate(categories)}
    skill_index = {s.name: i for i, s in enumerate(subset.skills)}
    skill_slugs = unique_slugs([s.name for s in subset.skills], 140)
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


def titles_build(
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


def skill_titles_index(titles: list[DemoTitle]) -> dict[int, list[int]]:
    """For each skill, the titles (indexes, in order) whose occupation uses it."""
    titles_by_skill: dict[int, list[int]] = {}
    for t, title in enumerate(titles):
        for s in title.skills:
            titles_by_skill.setdefault(s, []).append(t)
    return titles_by_skill


def title_skill_weights(
    *, subset: OnetSubset, skills: list[DemoSkill], titles: list[DemoTitle]
) -> list[np.ndarray]:
    """Per title, one weight per skill of `title.skills`: what the skill says about its holders.

    Specific skills (used by few titles) and O*NET's "hot" skills weigh more. No random draws.
    """
    skill_index = {s.name: i for i, s in enumerate(skills)}
    titles_by_skill = skill_titles_index(titles)
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


def skill_weights_build(skills: list[DemoSkill]) -> np.ndarray:
    """How common each skill is, summing to 1: its O*NET occupation count, damped."""
    skill_weight = np.array([s.occupation_count for s in skills], dtype=np.float64) ** 0.8
    skill_weight /= skill_weight.sum()
    return skill_weight
