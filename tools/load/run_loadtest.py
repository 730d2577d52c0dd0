"""`make loadtest`: the site under gunicorn on PostgreSQL, driven by locust, then again while a
full retrain and precompute run, with a checker that no member's list is ever empty.

Phases:
  1. steady load for --duration seconds: requests per second, p50/p95/p99 per endpoint, errors;
  2. the same load while `manage.py retrain --queue-precompute` trains and a qcluster worker
     writes every member's row, until the new run's precompute is done; meanwhile a checker
     polls the recommendations API for some members and reads a sample of MemberRecommendations
     rows, asserting every answer has carousels with courses and every row decodes non-empty;
  3. one profile of the slowest endpoint (pyinstrument, in process).

With --ramp, the same request mix instead runs in steps of more and more users (10, 20, 40, 80,
120, 160, 240, 320 by default, 60 s each), each step's figures printed client and server side
with the CPU each group of processes used, and the run ends with `knee: N req/s`: the highest
throughput of a step whose client p95 stayed under 100 ms without errors (tools/load/ramp.py).

Rows the load writes for its members (impressions, events, enrolments, bookmarks, tokens,
sessions) are deleted at the end, so the benchmark database stays as `make bench` left it
apart from the new training run. Exits non-zero on any failed request or checker violation.
"""

import argparse
import csv
import datetime as dt
import json
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from config import gunicorn as gunicorn_settings
from tools.load import harness, ramp

OUT = harness.ROOT / "var" / "loadtest"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/skillpath_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/1")
    # The deployment's own (config/gunicorn.py: from the cores, or WEB_CONCURRENCY and
    # WEB_THREADS); docs/operations.md gives the reasoning.
    parser.add_argument(
        "--workers",
        type=int,
        default=gunicorn_settings.workers,
        help="gunicorn worker processes",
    )
    parser.add_argument(
        "--threads", type=int, default=gunicorn_settings.threads, help="threads per worker"
    )
    # sync (no keep-alive) spreads one user's requests over the workers,
    # so a click can reach a worker other than the one still writing its page's impressions.
    parser.add_argument(
        "--worker-class", default="gthread", choices=["gthread", "sync"], help="gunicorn's"
    )
    parser.add_argument("--users", type=int, default=10, help="concurrent locust users")
    parser.add_argument("--spawn-rate", type=float, default=10.0)
    parser.add_argument("--duration", type=int, default=120, help="steady phase, seconds")
    parser.add_argument("--members", type=int, default=200, help="members with credentials")
    parser.add_argument("--min-carousels", type=int, default=3)
    parser.add_argument("--no-retrain", action="store_true", help="skip phase 2")
    parser.add_argument("--retrain-timeout", type=int, default=480)
    parser.add_argument("--no-profile", action="store_true", help="skip phase 3")
    parser.add_argument(
        "--ramp",
        action="store_true",
        help="steps of more and more users instead of phases 1-3; ends with `knee: N req/s`",
    )
    parser.add_argument(
        "--ramp-steps",
        type=ramp.ramp_steps_parse,
        default=ramp.ramp_steps_parse(ramp.DEFAULT_STEPS),
        help=f"users per step, comma-separated (default {ramp.DEFAULT_STEPS})",
    )
    parser.add_argument(
        "--ramp-step-seconds",
        type=ramp.step_seconds_parse,
        default=60,
        help="seconds each step is measured, once its users have started (default 60)",
    )
    args = parser.parse_args()
    # gunicorn quietly runs sync workers with more than one thread as gthread workers.
    if args.worker_class == "sync" and args.threads != 1:
        parser.error("--worker-class sync needs --threads 1 (with more, gunicorn runs gthread)")
    return args


# Set-up and clean-up, through Django in this process ------------------------------------------


# The tables the load itself writes: page views, their counts, events, stored pages, sessions.
_LOAD_WRITTEN_TABLES = (
    "recommendations_coursefeedbackday",
    "recommendations_reasonfeedback",
    "recommendations_pageview",
    "recommendations_feedbackevent",
    "recommendations_composedpage",
    "django_session",
)


