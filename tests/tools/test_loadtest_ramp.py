"""The pure parts of `make loadtest LOADTEST_ARGS=--ramp` (tools/load/ramp.py): the steps, each
step's figures, the knee, and the lines it ends with."""

import argparse
import os
import subprocess
import sys

import pytest

from tools.load import harness, ramp
from tools.load.run_loadtest import access_records


def figures(rps: float, p95: float, errors: int = 0, *, requests: int = 600) -> ramp.Figures:
    return ramp.Figures(
        requests=requests, requests_per_second=rps, p50=p95 / 2, p95=p95, p99=p95 * 2, errors=errors
    )


def step(users: int, rps: float, p95: float, errors: int = 0, server_errors: int = 0) -> ramp.Step:
    return ramp.Step(
        users=users,
        client=figures(rps, p95, errors),
        server=figures(rps, p95 / 2, server_errors),
    )


def test_steps_parse():
    assert ramp.ramp_steps_parse(ramp.DEFAULT_STEPS) == [10, 20, 40, 80, 120, 160, 240, 320]
    assert ramp.ramp_steps_parse("10, 40") == [10, 40]
    assert ramp.ramp_steps_parse("5") == [5]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "steps are user counts separated by commas, not ''"),
        ("10,,20", "steps are user counts separated by commas, not '10,,20'"),
        ("10,twenty", "each step is a whole number of users of at least 1, not 'twenty'"),
        ("0,10", "each step is a whole number of users of at least 1, not '0'"),
        ("10,-20", "each step is a whole number of users of at least 1, not '-20'"),
        ("2.5", "each step is a whole number of users of at least 1, not '2.5'"),
        ("20,10", "steps must grow, each above the one before: '20,10'"),
        ("10,10", "steps must grow, each above the one before: '10,10'"),
    ],
)
def test_bad_steps_are_refused_with_the_reason(raw, message):
    with pytest.raises(argparse.ArgumentTypeError) as refused:
        ramp.ramp_steps_parse(raw)
    assert str(refused.value) == message


def test_step_seconds_parse():
    assert ramp.step_seconds_parse("10") == 10
    assert ramp.step_seconds_parse("60") == 60
    for raw in ("4", "0", "ten", "1.5", ""):
        with pytest.raises(argparse.ArgumentTypeError, match="at least 5"):
            ramp.step_seconds_parse(raw)


def test_the_knee_is_the_highest_throughput_under_the_p95_limit_without_errors():
    steps = [
        step(10, 10.1, 12),
        step(20, 20.3, 14),
        step(40, 40.2, 30),
        step(80, 79.0, 99.9),
        step(160, 120.0, 450),  # saturated: more throughput, p95 over the limit
        step(320, 118.0, 1900),
    ]
    assert ramp.knee(steps) == steps[3]
    assert ramp.ramp_verdict(steps, steps[3]) is True


def test_a_p95_at_the_limit_does_not_count():
    steps = [step(10, 10.0, 50), step(20, 20.0, 100)]
    assert ramp.knee(steps) == steps[0]


def test_a_step_with_errors_is_not_the_knee_on_either_side():
    steps = [
        step(10, 10.0, 20),
        step(20, 20.0, 25, errors=1),
        step(40, 40.0, 30, server_errors=2),
    ]
    assert ramp.knee(steps) == steps[0]


def test_the_knee_is_by_throughput_not_by_users():
    # A later step that served less (the load generator itself starved) is not the knee.
    steps = [step(80, 80.0, 40), step(160, 75.0, 90)]
    assert ramp.knee(steps) == steps[0]


def test_no_knee_when_no_step_qualifies():
    steps = [step(10, 10.0, 150), step(20, 19.0, 30, errors=3)]
    assert ramp.knee(steps) is None
    assert ramp.ramp_verdict(steps, None) is False
    assert ramp.knee([]) is None


