"""The O*NET subset SkillPath ships: the selection rules and the writer of the vendored files.

Django-free on purpose: `vendor_onet` runs these rules against the full O*NET release once, the
output is committed under `members/data/onet/` (where `load_taxonomy` and the demo generator
read it through `members.onet`). Every rule is deterministic (ties broken by name or code) so
re-vendoring gives identical bytes.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from members.onet import (
    VENDORED_DIR,
    VENDORED_FILES,
    OnetJobTitle,
    OnetOccupation,
    OnetSkill,
    OnetSubset,
    onet_subset_read,
)

__all__ = [
    "VENDORED_DIR",
    "VENDORED_FILES",
    "OnetJobTitle",
    "OnetOccupation",
    "OnetSkill",
    "OnetSubset",
    "onet_subset_read",
]

SOURCE_FILES = {
    "occupations": "occupation_data.tsv.gz",
    "alternate_titles": "alternate_titles.tsv.gz",
    "technology_skills": "technology_skills.tsv.gz",
}

# First words of O*NET "examples" that describe a kind of software rather than a product
# ("Spreadsheet software", "Electronic medical record EMR software"). A learner cannot take a
# course in "Web browser software", so these are left out when the rest of the name is generic.
GENERIC_HEADS = frozenset(
    """
    accounting appointment billing bookkeeping calendar collaborative computer computerized cost
    course customer data database debugging desktop distributed document electronic email
    encryption enterprise finite financial firewall fund geographic geomechanical global graphics
    handheld human image integrated internet inventory laboratory learning maintenance management
    mapping medical operating operational patient payroll point practice presentation programmable
    project recordkeeping relational scheduling simulation social software spreadsheet statistical
    supervisory tax timekeeping video virtual voice warehouse web word work
    """.split()  # noqa: SIM905 (a word list reads better as prose)
)

# A vendor-stripped name that is an everyday word ("Word", "Access", "Project") would make
# search and the text tagger match ordinary prose, so it is never used as a synonym.
COMMON_WORDS = frozenset(
    """
    access accounting ads analytics ant applications automation bamboo basic boot calendar central
    classroom cloud confluence curriculum database designer docs domino drive dynamics edge
    enterprise exchange explorer financials firmware forms framework groups hive keynote learn
    management manager meet money notebook notes office one pages pig pro project publisher server
    sheets sites slides spark stack studio suite system systems teams technology tools windows word
    workspace audition canvas flex inventor maple millennium painter safari shell
    """.split()  # noqa: SIM905 (a word list reads better as prose)
)

# Second words of two-word company names ("Red Hat", "National Instruments"): a remainder that
# starts with one of these still carries part of the vendor and is not a product name.
COMPANY_WORDS = frozenset(
    """
    crime data geosystems hat healthcare information instruments medical microsystems practice
    professional research services software systems tech technologies technology web
    """.split()  # noqa: SIM905 (a word list reads better as prose)
)

_ACRONYM_RE = re.compile(r"^[A-Z][A-Z0-9]+(?:[-/][A-Z0-9]+)*$")
_SOFTWARE_SUFFIX_RE = re.compile(r"\s+(?:software|systems?)$")
_PARENTHESES_RE = re.compile(r"\s*\([^)]*\)")


@dataclass(frozen=True)
class OnetSource:
    """The three O*NET tables, as read from the release's gzipped TSV files."""

    occupations: dict[str, tuple[str, str]]  # code -> (title, description)
    alternate_titles: dict[str, list[tuple[str, str, int]]]  # code -> (title, short, n_sources)
    technology: list[tuple[str, str, str, bool]]  # (code, example, commodity title, hot)


