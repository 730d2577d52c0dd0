"""Known vulnerabilities of the locked dependencies, from PyPI's project JSON.

pip-audit (`make audit`) asks PyPI's per-release JSON (`/pypi/<name>/<version>/json`) or OSV.
The package mirror this project's build machines reach serves neither, but it serves the project
JSON (`/pypi/<name>/json`), whose `vulnerabilities` are PyPI's advisories (the same records
pip-audit reads) for the project's **latest release**. So a pin that is its project's latest
release is checked exactly; a pin behind it cannot be checked from here, and is named, with
whether a newer release of its own series (same major.minor) exists.

    python -m tools.audit.latest_release_audit requirements.lock

Exit status: 1 when a checked pin has a known (not withdrawn) vulnerability, 2 when no pin could
be checked at all (the mirror did not answer), else 0. `make audit-latest` runs it; `.ci/run` runs
that where pip-audit's services do not answer.
"""

import argparse
import json
import sys
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import InvalidVersion, Version

from tools.lockfile import locked_pins

PROJECT_JSON = "https://pypi.org/pypi/{name}/json"

# Reads a project's JSON; raises OSError (urllib's errors are OSErrors) when it gets none.
Fetch = Callable[[str], dict]


@dataclass(frozen=True)
class Vulnerability:
    id: str
    aliases: tuple[str, ...]
    fixed_in: tuple[str, ...]
    summary: str


@dataclass(frozen=True)
class PinAudit:
    name: str
    version: str
    latest: str | None  # None: the project's JSON did not answer
    # Checked pins (version == latest) only; empty when none is known.
    vulnerabilities: tuple[Vulnerability, ...] = ()
    # For a pin behind the latest: the newest release of its own major.minor series.
    series_newest: str | None = None
    error: str = ""

    @property
    def checked(self) -> bool:
        return self.latest == self.version


@dataclass
class AuditReport:
    pins: list[PinAudit] = field(default_factory=list)

    @property
    def vulnerable(self) -> list[PinAudit]:
        return [pin for pin in self.pins if pin.vulnerabilities]

    @property
    def checked(self) -> list[PinAudit]:
        return [pin for pin in self.pins if pin.checked]

    @property
    def unchecked(self) -> list[PinAudit]:
        return [pin for pin in self.pins if not pin.checked]

    @property
    def exit_status(self) -> int:
        if self.vulnerable:
            return 1
        return 0 if self.checked else 2


def fetch_project_json(name: str, *, timeout: float = 20.0) -> dict:
    with urllib.request.urlopen(PROJECT_JSON.format(name=name), timeout=timeout) as response:
        return json.load(response)


def _series(version: str) -> tuple[int, ...] | None:
    try:
        return Version(version).release[:2]
    except InvalidVersion:
        return None


def _series_newest(version: str, releases: dict) -> str | None:
    """The newest final release (one with files) in the same major.minor series as `version`."""
    series = _series(version)
    candidates = []
    for release, files in releases.items():
        try:
            parsed = Version(release)
        except InvalidVersion:
            continue
        if files and not parsed.is_prerelease and parsed.release[:2] == series:
            candidates.append(parsed)
    return str(max(candidates)) if candidates else None


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else ""


def _vulnerabilities(data: dict) -> tuple[Vulnerability, ...]:
    return tuple(
        Vulnerability(
            id=entry.get("id", ""),
            aliases=tuple(entry.get("aliases") or ()),
            fixed_in=tuple(entry.get("fixed_in") or ()),
            summary=_first_line(entry.get("summary") or entry.get("details") or ""),
        )
        for entry in data.get("vulnerabilities") or ()
        if not entry.get("withdrawn")
    )


def pin_audit(name: str, version: str, *, fetch: Fetch) -> PinAudit:
    try:
        data = fetch(name)
    except (OSError, ValueError) as failure:  # no answer, or not JSON
        return PinAudit(name=name, version=version, latest=None, error=str(failure))
    latest = data["info"]["version"]
    if latest == version:
        return PinAudit(
            name=name, version=version, latest=latest, vulnerabilities=_vulnerabilities(data)
        )
    return PinAudit(
        name=name,
        version=version,
        latest=latest,
        series_newest=_series_newest(version, data.get("releases") or {}),
    )


def lock_audit(
    lock_text: str, *, fetch: Fetch = fetch_project_json, workers: int = 8
) -> AuditReport:
    """Every pin of the lock (each version of a package pinned under several markers)."""
    pins = sorted(
        (name, version) for name, versions in locked_pins(lock_text).items() for version in versions
    )
    with ThreadPoolExecutor(max_workers=workers) as pool:
        audits = list(pool.map(lambda pin: pin_audit(*pin, fetch=fetch), pins))
    return AuditReport(pins=audits)


def report_lines(report: AuditReport) -> list[str]:
    lines = [
        f"{len(report.checked)} of {len(report.pins)} pins are their project's latest release and "
        "were checked against PyPI's advisories for it"
    ]
    for pin in report.vulnerable:
        for vulnerability in pin.vulnerabilities:
            fixed = ", ".join(vulnerability.fixed_in) or "no fixed release"
            aliases = f" ({', '.join(vulnerability.aliases)})" if vulnerability.aliases else ""
            lines.append(
                f"VULNERABLE {pin.name} {pin.version}: {vulnerability.id}{aliases}, "
                f"fixed in: {fixed}. {vulnerability.summary}"
            )
    if report.checked and not report.vulnerable:
        lines.append("no known vulnerability in the checked pins")
    for pin in report.unchecked:
        if pin.latest is None:
            lines.append(f"not checked: {pin.name} {pin.version}: no answer ({pin.error})")
        else:
            major_minor = ".".join(map(str, _series(pin.version) or ()))
            series = (
                f"no newer {major_minor}.x release"
                if pin.series_newest == pin.version
                else f"newest {major_minor}.x release: {pin.series_newest}"
            )
            lines.append(f"not checked: {pin.name} {pin.version} (latest {pin.latest}; {series})")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lock", type=Path, help="a requirements file with == pins")
    args = parser.parse_args(argv)
    report = lock_audit(args.lock.read_text(), fetch=fetch_project_json)
    for line in report_lines(report):
        print(line)
    return report.exit_status


if __name__ == "__main__":
    sys.exit(main())
