"""Per-process caches of rendered markup, kept under a bound.

A dict keeps its keys in insertion order, so its first keys are its oldest entries. When such a
cache is full, dropping the older half keeps what the pages being served now use (a newer
entry is more likely to be shown again than an older one), where clearing it all would make
every page after it render again from the start.
"""

import itertools
from collections.abc import Hashable
from typing import Any


def older_half_drop(entries: dict[Hashable, Any]) -> None:
    """Drop the first half of `entries` in insertion order (the oldest). The keys are listed
    in one call that holds the interpreter lock throughout; another thread may drop some of
    them before this one does, and those are skipped."""
    for key in list(itertools.islice(entries, len(entries) // 2)):
        entries.pop(key, None)
