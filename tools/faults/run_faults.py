"""`make faults`: break the running system on purpose and check what survives.

Drills (each prints what it did, what it saw, and PASS or FAIL):
  events   an event batch posted twice (in turn and racing), abandoned by its client mid-upload
           and after upload, and cut off by SIGKILL of the gunicorn workers mid-transaction:
           every event id ends up stored exactly once;
  postgres PostgreSQL stopped for a few seconds and started again while gunicorn serves:
           requests in the outage fail with a clean 500 (no traceback), and the same gunicorn
           processes serve again once the database is back;
  retrain  a qcluster worker SIGKILLed (whole process group) mid-retrain: the previous run
           keeps serving, the lost run is marked failed with a reason once RUN_STALE_SECONDS
           pass, and a new retrain succeeds;
  precompute the same mid-precompute: rows stay decodable and non-empty, and a new retrain
           completes every member's row.

The drills use their own database (`skillpath_faults`, seeded on first use) and Redis database
2. The postgres drill restarts the machine's PostgreSQL server: about five seconds in which
every other user of that server loses its connections too.
"""

import argparse
import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tools.load import harness

OUT = harness.ROOT / "var" / "faults"
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
RESULTS: list[tuple[str, bool]] = []


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/skillpath_faults"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/2")
    parser.add_argument("--stale-seconds", type=int, default=20)
    parser.add_argument(
        "--only",
        nargs="*",
        choices=["events", "postgres", "retrain", "precompute"],
        default=["events", "postgres", "retrain", "precompute"],
    )
    return parser.parse_args()


def say(text: str) -> None:
    print(text, flush=True)


def verdict(name: str, ok: bool, detail: str = "") -> None:
    RESULTS.append((name, ok))
    say(f"  {'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")


