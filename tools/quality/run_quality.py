"""`make quality`: the project's recommendations and skill tags on real data, beside baselines.

Runs both development data sets (`../shared/data/dev` by default, see its README) end to end
through the real management commands, each on its own scratch database, and computes simple
baselines in this process on the same split:

  enrolments  `coco_udemy_enrolments.csv`: each learner's most recent enrolment is held out
              (equal times: the last of them in file order), learners with one enrolment keep
              it in training and are not tested. The rest goes through `import_interactions
              --create-missing`, `retrain` and `evaluate --test FILE --k 10`; the baselines
              (popularity, implicit ALS with implicit's default parameters, item-item cosine
              kNN, EASE) rank every course the import knows, courses already taken excluded, and
              are scored with the same HR@10 and NDCG@10 on the same test rows.
  catalog     `coursera_2024_catalog.csv`: rows shuffled with numpy.random.default_rng(0); the
              first half keeps its skills, the second half is imported untagged. `import_catalog`,
              `tag_courses`, `export_course_skills`; the top 5 suggestions by confidence per
              untagged course (any source but the taxonomist's) are scored, micro over courses,
              against the held-back skills, beside TF-IDF nearest-curated-course votes.

Prints one table per data set with the project's row marked, a verdict per metric, each step's
seconds, and writes everything as JSON (`var/quality.json`). Exit status 0 even when the
project is behind (it is a measurement); `--strict` exits 1 then.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ENROLMENTS_FILE = "coco_udemy_enrolments.csv"
CATALOG_FILE = "coursera_2024_catalog.csv"
PROJECT = "the project (defaults)"
PG_SCRATCH_NAME = "skillpath_quality"


def say(text: str = "") -> None:
    print(text, flush=True)


# --------------------------------------------------------------------------------------------
# Enrolments: the split
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interaction:
    member: str
    course: str
    timestamp: float
    line: int  # physical line in the file (header = 1): the tie-break among equal times


def csv_read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _timestamp(raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        from datetime import UTC, datetime

        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()


def interactions_parse(rows: Iterable[dict[str, str]]) -> list[Interaction]:
    return [
        Interaction(
            member=row["member_id"].strip(),
            course=row["course_id"].strip(),
            timestamp=_timestamp(row["timestamp"].strip()),
            line=line,
        )
        for line, row in enumerate(rows, start=2)
    ]


def split_last_per_member(rows: Sequence[Interaction]) -> tuple[list[int], list[int]]:
    """(train, test) positions in `rows`: each member's latest row is the test row.

    Equal latest times: the last of them in file order. Members with a single row keep it in
    train and have no test row.
    """
    latest: dict[str, int] = {}
    counts: dict[str, int] = defaultdict(int)
    for position, row in enumerate(rows):
        counts[row.member] += 1
        best = latest.get(row.member)
        if best is None or (row.timestamp, row.line) >= (rows[best].timestamp, rows[best].line):
            latest[row.member] = position
    test = {position for member, position in latest.items() if counts[member] > 1}
    train = [position for position in range(len(rows)) if position not in test]
    return train, sorted(test)


@dataclass
class Matrices:
    """Binary train matrix over the members and courses the train rows name (sorted ids), and
    the test pairs scored: one list of held-out course indices per test member."""

    members: list[str]
    courses: list[str]
    train: sp.csr_array
    test_members: np.ndarray
    test_courses: list[np.ndarray]
    test_rows: int = 0
    dropped_unknown: int = 0
    dropped_in_train: int = 0


def matrices_build(rows: Sequence[Interaction], train: list[int], test: list[int]) -> Matrices:
    """What the project's `evaluate --test` scores, rebuilt here: test rows whose member or
    course the training import never saw are unknown ids (not scored), test pairs already in
    train are dropped, each member's remaining test courses are its relevant set."""
    members = sorted({rows[i].member for i in train})
    courses = sorted({rows[i].course for i in train})
    member_index = {member: i for i, member in enumerate(members)}
    course_index = {course: i for i, course in enumerate(courses)}
    r = np.array([member_index[rows[i].member] for i in train], dtype=np.int64)
    c = np.array([course_index[rows[i].course] for i in train], dtype=np.int64)
    matrix = sp.csr_array(
        (np.ones(r.size, dtype=np.float32), (r, c)), shape=(len(members), len(courses))
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    relevant: dict[int, set[int]] = defaultdict(set)
    unknown = in_train = 0
    for i in test:
        m, k = member_index.get(rows[i].member), course_index.get(rows[i].course)
        if m is None or k is None:
            unknown += 1
            continue
        if matrix[m, k]:
            in_train += 1
            continue
        relevant[m].add(k)
    test_members = np.array(sorted(relevant), dtype=np.int64)
    return Matrices(
        members=members,
        courses=courses,
        train=matrix,
        test_members=test_members,
        test_courses=[np.array(sorted(relevant[m]), dtype=np.int64) for m in test_members],
        test_rows=len(test),
        dropped_unknown=unknown,
        dropped_in_train=in_train,
    )


def csv_write(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


# --------------------------------------------------------------------------------------------
# Enrolments: metrics and baselines
# --------------------------------------------------------------------------------------------


def top_k_unseen(scores: np.ndarray, seen: sp.csr_array, *, k: int) -> np.ndarray:
    """Each row's k best columns not in `seen` (same rows), best first; equal scores: lower
    column first; -1 pads rows with fewer than k candidates."""
    scores = np.array(scores, dtype=np.float32, copy=True)  # as evaluate ranks them
    scores[np.isnan(scores)] = -np.inf
    rows = np.repeat(np.arange(seen.shape[0]), np.diff(seen.indptr))
    scores[rows, seen.indices] = -np.inf
    n = scores.shape[1]
    width = min(k, n)
    part = np.argpartition(-scores, width - 1, axis=1)[:, :width] if width < n else None
    if part is None:
        part = np.broadcast_to(np.arange(n), scores.shape)
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)
    top = np.take_along_axis(part, order, axis=1).astype(np.int64)
    top[np.isneginf(np.take_along_axis(part_scores, order, axis=1))] = -1
    if width < k:
        top = np.pad(top, ((0, 0), (0, k - width)), constant_values=-1)
    return top


def hit_rate_and_ndcg(
    recommended: np.ndarray, relevant: Sequence[np.ndarray], *, k: int
) -> tuple[float, float]:
    """HR@k and NDCG@k as recommendations/engine/metrics.py defines them: means over members
    with at least one relevant course; DCG = Σ 1/log2(rank + 1) over hits at 1-based ranks,
    IDCG that of min(k, |relevant|) hits on top."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    hits, ndcgs = [], []
    for row, targets in zip(recommended, relevant, strict=True):
        if targets.size == 0:
            continue
        hit = np.isin(row[:k], targets) & (row[:k] >= 0)
        hits.append(float(hit.any()))
        ndcgs.append(float(hit @ discounts[: hit.size]) / discounts[: min(k, targets.size)].sum())
    if not hits:
        return 0.0, 0.0
    return float(np.mean(hits)), float(np.mean(ndcgs))


ScoreBatch = Callable[[np.ndarray], np.ndarray]


def scorer_evaluate(
    score: ScoreBatch, data: Matrices, *, k: int, batch: int = 1024
) -> dict[str, float]:
    recommended = np.full((data.test_members.size, k), -1, dtype=np.int64)
    for start in range(0, data.test_members.size, batch):
        members = data.test_members[start : start + batch]
        recommended[start : start + members.size] = top_k_unseen(
            score(members), data.train[members], k=k
        )
    hr, ndcg = hit_rate_and_ndcg(recommended, data.test_courses, k=k)
    return {"hit_rate": hr, "ndcg": ndcg, "members_evaluated": int(data.test_members.size)}


def popularity_baseline(train: sp.csr_array) -> ScoreBatch:
    counts = np.asarray(train.sum(axis=0)).ravel()
    return lambda members: np.broadcast_to(counts, (members.size, counts.size))


def als_baseline(train: sp.csr_array, *, seed: int = 0) -> tuple[ScoreBatch, dict]:
    """implicit's AlternatingLeastSquares with its default parameters (CPU), on the binary
    matrix (every cell 1: the dev set has one enrolment row per learner and course)."""
    import inspect

    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(AlternatingLeastSquares).parameters.items()
        if name in {"factors", "regularization", "alpha", "iterations"}
    }
    model = AlternatingLeastSquares(random_state=seed)
    with threadpool_limits(1, "blas"):
        model.fit(sp.csr_matrix(train, dtype=np.float32), show_progress=False)
    users = np.asarray(model.user_factors)
    items = np.asarray(model.item_factors)
    return (lambda members: users[members] @ items.T), defaults


def cosine_knn_baseline(train: sp.csr_array, *, neighbours: int | None) -> ScoreBatch:
    """Item-item cosine on binary columns; score = Σ similarity to the member's courses. With
    `neighbours`, each course keeps only its that many most similar courses."""
    binary = train.astype(np.float32)
    co = (binary.T @ binary).toarray()
    norms = np.sqrt(np.diag(co)).astype(np.float32)
    norms[norms == 0] = 1.0
    similarity = co / norms[:, None] / norms[None, :]
    np.fill_diagonal(similarity, 0.0)
    if neighbours is not None and neighbours < similarity.shape[0]:
        # Keep each column's (course j's) largest entries: score(i) sums sim(j, i) over seen j,
        # so row j must keep j's neighbours.
        cut = np.argpartition(-similarity, neighbours, axis=1)[:, neighbours:]
        np.put_along_axis(similarity, cut, 0.0, axis=1)
    return lambda members: np.asarray(binary[members] @ similarity)


def ease_baseline(train: sp.csr_array, *, regularization: float) -> ScoreBatch:
    """EASE (Steck 2019): B = I − P·diag(1/diag(P)), P = (XᵀX + λI)⁻¹, zero diagonal.

    Float32 throughout: 8,166 courses make two dense 8k × 8k matrices (~270 MB each).
    """
    from scipy.linalg import lapack

    binary = train.astype(np.float32)
    gram = (binary.T @ binary).toarray().astype(np.float32)
    gram[np.diag_indices_from(gram)] += regularization
    factor, info = lapack.spotrf(gram, lower=True, overwrite_a=True)
    if info:
        raise RuntimeError(f"EASE: Cholesky failed ({info})")
    inverse, info = lapack.spotri(factor, lower=True, overwrite_c=True)
    if info:
        raise RuntimeError(f"EASE: inverse failed ({info})")
    inverse = np.tril(inverse) + np.tril(inverse, -1).T
    weights = -inverse / np.diag(inverse)[None, :]
    np.fill_diagonal(weights, 0.0)
    return lambda members: np.asarray(binary[members] @ weights)


# --------------------------------------------------------------------------------------------
# Catalog: the split, the scoring, the TF-IDF baselines
# --------------------------------------------------------------------------------------------


def skills_of(cell: str) -> list[str]:
    return [name.strip() for name in cell.split("|") if name.strip()]


def catalog_split(n_rows: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(tagged, untagged) row positions: the first half of default_rng(seed).permutation keeps
    its skills (n // 2 rows), the rest is imported untagged."""
    order = np.random.default_rng(seed).permutation(n_rows)
    return np.sort(order[: n_rows // 2]), np.sort(order[n_rows // 2 :])


def top_suggestions(
    export_rows: Iterable[dict[str, str]], courses: set[str], *, n: int = 5
) -> dict[str, list[str]]:
    """Each course's n most confident non-taxonomist tags (any status), ties by skill name."""
    by_course: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for row in export_rows:
        if row["course_id"] in courses and row["source"] != "taxonomist":
            by_course[row["course_id"]].append((float(row["confidence"]), row["skill"]))
    return {
        course: [skill for _, skill in sorted(tags, key=lambda t: (-t[0], t[1].lower()))[:n]]
        for course, tags in by_course.items()
    }


@dataclass
class PRF:
    precision: float
    recall: float
    f1: float
    courses: int
    predicted: int
    correct: int
    relevant: int


def micro_prf(predictions: dict[str, list[str]], truth: dict[str, set[str]]) -> PRF:
    """Micro precision, recall and F1 over the courses of `truth` (names compared lower-case);
    a course without predictions counts its relevant skills as missed."""
    predicted = correct = relevant = 0
    for course, skills in truth.items():
        wanted = {name.lower() for name in skills}
        guessed = {name.lower() for name in predictions.get(course, [])}
        predicted += len(guessed)
        relevant += len(wanted)
        correct += len(guessed & wanted)
    precision = correct / predicted if predicted else 0.0
    recall = correct / relevant if relevant else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PRF(precision, recall, f1, len(truth), predicted, correct, relevant)


def top5_ceiling(truth: dict[str, set[str]], known: set[str], *, n: int = 5) -> PRF:
    """The best any method can do with n picks per course from skills that exist (`known`,
    lower-case): held-back skills nobody tagged in the curated half cannot be suggested."""
    predictions = {
        course: sorted(name for name in skills if name.lower() in known)[:n]
        for course, skills in truth.items()
    }
    best = micro_prf(predictions, truth)
    # The ceiling of precision assumes n guesses per course, as a top-n method makes.
    best.precision = best.correct / (n * len(truth)) if truth else 0.0
    p, r = best.precision, best.recall
    best.f1 = 2 * p * r / (p + r) if p + r else 0.0
    return best


def knn_vote(
    similarity: np.ndarray,
    labels: Sequence[Sequence[str]],
    *,
    neighbours: int,
    power: float = 1.0,
    n: int = 5,
) -> list[list[str]]:
    """For each row (an untagged course), the n skills with the largest Σ similarity**power
    over its `neighbours` most similar labelled courses (columns); ties by skill name."""
    results = []
    for row in similarity:
        width = min(neighbours, row.size)
        nearest = np.argpartition(-row, width - 1)[:width] if width < row.size else range(row.size)
        votes: dict[str, float] = defaultdict(float)
        for j in nearest:
            if row[j] <= 0:
                continue
            weight = float(row[j]) ** power
            for skill in labels[j]:
                votes[skill] += weight
        ranked = sorted(votes.items(), key=lambda item: (-item[1], item[0].lower()))
        results.append([skill for skill, _ in ranked[:n]])
    return results


def tfidf_similarity(
    texts: Sequence[str], queries: np.ndarray, labelled: np.ndarray, *, chars: bool
) -> np.ndarray:
    """Cosine similarity (queries × labelled) of word (1-2 gram) TF-IDF vectors, or of word
    and character (char_wb 2-5 gram) vectors concatenated with equal weight. Fitted on every
    course's text (no labels involved)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    vectors = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(texts)
    if chars:
        characters = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True
        ).fit_transform(texts)
        vectors = normalize(sp.hstack([vectors, characters]).tocsr())
    return (vectors[queries] @ vectors[labelled].T).toarray()


# --------------------------------------------------------------------------------------------
# Running the project's commands
# --------------------------------------------------------------------------------------------


@dataclass
class Steps:
    seconds: dict[str, float] = field(default_factory=dict)

    def run(self, name: str, env: dict[str, str], *command: str, timeout: int) -> str:
        say(f"  $ manage.py {' '.join(command)}")
        started = time.perf_counter()
        done = subprocess.run(
            [str(BIN / "python"), "manage.py", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        self.seconds[name] = time.perf_counter() - started
        if done.returncode:
            raise RuntimeError(
                f"manage.py {' '.join(command)} failed (exit {done.returncode}):\n"
                f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
            )
        # The command's own summary lines (what precedes any JSON it prints).
        text = done.stdout.split("{", 1)[0].strip().splitlines()
        say(f"    {self.seconds[name]:.1f} s" + "".join(f"\n    | {line[:160]}" for line in text))
        return done.stdout

    def timed(self, name: str, started: float) -> None:
        self.seconds[name] = time.perf_counter() - started
        say(f"    {name}: {self.seconds[name]:.1f} s")


class ScratchDatabase:
    """A fresh database per data set: a SQLite file in the temp dir, or `skillpath_quality`
    created and dropped on the PostgreSQL server of `--database-url`."""

    def __init__(self, database_url: str | None, workdir: Path) -> None:
        self.base = database_url
        self.workdir = workdir

    def create(self, label: str) -> str:
        if not self.base:
            return f"sqlite:///{self.workdir / f'{label}.sqlite3'}"
        self._psql(f"DROP DATABASE IF EXISTS {PG_SCRATCH_NAME}")
        self._psql(f"CREATE DATABASE {PG_SCRATCH_NAME}")
        return f"{self._server()}/{PG_SCRATCH_NAME}"

    def drop(self) -> None:
        if self.base:
            self._psql(f"DROP DATABASE IF EXISTS {PG_SCRATCH_NAME}")

    def _server(self) -> str:
        return self.base.rsplit("/", 1)[0]

    def _psql(self, sql: str) -> None:
        subprocess.run(
            ["psql", f"{self._server()}/postgres", "-qc", sql],
            check=True,
            capture_output=True,
            text=True,
        )


def command_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        OPENBLAS_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        PYTHONUNBUFFERED="1",
    )
    return env


# evaluate's sections about other features than the course model (people to learn with, goal
# paths): not model entries.
OTHER_REPORTS = ("people", "goal_paths")


def evaluate_parse(output: str) -> tuple[dict, dict | None, list[str]]:
    """(the active run's metrics, the project's own popularity, the report's keys) from
    `evaluate`'s JSON: the run's model is `als`, or the one metrics entry besides popularity."""
    report = json.loads(output[output.index("{") :])
    metrics = {key: value for key, value in report.items() if isinstance(value, dict)}
    if "als" in metrics:
        model = metrics["als"]
    else:
        others = [
            value for key, value in metrics.items() if key not in ("popularity", *OTHER_REPORTS)
        ]
        if len(others) != 1:
            raise RuntimeError(f"evaluate's JSON has no single model entry: {sorted(report)}")
        model = others[0]
    return {**model, "_report": report}, metrics.get("popularity"), sorted(report)


# --------------------------------------------------------------------------------------------
# The two data sets
# --------------------------------------------------------------------------------------------


def verdicts(
    project: dict[str, float], baselines: dict[str, dict[str, float]], metrics: Sequence[str]
) -> dict[str, list[str]]:
    """Per metric, the baselines at or above the project (empty: ahead of every baseline)."""
    return {
        metric: [name for name, values in baselines.items() if values[metric] >= project[metric]]
        for metric in metrics
    }


def enrolments_run(args: argparse.Namespace, scratch: ScratchDatabase, workdir: Path) -> dict:
    say(f"== enrolments: {args.data_dir / ENROLMENTS_FILE}")
    steps = Steps()
    started = time.perf_counter()
    header, raw = csv_read(args.data_dir / ENROLMENTS_FILE)
    rows = interactions_parse(raw)
    train, test = split_last_per_member(rows)
    train_path, test_path = workdir / "enrolments_train.csv", workdir / "enrolments_test.csv"
    csv_write(train_path, header, [raw[i] for i in train])
    csv_write(test_path, ["member_id", "course_id"], [raw[i] for i in test])
    data = matrices_build(rows, train, test)
    say(
        f"  {len(rows)} rows, {len({r.member for r in rows})} learners: {len(train)} train, "
        f"{len(test)} test rows ({data.dropped_unknown} name a course only the test has, "
        f"{data.dropped_in_train} a pair already in train); {data.test_members.size} learners "
        f"scored over {len(data.courses)} courses"
    )
    steps.timed("split", started)

    url = scratch.create("enrolments")
    env = command_env(url)
    project: dict = {}
    try:
        steps.run("migrate", env, "migrate", "--noinput", "-v0", timeout=args.timeout)
        steps.run(
            "import_interactions",
            env,
            "import_interactions",
            "--create-missing",
            "--no-progress",
            str(train_path),
            timeout=args.timeout,
        )
        retrained = steps.run("retrain", env, "retrain", timeout=args.timeout)
        output = steps.run(
            "evaluate",
            env,
            "evaluate",
            "--test",
            str(test_path),
            "--k",
            str(args.k),
            timeout=args.timeout,
        )
        project, project_popularity, keys = evaluate_parse(output)
        retrain_summary = json.loads(retrained[retrained.index("{") :])
    finally:
        scratch.drop()
    report = project.pop("_report")

    baselines: dict[str, dict] = {}
    definitions: list[tuple[str, Callable[[], ScoreBatch]]] = [
        ("popularity", lambda: popularity_baseline(data.train)),
    ]
    als_defaults: dict = {}

    def als() -> ScoreBatch:
        score, defaults = als_baseline(data.train)
        als_defaults.update(defaults)
        return score

    definitions += [
        ("implicit ALS, implicit's defaults (binary)", als),
        (
            f"item-item cosine kNN (binary, {args.knn_neighbours or 'all'} neighbours)",
            lambda: cosine_knn_baseline(data.train, neighbours=args.knn_neighbours),
        ),
        (
            f"EASE, lambda {args.ease_lambda:g}",
            lambda: ease_baseline(data.train, regularization=args.ease_lambda),
        ),
    ]
    from threadpoolctl import threadpool_limits

    for name, build in definitions:
        started = time.perf_counter()
        with threadpool_limits(args.threads):
            baselines[name] = scorer_evaluate(build(), data, k=args.k)
        steps.timed(f"baseline: {name}", started)

    figures = {"hit_rate": project["hit_rate"], "ndcg": project["ndcg"]}
    behind = verdicts(figures, baselines, ["hit_rate", "ndcg"])
    return {
        "data": str(args.data_dir / ENROLMENTS_FILE),
        "k": args.k,
        "split": {
            "rows": len(rows),
            "train_rows": len(train),
            "test_rows": len(test),
            "test_rows_unknown_course": data.dropped_unknown,
            "test_rows_already_in_train": data.dropped_in_train,
            "members_scored": int(data.test_members.size),
            "courses": len(data.courses),
        },
        "project": {
            "hit_rate": project["hit_rate"],
            "ndcg": project["ndcg"],
            "members_evaluated": project.get("members_evaluated"),
            "test_rows_unknown_ids": report.get("test_rows_unknown_ids"),
            "evaluate_keys": keys,
            "evaluate_report": report,
        },
        "project_popularity_from_evaluate": project_popularity,
        "retrain_summary": retrain_summary,
        "baselines": baselines,
        "als_baseline_parameters": als_defaults,
        "behind": behind,
        "seconds": steps.seconds,
    }


def catalog_run(args: argparse.Namespace, scratch: ScratchDatabase, workdir: Path) -> dict:
    say(f"== catalog: {args.data_dir / CATALOG_FILE}")
    steps = Steps()
    started = time.perf_counter()
    header, raw = csv_read(args.data_dir / CATALOG_FILE)
    tagged, untagged = catalog_split(len(raw), seed=0)
    untagged_ids = {raw[i]["course_id"].strip() for i in untagged}
    held_back = {raw[i]["course_id"].strip(): set(skills_of(raw[i]["skills"])) for i in untagged}
    combined = [dict(row) for row in raw]
    for i in untagged:
        combined[i]["skills"] = ""
    catalog_path = workdir / "catalog_half_untagged.csv"
    csv_write(catalog_path, header, combined)
    steps.timed("split", started)

    url = scratch.create("catalog")
    env = command_env(url)
    export_path = workdir / "course_skills.csv"
    try:
        steps.run("migrate", env, "migrate", "--noinput", "-v0", timeout=args.timeout)
        steps.run(
            "import_catalog",
            env,
            "import_catalog",
            "--no-progress",
            str(catalog_path),
            timeout=args.timeout,
        )
        steps.run("tag_courses", env, "tag_courses", "-v0", timeout=args.timeout)
        steps.run(
            "export_course_skills",
            env,
            "export_course_skills",
            str(export_path),
            timeout=args.timeout,
        )
        synonyms = synonyms_read(env, timeout=args.timeout)
    finally:
        scratch.drop()

    # Held-back names as the import would resolve them (a synonym means its skill).
    truth = {
        course: {synonyms.get(name.lower(), name) for name in skills}
        for course, skills in held_back.items()
        if skills
    }
    with export_path.open(newline="", encoding="utf-8") as handle:
        suggestions = top_suggestions(csv.DictReader(handle), untagged_ids, n=5)
    project = micro_prf(suggestions, truth)

    started = time.perf_counter()
    texts = [" ".join([row["title"], row["description"], row["category"]]) for row in raw]
    labels = [
        [synonyms.get(name.lower(), name) for name in skills_of(raw[i]["skills"])] for i in tagged
    ]
    known = {name.lower() for skills in labels for name in skills}
    query_ids = [raw[i]["course_id"].strip() for i in untagged]
    baselines: dict[str, PRF] = {}
    for name, chars, neighbours, power in (
        ("word TF-IDF, 10 nearest, similarity-weighted", False, 10, 1.0),
        ("word+char TF-IDF, 40 nearest, similarity cubed", True, 40, 3.0),
    ):
        similarity = tfidf_similarity(texts, untagged, tagged, chars=chars)
        votes = knn_vote(similarity, labels, neighbours=neighbours, power=power, n=5)
        baselines[name] = micro_prf(dict(zip(query_ids, votes, strict=True)), truth)
    steps.timed("baselines: TF-IDF kNN", started)
    ceiling = top5_ceiling(truth, known)
    held_total = sum(len(skills) for skills in truth.values())
    held_known = sum(1 for skills in truth.values() for name in skills if name.lower() in known)

    figures = {"precision": project.precision, "recall": project.recall, "f1": project.f1}
    behind = verdicts(
        figures,
        {name: vars(value) for name, value in baselines.items()},
        ["f1", "precision", "recall"],
    )
    return {
        "data": str(args.data_dir / CATALOG_FILE),
        "split": {
            "courses": len(raw),
            "tagged": int(tagged.size),
            "untagged": int(untagged.size),
            "untagged_scored": len(truth),
            "untagged_with_suggestions": sum(1 for c in truth if suggestions.get(c)),
            "held_back_skills": held_total,
            "held_back_skills_in_tagged_half": held_known,
            "synonyms_in_database": len(synonyms),
        },
        "project": vars(project),
        "baselines": {name: vars(value) for name, value in baselines.items()},
        "ceiling_top5": vars(ceiling),
        "behind": behind,
        "seconds": steps.seconds,
    }


def synonyms_read(env: dict[str, str], *, timeout: int) -> dict[str, str]:
    """Lower-cased synonym → its skill's name, from the scratch database (`dumpdata`)."""
    done = subprocess.run(
        [str(BIN / "python"), "manage.py", "dumpdata", "catalog.Skill", "catalog.SkillSynonym"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    objects = json.loads(done.stdout or "[]")
    names = {o["pk"]: o["fields"]["name"] for o in objects if o["model"] == "catalog.skill"}
    return {
        o["fields"]["name"].lower(): names[o["fields"]["skill"]]
        for o in objects
        if o["model"] == "catalog.skillsynonym" and o["fields"]["skill"] in names
    }


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *map(line, rows)])


def verdict_lines(behind: dict[str, list[str]], labels: dict[str, str]) -> list[str]:
    return [
        f"  {labels[metric]}: "
        + (
            "ahead of every baseline"
            if not names
            else "BEHIND: " + "; ".join(names) + (" is" if len(names) == 1 else " are") + " ahead"
        )
        for metric, names in behind.items()
    ]


def enrolments_print(result: dict) -> None:
    k = result["k"]
    project = result["project"]
    rows = [
        [
            f"* {PROJECT}",
            f"{project['hit_rate']:.4f}",
            f"{project['ndcg']:.4f}",
            str(project["members_evaluated"]),
        ]
    ]
    for name, values in result["baselines"].items():
        rows.append(
            [
                f"  {name}",
                f"{values['hit_rate']:.4f}",
                f"{values['ndcg']:.4f}",
                str(values["members_evaluated"]),
            ]
        )
    say()
    say(f"enrolments ({result['data']}), full ranking, seen courses excluded")
    say(table(["method", f"HR@{k}", f"NDCG@{k}", "n scored"], rows))
    popularity = result["project_popularity_from_evaluate"]
    if popularity:
        say(
            f"  (evaluate's own popularity row: HR@{k} {popularity['hit_rate']:.4f}, "
            f"NDCG@{k} {popularity['ndcg']:.4f}; test rows it could not match: "
            f"{project['test_rows_unknown_ids']})"
        )
    params = result.get("retrain_summary", {}).get("params")
    if params:
        say(f"  (the project's run: {json.dumps(params, default=float)})")
    for line in verdict_lines(result["behind"], {"hit_rate": f"HR@{k}", "ndcg": f"NDCG@{k}"}):
        say(line)


def catalog_print(result: dict) -> None:
    split = result["split"]
    rows = [
        [
            f"* {PROJECT}",
            *(f"{result['project'][m]:.3f}" for m in ("precision", "recall", "f1")),
            f"{result['project']['correct']}/{result['project']['predicted']}",
        ]
    ]
    for name, values in result["baselines"].items():
        rows.append(
            [
                f"  {name}",
                *(f"{values[m]:.3f}" for m in ("precision", "recall", "f1")),
                f"{values['correct']}/{values['predicted']}",
            ]
        )
    ceiling = result["ceiling_top5"]
    rows.append(
        [
            "  (ceiling: 5 right picks from skills the curated half has)",
            *(f"{ceiling[m]:.3f}" for m in ("precision", "recall", "f1")),
            "",
        ]
    )
    say()
    say(
        f"catalog ({result['data']}): top-5 suggestions for {split['untagged_scored']} untagged "
        f"courses, micro over courses, {split['held_back_skills']} held-back skills"
    )
    say(table(["method", "precision", "recall", "F1", "right/suggested"], rows))
    say(
        f"  {split['held_back_skills_in_tagged_half']} of the {split['held_back_skills']} "
        "held-back skills exist in the curated half (the others cannot be suggested by "
        f"anyone); the project suggested for {split['untagged_with_suggestions']} of "
        f"{split['untagged_scored']} courses"
    )
    for line in verdict_lines(
        result["behind"], {"f1": "top-5 F1", "precision": "precision", "recall": "recall"}
    ):
        say(line)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("QUALITY_DATA_DIR") or ROOT / ".." / "shared/data/dev"),
        help="folder with the dev data (default: $QUALITY_DATA_DIR or ../shared/data/dev)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "quality.json")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL URL: its server gets a scratch database "
        f"{PG_SCRATCH_NAME} (created, dropped); default a SQLite file in a temp dir",
    )
    parser.add_argument(
        "--only", nargs="*", choices=["enrolments", "catalog"], default=["enrolments", "catalog"]
    )
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--ease-lambda", type=float, default=200.0)
    parser.add_argument(
        "--knn-neighbours",
        type=int,
        default=None,
        help="neighbours each course keeps in the item-item cosine baseline (default: all)",
    )
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for the baselines")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per command")
    parser.add_argument("--keep-temp", action="store_true", help="keep the temp dir's files")
    parser.add_argument("--strict", action="store_true", help="exit 1 when behind a baseline")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.data_dir = args.data_dir.resolve()
    needed = {"enrolments": ENROLMENTS_FILE, "catalog": CATALOG_FILE}
    missing = [needed[name] for name in args.only if not (args.data_dir / needed[name]).is_file()]
    if missing:
        say(
            f"quality: missing {', '.join(missing)} in {args.data_dir}. Point --data-dir "
            "(or QUALITY_DATA_DIR) at the folder holding the development data sets."
        )
        return 2
    if args.database_url and not args.database_url.startswith(("postgres://", "postgresql://")):
        say("quality: --database-url must be a PostgreSQL URL (the default is a SQLite file)")
        return 2
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="skillpath-quality-"))
    scratch = ScratchDatabase(args.database_url, workdir)
    results: dict = {"database": "postgresql" if args.database_url else "sqlite"}
    try:
        if "enrolments" in args.only:
            results["enrolments"] = enrolments_run(args, scratch, workdir)
        if "catalog" in args.only:
            results["catalog"] = catalog_run(args, scratch, workdir)
    finally:
        if args.keep_temp:
            say(f"temp files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    results["seconds"] = time.perf_counter() - started

    if "enrolments" in results:
        enrolments_print(results["enrolments"])
    if "catalog" in results:
        catalog_print(results["catalog"])
    behind = any(
        names
        for part in ("enrolments", "catalog")
        for names in results.get(part, {}).get("behind", {}).values()
    )
    results["ahead_of_every_baseline"] = not behind
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=float))
    say()
    say(
        f"quality: {'ahead of every baseline' if not behind else 'BEHIND'} "
        f"({results['seconds']:.0f} s); figures in {args.out}"
    )
    return 1 if behind and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
