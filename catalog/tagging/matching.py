"""Stage 1: find skill names and synonyms in a course's text.

The rule, in full:

- A name matches case-insensitively, on word boundaries. `+`, `#`, `&` and a `.` followed by a
  letter count as part of a word, so "C" does not match inside "C++" or "C#", "R" not inside
  "R&D", and ".NET" not inside "ASP.NET".
- Words of a multiword name may be separated by any run of spaces or hyphens ("Microsoft Excel",
  "microsoft-excel").
- The last word may carry a simple English inflection: plural or possessive "s", "es", "'s", and
  "y" → "ies" ("dashboards" → "dashboard", "Python's", "libraries" → "library").
- A short name — `SHORT_NAME_LENGTH` characters or fewer ("R", "C", "Go") — matches only in a
  code-ish context: written exactly as the taxonomy writes it (case-sensitive) *and* within
  `CONTEXT_WINDOW` words of a cue such as "programming", "language" or "code" (`CODE_CUES`).
  "Learn R programming" matches R; "Plan A or B", "go further" and "R&D" never do.
- A name that is also an everyday English word (`EVERYDAY_WORDS`: "Slack", "Zoom", "React",
  "Ruby") matches only written exactly as the taxonomy writes it, so "cut some slack" is not
  Slack while "Slack for teams" is.
- Where matches overlap, the longest wins and the text counts once: "Microsoft SQL Server" is
  that skill, not also "SQL" for the three letters inside it.

Confidence is a noisy-or over mentions, each weighted by where it is: a title mention weighs
`TITLE_WEIGHT`, a description mention `DESCRIPTION_WEIGHT`, a category-name mention
`CATEGORY_WEIGHT`; the result is capped at `MAX_CONFIDENCE`, since a mention is evidence that a
course teaches a skill, never proof. So a title match beats a description match, and two
mentions beat one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


TITLE_WEIGHT = 0.75
DESCRIPTION_WEIGHT = 0.45
CATEGORY_WEIGHT = 0.3
MAX_CONFIDENCE = 0.95

SHORT_NAME_LENGTH = 2
CONTEXT_WINDOW = 3
EVERYDAY_WORDS = _words(
    """
    access basic blink chef dart go helix loom maven maya rails react ruby rust slack swift zoom
    """
)
CODE_CUES = _words(
    """
    programming program programs programmer programmers language languages code coding coder
    script scripts scripting syntax compiler compilers developer developers development package
    packages library libraries statistical software
    """
)

_WORD = r"[\w+#&]"
_TOKEN = re.compile(r"[\w+#]+")
_INFLECTION = r"(?:'s|’s|es|s)?"


@dataclass(frozen=True)
class Mention:
    skill_id: int
    field: str  # "title", "description" or "category"
    start: int
    end: int


@dataclass(frozen=True)
class _Pattern:
    skill_id: int
    regex: re.Pattern[str]
    probe: str  # a lowercase substring every match contains: a cheap filter before the regex
    case_sensitive: bool
    needs_code_context: bool


def name_is_short(name: str) -> bool:
    return len(name.strip()) <= SHORT_NAME_LENGTH


def name_is_everyday_word(name: str) -> bool:
    return name.strip().lower() in EVERYDAY_WORDS


def _name_regex(name: str, *, case_sensitive: bool) -> re.Pattern[str]:
    words = [w for w in re.split(r"[\s\-]+", name.strip()) if w]
    parts = [re.escape(w) for w in words]
    last = words[-1]
    if last[-1:].isalpha():
        if last[-1].lower() == "y" and len(last) > 2:
            parts[-1] = re.escape(last[:-1]) + r"(?:y|ies|y's|y’s)"
        else:
            parts[-1] = parts[-1] + _INFLECTION
    body = r"[\s\-]+".join(parts)
    # A dot counts as part of a word only when a letter follows it, so "Python." at the end of a
    # sentence still matches while ".NET" inside "ASP.NET" does not.
    pattern = rf"(?<!{_WORD})(?<![\w]\.)(?:{body})(?!{_WORD})(?!\.\w)"
    return re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)


class SkillLexicon:
    """Every skill's names (its own and its synonyms) compiled for matching."""

    def __init__(self, names: Iterable[tuple[int, str]]) -> None:
        patterns: list[_Pattern] = []
        seen: set[tuple[int, str]] = set()
        for skill_id, name in names:
            key = (skill_id, name.strip().lower())
            if not name.strip() or key in seen:
                continue
            seen.add(key)
            short = name_is_short(name)
            case_sensitive = short or name_is_everyday_word(name)
            first_word = re.split(r"[\s\-]+", name.strip())[0].lower()
            probe = first_word[:-1] if first_word[-1:] in {"y", "s"} else first_word
            patterns.append(
                _Pattern(
                    skill_id=skill_id,
                    regex=_name_regex(name, case_sensitive=case_sensitive),
                    probe=probe or first_word,
                    case_sensitive=case_sensitive,
                    needs_code_context=short,
                )
            )
        self._patterns = patterns

    def __len__(self) -> int:
        return len(self._patterns)

    def mentions(self, *, text: str, field: str) -> list[Mention]:
        """Every match in `text`, before overlaps between skills are resolved."""
        lowered = text.lower()
        found = []
        for pattern in self._patterns:
            if pattern.probe not in lowered:
                continue
            for match in pattern.regex.finditer(text):
                if pattern.needs_code_context and not _in_code_context(
                    text, match.start(), match.end()
                ):
                    continue
                found.append(Mention(pattern.skill_id, field, match.start(), match.end()))
        return _longest_wins(found)

    def match(
        self, *, title: str, description: str, category_names: Sequence[str] = ()
    ) -> dict[int, float]:
        """Skill id → stage-1 confidence for one course's text."""
        mentions = self.mentions(text=title, field="title")
        mentions += self.mentions(text=description, field="description")
        for name in category_names:
            mentions += self.mentions(text=name, field="category")
        return confidence_from_mentions(mentions)


_FIELD_WEIGHT = {
    "title": TITLE_WEIGHT,
    "description": DESCRIPTION_WEIGHT,
    "category": CATEGORY_WEIGHT,
}


def confidence_from_mentions(mentions: Iterable[Mention]) -> dict[int, float]:
    miss: dict[int, float] = {}
    for mention in mentions:
        miss[mention.skill_id] = miss.get(mention.skill_id, 1.0) * (
            1.0 - _FIELD_WEIGHT[mention.field]
        )
    return {skill_id: round(min(MAX_CONFIDENCE, 1.0 - m), 4) for skill_id, m in miss.items()}


def _in_code_context(text: str, start: int, end: int) -> bool:
    before = _TOKEN.findall(text[:start])[-CONTEXT_WINDOW:]
    after = _TOKEN.findall(text[end:])[:CONTEXT_WINDOW]
    return any(word.lower() in CODE_CUES for word in before + after)


def _longest_wins(mentions: list[Mention]) -> list[Mention]:
    """Keep the longest of any overlapping mentions, so each stretch of text counts once.

    That resolves both a skill inside another's name ("SQL" in "Microsoft SQL Server") and a
    skill's synonym inside its own name ("Excel" in "Microsoft Excel").
    """
    kept: list[Mention] = []
    for mention in sorted(mentions, key=lambda m: (m.start - m.end, m.start, m.skill_id)):
        if all(mention.end <= other.start or other.end <= mention.start for other in kept):
            kept.append(mention)
    return sorted(kept, key=lambda m: m.start)