def manage(env: dict, *command: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["timeout", str(timeout), str(harness.BIN / "python"), "manage.py", *command],
        cwd=harness.ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def database_prepare(env: dict, database_url: str) -> None:
    """Create, migrate, seed and train the scratch database the first time."""
    name = database_url.rsplit("/", 1)[1]
    exists = subprocess.run(
        ["psql", ADMIN_URL, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["psql", ADMIN_URL, "-qc", f"CREATE DATABASE {name}"], check=True)
    migrated = manage(env, "migrate", "--noinput", "-v0")
    if migrated.returncode:
        raise RuntimeError(migrated.stderr)
    if not exists:
        say(f"seeding {name} (20,000 members, 2,000 courses, 300,000 interactions)")
        for command in (
            (
                "seed_demo",
                "--members",
                "20000",
                "--courses",
                "2000",
                "--interactions",
                "300000",
                # A scratch database on loopback, under production settings (DEBUG off).
                "--allow-public-passwords",
            ),
            ("retrain",),
        ):
            done = manage(env, *command, timeout=900)
            if done.returncode:
                raise RuntimeError(f"{command[0]} failed: {done.stderr[-2000:]}")


def queue_clear(redis_url: str) -> int:
    """Drop this cluster's queued tasks in the drills' Redis database (and nothing else)."""
    import redis

    return redis.Redis.from_url(redis_url).delete("django_q:skillpath:q")


def queue_size(redis_url: str) -> int:
    import redis

    return redis.Redis.from_url(redis_url).llen("django_q:skillpath:q")


def member_credentials(member) -> dict:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from members.services import api_token_create

    user = member.user
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "members.authentication.MemberModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    _, key = api_token_create(user=user)
    return {"session": session.session_key, "token": key, "member_id": member.pk}


def fresh_members(count: int) -> list:
    """Members with no events yet (each sub-drill gets its own, so they cannot interfere)."""
    from members.models import Member

    return list(
        Member.objects.filter(feedback_events__isnull=True, user__isnull=False)
        .select_related("user")
        .order_by("-pk")[:count]
    )


def unenrolled_courses(member, count: int) -> list[int]:
    from catalog.models import Course

    return list(
        Course.objects.exclude(enrolments__member=member)
        .order_by("pk")
        .values_list("pk", flat=True)[:count]
    )


def copies_of(event_ids: list[str]) -> Counter:
    from django.db.models import Count

    from recommendations.models import FeedbackEvent

    counted = (
        FeedbackEvent.objects.filter(event_id__in=event_ids)
        .values("event_id")
        .annotate(n=Count("pk"))
        .values_list("event_id", "n")
    )
    return Counter({str(event_id): n for event_id, n in counted})


def exactly_once(event_ids: list[str]) -> tuple[bool, str]:
    copies = copies_of(event_ids)
    missing = sum(1 for e in event_ids if copies[e] == 0)
    extra = sum(1 for e in event_ids if copies[e] > 1)
    return missing == 0 and extra == 0, (
        f"{len(event_ids)} event ids: {len(event_ids) - missing - extra} stored once, "
        f"{missing} missing, {extra} stored more than once"
    )


def enrol_batch(courses: list[int]) -> dict:
    return {
        "events": [
            {"event_id": str(uuid.uuid4()), "type": "enrol", "course_id": course}
            for course in courses
        ]
    }


def post_events(base: str, token: str, batch: dict, timeout: float = 60.0):
    status, _, body = harness.http_request(
        f"{base}/api/v1/events/",
        method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        body=json.dumps(batch).encode(),
        timeout=timeout,
    )
    return status, (json.loads(body) if status == 200 else body[:200])


def raw_post(port: int, token: str, batch: dict, *, send_fraction: float) -> None:
    """Send the request over a bare socket, `send_fraction` of the body, and hang up at once
    with a reset (SO_LINGER 0), as a client that crashes or loses its network does."""
    body = json.dumps(batch).encode()
    head = (
        "POST /api/v1/events/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Token {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head + body[: int(len(body) * send_fraction)])
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def drill_events(base: str, port: int, web: subprocess.Popen) -> None:
    from django.db import connection

    say("\n== drill: event batches posted twice, abandoned, and cut off by a killed worker")
    members = fresh_members(5)

    # 1. The same batch twice, one after the other.
    me = member_credentials(members[0])
    batch = enrol_batch(unenrolled_courses(members[0], 50))
    ids = [e["event_id"] for e in batch["events"]]
    first = post_events(base, me["token"], batch)
    second = post_events(base, me["token"], batch)
    say(
        f"  posted 50 enrol events twice in turn: first {first[0]} accepted="
        f"{first[1]['accepted']}, second {second[0]} duplicate={second[1]['duplicate']}"
    )
    ok, detail = exactly_once(ids)
    verdict("batch posted twice in turn", ok and second[1]["duplicate"] == 50, detail)

    # 2. The same batch twice at the same moment.
    me = member_credentials(members[1])
    batch = enrol_batch(unenrolled_courses(members[1], 200))
    ids = [e["event_id"] for e in batch["events"]]
    answers = []
    racers = [
        threading.Thread(target=lambda: answers.append(post_events(base, me["token"], batch)))
        for _ in range(2)
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    tallies = [(a[0], a[1]["accepted"], a[1]["duplicate"]) for a in answers]
    say(f"  posted 200 enrol events twice at once: (status, accepted, duplicate) = {tallies}")
    ok, detail = exactly_once(ids)
    accepted = sum(t[1] for t in tallies)
    verdict("batch posted twice racing", ok and accepted == 200, detail)

    # 3. The client hangs up halfway through the upload, then retries.
    me = member_credentials(members[2])
    batch = enrol_batch(unenrolled_courses(members[2], 300))
    ids = [e["event_id"] for e in batch["events"]]
    raw_post(port, me["token"], batch, send_fraction=0.5)
    time.sleep(2)
    stored_after_hangup = sum(copies_of(ids).values())
    retry = post_events(base, me["token"], batch)
    say(
        f"  client reset the connection after half of a 300-event upload: {stored_after_hangup} "
        f"stored; its retry answered {retry[0]} accepted={retry[1]['accepted']}"
    )
    ok, detail = exactly_once(ids)
    verdict("client gone mid-upload, then retry", ok and stored_after_hangup == 0, detail)

    # 4. The client hangs up right after the upload (before the answer), then retries.
    me = member_credentials(members[3])
    batch = enrol_batch(unenrolled_courses(members[3], 300))
    ids = [e["event_id"] for e in batch["events"]]
    raw_post(port, me["token"], batch, send_fraction=1.0)
    time.sleep(4)
    stored_after_hangup = sum(copies_of(ids).values())
    retry = post_events(base, me["token"], batch)
    say(
        f"  client reset the connection right after a full 300-event upload: "
        f"{stored_after_hangup} stored (the server finished the batch); its retry answered "
        f"{retry[0]} accepted={retry[1]['accepted']} duplicate={retry[1]['duplicate']}"
    )
    ok, detail = exactly_once(ids)
    verdict("client gone before the answer, then retry", ok, detail)

    # 5. Every gunicorn worker SIGKILLed while the batch's transaction is open, then a retry.
    me = member_credentials(members[4])
    batch = enrol_batch(unenrolled_courses(members[4], 500))
    ids = [e["event_id"] for e in batch["events"]]
    outcome: list = []

    def send() -> None:
        try:
            outcome.append(post_events(base, me["token"], batch))
        except OSError as error:
            outcome.append((type(error).__name__, str(error)))

    sender = threading.Thread(target=send)
    master = harness.children_of(web.pid)[0]
    workers = harness.children_of(master)
    sender.start()
    writing = None
    deadline = time.monotonic() + 20
    with connection.cursor() as cursor:
        while writing is None and time.monotonic() < deadline:
            # A site connection that has written inside a still-open transaction.
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
            )
            writing = cursor.fetchone()
            if writing is None:
                time.sleep(0.02)
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    sender.join(timeout=60)
    time.sleep(1)
    stored_after_kill = sum(copies_of(ids).values())
    harness.wait_until_serving(base)
    retry = post_events(base, me["token"], batch)
    say(
        f"  SIGKILLed gunicorn workers {workers} while backend {writing and writing[0]} held "
        f"the batch's open transaction: client saw {outcome[0][0]!s}; {stored_after_kill} of "
        f"500 stored; gunicorn started workers {harness.children_of(master)}; the retry "
        f"answered {retry[0]} accepted={retry[1]['accepted']}"
    )
    ok, detail = exactly_once(ids)
    verdict(
        "worker killed mid-batch, then retry",
        ok and writing is not None and stored_after_kill in (0, 500),
        detail,
    )


def drill_postgres(base: str, web: subprocess.Popen, cluster: str) -> None:
    from django.db import connections

    from catalog.models import Course
    from members.models import Member

    say("\n== drill: PostgreSQL stopped and started while gunicorn serves")
    member = Member.objects.select_related("user").order_by("pk").first()
    me = member_credentials(member)
    slug = Course.objects.order_by("pk").values_list("slug", flat=True).first()
    paths = [
        ("/", {"Cookie": f"sessionid={me['session']}"}),
        ("/api/v1/recommendations/", {"Authorization": f"Token {me['token']}"}),
        (f"/courses/{slug}/", {}),
        ("/api/v1/courses/", {}),
    ]
    log: list[dict] = []
    stop = threading.Event()
    master = harness.children_of(web.pid)[0]
    workers_before = harness.children_of(master)

    def client() -> None:
        turn = 0
        while not stop.is_set():
            path, headers = paths[turn % len(paths)]
            turn += 1
            at = time.monotonic()
            try:
                status, response_headers, body = harness.http_request(
                    base + path, headers=headers, timeout=10
                )
                text = body.decode(errors="replace")
                log.append(
                    {
                        "at": at,
                        "path": path,
                        "status": status,
                        "type": response_headers.get("Content-Type", "").split(";")[0],
                        "traceback": "Traceback" in text or "OperationalError" in text,
                        "friendly": "Something went wrong on our side" in text,
                        "json_error": text.startswith('{"error"'),
                    }
                )
            except OSError as error:
                log.append({"at": at, "path": path, "status": type(error).__name__})
            time.sleep(0.05)

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    time.sleep(3)
    pg = ["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main"]
    down_at = time.monotonic()
    subprocess.run([*pg, "stop", "-m", "fast"], check=True)
    time.sleep(3)
    subprocess.run([*pg, "start"], check=True)
    up_at = time.monotonic()
    # This script's own connection died with the server; the site's recover by themselves.
    connections.close_all()
    say(f"  PostgreSQL {cluster} down for {up_at - down_at:.1f}s (stop -m fast, 3 s, start)")
    time.sleep(8)
    stop.set()
    thread.join(timeout=15)

    during = [e for e in log if down_at <= e["at"] < up_at]
    after = [e for e in log if e["at"] >= up_at]
    first_ok = next((e["at"] for e in after if e["status"] == 200), None)
    settled = [e for e in after if first_ok is not None and e["at"] >= first_ok]
    summary = Counter((e["path"].split("/")[1] or "home", e["status"], e.get("type")) for e in log)
    say(f"  {len(log)} requests: " + ", ".join(f"{k}: {n}" for k, n in sorted(summary.items())))
    failed = [e for e in during if e["status"] != 200]
    say(
        f"  during the outage: {len(during)} requests, {len(failed)} failed; statuses "
        f"{dict(Counter((e['path'], e['status'], e.get('type')) for e in failed))}"
    )
    api_bodies = Counter(e.get("json_error") for e in failed if e["path"].startswith("/api/"))
    say(
        f"  API failures in the JSON error shape: {api_bodies.get(True, 0)}, as the HTML 500 "
        f"page: {api_bodies.get(False, 0)}"
    )
    clean = all(
        e["status"] == 500 and not e["traceback"] and (e["friendly"] or e["json_error"])
        for e in failed
    )
    verdict(
        "outage answered with clean 500s (friendly page, no traceback)",
        bool(failed) and clean,
        f"{sum(1 for e in failed if e.get('traceback'))} with a traceback, "
        f"{sum(1 for e in failed if e['status'] != 500)} not a 500",
    )
    recovered = first_ok is not None and all(e["status"] == 200 for e in settled)
    workers_after = harness.children_of(master)
    verdict(
        "recovered without restarting the site",
        recovered and workers_after == workers_before,
        (
            f"first 200 {first_ok - up_at:.2f}s after start, then {len(settled)} requests all "
            f"200; gunicorn workers {workers_before} -> {workers_after}"
            if first_ok
            else "no successful request after the restart"
        ),
    )


def rows_state(sample: list[int]) -> tuple[int, int, Counter]:
    """(rows found, rows that decode non-empty, rows per run) for the sampled members."""
    from recommendations.engine import candidates_decode
    from recommendations.models import MemberRecommendations

    found = good = 0
    runs: Counter = Counter()
    for _, run_id, payload in MemberRecommendations.objects.filter(
        member_id__in=sample
    ).values_list("member_id", "run_id", "payload"):
        found += 1
        runs[run_id] += 1
        with contextlib.suppress(ValueError):
            good += candidates_decode(payload).size > 0
    return found, good, runs


def active_run_id() -> int | None:
    from recommendations.models import TrainingRun

    return TrainingRun.objects.filter(is_active=True).values_list("pk", flat=True).first()


def run_wait(since_pk: int, predicate, seconds: float):
    from recommendations.models import TrainingRun

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = TrainingRun.objects.filter(pk__gt=since_pk).order_by("pk").first()
        if run is not None and predicate(run):
            return run
        time.sleep(0.05)
    return TrainingRun.objects.filter(pk__gt=since_pk).order_by("pk").first()


def kill_group(process: subprocess.Popen) -> list[int]:
    pids = harness.group_pids(process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    time.sleep(0.5)
    return pids


def retrain_fresh(env: dict, args) -> tuple[bool, str]:
    """A new retrain with a worker for its shards; (succeeded with every row, detail)."""
    from recommendations.models import TrainingRun

    last = TrainingRun.objects.order_by("-pk").values_list("pk", flat=True).first()
    worker = harness.spawn(
        harness.qcluster_command(),
        env=harness.qcluster_env(env),
        lifetime=600,
        log=OUT / "qcluster.log",
    )
    try:
        done = manage(env, "retrain", "--queue-precompute", timeout=400)
        run = run_wait(last, lambda r: r.precomputed_at is not None, 300)
    finally:
        harness.stop_group(worker, grace=20)
    ok = (
        done.returncode == 0
        and run is not None
        and run.status == "succeeded"
        and run.is_active
        and run.precomputed_at is not None
    )
    return ok, (
        f"run {run.pk}: {run.status}, active={run.is_active}, shards "
        f"{run.precompute_shards_done}/{run.precompute_shards}"
        if run
        else f"no run (exit {done.returncode}: {done.stderr[-300:]})"
    )


def drill_retrain(env: dict, args, sample: list[int]) -> None:
    from django_q.tasks import async_task

    from recommendations.models import TrainingRun

    say("\n== drill: qcluster worker SIGKILLed mid-retrain")
    before = active_run_id()
    last = TrainingRun.objects.order_by("-pk").values_list("pk", flat=True).first()
    found, good, _ = rows_state(sample)
    say(f"  active run {before}; {good}/{found} sampled rows decode non-empty")
    worker = harness.spawn(
        harness.qcluster_command(),
        env=harness.qcluster_env(env),
        lifetime=600,
        log=OUT / "qcluster.log",
    )
    # A retrain with a parameter search: it runs for SEARCH_BUDGET_SECONDS, so the kill lands
    # inside it (a refit of stored parameters on the drill's data can finish within seconds).
    async_task("recommendations.tasks.retrain", "fault-drill", search=True)
    running = run_wait(last, lambda r: r.status == "running", 60)
    if running is None:
        harness.stop_group(worker)
        verdict("mid-retrain kill", False, "the retrain never started")
        return
    time.sleep(3)
    running.refresh_from_db()
    state_at_kill = running.status
    killed = kill_group(worker)
    running.refresh_from_db()
    found, good, _ = rows_state(sample)
    say(
        f"  worker group {killed} SIGKILLed 3 s into run {running.pk} (it was {state_at_kill}); "
        f"afterwards: run {running.pk} {running.status}, active run {active_run_id()}, "
        f"{good}/{found} sampled rows decode non-empty, {queue_size(args.redis_url)} tasks "
        "left in the queue"
    )
    verdict(
        "previous run keeps serving after the kill",
        state_at_kill == "running" and active_run_id() == before and good == found == len(sample),
    )
    wait = max(0.0, running.started_at.timestamp() + args.stale_seconds - time.time()) + 1
    say(
        f"  the killed task is not retried (the Redis broker has no acknowledgement); waiting "
        f"{wait:.0f}s for RUN_STALE_SECONDS={args.stale_seconds} to pass, then a new retrain"
    )
    time.sleep(wait)
    ok, detail = retrain_fresh(env, args)
    running.refresh_from_db()
    say(f"  lost run {running.pk}: {running.status}, message: {running.message!r}")
    verdict(
        "lost run marked failed with a reason",
        running.status == "failed" and "Abandoned" in running.message,
    )
    found, good, runs = rows_state(sample)
    verdict(
        "a new retrain succeeds afterwards",
        ok and good == found == len(sample),
        f"{detail}; sampled rows per run {dict(runs)}",
    )


def drill_precompute(env: dict, args, sample: list[int]) -> None:
    from recommendations.models import TrainingRun

    say("\n== drill: qcluster worker SIGKILLed mid-precompute")
    before = active_run_id()
    last = TrainingRun.objects.order_by("-pk").values_list("pk", flat=True).first()
    worker = harness.spawn(
        harness.qcluster_command(),
        env=harness.qcluster_env(env),
        lifetime=600,
        log=OUT / "qcluster.log",
    )
    trainer = subprocess.Popen(
        [
            "timeout",
            "400",
            str(harness.BIN / "python"),
            *("manage.py", "retrain", "--queue-precompute"),
        ],
        cwd=harness.ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    run = run_wait(last, lambda r: r.precompute_shards_done >= 1, 300)
    killed = kill_group(worker)
    trainer.wait(timeout=60)
    run.refresh_from_db()
    found, good, runs = rows_state(sample)
    say(
        f"  worker group {killed} SIGKILLed after shard {run.precompute_shards_done} of "
        f"{run.precompute_shards} of run {run.pk} (previous active run {before}); now active "
        f"run {active_run_id()}, precomputed_at={run.precomputed_at}, "
        f"{queue_size(args.redis_url)} shard tasks still queued; sampled rows: {good}/{found} "
        f"decode non-empty, per run {dict(runs)}"
    )
    verdict(
        "rows keep decoding after a mid-precompute kill",
        good == found == len(sample) and run.precomputed_at is None,
        "the new run was activated before its precompute (the design), so members of unfinished "
        "shards keep their previous run's rows",
    )
    ok, detail = retrain_fresh(env, args)
    found, good, runs = rows_state(sample)
    verdict(
        "a new retrain completes every row afterwards",
        ok and good == found == len(sample) and len(runs) == 1,
        f"{detail}; sampled rows per run {dict(runs)}",
    )


def main() -> int:
    args = parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    port = harness.free_port()
    base = f"http://127.0.0.1:{port}"
    env = harness.site_env(
        database_url=args.database_url,
        redis_url=args.redis_url,
        **harness.THROTTLES_RAISED,
        REC_RUN_STALE_SECONDS=str(args.stale_seconds),
        # Small shards: a kill lands between shards, with several still to go.
        REC_PRECOMPUTE_SHARD_MEMBERS="2500",
    )
    database_prepare(env, args.database_url)
    harness.django_setup(env)
    say(harness.static_files_collect(env))
    from recommendations.engine import candidates_decode
    from recommendations.models import MemberRecommendations

    cluster = sorted(os.listdir("/etc/postgresql"))[-1]
    say(f"drills on {args.database_url.rsplit('/', 1)[1]}, Redis {args.redis_url}, {base}")
    say(f"  cleared {queue_clear(args.redis_url)} stale task queue(s)")
    # Members whose row holds candidates now (a member with no activity has an empty one):
    # these must never see an empty or unreadable row.
    sample = [
        member_id
        for member_id, payload in MemberRecommendations.objects.order_by("?").values_list(
            "member_id", "payload"
        )[:1200]
        if candidates_decode(payload).size
    ][:1000]
    started = dt.datetime.now(dt.UTC)
    if {"events", "postgres"} & set(args.only):
        web = harness.spawn(
            harness.gunicorn_command(port=port, workers=2, threads=2),
            env=env,
            lifetime=600,
            log=OUT / "gunicorn.log",
        )
        try:
            harness.wait_until_serving(base)
            if "events" in args.only:
                drill_events(base, port, web)
            if "postgres" in args.only:
                drill_postgres(base, web, cluster)
        finally:
            harness.stop_group(web)
    if "retrain" in args.only:
        drill_retrain(env, args, sample)
    if "precompute" in args.only:
        drill_precompute(env, args, sample)
    queue_clear(args.redis_url)
    say(f"\nfaults: {len(RESULTS)} checks in {(dt.datetime.now(dt.UTC) - started).seconds}s")
    for name, ok in RESULTS:
        say(f"  {'PASS' if ok else 'FAIL'}  {name}")
    failed = sum(1 for _, ok in RESULTS if not ok)
    say(f"faults: {'PASS' if not failed else f'FAIL ({failed} failed)'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
