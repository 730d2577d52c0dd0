"""The taxonomy part: skills (with synonyms) from the O*NET subset, job titles with their
industries, and the title-to-skill weights members are drawn from."""

from __future__ import annotations

import math
import re

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


# The names people say for O*NET technology names that no rule shortens well: a vendor's
# consumer brand, or a product whose O*NET name leads with its vendor's full company name.
SHORT_NAMES: dict[str, str] = {
    "NortonLifeLock cybersecurity software": "Norton",
    "Microsoft Visual Basic Scripting Edition VBScript": "VBScript",
    "Amazon Web Services AWS CloudFormation": "CloudFormation",
    "Oracle Primavera Enterprise Project Portfolio Management": "Primavera",
    "Oracle Business Intelligence Enterprise Edition": "Oracle BI",
    "Oracle E-Business Suite Financials": "Oracle Financials",
    "Qlik Tech QlikView": "QlikView",
    "Salesforce.com Salesforce CRM": "Salesforce CRM",
    "Greenway Medical Technologies PrimeSUITE": "PrimeSUITE",
    "Leica Geosystems ERDAS IMAGINE": "ERDAS IMAGINE",
    "Automatic Data Processing AdvancedMD EHR": "AdvancedMD",
    "NextGen Healthcare Information Systems EMR": "NextGen EMR",
    "StatCom Patient Flow Logistics Enterprise Suite": "StatCom Patient Flow",
    "Benchmark Systems Benchmark Clinical EHR": "Benchmark EHR",
    "GE Healthcare Centricity EMR": "Centricity EMR",
    "GE Healthcare Centricity Practice Solution": "Centricity Practice",
    "Cerner PowerWorks Practice Management": "Cerner PowerWorks",
    "Avid Technology Pro Tools": "Pro Tools",
    "McNeel Rhinoceros 3D": "Rhino 3D",
    "Bizmatics PrognoCIS EMR": "PrognoCIS",
    "Kareo Practice Management": "Kareo",
}

# An acronym as O*NET writes one after its expansion: "SQL", "VoIP", "XHTML", "(NCIC)".
_ACRONYM = re.compile(r"^\(?([A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*)\)?$")
# Trailing words that say what kind of thing it is: "ANSYS simulation software".
_KIND_WORDS = {"software", "database", "simulation"}
_SMALL_WORDS = {"a", "an", "and", "for", "in", "of", "on", "or", "the", "to", "with"}
_LABEL_MAX = 24


def _skill_label(name: str, synonyms: list[str]) -> str:
    """The short name people say, for course titles and prose: "Excel" for "Microsoft Excel",
    "VoIP" for "Voice over internet protocol VoIP system software", "Norton" for
    "NortonLifeLock cybersecurity software" (`SHORT_NAMES`), "Employee Scheduling" for a name
    that describes a kind of software. No random draws."""
    if name in SHORT_NAMES:
        return SHORT_NAMES[name]
    words = name.split()
    while len(words) > 1 and words[-1].lower() in _KIND_WORDS and words[-1].islower():
        words = words[:-1]
    # An expansion followed by its acronym (and perhaps what kind of thing it is, in lower
    # case): the acronym. "VoIP" for "Voice over internet protocol VoIP system".
    for j in range(len(words) - 1, 1, -1):
        match = _ACRONYM.match(words[j])
        if match and all(word.islower() for word in words[j + 1 :]):
            if any(word.islower() for word in words[1:j]) or words[j].startswith("("):
                return match.group(1)
            break
    options = [s for s in synonyms if 2 <= len(s) <= _LABEL_MAX and len(s) < len(name)]
    if options:
        return min(options, key=lambda s: (len(s), s))
    if words[0][:1].isupper() and len(words) > 1 and all(word.islower() for word in words[1:]):
        # A kind of software ("Employee scheduling software"): title case, as titles want.
        return " ".join(
            word if word in _SMALL_WORDS and i else word[:1].upper() + word[1:]
            for i, word in enumerate(words)
        )
    return " ".join(words)


def _skill_labels(names: list[str], synonyms: dict[str, list[str]]) -> list[str]:
    """`_skill_label` of each name, kept unique: a label another skill took first falls back
    to the full name, so two skills never read the same in a title."""
    taken: set[str] = set()
    labels = []
    for name in names:
        label = _skill_label(name, synonyms.get(name, []))
        if label.lower() in taken:
            label = name
        taken.add(label.lower())
        labels.append(label)
    return labels


def skills_build(*, subset: OnetSubset) -> tuple[list[str], list[DemoSkill]]:
    """The taxonomy: categories (sorted, case aside) and the subset's skills, in its order.

    No random draws. Each skill gets a unique slug, a short label for course titles, its
    synonyms, and its related skills as indexes into the skill list.
    """
    categories = sorted({s.category for s in subset.skills}, key=str.lower)
    category_index = {name: i for i, name in enumerate(categories)}
    skill_index = {s.name: i for i, s in enumerate(subset.skills)}
    skill_slugs = unique_slugs([s.name for s in subset.skills], 140)
    labels = _skill_labels([s.name for s in subset.skills], subset.synonyms)
    skills = [
        DemoSkill(
            name=s.name,
            slug=skill_slugs[i],
            label=labels[i],
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