def test_a_step_without_requests_is_not_the_knee():
    empty = ramp.Step(users=10, client=figures(0.0, 0, requests=0), server=figures(0.0, 0))
    assert ramp.knee([empty]) is None


def test_errors_below_the_knee_fail_the_ramp():
    steps = [step(10, 10.0, 20, errors=1), step(20, 20.0, 25)]
    found = ramp.knee(steps)
    assert found == steps[1]
    assert ramp.ramp_verdict(steps, found) is False


def test_the_lines_end_with_the_knee():
    steps = [step(10, 10.24, 12), step(20, 19.6, 120)]
    lines = ramp.ramp_lines(steps)
    assert lines[-1] == "knee: 10 req/s"
    assert lines[-2] == "the knee is the 10-user step: client p95 12 ms (under 100 ms), no errors"
    assert lines[2].split() == ["10", "client", "600", "10.2", "6", "12", "24", "0"]
    assert lines[3].split() == ["server", "600", "10.2", "3", "6", "12", "0"]
    assert ramp.ramp_lines([step(10, 10.0, 500)])[-1] == "knee: 0 req/s"


def test_percentiles_by_nearest_rank():
    assert ramp.percentiles(list(range(1, 101))) == (50, 95, 99)
    assert ramp.percentiles([7]) == (7, 7, 7)
    assert ramp.percentiles([30, 10, 20]) == (20, 30, 30)
    assert ramp.percentiles([]) == (0, 0, 0)


def test_client_figures_from_locusts_aggregated_row():
    row = {
        "Request Count": "1200",
        "Failure Count": "2",
        "Requests/s": "119.53",
        "50%": "9",
        "95%": "31",
        "99%": "70",
    }
    assert ramp.client_figures(row) == ramp.Figures(
        requests=1200, requests_per_second=119.53, p50=9.0, p95=31.0, p99=70.0, errors=2
    )
    assert ramp.client_figures({**row, "Request Count": "0", "95%": "N/A"}).p95 == 0.0


def test_server_figures_count_answers_of_500_and_above_as_errors():
    records = [(200, 5), (200, 7), (429, 1), (500, 40), (503, 2)]
    assert ramp.server_figures(records, seconds=2.0) == ramp.Figures(
        requests=5, requests_per_second=2.5, p50=5, p95=40, p99=40, errors=2
    )


def test_access_records_keep_the_loads_requests(tmp_path):
    log = tmp_path / "access.log"
    log.write_text(
        "GET /accounts/login/ 200 3\n"
        "GET / 200 12\n"
        "GET /api/v1/recommendations/ 200 8\n"
        "GET /courses/python-basics/ 500 40\n"
        "POST /api/v1/events/ 200 21\n"
        "a line gunicorn wrote about something else\n"
    )
    assert access_records(log, offset=0) == [
        ("home /", 200, 12),
        ("api recommendations", 200, 8),
        ("course page", 500, 40),
        ("api events", 200, 21),
    ]
    first_line = len("GET /accounts/login/ 200 3\nGET / 200 12\n")
    assert access_records(log, offset=first_line)[0] == ("api recommendations", 200, 8)


def test_the_endpoint_line_gives_each_endpoints_client_p95():
    rows = [
        {"Name": "api events", "Request Count": "568", "95%": "200"},
        {"Name": "home /", "Request Count": "2335", "95%": "110"},
        {"Name": "api events (replay)", "Request Count": "0", "95%": "N/A"},
        {"Name": "Aggregated", "Request Count": "2903", "95%": "130"},
    ]
    assert ramp.endpoint_p95_line(rows) == "client p95 by endpoint, ms: api events 200, home / 110"
    assert ramp.endpoint_p95_line(rows[2:]) == "client p95 by endpoint, ms: no requests"


