"""The pure parts of `make loadtest LOADTEST_ARGS=--ramp`: the steps, each step's figures, the
knee. No Django, no processes (tools/load/run_loadtest.py runs the steps)."""

import argparse
import itertools
from dataclasses import dataclass
from typing import NamedTuple

# Doubling up to 80 users, then steps of 40 and 80 where a knee of 100-300 req/s would lie: a
# knee between two doublings would otherwise be reported as the lower one.
DEFAULT_STEPS = "10,20,40,80,120,160,240,320"
# The knee: the highest throughput of a step whose client p95 stays under this, with no error.
KNEE_P95_MS = 100.0


def ramp_steps_parse(raw: str) -> list[int]:
    """ "10,20,40" -> [10, 20, 40]: user counts, each a whole number above the one before."""
    parts = [part.strip() for part in raw.split(",")]
    if not raw.strip() or any(not part for part in parts):
        raise argparse.ArgumentTypeError(f"steps are user counts separated by commas, not {raw!r}")
    steps = []
    for part in parts:
        if not part.isdigit() or int(part) < 1:
            raise argparse.ArgumentTypeError(
                f"each step is a whole number of users of at least 1, not {part!r}"
            )
        steps.append(int(part))
    if any(later <= earlier for earlier, later in itertools.pairwise(steps)):
        raise argparse.ArgumentTypeError(f"steps must grow, each above the one before: {raw!r}")
    return steps


def step_seconds_parse(raw: str) -> int:
    if not raw.strip().isdigit() or int(raw) < 5:
        raise argparse.ArgumentTypeError(
            f"a step lasts a whole number of seconds, at least 5, not {raw!r}"
        )
    return int(raw)


@dataclass(frozen=True)
class Figures:
    """One side's view of one step: requests per second, percentiles in ms, failed requests."""

    requests: int
    requests_per_second: float
    p50: float
    p95: float
    p99: float
    errors: int


@dataclass(frozen=True)
class Step:
    users: int
    client: Figures
    server: Figures


