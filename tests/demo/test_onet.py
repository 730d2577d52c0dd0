"""The vendored O*NET subset and the rules that built it."""

import gzip
from collections import Counter

import pytest

from demo.onet import (
    VENDORED_DIR,
    VENDORED_FILES,
    job_title_pluralize,
    job_title_singular,
    onet_subset_read,
    skill_is_generic,
    skill_synonyms_derive,
    skills_related_compute,
)


@pytest.fixture(scope="module")
def subset():
    return onet_subset_read()


def test_vendored_files_are_small_and_documented():
    files = [VENDORED_DIR / filename for filename, _header in VENDORED_FILES.values()]
    readme = (VENDORED_DIR / "README.md").read_text()
    assert all(path.is_file() for path in files)
    # Every O*NET alternate title (about 60,000) is most of it.
    assert sum(path.stat().st_size for path in files) < 600_000
    assert "CC BY 4.0" in readme
    assert "O*NET 29.2" in readme


def test_vendored_files_are_reproducible_gzip():
    # mtime 0 in the gzip header: re-vendoring does not change the bytes.
    for filename, _header in VENDORED_FILES.values():
        raw = (VENDORED_DIR / filename).read_bytes()
        assert raw[4:8] == b"\x00\x00\x00\x00"
        gzip.decompress(raw)


def test_subset_shape(subset):
    names = subset.skill_names()
    assert 300 <= len(names) <= 400
    assert len({n.lower() for n in names}) == len(names)
    assert 150 <= len(subset.occupations) <= 250
    for expected in [
        "Python",
        "Structured query language SQL",
        "Microsoft Excel",
        "Tableau",
        "Autodesk AutoCAD",
        "Salesforce software",
        "Git",
        "Docker",
    ]:
        assert expected in names
    assert all(skill.category for skill in subset.skills)
    assert "Spreadsheet software" not in names
    assert "Structure query language SQL" not in names  # merged into the correct spelling


def test_occupations_span_major_groups_with_distinct_singular_titles(subset):
    groups = Counter(o.major_group for o in subset.occupations)
    assert len(groups) >= 18
    assert max(groups.values()) <= 0.2 * len(subset.occupations)
    for group in ["11", "13", "15", "17", "25", "27", "29", "41", "43"]:
        assert groups[group] >= 3
    titles = [o.title.lower() for o in subset.occupations]
    assert len(set(titles)) == len(titles)
    by_title = {o.title: o for o in subset.occupations}
    assert by_title["Registered Nurse"].code == "29-1141.00"
    assert by_title["Software Developer"].plural == "Software Developers"
    names = set(subset.skill_names())
    for occupation in subset.occupations:
        assert len(occupation.skills) >= 4
        assert set(occupation.skills) <= names
        assert occupation.hot_skills <= set(occupation.skills)


def test_synonyms_are_unambiguous(subset):
    names = {n.lower() for n in subset.skill_names()}
    owners = Counter(s.lower() for synonyms in subset.synonyms.values() for s in synonyms)
    assert owners and max(owners.values()) == 1
    assert not names & set(owners)
    assert subset.synonyms["Microsoft Excel"] == ["Excel"]
    assert "Java" in subset.synonyms["Oracle Java"]
    assert "AWS" in subset.synonyms["Amazon Web Services AWS software"]
    assert "SQL" in subset.synonyms["Structured query language SQL"]
    assert "Word" not in subset.synonyms.get("Microsoft Word", [])


def test_related_skills_co_occur(subset):
    names = set(subset.skill_names())
    assert {other for other, _score in subset.related["Python"]} & {"C++", "Oracle Java", "R"}
    for skill, related in subset.related.items():
        assert len(related) <= 5
        assert all(other in names and other != skill for other, _ in related)
        scores = [score for _other, score in related]
        assert scores == sorted(scores, reverse=True)


def test_synonym_rules_drop_collisions():
    vendors = {"Microsoft", "Oracle"}
    derived = skill_synonyms_derive(
        names=["Microsoft Excel", "Oracle Excel", "Microsoft Visio", "Visio"], vendors=vendors
    )
    # "Excel" would point at two skills, "Visio" is another skill's name: both dropped.
    assert derived == {"Microsoft Excel": [], "Oracle Excel": [], "Microsoft Visio": []}


def test_generic_and_title_rules():
    assert skill_is_generic(name="Web browser software")
    assert skill_is_generic(name="Enterprise resource planning ERP software")
    assert not skill_is_generic(name="Salesforce software")
    assert not skill_is_generic(name="Structured query language SQL")
    assert job_title_singular(title="Registered Nurses") == "Registered Nurse"
    assert job_title_singular(title="Secretaries") == "Secretary"
    assert job_title_pluralize(title="Secretary") == "Secretaries"
    assert job_title_pluralize(title="Coach") == "Coaches"
    assert job_title_pluralize(title="Attorney") == "Attorneys"
    assert job_title_pluralize(title="Salesman") == "Salesmen"


def test_related_is_jaccard():
    related = skills_related_compute(
        occupation_skills=[{"a", "b"}, {"a", "b"}, {"a", "c"}, {"c"}], names=["a", "b", "c"], top=5
    )
    assert related["a"] == [("b", round(2 / 3, 4)), ("c", 0.25)]
    assert related["b"] == [("a", round(2 / 3, 4))]