def test_cpu_used_per_group_between_two_snapshots():
    cpu = ramp.ProcessCpu
    before = {
        1: cpu("other", 0.0, 0.0, 0),  # the parent of 40
        10: cpu("gunicorn", 5.0, 0.0, 100),
        11: cpu("gunicorn", 1.0, 0.0, 100),
        20: cpu("PostgreSQL", 2.0, 0.0, 100),
        40: cpu("other", 9.0, 0.0, 100),  # ends, and its id is taken over by a new locust
    }
    after = {
        1: cpu("other", 0.0, 9.25, 0),  # 40 waited for: 0.25 of it after the first snapshot
        10: cpu("gunicorn", 6.5, 0.0, 100),
        11: cpu("gunicorn", 1.25, 0.0, 100),
        20: cpu("PostgreSQL", 2.5, 0.0, 100),
        40: cpu("locust", 0.25, 0.0, 500),
        50: cpu("qcluster", 0.75, 0.0, 400),  # started between them: counted whole
    }
    assert ramp.cpu_used(before, after) == {
        "gunicorn": 1.75,
        "PostgreSQL": 0.5,
        "qcluster": 0.75,
        "locust": 0.25,
        "Redis": 0.0,
        "other": 0.25,
    }


def test_cpu_used_counts_the_children_a_process_waited_for_meanwhile():
    cpu = ramp.ProcessCpu
    before = {
        1: cpu("qcluster", 2.0, 0.0, 100),  # the task worker's parent
        2: cpu("qcluster", 3.0, 0.5, 110),  # a task worker, replaced within the step
        5: cpu("PostgreSQL", 1.0, 4.0, 50),  # the postmaster
        6: cpu("PostgreSQL", 0.25, 0.0, 120),  # a database session, closed within the step
    }
    after = {
        # The old task worker (3.5 s of its own and its children's when it ended) waited
        # for, and a worker that started and ended within the step (1.5 s).
        1: cpu("qcluster", 2.25, 3.5 + 1.5, 100),
        3: cpu("qcluster", 0.75, 0.0, 300),  # the new task worker
        5: cpu("PostgreSQL", 1.0, 4.0 + 0.5, 50),
    }
    used = ramp.cpu_used(before, after)
    # 0.25 of the parent, 3.5 - 3.0 - 0.5 of the old worker after the first snapshot, the
    # short-lived worker whole, the new worker whole.
    assert used["qcluster"] == 0.25 + 0.0 + 1.5 + 0.75
    assert used["PostgreSQL"] == 0.5 - 0.25


def test_cpu_line_gives_cores_per_group_and_cpu_per_request():
    used = {"gunicorn": 30.0, "PostgreSQL": 12.0, "qcluster": 3.0, "locust": 6.0, "Redis": 0.6}
    assert ramp.cpu_line(used, seconds=30, requests_per_second=150, cores=2) == (
        "cpu over 30s, cores: gunicorn 1.00, PostgreSQL 0.40, qcluster 0.10, locust 0.20, "
        "Redis 0.02, other 0.00; 1.72 of 2 cores, 11.5 ms a request"
    )
    assert ramp.cpu_line(used, seconds=30, requests_per_second=0, cores=2).endswith(
        "1.72 of 2 cores, no requests"
    )
    assert ramp.cpu_line(used, seconds=0, requests_per_second=150, cores=2) == "cpu: not measured"


def test_cpu_snapshot_tells_a_process_group_by_its_id():
    sum(i * i for i in range(200_000))  # some CPU of this process's own
    snapshot = harness.cpu_snapshot({"this test": os.getpgrp()})
    this = snapshot[os.getpid()]
    assert this.group == "this test" and this.own > 0
    # A child this process waited for is in its `reaped`.
    subprocess.run([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"], check=True)
    later = harness.cpu_snapshot({"this test": os.getpgrp()})[os.getpid()]
    assert later.reaped > this.reaped and later.started == this.started
    # The first process of the machine is in no group named here.
    assert snapshot[1][0] in ("other", "PostgreSQL", "Redis")
