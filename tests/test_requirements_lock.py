"""requirements.lock pins every dependency pyproject.toml declares, within its range, with hashes.

`make install` installs only from the lock (hash-checked), so a dependency added to
pyproject.toml without `make lock` would be missing from a fresh install; this catches that
before CI's clean machine does.
"""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def locked_pins(text: str) -> dict[str, set[str]]:
    """Versions pinned per package; one package can have several, each under its own marker
    (the lock covers every platform and Python version pyproject.toml admits)."""
    pins: dict[str, set[str]] = {}
    for line in text.splitlines():
        if match := PIN.match(line):
            pins.setdefault(canonicalize_name(match[1]), set()).add(match[2])
    return pins


def declared_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        declared.extend(extra)
    return [Requirement(spec) for spec in declared]


def test_pins_are_read_from_the_lock_format():
    text = (
        "django==5.2.19 \\\n    --hash=sha256:ab\n"
        "numpy==2.4.6 ; python_full_version < '3.12' \\\n"
        "numpy==2.5.5 ; python_full_version >= '3.12' \\\n"
        "psycopg-binary==3.3.9 ; implementation_name != 'pypy' \\\n"
        "    # via psycopg\n"
    )
    assert locked_pins(text) == {
        "django": {"5.2.19"},
        "numpy": {"2.4.6", "2.5.5"},
        "psycopg-binary": {"3.3.9"},
    }


@pytest.mark.parametrize("requirement", declared_requirements(), ids=str)
def test_every_declared_dependency_is_locked_within_its_range(requirement: Requirement):
    pins = locked_pins((ROOT / "requirements.lock").read_text())
    name = canonicalize_name(requirement.name)
    assert name in pins, f"{requirement.name} is not in requirements.lock: run `make lock`"
    outside = sorted(
        version
        for version in pins[name]
        if not requirement.specifier.contains(version, prereleases=True)
    )
    assert outside == [], (
        f"requirements.lock pins {requirement.name} {outside}, outside {requirement}: "
        "run `make lock`"
    )


def test_every_pin_carries_a_hash():
    text = (ROOT / "requirements.lock").read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
    pinned = [block for block in blocks if PIN.match(block)]
    assert {canonicalize_name(PIN.match(block)[1]) for block in pinned} == set(locked_pins(text))
    unhashed = [block.split()[0] for block in pinned if "--hash=sha256:" not in block]
    assert unhashed == []
