"""Metrics for a tagger against curated tags, and k-fold cross-validation over courses.

Micro-averaged over (course, skill) pairs: precision = correct suggestions / suggestions,
recall = correct suggestions / curated tags. "At threshold" counts every suggestion at or above
the operating threshold (for the tagger: the suggestions it stores, at its chosen threshold and
per-course limit); "top k" counts each course's k most confident suggestions (any confidence
above zero). Skill coverage is the share of curated skills (skills with at least one
curated tag among the evaluated courses) that the tagger suggests correctly at least once at the
operating threshold: a skill it never finds is a skill curators must always tag by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from catalog.tagging.model import Scores, SkillTagger, apply_operating_point


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
    matches: Sequence[Scores],
    build: Callable[[], SkillTagger],
    folds: int,
    seed: int,
    fallback_threshold: float,
    top_k: int,
) -> dict[str, dict[str, object]]:
    """Name matching alone and the tagger, each scored on courses it was not fitted on.

    Name matching needs no training, so it is scored on every course at once, at the fallback
    threshold. The tagger is fitted on the other folds' curated tags (choosing its own
    operating point by cross-validation inside them) and scored on the held-out fold: "at
    threshold" counts the suggestions it would store there (its threshold and per-course
    limit), "top k" each course's k most confident candidates.
    """
    results: dict[str, dict[str, object]] = {
        "stage1": metrics_summary(
            truth=truth, scores=matches, threshold=fallback_threshold, top_k=top_k
        )
    }
    assignment = fold_assignments(len(texts), folds=folds, seed=seed)
    scored: list[Scores] = [{} for _ in texts]
    stored: list[Scores] = [{} for _ in texts]
    for fold in range(folds):
        train = np.flatnonzero(assignment != fold)
        test = np.flatnonzero(assignment == fold)
        tagger = build().fit(
            [texts[i] for i in train], [truth[i] for i in train], [matches[i] for i in train]
        )
        predicted = tagger.predict([texts[i] for i in test], [matches[i] for i in test])
        suggested = apply_operating_point(predicted, tagger.operating_point)
        for i, all_scores, kept in zip(test, predicted, suggested, strict=True):
            scored[i], stored[i] = all_scores, kept
    results["combined"] = {
        "at_threshold": metrics_at_threshold(truth=truth, scores=stored, threshold=0.0),
        f"top_{top_k}": metrics_top_k(truth=truth, scores=scored, k=top_k),
        "skill_coverage": skill_coverage(truth=truth, scores=stored, threshold=0.0),
    }
    return results