def database_vacuum() -> str:
    """VACUUM the benchmark database before measuring; returns what it did.

    Every run deletes what its load wrote, and every retrain rewrites 100,000 member rows: where
    autovacuum is off (as on the build machines) each run would otherwise measure the dead rows
    of all the runs before it, and get slower run after run. A plain VACUUM frees the space of
    those rows but leaves their tables and indexes as large as they grew: the tables the load
    writes (one run updates each member's count rows hundreds of thousands of times) are
    rewritten compact, so every run starts from the same state. They are small; the rest of
    the database gets a plain VACUUM (ANALYZE).
    """
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        autovacuum = cursor.fetchone()[0]
        cursor.execute(f"VACUUM (FULL, ANALYZE) {', '.join(_LOAD_WRITTEN_TABLES)}")
        cursor.execute("VACUUM (ANALYZE)")
    return (
        f"VACUUM (FULL) of the {len(_LOAD_WRITTEN_TABLES)} tables the load writes and VACUUM "
        f"(ANALYZE) of the database in {time.monotonic() - started:.1f}s "
        f"(autovacuum is {autovacuum} on this server)"
    )


def credentials_create(*, count: int, form_logins: int, base: str) -> dict:
    """Tokens and sessions for `count` members drawn at random (seeded) among those with a
    precomputed row. The first `form_logins` sign in through the login form over HTTP; the rest
    get a session made here, which is what that form would store, without paying the password
    hash for every one of them inside the measured run.

    A random draw, not every n-th id: the seed gives every 20th member people to learn with and
    many of them a goal, and a stride that is a multiple of 20 chose only those members, whose
    homepage does the most work, instead of the site's mix."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from catalog.models import Course
    from members.models import Member
    from members.services import api_token_create
    from recommendations.models import MemberRecommendations

    with_rows = list(
        MemberRecommendations.objects.order_by("member_id").values_list("member_id", flat=True)
    )
    chosen = random.Random(0).sample(with_rows, min(count, len(with_rows)))
    members = []
    created_tokens = []
    for number, member in enumerate(
        Member.objects.filter(pk__in=chosen).select_related("user").order_by("pk")
    ):
        user = member.user
        token, key = api_token_create(user=user)
        created_tokens.append(token.pk)
        if number < form_logins:
            session_key = harness.login_through_form(base, user.get_username())
        else:
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "members.authentication.MemberModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            session_key = session.session_key
        members.append(
            {
                "member_id": member.pk,
                "username": user.get_username(),
                "token": key,
                "session": session_key,
            }
        )
    slugs = list(Course.objects.order_by("?").values_list("slug", flat=True)[:1000])
    return {"members": members, "course_slugs": slugs, "created_tokens": created_tokens}


def load_rows_delete(setup: dict, since: dt.datetime) -> dict[str, int]:
    from axes.models import AccessLog
    from django.contrib.sessions.models import Session

    from members.models import ApiToken, Bookmark, Enrolment
    from recommendations.feedback.services import feedback_counts_rebuild
    from recommendations.models import ComposedPage, FeedbackEvent, PageView

    member_ids = [m["member_id"] for m in setup["members"]]
    usernames = [m["username"] for m in setup["members"]]
    deleted_events = FeedbackEvent.objects.filter(
        member_id__in=member_ids, created_at__gte=since
    ).delete()[0]
    deleted_page_views = PageView.objects.filter(
        member_id__in=member_ids, created_at__gte=since
    ).delete()[0]
    feedback_counts_rebuild(member_ids=member_ids)
    return {
        "feedback events": deleted_events,
        "page views": deleted_page_views,
        "enrolments": Enrolment.objects.filter(
            member_id__in=member_ids, enrolled_at__gte=since
        ).delete()[0],
        "bookmarks": Bookmark.objects.filter(
            member_id__in=member_ids, created_at__gte=since
        ).delete()[0],
        "sessions": Session.objects.filter(
            session_key__in=[m["session"] for m in setup["members"]]
        ).delete()[0],
        "tokens": ApiToken.objects.filter(pk__in=setup["created_tokens"]).delete()[0],
        # Composed from the counts just rebuilt away: never served again, but not left behind.
        "stored next pages": ComposedPage.objects.filter(member_id__in=member_ids).delete()[0],
        "login records": AccessLog.objects.filter(
            username__in=usernames, attempt_time__gte=since
        ).delete()[0],
    }


def task_worker_warm(*, setup: dict, timeout: float = 60.0) -> str:
    """Drop the load's members' pending refreshes, then have the qcluster worker run one.

    A run stopped with refreshes still queued leaves their members' counters pending for up to
    `PENDING_SECONDS` (`recommendations/refresh_queue.py`): a run started within that time
    would queue no refresh for them at first, and measure less work than the next. A worker's
    first refresh loads the active run's model, its first page the serving state (half a
    second of CPU or more): measured, that would land on the first seconds of the first step,
    as the gunicorn workers' first requests would without `workers_warm`.
    """
    from recommendations.refresh_queue import (
        member_refresh_forget,
        member_refresh_pending,
        member_refresh_request,
    )

    member_ids = [member["member_id"] for member in setup["members"]]
    member_refresh_forget(member_ids=member_ids)
    first = member_ids[0]
    started = time.monotonic()
    if not member_refresh_request(member_id=first):
        raise RuntimeError("warm-up: the refresh task could not be queued (see the log above)")
    while member_refresh_pending(member_id=first):
        if time.monotonic() - started > timeout:
            raise RuntimeError(
                f"warm-up: the qcluster worker ran no refresh within {timeout:.0f}s "
                f"(see {(OUT / 'qcluster.log').relative_to(harness.ROOT)})"
            )
        time.sleep(0.05)
    return (
        f"task worker: {len(member_ids)} members' pending refreshes dropped; a first refresh "
        f"ran in {time.monotonic() - started:.1f}s"
    )


def workers_warm(*, base: str, setup: dict, threads: int) -> str:
    """Serve each measured endpoint from every gunicorn thread before measuring.

    A worker loads the model snapshot on its first request, and each of its threads opens its
    own database connection and prepares the statements it runs on first use. A thread pool
    starts its second thread only when two requests overlap, so sequential requests would leave
    half the threads cold: the warm-up sends as many requests at once as there are threads.
    """
    from concurrent.futures import ThreadPoolExecutor

    members = setup["members"][: 4 * threads]
    course = setup["course_slugs"][0]

    def visit(member: dict) -> None:
        site = {"Cookie": f"sessionid={member['session']}"}
        for path, headers in (
            ("/", site),
            ("/api/v1/recommendations/", {"Authorization": f"Token {member['token']}"}),
            (f"/courses/{course}/", site),
        ):
            status = harness.http_request(f"{base}{path}", headers=headers, timeout=30)[0]
            if status != 200:
                raise RuntimeError(f"warm-up: {path} answered {status}")

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(visit, members))
    return (
        f"warm-up: {len(members)} members' homepage, recommendations and a course page, "
        f"{threads} at a time, in {time.monotonic() - started:.1f}s"
    )


# Locust ------------------------------------------------------------------------------------


def locust_start(
    *,
    base: str,
    users: int,
    spawn_rate: float,
    seconds: int,
    prefix: Path,
    env: dict,
    reset_stats: bool = False,
) -> subprocess.Popen:
    command = [
        str(harness.BIN / "locust"),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        base,
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "5",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        # Measured from the moment every user has started.
        *(["--reset-stats"] if reset_stats else []),
    ]
    return harness.spawn(command, env=env, lifetime=seconds + 60, log=prefix.with_suffix(".log"))


def locust_table(prefix: Path, title: str) -> dict[str, dict]:
    """Print locust's CSV stats as a table; returns the rows by endpoint name."""
    rows = {}
    with Path(f"{prefix}_stats.csv").open() as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"]] = row
    print(f"\n{title}")
    header = f"{'endpoint':<24}{'requests':>9}{'errors':>8}{'req/s':>8}"
    header += f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'max ms':>8}"
    print(header)
    print("-" * len(header))
    for name, row in rows.items():
        print(
            f"{name:<24}{row['Request Count']:>9}{row['Failure Count']:>8}"
            f"{float(row['Requests/s']):>8.1f}{row['50%']:>8}{row['95%']:>8}{row['99%']:>8}"
            f"{float(row['Max Response Time']):>8.0f}"
        )
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        for row in csv.DictReader(failures.open()):
            print(f"  failure: {row['Name']}: {row['Error']} x{row['Occurrences']}")
    return rows