def percentiles(values: list[int]) -> tuple[int, int, int]:
    """p50, p95, p99 by the nearest rank (the value at or above that share of the sorted
    values); (0, 0, 0) without values."""
    if not values:
        return 0, 0, 0
    ordered = sorted(values)
    return tuple(ordered[max(0, -(-len(ordered) * q // 100) - 1)] for q in (50, 95, 99))


def server_figures(records: list[tuple[int, int]], *, seconds: float) -> Figures:
    """From gunicorn's (status, ms) records of the load's requests in one step; an error is an
    answer of 500 or above (the client side also counts wrong content)."""
    p50, p95, p99 = percentiles([ms for _, ms in records])
    return Figures(
        requests=len(records),
        requests_per_second=len(records) / seconds if seconds > 0 else 0.0,
        p50=p50,
        p95=p95,
        p99=p99,
        errors=sum(1 for status, _ in records if status >= 500),
    )


def client_figures(aggregated: dict[str, str]) -> Figures:
    """From the "Aggregated" row of locust's stats CSV."""
    return Figures(
        requests=int(aggregated["Request Count"]),
        requests_per_second=float(aggregated["Requests/s"]),
        p50=_milliseconds(aggregated["50%"]),
        p95=_milliseconds(aggregated["95%"]),
        p99=_milliseconds(aggregated["99%"]),
        errors=int(aggregated["Failure Count"]),
    )


def endpoint_p95_line(rows: list[dict[str, str]]) -> str:
    """One step's client p95 per endpoint, from the rows of locust's stats CSV (its
    "Aggregated" row left out): which endpoints set the step's p95."""
    parts = [
        f"{row['Name']} {_milliseconds(row['95%']):.0f}"
        for row in rows
        if row["Name"] != "Aggregated" and int(row["Request Count"]) > 0
    ]
    return "client p95 by endpoint, ms: " + (", ".join(parts) if parts else "no requests")


def _milliseconds(raw: str) -> float:
    # Locust writes "N/A" for a percentile of no requests.
    try:
        return float(raw)
    except ValueError:
        return 0.0


def knee(steps: list[Step], *, p95_limit_ms: float = KNEE_P95_MS) -> Step | None:
    """The step with the highest client throughput among those with client p95 under the limit
    and no error on either side; None when no step qualifies."""
    good = [
        step
        for step in steps
        if step.client.requests > 0
        and step.client.p95 < p95_limit_ms
        and step.client.errors == 0
        and step.server.errors == 0
    ]
    return max(good, key=lambda step: step.client.requests_per_second, default=None)


def ramp_verdict(steps: list[Step], found: Step | None) -> bool:
    """PASS: a knee, and no error at any step up to its user count."""
    if found is None:
        return False
    return all(
        step.client.errors == 0 and step.server.errors == 0
        for step in steps
        if step.users <= found.users
    )


# The groups of processes a step's CPU is told by, in the order `cpu_line` gives them.
CPU_GROUPS = ("gunicorn", "PostgreSQL", "qcluster", "locust", "Redis", "other")


class ProcessCpu(NamedTuple):
    """One process in a CPU snapshot: its group, the CPU seconds (user and system) it has used
    so far (`own`), those of its children it has waited for (`reaped`, their children
    included), and when it started (clock ticks after boot: a process id taken over by a new
    process starts later)."""

    group: str
    own: float
    reaped: float
    started: int


def cpu_used(before: dict[int, ProcessCpu], after: dict[int, ProcessCpu]) -> dict[str, float]:
    """CPU seconds per group between two snapshots by process id. A live process counts what
    it used meanwhile, and the children it waited for meanwhile their whole lives (a gunicorn
    or task worker replaced within the step, a database session that ended); a process that
    started meanwhile counts whole. A process that ended meanwhile is in its parent's
    `reaped`, whole: what it had used before the first snapshot is taken off again, from its
    own group."""
    used = dict.fromkeys(CPU_GROUPS, 0.0)
    for pid, now in after.items():
        then = before.get(pid)
        if then is not None and then.started == now.started:
            used[now.group] += now.own - then.own + now.reaped - then.reaped
        else:
            used[now.group] += now.own + now.reaped
    for pid, then in before.items():
        now = after.get(pid)
        if now is None or now.started != then.started:
            used[then.group] -= then.own + then.reaped
    return used


def cpu_line(
    used: dict[str, float], *, seconds: float, requests_per_second: float, cores: int
) -> str:
    """One step's CPU: cores used by each group over `seconds`, the sum against the machine's
    cores, and the milliseconds of CPU (all groups) per request."""
    if seconds <= 0:
        return "cpu: not measured"
    parts = ", ".join(f"{group} {used.get(group, 0.0) / seconds:.2f}" for group in CPU_GROUPS)
    total = sum(used.values()) / seconds
    per_request = (
        f"{1000 * total / requests_per_second:.1f} ms a request"
        if requests_per_second > 0
        else "no requests"
    )
    return f"cpu over {seconds:.0f}s, cores: {parts}; {total:.2f} of {cores} cores, {per_request}"


def ramp_lines(steps: list[Step], *, p95_limit_ms: float = KNEE_P95_MS) -> list[str]:
    """The table of every step, client and server side, then the knee; the last line is always
    `knee: N req/s` (0 when no step qualifies)."""
    header = f"{'users':>6}  {'side':<7}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}"
    header += f"{'p99 ms':>8}{'errors':>8}"
    lines = [header, "-" * len(header)]
    for step in steps:
        for side, figures in (("client", step.client), ("server", step.server)):
            users = f"{step.users:>6}" if side == "client" else " " * 6
            lines.append(
                f"{users}  {side:<7}{figures.requests:>9}{figures.requests_per_second:>8.1f}"
                f"{figures.p50:>8.0f}{figures.p95:>8.0f}{figures.p99:>8.0f}{figures.errors:>8}"
            )
    found = knee(steps, p95_limit_ms=p95_limit_ms)
    if found is None:
        lines.append(f"no step had client p95 under {p95_limit_ms:.0f} ms without errors")
        lines.append("knee: 0 req/s")
    else:
        lines.append(
            f"the knee is the {found.users}-user step: client p95 {found.client.p95:.0f} ms "
            f"(under {p95_limit_ms:.0f} ms), no errors"
        )
        lines.append(f"knee: {found.client.requests_per_second:.0f} req/s")
    return lines
