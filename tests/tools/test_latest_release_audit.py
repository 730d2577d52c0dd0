import urllib.error

from tools.audit.latest_release_audit import (
    AuditReport,
    PinAudit,
    Vulnerability,
    lock_audit,
    main,
    pin_audit,
    report_lines,
)

LOCK = (
    "django==5.2.19 \\\n    --hash=sha256:aa\n"
    "numpy==2.4.6 ; python_full_version < '3.12' \\\n    --hash=sha256:bb\n"
    "numpy==2.5.5 ; python_full_version >= '3.12' \\\n    --hash=sha256:cc\n"
    "ecdsa==0.19.2 \\\n    --hash=sha256:dd\n"
)


def _project(latest: str, releases: list[str], vulnerabilities: list[dict] | None = None) -> dict:
    return {
        "info": {"version": latest},
        "releases": {version: [{"filename": f"x-{version}.whl"}] for version in releases},
        "vulnerabilities": vulnerabilities or [],
    }


MINERVA = {
    "id": "GHSA-wj6h-64fc-37mp",
    "aliases": ["CVE-2024-23342"],
    "details": "python-ecdsa is subject to a Minerva timing attack.\nMore text.",
    "fixed_in": [],
    "withdrawn": None,
}

PROJECTS = {
    "django": _project("6.1.3", ["5.2.18", "5.2.19", "6.0", "6.1.3", "5.2.20rc1"]),
    "numpy": _project("2.5.5", ["2.4.5", "2.4.6", "2.5.5"]),
    "ecdsa": _project("0.19.2", ["0.19.1", "0.19.2"], [MINERVA]),
}


def _fetch(name: str) -> dict:
    if name not in PROJECTS:
        raise urllib.error.URLError("not served")
    return PROJECTS[name]


def test_a_pin_at_the_latest_release_is_checked_and_its_advisories_reported():
    audit = pin_audit("ecdsa", "0.19.2", fetch=_fetch)

    assert audit.checked
    assert audit.vulnerabilities == (
        Vulnerability(
            id="GHSA-wj6h-64fc-37mp",
            aliases=("CVE-2024-23342",),
            fixed_in=(),
            summary="python-ecdsa is subject to a Minerva timing attack.",
        ),
    )


def test_withdrawn_advisories_do_not_count():
    withdrawn = {**MINERVA, "withdrawn": "2025-01-01T00:00:00Z"}
    fetch = {"ecdsa": _project("0.19.2", ["0.19.2"], [withdrawn])}.__getitem__

    assert pin_audit("ecdsa", "0.19.2", fetch=fetch).vulnerabilities == ()


def test_a_pin_behind_the_latest_is_not_checked_and_says_whether_its_series_moved_on():
    django = pin_audit("django", "5.2.19", fetch=_fetch)
    old_django = pin_audit("django", "5.2.18", fetch=_fetch)

    assert (django.checked, django.latest, django.series_newest) == (False, "6.1.3", "5.2.19")
    # A release candidate is not a newer release of the series.
    assert old_django.series_newest == "5.2.19"
    assert django.vulnerabilities == ()


def test_a_project_the_mirror_does_not_serve_is_not_checked_with_the_reason():
    audit = pin_audit("left-pad", "1.0", fetch=_fetch)

    assert (audit.checked, audit.latest) == (False, None)
    assert "not served" in audit.error


def test_the_lock_is_audited_pin_by_pin_each_marker_version_on_its_own():
    report = lock_audit(LOCK, fetch=_fetch, workers=2)

    assert [(pin.name, pin.version, pin.checked) for pin in report.pins] == [
        ("django", "5.2.19", False),
        ("ecdsa", "0.19.2", True),
        ("numpy", "2.4.6", False),
        ("numpy", "2.5.5", True),
    ]
    assert report.exit_status == 1
    assert report_lines(report) == [
        "2 of 4 pins are their project's latest release and were checked against PyPI's "
        "advisories for it",
        "VULNERABLE ecdsa 0.19.2: GHSA-wj6h-64fc-37mp (CVE-2024-23342), fixed in: no fixed "
        "release. python-ecdsa is subject to a Minerva timing attack.",
        "not checked: django 5.2.19 (latest 6.1.3; no newer 5.2.x release)",
        "not checked: numpy 2.4.6 (latest 2.5.5; no newer 2.4.x release)",
    ]


def test_a_clean_audit_passes_and_names_what_it_could_not_check():
    report = AuditReport(
        pins=[
            PinAudit(name="numpy", version="2.5.5", latest="2.5.5"),
            PinAudit(name="numpy", version="2.4.5", latest="2.5.5", series_newest="2.4.6"),
        ]
    )

    assert report.exit_status == 0
    assert report_lines(report) == [
        "1 of 2 pins are their project's latest release and were checked against PyPI's "
        "advisories for it",
        "no known vulnerability in the checked pins",
        "not checked: numpy 2.4.5 (latest 2.5.5; newest 2.4.x release: 2.4.6)",
    ]


def test_nothing_checked_is_not_a_pass():
    report = lock_audit("left-pad==1.0 \\\n    --hash=sha256:ee\n", fetch=_fetch)

    assert report.exit_status == 2
    assert report_lines(report)[0].startswith("0 of 1 pins")


def test_the_command_prints_the_report_and_exits_with_its_status(tmp_path, capsys, monkeypatch):
    lock = tmp_path / "requirements.lock"
    lock.write_text(LOCK)
    monkeypatch.setattr("tools.audit.latest_release_audit.fetch_project_json", _fetch)

    status = main([str(lock)])

    assert status == 1
    assert "VULNERABLE ecdsa 0.19.2" in capsys.readouterr().out