def server_endpoint(method: str, path: str) -> str | None:
    """The locust name of a request gunicorn logged, None for requests outside the load."""
    if method == "GET" and path == "/":
        return "home /"
    if method == "GET" and path == "/api/v1/recommendations/":
        return "api recommendations"
    if method == "GET" and path.startswith("/courses/"):
        return "course page"
    if method == "POST" and path == "/api/v1/events/":
        return "api events"
    return None


def access_records(access_log: Path, *, offset: int) -> list[tuple[str, int, int]]:
    """(endpoint, status, ms) of the load's requests in gunicorn's access log past `offset`."""
    records = []
    with access_log.open("rb") as handle:
        handle.seek(offset)
        for line in handle.read().decode().splitlines():
            parts = line.split()
            if len(parts) != 4 or not parts[2].isdigit() or not parts[3].isdigit():
                continue
            name = server_endpoint(parts[0], parts[1])
            if name is not None:
                records.append((name, int(parts[2]), int(parts[3])))
    return records


def server_table(access_log: Path, *, offset: int, note: str = "") -> None:
    """Server-side latency per endpoint from gunicorn's access log past `offset`: from the
    parsed request to the last byte sent, before the after-response writes. Against locust's
    figures it tells time in the server from time queued for a worker, on the wire and in the
    load generator, which shares the cores."""
    timings: dict[str, list[int]] = {}
    for name, _, ms in access_records(access_log, offset=offset):
        timings.setdefault(name, []).append(ms)
    print(
        "  server side (gunicorn: request parsed to last byte sent; events include replays"
        + (f"; {note})" if note else ")")
    )
    for name, values in sorted(timings.items()):
        p50, p95, p99 = ramp.percentiles(values)
        print(f"  {name:<22}{len(values):>9}{'':>16}{p50:>8}{p95:>8}{p99:>8}{max(values):>8}")


