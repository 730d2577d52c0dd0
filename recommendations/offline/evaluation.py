"""Offline evaluation of the active run: its own held-out split or an external test file."""

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from catalog.models import Course
from members.models import Member
from recommendations import engine
from recommendations.engine.positions import positions_of
from recommendations.models import TrainingRun
from recommendations.training.precompute import learned_models_for_run


class EvaluationUnavailable(Exception):
    pass


@dataclass
class TestFile:
    pairs: list[tuple[int, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unknown: int = 0


def _lookup(rows: list[tuple[int, str | None]]) -> dict[str, int]:
    """External id → pk, and str(pk) → pk (an external id wins over an equal-looking pk)."""
    mapping = {str(pk): pk for pk, _ in rows}
    mapping.update({external: pk for pk, external in rows if external})
    return mapping


def test_file_read(path: Path) -> TestFile:
    """Read `member_id,course_id` rows (external ids, or database ids where there is none)."""
    result = TestFile()
    members = _lookup(list(Member.objects.values_list("pk", "external_id")))
    courses = _lookup(list(Course.objects.values_list("pk", "external_id")))
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"member_id", "course_id"} - set(reader.fieldnames or [])
        if missing:
            raise EvaluationUnavailable(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            member_key = (row.get("member_id") or "").strip()
            course_key = (row.get("course_id") or "").strip()
            if not member_key or not course_key:
                result.errors.append(f"line {line}: member_id and course_id are required")
                continue
            if member_key not in members or course_key not in courses:
                result.unknown += 1
                continue
            result.pairs.append((members[member_key], courses[course_key]))
    return result


def run_evaluate(*, k: int, test_path: Path | None = None) -> dict:
    """Metrics at k of the active run's family ("learned") and of popularity, full ranking,
    seen courses masked.

    Without a test file: the run's own held-out measurement, stored when it was trained (its
    family fitted on the training part; the served model has since been refitted on every
    interaction, held-out ones included, so it cannot be measured on them again). With one:
    the served model, members scored from every interaction it was fitted on.
    """
    run = TrainingRun.objects.filter(is_active=True).only("pk", "kind", "metrics").first()
    if run is None or run.kind != TrainingRun.Kind.LEARNED:
        raise EvaluationUnavailable(
            "No learned run is active (too little activity yet, or never retrained): "
            "run `python manage.py retrain` first."
        )
    models = learned_models_for_run(run.pk)
    report: dict = {"run": run.pk, "k": k, "family": models.family}
    if test_path is None:
        stored = run.metrics or {}
        if k != stored.get("learned", {}).get("k"):
            raise EvaluationUnavailable(
                f"The run measured its held-out split at k={stored.get('learned', {}).get('k')}"
                "; pass --test FILE to measure the served model at another k."
            )
        report["test"] = "held-out split of the run (measured when it was trained)"
        report["learned"] = stored["learned"]
        report["popularity"] = stored["popularity"]
        report["people"] = _people_report(stored)
        return report
    parsed = test_file_read(test_path)
    if parsed.errors:
        raise EvaluationUnavailable("; ".join(parsed.errors[:20]))
    table = np.array(parsed.pairs, dtype=np.int64).reshape(-1, 2)
    rows = positions_of(models.member_ids, table[:, 0])
    cols = positions_of(models.course_ids, table[:, 1])
    known = (rows >= 0) & (cols >= 0)
    test = sp.csr_array(
        (np.ones(int(known.sum())), (rows[known], cols[known])), shape=models.matrix.shape
    )
    test.sum_duplicates()
    test.data[:] = 1.0
    # A test pair the model trained on is no test of it.
    test = engine.as_csr(test - test.multiply(engine.presence(models.matrix)))
    report["test"] = str(test_path)
    report["test_rows_unknown_ids"] = parsed.unknown + int((~known).sum())
    report["learned"] = engine.evaluate_scorer(
        engine.model_scorer(models.model, models.matrix), models.matrix, test, k=k
    )
    report["popularity"] = engine.evaluate_scorer(
        engine.popularity_scorer(models.matrix), models.matrix, test, k=k
    )
    report["people"] = _people_report(run.metrics or {})
    return report


def _people_report(metrics: dict) -> dict:
    """People to learn with on the run's held-out split (`people/training.py`): the share of
    evaluated members with a suggested person who has their held-out course, at k, for the
    learned similarity, the rule-based fallback and random people."""
    people = metrics.get("people") or {}
    return {"mode": people.get("mode"), **(people.get("evaluation") or {})}
