"""Reads requirements.lock's pins: used by `make audit-latest` (tools/audit/) and by
tests/test_requirements_lock.py."""

import re

from packaging.utils import canonicalize_name

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def locked_pins(text: str) -> dict[str, set[str]]:
    """Versions pinned per package; one package can have several, each under its own marker
    (the lock covers every platform and Python version pyproject.toml admits)."""
    pins: dict[str, set[str]] = {}
    for line in text.splitlines():
        if match := PIN.match(line):
            pins.setdefault(canonicalize_name(match[1]), set()).add(match[2])
    return pins