def log_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def targets_report(rows: dict[str, dict], users: int, *, steady: bool = True) -> None:
    """The p95 targets at 10 users (docs/operations.md), which apply to steady load. During a
    retrain each p95 is printed beside its target for comparison only: that phase's test is
    that no request fails."""
    checks = [("api recommendations", 10), ("home /", 20)]
    for name, limit in checks:
        p95 = float(rows[name]["95%"])
        if steady:
            verdict = "met" if p95 < limit else "MISSED"
            print(f"  target {name} p95 < {limit} ms at {users} users: {p95:.0f} ms, {verdict}")
        else:
            print(
                f"  {name} p95 {p95:.0f} ms while training shares the cores "
                f"(steady-load target < {limit} ms)"
            )


# The ramp ----------------------------------------------------------------------------------


def ramp_run(
    args: argparse.Namespace,
    *,
    base: str,
    env: dict,
    access_log: Path,
    groups: dict[str, int],
) -> tuple[bool, str]:
    """Each step: locust with that many users (all started within about a second), measured
    for --ramp-step-seconds once they have started, with the CPU each group of processes used
    meanwhile (`groups`: process group ids of the site's processes); then the table and the
    knee."""
    seconds = args.ramp_step_seconds
    users_list = ", ".join(str(users) for users in args.ramp_steps)
    print(
        f"\nramp: {users_list} users, {seconds}s each once every user has started; the "
        "same request mix as phase 1"
    )
    steps = []
    for users in args.ramp_steps:
        prefix = OUT / f"ramp_{users}"
        offset = log_size(access_log)
        # Starting every user takes about a second; locust resets its figures after that.
        run_time = seconds + 2
        started = time.monotonic()
        locust = locust_start(
            base=base,
            users=users,
            spawn_rate=float(users),
            seconds=run_time,
            prefix=prefix,
            env=env,
            reset_stats=True,
        )
        # The CPU from the users' start to just before they stop.
        step_groups = {**groups, "locust": locust.pid}
        time.sleep(max(0.0, started + 2 - time.monotonic()))
        cpu_from, cpu_started = harness.cpu_snapshot(step_groups), time.monotonic()
        time.sleep(max(0.0, started + run_time - 1 - time.monotonic()))
        cpu_to = harness.cpu_snapshot(step_groups)
        cpu_seconds = time.monotonic() - cpu_started
        locust.wait(timeout=run_time + 90)
        elapsed = time.monotonic() - started
        with Path(f"{prefix}_stats.csv").open() as handle:
            stats_rows = list(csv.DictReader(handle))
        aggregated = next(row for row in stats_rows if row["Name"] == "Aggregated")
        records = [(status, ms) for _, status, ms in access_records(access_log, offset=offset)]
        step = ramp.Step(
            users=users,
            client=ramp.client_figures(aggregated),
            # Over the whole step, users starting and stopping included.
            server=ramp.server_figures(records, seconds=elapsed),
        )
        steps.append(step)
        print(
            f"  {users} users: client {step.client.requests_per_second:.1f} req/s, p95 "
            f"{step.client.p95:.0f} ms, {step.client.errors} errors; server "
            f"{step.server.requests_per_second:.1f} req/s, p95 {step.server.p95:.0f} ms, "
            f"{step.server.errors} errors"
        )
        cpu = ramp.cpu_line(
            ramp.cpu_used(cpu_from, cpu_to),
            seconds=cpu_seconds,
            requests_per_second=step.client.requests_per_second,
            cores=gunicorn_settings.cores_available(),
        )
        print(f"    {cpu}")
        print(f"    {ramp.endpoint_p95_line(stats_rows)}")
        failures = Path(f"{prefix}_failures.csv")
        if failures.exists():
            for row in list(csv.DictReader(failures.open()))[:5]:
                print(f"    failure: {row['Name']}: {row['Error']} x{row['Occurrences']}")
    print(
        "\nramp (client: locust, after every user started; server: gunicorn, request parsed "
        "to last byte sent, over the whole step; events include replays)"
    )
    lines = ramp.ramp_lines(steps)
    for line in lines[:-1]:
        print(f"  {line}")
    ok = ramp.ramp_verdict(steps, ramp.knee(steps))
    print(f"  ramp: {'PASS' if ok else 'FAIL'} (a knee, and no errors at any step up to it)")
    # `knee: N req/s`, which main prints last, after the clean-up.
    return ok, lines[-1]