def _tsv_rows(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def onet_source_read(*, source: Path) -> OnetSource:
    occupations = {
        row["O*NET-SOC Code"]: (row["Title"], row["Description"])
        for row in _tsv_rows(source / SOURCE_FILES["occupations"])
    }
    alternate_titles: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for row in _tsv_rows(source / SOURCE_FILES["alternate_titles"]):
        n_sources = len([s for s in row["Source(s)"].split(",") if s.strip()])
        alternate_titles[row["O*NET-SOC Code"]].append(
            (row["Alternate Title"], row["Short Title"], n_sources)
        )
    technology = [
        (
            row["O*NET-SOC Code"],
            row["Example"].strip(),
            row["Commodity Title"].strip(),
            row["Hot Technology"] == "Y",
        )
        for row in _tsv_rows(source / SOURCE_FILES["technology_skills"])
    ]
    return OnetSource(
        occupations=occupations, alternate_titles=dict(alternate_titles), technology=technology
    )


def _is_acronym(word: str) -> bool:
    return bool(_ACRONYM_RE.match(word))


def skill_is_generic(*, name: str) -> bool:
    """True for descriptions of a kind of software ("Web browser software"), not a product."""
    words = name.split()
    if words[0].lower() not in GENERIC_HEADS:
        return False
    # A capitalised word after the first marks a product ("Project Management Institute ...").
    return all(_is_acronym(word) or not word[:1].isupper() for word in words[1:])


def _without_software_suffix(name: str) -> str:
    return _SOFTWARE_SUFFIX_RE.sub("", name)


def _abbreviates(acronym: str, expansion: str) -> bool:
    """True when the acronym's letters run through the expansion in order, from its start."""
    letters = [ch for ch in acronym.lower() if ch.isalpha()]
    text = "".join(ch for ch in expansion.lower() if ch.isalpha())
    if not letters or not text or letters[0] != text[0]:
        return False
    position = 0
    for letter in letters:
        position = text.find(letter, position)
        if position < 0:
            return False
        position += 1
    return True


def _acronym_split(name: str, vendors: set[str]) -> tuple[str, str] | None:
    """("Structured query language", "SQL") for "Structured query language SQL".

    Only when the acronym abbreviates the words before it (with or without the vendor), so
    "Microsoft Power BI" or "GE Healthcare Centricity EMR" are not read as acronyms.
    """
    words = _without_software_suffix(name).split()
    if len(words) < 2 or not _is_acronym(words[-1]) or _is_acronym(words[-2]):
        return None
    expansion = " ".join(words[:-1])
    stripped = _vendor_stripped(expansion, vendors)
    for candidate in (expansion, stripped):
        if candidate and _abbreviates(words[-1], candidate):
            return candidate, words[-1]
    return None


def _vendor_prefixes(names: Iterable[str]) -> set[str]:
    """Leading words that name a vendor: shared by several products, followed by a product name.

    "Red Hat" rather than "Red" because every "Red ..." name continues with "Hat"; "Microsoft"
    rather than "Microsoft Visual" because not every "Microsoft ..." name continues that way.
    """
    by_first: dict[str, list[list[str]]] = defaultdict(list)
    for name in names:
        words = name.split()
        if words[0] == "The":
            words = words[1:]
        if len(words) >= 2 and words[0][:1].isupper() and words[0].lower() not in GENERIC_HEADS:
            by_first[words[0]].append(words)
    vendors: set[str] = set()
    for first, groups in by_first.items():
        if len(groups) < 3:
            continue
        prefix = [first]
        while True:
            depth = len(prefix)
            nexts = {words[depth] if len(words) > depth + 1 else None for words in groups}
            if len(nexts) == 1 and None not in nexts:
                prefix.append(nexts.pop())
            else:
                break
        vendors.add(" ".join(prefix))
    return vendors


def _vendor_stripped(name: str, vendors: set[str]) -> str | None:
    base = _without_software_suffix(name)
    if base.startswith("The "):
        base = base[4:]
    for vendor in sorted(vendors, key=len, reverse=True):
        if base.startswith(vendor + " "):
            rest = base[len(vendor) + 1 :]
            if rest[:1].isupper() and rest.split()[0].lower() not in COMPANY_WORDS:
                return rest
            return None
    return None


def skill_synonym_candidates(*, name: str, vendors: set[str]) -> list[str]:
    """Other names people use for an O*NET skill name, before the ambiguity check."""
    candidates: list[str] = []
    split = _acronym_split(name, vendors)
    if split is not None:
        expansion, acronym = split
        candidates.append(acronym)
        if " " in expansion:
            candidates.append(expansion)
    else:
        stripped = _vendor_stripped(name, vendors)
        # Short leftovers ("BI", "ERP", "IDE") name a kind of product, not this product.
        if stripped is not None and len(stripped) >= 4:
            candidates.append(stripped)
        base = _without_software_suffix(name)
        # "Salesforce software" -> "Salesforce", but not "Employee scheduling software".
        if base != name and all(word[:1].isupper() for word in base.split()):
            candidates.append(base)
    cleaned = []
    for candidate in candidates:
        candidate = candidate.strip()
        if (
            len(candidate) >= 2
            and candidate.lower() != name.lower()
            and candidate.lower() not in COMMON_WORDS
            and candidate not in cleaned
        ):
            cleaned.append(candidate)
    return cleaned


def skill_synonyms_derive(*, names: Sequence[str], vendors: set[str]) -> dict[str, list[str]]:
    """Synonyms that point at exactly one skill and do not collide with another skill's name."""
    candidates = {name: skill_synonym_candidates(name=name, vendors=vendors) for name in names}
    owners: dict[str, set[str]] = defaultdict(set)
    for name, synonyms in candidates.items():
        for synonym in synonyms:
            owners[synonym.lower()].add(name)
    taken = {name.lower() for name in names}
    return {
        name: [s for s in synonyms if len(owners[s.lower()]) == 1 and s.lower() not in taken]
        for name, synonyms in candidates.items()
        if synonyms
    }


def _skill_core(name: str, vendors: set[str]) -> str:
    """The name people actually say: the acronym, else the product name without its vendor."""
    split = _acronym_split(name, vendors)
    if split is not None:
        return split[1].lower()
    stripped = _vendor_stripped(name, vendors)
    return (stripped or _without_software_suffix(name)).lower()


def skills_select(
    *, technology: Sequence[tuple[str, str, str, bool]], count: int, vendors: set[str]
) -> tuple[list[OnetSkill], dict[str, str]]:
    """The `count` products used by the most occupations, and an alias map for near-duplicates.

    O*NET lists some products twice ("Structure query language SQL" next to "Structured query
    language SQL", "Esri ArcGIS" next to "ESRI ArcGIS software"); those share a core name and are
    merged into the more widely used spelling so occupations keep the skill.
    """
    occupations_by_name: dict[str, set[str]] = defaultdict(set)
    categories: dict[str, Counter[str]] = defaultdict(Counter)
    for code, example, commodity, _hot in technology:
        if skill_is_generic(name=example):
            continue
        occupations_by_name[example].add(code)
        categories[example][commodity] += 1
    ranked = sorted(occupations_by_name, key=lambda n: (-len(occupations_by_name[n]), n))
    canonical_by_core: dict[str, str] = {}
    aliases: dict[str, str] = {}
    for name in ranked:
        core = _skill_core(name, vendors)
        if core in canonical_by_core:
            aliases[name] = canonical_by_core[core]
        else:
            canonical_by_core[core] = name
    merged: dict[str, set[str]] = defaultdict(set)
    for name in ranked:
        merged[aliases.get(name, name)] |= occupations_by_name[name]
    chosen = sorted(merged, key=lambda n: (-len(merged[n]), n))[:count]
    skills = [
        OnetSkill(
            name=name,
            # The most frequent commodity title wins where O*NET files a product under several.
            category=min(categories[name].items(), key=lambda kv: (-kv[1], kv[0]))[0],
            occupation_count=len(merged[name]),
        )
        for name in chosen
    ]
    chosen_set = set(chosen)
    return skills, {alias: to for alias, to in aliases.items() if to in chosen_set}


def job_title_singular(*, title: str) -> str:
    words = title.split()
    last = words[-1]
    if last.endswith("ies") and len(last) > 4:
        last = last[:-3] + "y"
    elif last.endswith(("ches", "shes", "sses", "xes")):
        last = last[:-2]
    elif last.endswith("men"):
        last = last[:-3] + "man"
    elif last.endswith("s") and not last.endswith("ss"):
        last = last[:-1]
    return " ".join([*words[:-1], last])


def job_title_pluralize(*, title: str) -> str:
    """English plural of a singular job title's head noun ("Secretary" -> "Secretaries")."""
    words = title.split()
    last = words[-1]
    lowered = last.lower()
    if lowered.endswith("man") and not lowered.endswith(("human", "shaman")):
        last = last[:-3] + "men"
    elif lowered.endswith("y") and len(lowered) > 1 and lowered[-2] not in "aeiou":
        last = last[:-1] + "ies"
    elif lowered.endswith(("s", "sh", "ch", "x", "z")):
        last = last + "es"
    else:
        last = last + "s"
    return " ".join([*words[:-1], last])


def _clean_title(title: str) -> str:
    return " ".join(_PARENTHESES_RE.sub("", title).split())


def _title_usable(title: str) -> bool:
    words = title.split()
    return (
        1 <= len(words) <= 4
        and len(title) <= 60
        and not any(ch in title for ch in ",/&;:")
        and not _is_acronym(words[-1])
        and words[-1].lower() not in {"intern", "trainee", "apprentice", "helper", "aide"}
    )


def occupation_titles_choose(
    *, codes: Sequence[str], source: OnetSource
) -> dict[str, tuple[str, float]]:
    """One distinct singular title per occupation, the best-attested alternate title first.

    Candidates are the occupation's alternate titles (parenthesised expansions removed) scored by
    how many O*NET sources list them, with a bonus when the title is the singular of the
    occupation's own title. Assignment is greedy by score across all occupations so a title shared
    by several occupations ("Data Analyst") goes to the one that attests it best.
    """
    scored: list[tuple[float, str, str]] = []
    for code in codes:
        onet_title = source.occupations[code][0]
        singular = job_title_singular(title=onet_title).lower()
        seen: dict[str, float] = {}
        options = [(onet_title, 0)] if ("," not in onet_title and " and " not in onet_title) else []
        options = [(job_title_singular(title=t), n) for t, n in options]
        options += [(t, n) for t, _short, n in source.alternate_titles.get(code, [])]
        for raw, n_sources in options:
            title = _clean_title(raw)
            if not _title_usable(title):
                continue
            score = n_sources + (2.0 if title.lower() == singular else 0.0)
            score -= 0.25 * max(0, len(title.split()) - 2)
            # A bare "Developer" or "Guide" is ambiguous outside its occupation.
            if " " not in title and title.lower() != singular:
                score -= 1.0
            if score > seen.get(title, -math.inf):
                seen[title] = score
        scored.extend((score, code, title) for title, score in seen.items())
    scored.sort(key=lambda item: (-item[0], item[1], item[2]))
    chosen: dict[str, tuple[str, float]] = {}
    used: set[str] = set()
    for score, code, title in scored:
        if code in chosen or title.lower() in used:
            continue
        chosen[code] = (title, score)
        used.add(title.lower())
    return chosen


def occupations_select(
    *,
    source: OnetSource,
    skills: Sequence[OnetSkill],
    aliases: dict[str, str],
    count: int,
    min_skills: int,
) -> list[OnetOccupation]:
    """About `count` occupations spread over the SOC major groups, each with its selected skills.

    Every major group gets a share proportional to the square root of its occupation-skill pairs
    (technology-heavy groups get more, but IT does not crowd out healthcare or office work), at
    least two where it has them; within a group the occupations with the most skills come first.
    """
    selected = {skill.name: skill for skill in skills}
    skills_by_code: dict[str, set[str]] = defaultdict(set)
    hot_by_code: dict[str, set[str]] = defaultdict(set)
    for code, example, _commodity, hot in source.technology:
        name = aliases.get(example, example)
        if name in selected:
            skills_by_code[code].add(name)
            if hot:
                hot_by_code[code].add(name)
    eligible = sorted(
        code
        for code, names in skills_by_code.items()
        if len(names) >= min_skills
        and code in source.occupations
        and "all other" not in source.occupations[code][0].lower()
    )
    titles = occupation_titles_choose(codes=eligible, source=source)
    eligible = [code for code in eligible if code in titles]
    by_group: dict[str, list[str]] = defaultdict(list)
    for code in eligible:
        by_group[code[:2]].append(code)
    weights = {
        group: math.sqrt(sum(len(skills_by_code[c]) for c in codes))
        for group, codes in by_group.items()
    }
    total_weight = sum(weights.values())
    chosen: list[str] = []
    for group in sorted(by_group):
        quota = max(2, round(count * weights[group] / total_weight))
        ranked = sorted(by_group[group], key=lambda c: (-len(skills_by_code[c]), c))
        chosen.extend(ranked[:quota])
    rank = {skill.name: i for i, skill in enumerate(skills)}
    occupations = []
    for code in sorted(chosen):
        title = titles[code][0]
        onet_title, description = source.occupations[code]
        occupations.append(
            OnetOccupation(
                code=code,
                onet_title=onet_title,
                title=title,
                plural=job_title_pluralize(title=title),
                description=description,
                skills=tuple(sorted(skills_by_code[code], key=lambda n: rank[n])),
                hot_skills=frozenset(hot_by_code[code]),
            )
        )
    return occupations


def skills_related_compute(
    *, occupation_skills: Iterable[Iterable[str]], names: Sequence[str], top: int
) -> dict[str, list[tuple[str, float]]]:
    """Each skill's `top` partners by Jaccard similarity of the occupations that use them."""
    index = {name: i for i, name in enumerate(names)}
    holders: list[set[int]] = [set() for _ in names]
    for row, skill_names in enumerate(occupation_skills):
        for name in skill_names:
            if name in index:
                holders[index[name]].add(row)
    related: dict[str, list[tuple[str, float]]] = {}
    for i, name in enumerate(names):
        scores = []
        for j, other in enumerate(names):
            if i == j or not holders[i] or not holders[j]:
                continue
            common = len(holders[i] & holders[j])
            if common:
                scores.append((round(common / len(holders[i] | holders[j]), 4), other))
        scores.sort(key=lambda item: (-item[0], item[1]))
        related[name] = [(other, score) for score, other in scores[:top]]
    return related


def onet_subset_build(
    *,
    source: OnetSource,
    skill_count: int = 350,
    occupation_count: int = 200,
    min_skills: int = 4,
    related_top: int = 5,
) -> OnetSubset:
    vendors = _vendor_prefixes(example for _code, example, _c, _h in source.technology)
    skills, aliases = skills_select(
        technology=source.technology, count=skill_count, vendors=vendors
    )
    names = [skill.name for skill in skills]
    occupations = occupations_select(
        source=source,
        skills=skills,
        aliases=aliases,
        count=occupation_count,
        min_skills=min_skills,
    )
    # Co-occurrence over every O*NET occupation, not only the selected ones: more evidence.
    all_occupation_skills: dict[str, set[str]] = defaultdict(set)
    for code, example, _commodity, _hot in source.technology:
        all_occupation_skills[code].add(aliases.get(example, example))
    related = skills_related_compute(
        occupation_skills=[all_occupation_skills[c] for c in sorted(all_occupation_skills)],
        names=names,
        top=related_top,
    )
    synonyms = skill_synonyms_derive(names=names, vendors=vendors)
    return OnetSubset(
        skills=skills,
        occupations=occupations,
        synonyms={k: v for k, v in synonyms.items() if v},
        related=related,
        job_titles=job_titles_all_choose(source=source, occupations=occupations),
        alternate_titles=alternate_titles_all(source=source),
        occupation_skills=occupation_skills_all(source=source, skills=skills, aliases=aliases),
    )


def job_titles_all_choose(
    *, source: OnetSource, occupations: Sequence[OnetOccupation]
) -> list[OnetJobTitle]:
    """One distinct job title for every O*NET occupation, for a real install's cohorts.

    The demo's occupations keep the title they already have, so the demo is the same whether
    or not it was loaded over the full list. The others get `occupation_titles_choose`'s pick
    among themselves; where that title is taken (or none was usable) the singular of O*NET's own
    title when it names one job, else O*NET's title as it is (unique in O*NET).
    """
    chosen = {o.code: o.title for o in occupations}
    used = {title.lower() for title in chosen.values()}
    others = sorted(code for code in source.occupations if code not in chosen)
    picked = occupation_titles_choose(codes=others, source=source)
    for code in others:
        onet_title = source.occupations[code][0]
        singular = (
            job_title_singular(title=onet_title)
            if "," not in onet_title and " and " not in onet_title
            else onet_title
        )
        for candidate in (picked.get(code, ("", 0.0))[0], singular, onet_title):
            if candidate and candidate.lower() not in used:
                chosen[code] = candidate
                used.add(candidate.lower())
                break
    return [
        OnetJobTitle(code=code, onet_title=source.occupations[code][0], title=chosen[code])
        for code in sorted(chosen)
        if code in source.occupations
    ]


def alternate_titles_all(*, source: OnetSource) -> list[tuple[str, str]]:
    """Every alternate title and short title ("BI Analyst") of every occupation, once per
    occupation (case-insensitively), sorted by code then title."""
    rows: set[tuple[str, str]] = set()
    for code, titles in source.alternate_titles.items():
        seen: set[str] = set()
        for title, short, _n_sources in titles:
            for name in (title, short):
                name = " ".join(name.split())
                if name and name != "n/a" and name.lower() not in seen:
                    seen.add(name.lower())
                    rows.add((code, name))
    return sorted(rows)


def occupation_skills_all(
    *, source: OnetSource, skills: Sequence[OnetSkill], aliases: dict[str, str]
) -> dict[str, list[tuple[str, bool]]]:
    """Every occupation's selected skills with O*NET's Hot Technology flag, most widely used
    skill first: what a learner of that occupation is suggested before their cohort grows."""
    rank = {skill.name: i for i, skill in enumerate(skills)}
    hot_by_code: dict[str, dict[str, bool]] = defaultdict(dict)
    for code, example, _commodity, hot in source.technology:
        name = aliases.get(example, example)
        if name in rank:
            hot_by_code[code][name] = hot_by_code[code].get(name, False) or hot
    return {
        code: sorted(hot_by_code[code].items(), key=lambda item: rank[item[0]])
        for code in sorted(hot_by_code)
    }


# Vendored files ---------------------------------------------------------------------------------


def _tsv_write(path: Path, header: list[str], rows: Iterable[Sequence[object]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    # mtime=0 and no file name in the header: the same subset always gives the same bytes.
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as handle,
    ):
        handle.write(buffer.getvalue().encode("utf-8"))


def onet_subset_write(*, subset: OnetSubset, target: Path) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[Sequence[object]]] = {
        "skills": [(s.name, s.category, s.occupation_count) for s in subset.skills],
        "synonyms": [
            (name, synonym)
            for name in subset.skill_names()
            for synonym in subset.synonyms.get(name, [])
        ],
        "related": [
            (name, other, f"{score:.4f}")
            for name in subset.skill_names()
            for other, score in subset.related.get(name, [])
        ],
        "occupations": [
            (o.code, o.onet_title, o.title, o.plural, o.description) for o in subset.occupations
        ],
        "occupation_skills": [
            (code, name, "Y" if hot else "N")
            for code, names in subset.occupation_skills.items()
            for name, hot in names
        ],
        "job_titles": [(t.code, t.onet_title, t.title) for t in subset.job_titles],
        "alternate_titles": subset.alternate_titles,
    }
    paths = []
    for key, (filename, header) in VENDORED_FILES.items():
        path = target / filename
        _tsv_write(path, header, rows[key])
        paths.append(path)
    return paths


def onet_readme_render(*, subset: OnetSubset) -> str:
    groups = Counter(o.major_group for o in subset.occupations)
    synonym_count = sum(len(v) for v in subset.synonyms.values())
    return f"""# O*NET taxonomy shipped with SkillPath

Source: O*NET 29.2 Database (February 2025 release) by the U.S. Department of Labor,
Employment and Training Administration (USDOL/ETA).

License: Creative Commons Attribution 4.0 International (CC BY 4.0). These files are a modified
subset of that database: O*NET is a trademark of USDOL/ETA, which has not approved, endorsed or
tested this selection.

`python manage.py load_taxonomy` loads them into the database (the first step of a real
install, and of `make demo`); the demo generator builds its catalog from them. Rebuilt by
`python manage.py vendor_onet --source <O*NET text release>`; the rules live in `demo/onet.py`
and are deterministic, so rebuilding gives the same bytes.

## What was selected (from occupation_data, alternate_titles, technology_skills)

- `skills.tsv.gz`: {len(subset.skills)} technology skills ("Example" column), the ones used by
  the most occupations. Descriptions of a kind of software ("Spreadsheet software") are left
  out; O*NET's near-duplicate spellings ("Structure query language SQL") are merged into the
  more widely used one. Category = the product's most frequent "Commodity Title".
- `synonyms.tsv.gz`: {synonym_count} synonyms derived by rule: the acronym of a spelled-out
  name ("Structured query language SQL" -> "SQL"), the product without its vendor ("Microsoft
  Excel" -> "Excel") or without "software". A synonym is kept only when exactly one selected
  skill produces it, it is not another skill's name (case-insensitively) and it is not an
  everyday word ("Word", "Project").
- `related.tsv.gz`: each skill's top 5 partners by Jaccard similarity of the sets of O*NET
  occupations that list them.
- `occupations.tsv.gz`: the demo's {len(subset.occupations)} occupations across {len(groups)}
  SOC major groups, each with a singular job title chosen from its alternate titles (most O*NET
  sources first, the singular of the occupation title preferred, each title used once) and its
  plural. Occupations with fewer than 4 selected skills and "All Other" occupations are left out.
- `job_titles.tsv.gz`: all {len(subset.job_titles)} O*NET occupations, each with its O*NET title
  and one distinct job title (the demo's occupations keep theirs; the others are chosen by the
  same rule, else the singular of the O*NET title, else the O*NET title).
- `alternate_titles.tsv.gz`: all {len(subset.alternate_titles)} alternate and short titles,
  once per occupation; the same title may belong to several occupations.
- `occupation_skills.tsv.gz`: every occupation's selected skills, most widely used first ("hot"
  = O*NET's Hot Technology flag for that occupation).

Occupations of the demo per SOC major group:
{", ".join(f"{g}: {n}" for g, n in sorted(groups.items()))}.
"""
