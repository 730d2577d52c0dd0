"""The vendored O*NET taxonomy: its files' format and the reader every install uses.

Django-free. The files under `members/data/onet/` are what `load_taxonomy` puts in the database
(skills, categories, synonyms, related skills, one job title per occupation, every alternate
title, each occupation's technology skills) and what the demo generator builds its catalog from.
They live here, in the lowest app that owns every model they fill, because a real install needs
them as much as the demo does. The rules that select them from a full O*NET release, and the
writer, are the demo's (`demo/onet.py`, `manage.py vendor_onet`).
"""

from __future__ import annotations

import csv
import gzip
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

VENDORED_DIR = Path(__file__).resolve().parent / "data" / "onet"


@dataclass(frozen=True)
class OnetSkill:
    name: str
    category: str
    occupation_count: int


@dataclass(frozen=True)
class OnetOccupation:
    code: str
    onet_title: str
    title: str  # singular, e.g. "Registered Nurse"
    plural: str  # e.g. "Registered Nurses", for "Popular with ..."
    description: str
    skills: tuple[str, ...]  # selected skill names, most widely used first
    hot_skills: frozenset[str] = field(default_factory=frozenset)

    @property
    def major_group(self) -> str:
        return self.code[:2]


@dataclass(frozen=True)
class OnetJobTitle:
    """Every O*NET occupation's job title: the one a learner's cohort is named by."""

    code: str
    onet_title: str  # O*NET's standard title, e.g. "Business Intelligence Analysts"
    title: str  # singular and distinct across occupations, e.g. "Business Intelligence Analyst"


@dataclass(frozen=True)
class OnetSubset:
    skills: list[OnetSkill]
    # The demo's occupations: spread over the SOC major groups, each with enough skills.
    occupations: list[OnetOccupation]
    synonyms: dict[str, list[str]]  # skill name -> synonyms
    related: dict[str, list[tuple[str, float]]]  # skill name -> [(skill name, jaccard)]
    # Every occupation, for a real install: its title, alternate titles and selected skills.
    job_titles: list[OnetJobTitle] = field(default_factory=list)
    alternate_titles: list[tuple[str, str]] = field(default_factory=list)  # (code, title)
    # code -> [(skill name, hot)], most widely used skill first
    occupation_skills: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)

    def skill_names(self) -> list[str]:
        return [skill.name for skill in self.skills]


VENDORED_FILES = {
    "skills": ("skills.tsv.gz", ["skill", "category", "occupation_count"]),
    "synonyms": ("synonyms.tsv.gz", ["skill", "synonym"]),
    "related": ("related.tsv.gz", ["skill", "related_skill", "jaccard"]),
    "occupations": (
        "occupations.tsv.gz",
        ["code", "onet_title", "title", "plural", "description"],
    ),
    "occupation_skills": ("occupation_skills.tsv.gz", ["code", "skill", "hot"]),
    "job_titles": ("job_titles.tsv.gz", ["code", "onet_title", "title"]),
    "alternate_titles": ("alternate_titles.tsv.gz", ["code", "alternate_title"]),
}


