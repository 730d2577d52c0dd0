"""Stage 1 rules: word boundaries, inflections, synonyms, short names, confidence ordering."""

import pytest

from catalog.tagging.matching import (
    DESCRIPTION_WEIGHT,
    MAX_CONFIDENCE,
    TITLE_WEIGHT,
    SkillLexicon,
)

EXCEL, R, C, CPP, DASHBOARD, SQL, SQL_SERVER, NET, ASP_NET, SLACK, LIBRARY = range(1, 12)


@pytest.fixture
def lexicon():
    return SkillLexicon(
        [
            (EXCEL, "Microsoft Excel"),
            (EXCEL, "Excel"),
            (R, "R"),
            (C, "C"),
            (CPP, "C++"),
            (DASHBOARD, "Dashboard"),
            (SQL, "SQL"),
            (SQL_SERVER, "Microsoft SQL Server"),
            (NET, ".NET"),
            (ASP_NET, "ASP.NET"),
            (SLACK, "Slack"),
            (LIBRARY, "Library"),
        ]
    )


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Excel dashboards for analysts", {EXCEL, DASHBOARD}),
        ("MICROSOFT EXCEL in depth", {EXCEL}),
        ("microsoft-excel tricks", {EXCEL}),
        ("Excelling at work", set()),
        ("Learn R programming", {R}),
        ("Plan R for the team", set()),
        ("R&D budgeting code", set()),
        ("the C language", {C}),
        ("Plan A or plan C", set()),
        ("C++ in depth", {CPP}),
        ("Microsoft SQL Server basics", {SQL_SERVER}),
        ("ASP.NET for web apps", {ASP_NET}),
        ("Build on .NET.", {NET}),
        ("Slack for teams", {SLACK}),
        ("cut yourself some slack", set()),
        ("Shared libraries", {LIBRARY}),
        ("Python's pandas", set()),
    ],
)
def test_match_rules(lexicon, title, expected):
    assert set(lexicon.match(title=title, description="")) == expected


def test_confidence_title_beats_description_and_mentions_add_up(lexicon):
    title_only = lexicon.match(title="Excel basics", description="")
    description_only = lexicon.match(title="Basics", description="Uses Excel.")
    both = lexicon.match(title="Excel basics", description="Uses Excel.")
    twice_described = lexicon.match(title="Basics", description="Excel here, Excel there.")

    assert title_only == {EXCEL: TITLE_WEIGHT}
    assert description_only == {EXCEL: DESCRIPTION_WEIGHT}
    assert both == {EXCEL: round(1 - (1 - TITLE_WEIGHT) * (1 - DESCRIPTION_WEIGHT), 4)}
    assert twice_described == {EXCEL: round(1 - (1 - DESCRIPTION_WEIGHT) ** 2, 4)}
    assert both[EXCEL] > title_only[EXCEL] > description_only[EXCEL]


def test_confidence_stays_below_one(lexicon):
    text = " ".join(["Excel"] * 20)

    assert lexicon.match(title=text, description=text) == {EXCEL: MAX_CONFIDENCE}


def test_synonym_inside_its_own_name_counts_once(lexicon):
    assert lexicon.match(title="Microsoft Excel", description="") == {EXCEL: TITLE_WEIGHT}


def test_category_names_are_matched(lexicon):
    found = lexicon.match(title="Basics", description="", category_names=["Dashboard tools"])

    assert set(found) == {DASHBOARD}
    assert found[DASHBOARD] < DESCRIPTION_WEIGHT