# The checker -------------------------------------------------------------------------------


class Checker(threading.Thread):
    """Polls the recommendations API for some members and reads a sample of stored rows until
    stopped; records every violation."""

    def __init__(self, *, base: str, members: list[dict], row_sample: list[int], minimum: int):
        super().__init__(daemon=True)
        self.base = base
        self.members = members
        self.row_sample = row_sample
        self.minimum = minimum
        self.stop = threading.Event()
        self.violations: list[str] = []
        self.api_checks = 0
        self.api_fewest = None
        self.row_checks = 0
        self.row_polls = 0
        self.runs_seen: dict[int, int] = {}
        self.fewest_candidates = None

    def run(self) -> None:
        from django.db import connection

        try:
            while not self.stop.is_set():
                self._poll_api()
                self._poll_rows()
                self.stop.wait(0.5)
        except Exception as error:  # a crash is a finding, not a reason to stop reporting
            self.violations.append(f"checker crashed: {type(error).__name__}: {error}")
        finally:
            connection.close()

    def _poll_api(self) -> None:
        for member in self.members:
            status, _, body = harness.http_request(
                f"{self.base}/api/v1/recommendations/",
                headers={"Authorization": f"Token {member['token']}"},
            )
            self.api_checks += 1
            if status != 200:
                self.violations.append(f"API {member['username']}: status {status}")
                continue
            full = sum(1 for c in json.loads(body)["carousels"] if c["courses"])
            self.api_fewest = full if self.api_fewest is None else min(self.api_fewest, full)
            if full < self.minimum:
                self.violations.append(f"API {member['username']}: {full} carousels")

    def _poll_rows(self) -> None:
        from recommendations.engine import candidates_decode
        from recommendations.models import MemberRecommendations

        rows = MemberRecommendations.objects.filter(member_id__in=self.row_sample).values_list(
            "member_id", "run_id", "payload"
        )
        seen = 0
        runs: dict[int, int] = {}
        for member_id, run_id, payload in rows:
            seen += 1
            try:
                records = candidates_decode(payload)
            except ValueError as error:
                self.violations.append(f"row of member {member_id}: undecodable ({error})")
                continue
            if records.size == 0:
                self.violations.append(f"row of member {member_id}: empty")
            fewest = self.fewest_candidates
            self.fewest_candidates = records.size if fewest is None else min(fewest, records.size)
            runs[run_id] = runs.get(run_id, 0) + 1
        self.row_polls += 1
        self.row_checks += seen
        if seen != len(self.row_sample):
            self.violations.append(f"{len(self.row_sample) - seen} sampled rows missing")
        for run_id, count in runs.items():
            self.runs_seen[run_id] = max(self.runs_seen.get(run_id, 0), count)