def occupation_skill_weights(
    *,
    occupation_skills: dict[str, list[tuple[str, bool]]],
    alternate_titles: list[tuple[str, str]],
) -> dict[str, list[tuple[str, bool, float]]]:
    """How well each skill fits each occupation, in (0, 1]: what a title is suggested first.

    O*NET lists which technology skills an occupation uses, not how much, and the everyday ones
    (Microsoft Word, Outlook) are listed for most occupations. So a skill's fit is how common it
    is among the occupation's *kin*, times how specific it is overall, like TF-IDF:

    - kin: the occupation itself (weight 1) and every occupation sharing one of its alternate
      titles, each shared title weighing 1 / (occupations listing it), so "Data Analyst" (nine
      occupations) ties the data occupations together while "Manager" (hundreds) barely counts;
    - specificity: log(N / n) / log(N) for a skill listed by n of the N occupations.

    The fit is scaled to the occupation's best skill; a Hot Technology (O*NET's flag: in demand
    for that occupation) adds 0.5 before halving, so hot skills come first. For a social science
    research assistant (titled "Data Analyst") that puts SPSS, R, SAS, Tableau and SQL ahead of
    Word and Outlook, and ahead of Perl, which the occupation lists but its kin rarely do.
    """
    skill_sets = {code: {name for name, _hot in names} for code, names in occupation_skills.items()}
    holders: dict[str, int] = defaultdict(int)
    for names in skill_sets.values():
        for name in names:
            holders[name] += 1
    n_occupations = max(2, len(skill_sets))
    specificity = {
        name: math.log(n_occupations / n) / math.log(n_occupations) for name, n in holders.items()
    }
    codes_by_title: dict[str, set[str]] = defaultdict(set)
    for code, title in alternate_titles:
        if code in skill_sets:
            codes_by_title[title.lower()].add(code)
    kin: dict[str, dict[str, float]] = {code: {code: 1.0} for code in skill_sets}
    for codes in codes_by_title.values():
        if len(codes) < 2:
            continue
        share = 1.0 / len(codes)
        for code in codes:
            for other in codes:
                if other != code:
                    kin[code][other] = kin[code].get(other, 0.0) + share
    weights: dict[str, list[tuple[str, bool, float]]] = {}
    for code, names in occupation_skills.items():
        total = sum(kin[code].values())
        fit = {
            name: specificity[name]
            * sum(w for other, w in kin[code].items() if name in skill_sets[other])
            / total
            for name, _hot in names
        }
        top = max(fit.values(), default=0.0) or 1.0
        weights[code] = [
            (name, hot, round(max(0.01, 0.5 * hot + 0.5 * fit[name] / top), 4))
            for name, hot in names
        ]
    return weights


def _vendored_rows(directory: Path, key: str) -> list[list[str]]:
    filename, header = VENDORED_FILES[key]
    with gzip.open(directory / filename, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        found = next(reader)
        if found != header:
            raise ValueError(f"{filename}: expected columns {header}, found {found}")
        return list(reader)


def onet_subset_read(*, directory: Path = VENDORED_DIR) -> OnetSubset:
    """The vendored subset, as `demo.onet.onet_subset_build` produced it."""
    skills = [
        OnetSkill(name=name, category=category, occupation_count=int(count))
        for name, category, count in _vendored_rows(directory, "skills")
    ]
    synonyms: dict[str, list[str]] = defaultdict(list)
    for name, synonym in _vendored_rows(directory, "synonyms"):
        synonyms[name].append(synonym)
    related: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for name, other, score in _vendored_rows(directory, "related"):
        related[name].append((other, float(score)))
    occupation_skills: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for code, name, hot in _vendored_rows(directory, "occupation_skills"):
        occupation_skills[code].append((name, hot == "Y"))
    occupations = [
        OnetOccupation(
            code=code,
            onet_title=onet_title,
            title=title,
            plural=plural,
            description=description,
            skills=tuple(name for name, _hot in occupation_skills[code]),
            hot_skills=frozenset(name for name, hot in occupation_skills[code] if hot),
        )
        for code, onet_title, title, plural, description in _vendored_rows(directory, "occupations")
    ]
    job_titles = [
        OnetJobTitle(code=code, onet_title=onet_title, title=title)
        for code, onet_title, title in _vendored_rows(directory, "job_titles")
    ]
    alternate_titles = [
        (code, title) for code, title in _vendored_rows(directory, "alternate_titles")
    ]
    return OnetSubset(
        skills=skills,
        occupations=occupations,
        synonyms=dict(synonyms),
        related=dict(related),
        job_titles=job_titles,
        alternate_titles=alternate_titles,
        occupation_skills=dict(occupation_skills),
    )
