"""Metrics for a tagger against curated tags, and k-fold cross-validation over courses.

Micro-averaged over (course, skill) pairs: precision = correct suggestions / suggestions,
recall = correct suggestions / curated tags. "At threshold" counts every suggestion at or above
the operating threshold; "top k" counts each course's k most confident suggestions (any
confidence above zero). Skill coverage is the share of curated skills (skills with at least one
curated tag among the evaluated courses) that the tagger suggests correctly at least once at the
operating threshold: a skill it never finds is a skill curators must always tag by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from catalog.tagging.model import Scores, Tagger, combine


def _prf(correct: int, suggested: int, actual: int) -> dict[str, float | int]:
    precision = correct / suggested if suggested else 0.0
    recall = correct / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "correct": correct,
        "suggested": suggested,
        "actual": actual,
    }


def metrics_at_threshold(
    *, truth: Sequence[set[int]], scores: Sequence[Scores], threshold: float
) -> dict[str, float | int]:
    correct = suggested = 0
    for tags, predicted in zip(truth, scores, strict=True):
        chosen = {s for s, c in predicted.items() if c >= threshold}
        suggested += len(chosen)
        correct += len(chosen & tags)
    return _prf(correct, suggested, sum(len(t) for t in truth))


def metrics_top_k(
    *, truth: Sequence[set[int]], scores: Sequence[Scores], k: int
) -> dict[str, float | int]:
    correct = suggested = 0
    for tags, predicted in zip(truth, scores, strict=True):
        ranked = sorted((s for s, c in predicted.items() if c > 0), key=lambda s: -predicted[s])
        chosen = set(ranked[:k])
        suggested += len(chosen)
        correct += len(chosen & tags)
    return _prf(correct, suggested, sum(len(t) for t in truth))


def skill_coverage(
    *, truth: Sequence[set[int]], scores: Sequence[Scores], threshold: float
) -> float:
    curated = set().union(*truth) if truth else set()
    found = set()
    for tags, predicted in zip(truth, scores, strict=True):
        found |= {s for s, c in predicted.items() if c >= threshold} & tags
    return round(len(found) / len(curated), 4) if curated else 0.0


def metrics_summary(
    *, truth: Sequence[set[int]], scores: Sequence[Scores], threshold: float, top_k: int
) -> dict[str, object]:
    return {
        "at_threshold": metrics_at_threshold(truth=truth, scores=scores, threshold=threshold),
        f"top_{top_k}": metrics_top_k(truth=truth, scores=scores, k=top_k),
        "skill_coverage": skill_coverage(truth=truth, scores=scores, threshold=threshold),
    }


def fold_assignments(n: int, *, folds: int, seed: int) -> np.ndarray:
    """Fold number per course: a shuffled, balanced split."""
    if folds < 2 or folds > n:
        raise ValueError(f"Cross-validation needs 2 ≤ folds ≤ courses, got {folds} for {n}.")
    order = np.random.default_rng(seed).permutation(n)
    assignment = np.empty(n, dtype=np.int64)
    assignment[order] = np.arange(n) % folds
    return assignment


def cross_validate(
    *,
    texts: Sequence[str],
    truth: Sequence[set[int]],
    stage1: Sequence[Scores],
    build: dict[str, Callable[[], Tagger]],
    folds: int,
    seed: int,
    threshold: float,
    top_k: int,
) -> dict[str, dict[str, object]]:
    """Stage 1 alone, and stage 1 combined with each candidate model, on held-out folds.

    Stage 1 needs no training, so it is scored on every course at once; each model is fitted on
    the other folds' curated tags and scored on the held-out fold's.
    """
    results = {
        "stage1": metrics_summary(truth=truth, scores=stage1, threshold=threshold, top_k=top_k)
    }
    assignment = fold_assignments(len(texts), folds=folds, seed=seed)
    for name, make in build.items():
        combined_scores: list[Scores] = [{} for _ in texts]
        for fold in range(folds):
            train = np.flatnonzero(assignment != fold)
            test = np.flatnonzero(assignment == fold)
            tagger = make().fit([texts[i] for i in train], [truth[i] for i in train])
            predicted = tagger.predict([texts[i] for i in test])
            for i, stage2 in zip(test, predicted, strict=True):
                merged = combine(stage1=stage1[i], stage2=stage2, modelled=tagger.modelled_skills)
                combined_scores[i] = {s: c for s, (c, _source) in merged.items()}
        results[name] = metrics_summary(
            truth=truth, scores=combined_scores, threshold=threshold, top_k=top_k
        )
    return results