def retrain_under_load(args, *, base: str, env: dict, setup: dict) -> bool:
    from recommendations.engine import candidates_decode
    from recommendations.models import MemberRecommendations, TrainingRun

    before = TrainingRun.objects.filter(is_active=True).values_list("pk", flat=True).first()
    # Members whose row holds candidates now (a member with no activity has an empty one):
    # these must never see an empty or unreadable row.
    sample = [
        member_id
        for member_id, payload in MemberRecommendations.objects.order_by("?").values_list(
            "member_id", "payload"
        )[:2400]
        if candidates_decode(payload).size
    ][:2000]
    checker = Checker(
        base=base,
        members=setup["members"][-10:],
        row_sample=sample,
        minimum=args.min_carousels,
    )
    prefix = OUT / "retrain"
    access_log = OUT / "access.log"
    offset = log_size(access_log)
    locust = locust_start(
        base=base,
        users=args.users,
        spawn_rate=args.spawn_rate,
        seconds=args.retrain_timeout,
        prefix=prefix,
        env=env,
    )
    checker.start()
    time.sleep(5)
    print(f"\nphase 2: retrain + precompute under {args.users} users (active run: {before})")
    started = time.monotonic()
    retrain = subprocess.run(
        [
            "timeout",
            str(args.retrain_timeout),
            str(harness.BIN / "python"),
            *("manage.py", "retrain", "--queue-precompute"),
        ],
        cwd=harness.ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    trained = time.monotonic() - started
    print(f"  retrain command exit {retrain.returncode} after {trained:.1f}s")
    print("  " + (retrain.stdout.strip().splitlines() or [retrain.stderr.strip()])[0])
    run = TrainingRun.objects.order_by("-pk").first()
    done = False
    deadline = started + args.retrain_timeout - 10
    while time.monotonic() < deadline and retrain.returncode == 0:
        run.refresh_from_db()
        if run.precomputed_at is not None:
            done = True
            break
        time.sleep(1)
    total = time.monotonic() - started
    print(
        f"  run {run.pk}: {run.status}, active={run.is_active}, precompute shards "
        f"{run.precompute_shards_done}/{run.precompute_shards}, "
        f"{'done' if done else 'NOT done'} {total:.1f}s after the retrain started"
    )
    time.sleep(5)
    checker.stop.set()
    checker.join(timeout=60)
    harness.stop_group(locust, grace=30)
    rows = locust_table(prefix, "phase 2: during retrain + precompute")
    server_table(access_log, offset=offset, note="the API's include the checker's polls")
    targets_report(rows, args.users, steady=False)
    print(
        f"  checker: {checker.api_checks} API answers (fewest carousels with courses: "
        f"{checker.api_fewest}, minimum {args.min_carousels}), {checker.row_checks} row reads "
        f"over {checker.row_polls} polls of {len(sample)} members (fewest candidates in a "
        f"row: {checker.fewest_candidates}); largest count of sampled rows per run: "
        f"{checker.runs_seen}"
    )
    for violation in checker.violations[:20]:
        print(f"  VIOLATION {violation}")
    errors = int(rows["Aggregated"]["Failure Count"])
    ok = done and not checker.violations and errors == 0
    print(
        f"  retrain under load: {'PASS' if ok else 'FAIL'} ({errors} failed requests, "
        f"{len(checker.violations)} checker violations)"
    )
    return ok


# The profile -------------------------------------------------------------------------------

ENDPOINTS = {
    "home /": ("/", "site"),
    "api recommendations": ("/api/v1/recommendations/", "api"),
    "course page": (None, "site"),
}


def profile_slowest(rows: dict[str, dict], setup: dict) -> None:
    from django.test import Client
    from pyinstrument import Profiler

    name = max(
        (n for n in rows if n in ENDPOINTS), key=lambda n: float(rows[n]["95%"]), default=None
    )
    if name is None:
        return
    path, auth = ENDPOINTS[name]
    path = path or f"/courses/{setup['course_slugs'][0]}/"
    member = setup["members"][0]
    client = Client(HTTP_HOST="127.0.0.1")
    headers = {}
    if auth == "site":
        client.cookies["sessionid"] = member["session"]
    else:
        headers["Authorization"] = f"Token {member['token']}"
    # The first request loads the model snapshot; the profile is of warm requests.
    client.get(path, headers=headers)
    repeats = 20
    durations = []
    for _ in range(repeats):
        started = time.perf_counter()
        client.get(path, headers=headers)
        durations.append(1000 * (time.perf_counter() - started))
    durations.sort()
    print(
        f"\nphase 3: {name} ({path}) alone, in process, no profiler, {repeats} warm requests: "
        f"median {durations[repeats // 2]:.1f} ms, fastest {durations[0]:.1f} ms"
    )
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(repeats):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.status_code
    profiler.stop()
    report = OUT / "profile.html"
    report.write_text(profiler.output_html())
    session = profiler.last_session
    print(
        f"  profile of the same {repeats} requests (slowest endpoint by p95): "
        f"{1000 * session.duration / repeats:.1f} ms each with the profiler on "
        f"(full tree: {report.relative_to(harness.ROOT)})"
    )
    text = profiler.output_text(unicode=True, processor_options={"filter_threshold": 0.02})
    for line in text.splitlines()[:70]:
        print("  " + line)


def main() -> int:
    args = parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    port = harness.free_port()
    base = f"http://127.0.0.1:{port}"
    env = harness.site_env(
        database_url=args.database_url,
        redis_url=args.redis_url,
        **harness.THROTTLES_RAISED,
        LOADTEST_CREDENTIALS=str(OUT / "credentials.json"),
        LOADTEST_MIN_CAROUSELS=str(args.min_carousels),
    )
    harness.django_setup(env)
    from django.utils import timezone

    since = timezone.now()
    random.seed(7)
    if args.ramp:
        lifetime = len(args.ramp_steps) * (args.ramp_step_seconds + 30) + 600
    else:
        lifetime = args.duration + args.retrain_timeout + 600
    access_log = OUT / "access.log"
    access_log.unlink(missing_ok=True)
    print(harness.static_files_collect(env))
    web = harness.spawn(
        harness.gunicorn_command(
            port=port,
            workers=args.workers,
            threads=args.threads,
            worker_class=args.worker_class,
            access_log=access_log,
        ),
        env=env,
        lifetime=lifetime,
        log=OUT / "gunicorn.log",
    )
    worker = harness.spawn(
        harness.qcluster_command(),
        env=harness.qcluster_env(env, workers=1),
        lifetime=lifetime,
        log=OUT / "qcluster.log",
    )
    setup = None
    ok = True
    knee_line = ""
    try:
        print(
            f"gunicorn on {base}: {args.workers} workers x {args.threads} threads "
            f"({args.worker_class}), "
            f"DEBUG=0, database {args.database_url.rsplit('/', 1)[1]}; API throttles raised "
            "to 100000/min for the run; one qcluster worker (scheduler off)"
        )
        print(f"  serving after {harness.wait_until_serving(base):.1f}s")
        setup = credentials_create(count=args.members, form_logins=5, base=base)
        (OUT / "credentials.json").write_text(json.dumps(setup))
        print(
            f"  {len(setup['members'])} members with tokens and sessions (5 signed in through "
            "the login form)"
        )
        print(f"  {database_vacuum()}")
        print(f"  {workers_warm(base=base, setup=setup, threads=args.workers * args.threads)}")
        print(f"  {task_worker_warm(setup=setup)}")
        print(f"  {harness.server_connections(args.database_url)}")

        if args.ramp:
            ok, knee_line = ramp_run(
                args,
                base=base,
                env=env,
                access_log=access_log,
                groups={"gunicorn": web.pid, "qcluster": worker.pid},
            )
        else:
            prefix = OUT / "steady"
            print(f"\nphase 1: {args.users} users for {args.duration}s")
            offset = log_size(access_log)
            locust = locust_start(
                base=base,
                users=args.users,
                spawn_rate=args.spawn_rate,
                seconds=args.duration,
                prefix=prefix,
                env=env,
            )
            locust.wait(timeout=args.duration + 90)
            rows = locust_table(prefix, f"phase 1: steady load, {args.users} users")
            server_table(access_log, offset=offset)
            targets_report(rows, args.users)
            ok = int(rows["Aggregated"]["Failure Count"]) == 0

            if not args.no_retrain:
                ok = retrain_under_load(args, base=base, env=env, setup=setup) and ok
            if not args.no_profile:
                profile_slowest(rows, setup)
    finally:
        harness.stop_group(web)
        harness.stop_group(worker, grace=20)
        if setup is not None:
            deleted = load_rows_delete(setup, since)
            counts = ", ".join(f"{count} {what}" for what, count in deleted.items())
            print(f"\ncleaned up the load's rows: {counts}")
    print(f"\nloadtest: {'PASS' if ok else 'FAIL'}")
    if knee_line:
        print(knee_line)  # the last line of a ramp
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
