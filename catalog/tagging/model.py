"""The learned tagger: one confidence per (course, skill) from every signal at once.

Features. A course's text (title, description, category names) becomes two TF-IDF vectors, word
1–2 grams and character 3–5 grams within words (`char_wb`), both with sublinear term frequency;
each is L2-normalised and the two are stacked and scaled so that the dot product of two courses
is the mean of their word and character cosine similarities.

Signals for a candidate skill of a course, all computed from the curated (approved) tags:

- **Neighbour votes.** The curated courses most similar to the course vote for their skills,
  each vote weighted by similarity raised to a power; a skill's vote is its share of the total
  weight. Two votes are kept: a narrow one (`NARROW_K` neighbours, similarity as it is) and a
  wide one (`WIDE_K` neighbours, similarity cubed), and the similarity of the closest curated
  course that carries the skill.
- **Per-skill linear models.** For each skill with at least `min_positives` curated courses,
  a ridge regression of "has the skill" on the TF-IDF features. All skills are solved at once
  in the dual (kernel) form, over the courses' similarity matrix, which is exact for a linear
  model and much faster than one classifier per skill.
- **Name and synonym matches** (`matching.py`): the stage-1 confidence, given as input.
- **How common the skill is** among the curated courses, and the candidate's rank in the course.

A small logistic regression (the stacker) turns these into one probability. It is trained on
out-of-fold signals: the curated courses are split into `folds` folds and each fold's signals
come from the other folds only, so it learns how far to trust each signal on courses the
neighbours and linear models have not seen, as the untagged courses will be.

The operating point. The same out-of-fold probabilities choose the confidence threshold and the
number of suggestions per course that maximise micro F1 over (course, skill) pairs
(`operating_point_choose`); the chosen point and its precision, recall and F1 are on
`SkillTagger.operating_point`, and `suggest` applies it.

Too few curated courses to learn from (fewer than `MIN_CURATED_COURSES`, or no skill on two of
them): the tagger falls back to name matching alone (`learned` is False), with the configured
threshold and no per-course limit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

Scores = dict[int, float]

MIN_CURATED_COURSES = 20
NARROW_K = 10
WIDE_K = 40
WIDE_POWER = 3.0
RIDGE_ALPHA = 1.0
# Candidates per course handed to the stacker: the best by neighbour vote and linear score,
# plus every skill the text names.
CANDIDATES_PER_COURSE = 40
# The operating point is searched over 1..MAX_PER_COURSE suggestions per course.
MAX_PER_COURSE = 20
BATCH_SIZE = 500

FEATURE_NAMES = (
    "narrow_vote",
    "wide_vote",
    "nearest_carrier",
    "linear",
    "modelled",
    "name_match",
    "named",
    "log_prior",
    "log_rank",
)


def _vectorizers() -> tuple[TfidfVectorizer, TfidfVectorizer]:
    # Word tokens keep "+" and "#" and may be one character long, so "C++", "C#" and "R" count.
    words = TfidfVectorizer(
        lowercase=True,
        token_pattern=r"(?u)\w[\w+#]*",
        ngram_range=(1, 2),
        sublinear_tf=True,
        dtype=np.float32,
    )
    chars = TfidfVectorizer(
        lowercase=True,
        analyzer="char_wb",
        ngram_range=(3, 5),
        sublinear_tf=True,
        dtype=np.float32,
    )
    return words, chars


class TextFeatures:
    """Word and character TF-IDF, stacked so a dot product is the mean of the two cosines."""

    def fit(self, texts: Sequence[str]) -> TextFeatures:
        self._words, self._chars = _vectorizers()
        self._words.fit(texts)
        self._chars.fit(texts)
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        scale = np.float32(1 / math.sqrt(2))
        stacked = sp.hstack([self._words.transform(texts), self._chars.transform(texts)])
        return (stacked * scale).tocsr()


def _label_matrix(labels: Sequence[Iterable[int]], skill_ids: np.ndarray) -> sp.csr_matrix:
    column = {int(s): j for j, s in enumerate(skill_ids)}
    rows, cols = [], []
    for i, row in enumerate(labels):
        for skill_id in set(row):
            if skill_id in column:
                rows.append(i)
                cols.append(column[skill_id])
    data = np.ones(len(rows), dtype=np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(labels), len(skill_ids)))


class _Signals:
    """Neighbour votes and dual ridge scores of query courses against one set of curated ones."""

    def __init__(
        self, features: sp.csr_matrix, labels: sp.csr_matrix, *, modelled: np.ndarray, alpha: float
    ) -> None:
        self.features = features
        self.labels = labels  # courses × all known skills
        counts = np.asarray(labels.sum(axis=0)).ravel()
        self.counts = counts
        self.modelled = modelled[counts[modelled] > 0]
        self.dual = None
        if len(self.modelled):
            # Single precision is plenty: with the ridge on the diagonal every eigenvalue is at
            # least `alpha`, and it halves the time of the factorisation.
            gram = (features @ features.T).toarray().astype(np.float32)
            gram[np.diag_indices_from(gram)] += alpha
            targets = labels[:, self.modelled].toarray().astype(np.float32)
            factor = scipy.linalg.cho_factor(gram, overwrite_a=True, check_finite=False)
            self.dual = scipy.linalg.cho_solve(factor, targets, check_finite=False)

    def compute(self, similarity: np.ndarray) -> dict[str, np.ndarray]:
        """Dense queries × skills arrays of each learned signal."""
        n_query, n_train = similarity.shape
        n_skills = self.labels.shape[1]
        out = {}
        for name, k, power in (("narrow_vote", NARROW_K, 1.0), ("wide_vote", WIDE_K, WIDE_POWER)):
            k = min(k, n_train)
            top = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
            weights = np.take_along_axis(similarity, top, axis=1).clip(min=0.0) ** power
            rows = np.repeat(np.arange(n_query), k)
            votes = sp.csr_matrix((weights.ravel(), (rows, top.ravel())), shape=(n_query, n_train))
            totals = weights.sum(axis=1, keepdims=True)
            summed = (votes @ self.labels).toarray()
            out[name] = np.divide(summed, totals, out=np.zeros_like(summed), where=totals > 0)
            if name == "wide_vote":
                nearest = np.zeros((n_query, n_skills), dtype=np.float32)
                sims = np.take_along_axis(similarity, top, axis=1).clip(min=0.0)
                for j in range(k):
                    carried = self.labels[top[:, j]].toarray()
                    np.maximum(nearest, carried * sims[:, j : j + 1], out=nearest)
                out["nearest_carrier"] = nearest
        linear = np.zeros((n_query, n_skills), dtype=np.float32)
        if self.dual is not None:
            linear[:, self.modelled] = similarity @ self.dual
        out["linear"] = linear
        return out


@dataclass(frozen=True)
class OperatingPoint:
    threshold: float
    max_per_course: int | None
    precision: float
    recall: float
    f1: float

    def as_dict(self) -> dict:
        return asdict(self)


def operating_point_choose(
    *,
    course: np.ndarray,
    probability: np.ndarray,
    correct: np.ndarray,
    actual: int,
    max_per_course: int = MAX_PER_COURSE,
) -> OperatingPoint:
    """The threshold and per-course limit that maximise micro F1 over candidate pairs.

    `course`, `probability` and `correct` describe every candidate (course, skill) pair; `actual`
    is the number of curated tags, including those no candidate covers (they count as missed).
    A pair is suggested when it is among its course's `max_per_course` most probable and at or
    above the threshold. Ties prefer the higher cut, then the smaller limit: fewer, surer
    suggestions for the same F1. The threshold lies halfway between the last probability kept
    and the next one left out, so courses scored later that fall between the two (a fit on
    every curated course scores a little differently than the folds did) are not decided by
    which side of an edge case they land on.
    """
    if not len(probability) or actual == 0:
        return OperatingPoint(threshold=1.0, max_per_course=1, precision=0, recall=0, f1=0)
    order = np.lexsort((-probability, course))
    course, probability, correct = course[order], probability[order], correct[order]
    starts = np.r_[0, np.flatnonzero(np.diff(course)) + 1]
    rank = np.arange(len(course)) - np.repeat(starts, np.diff(np.r_[starts, len(course)]))
    best = (-1.0, 0.0, 0)
    best_point = None
    for limit in range(1, max_per_course + 1):
        keep = rank < limit
        p, c = probability[keep], correct[keep].astype(np.float64)
        by_confidence = np.argsort(-p, kind="stable")
        p, c = p[by_confidence], c[by_confidence]
        hits = np.cumsum(c)
        suggested = np.arange(1, len(p) + 1)
        # Only cut where the next probability differs, so a threshold keeps all its ties.
        cut = np.r_[p[1:] < p[:-1], True]
        precision = hits / suggested
        recall = hits / actual
        f1 = np.where(hits > 0, 2 * precision * recall / (precision + recall + 1e-12), 0.0)
        f1 = np.where(cut, f1, -1.0)
        i = int(np.argmax(f1))
        key = (round(float(f1[i]), 6), float(p[i]), -limit)
        if key > best:
            best = key
            below = float(p[i + 1]) if i + 1 < len(p) else 0.0
            best_point = OperatingPoint(
                threshold=round((float(p[i]) + below) / 2, 4),
                max_per_course=limit,
                precision=round(float(precision[i]), 4),
                recall=round(float(recall[i]), 4),
                f1=round(float(f1[i]), 4),
            )
        if limit > int(rank.max()) + 1:
            break
    assert best_point is not None
    return best_point


def apply_operating_point(scores: Sequence[Scores], point: OperatingPoint) -> list[Scores]:
    """Each course's suggestions: at or above the threshold, at most `max_per_course`."""
    out = []
    for predicted in scores:
        ranked = sorted(
            ((s, c) for s, c in predicted.items() if c >= point.threshold),
            key=lambda item: (-item[1], item[0]),
        )
        if point.max_per_course is not None:
            ranked = ranked[: point.max_per_course]
        out.append(dict(ranked))
    return out


class SkillTagger:
    """Fit on curated courses (text, approved skills, name matches); score any course's text."""

    def __init__(
        self,
        *,
        min_positives: int = 5,
        folds: int = 5,
        seed: int = 0,
        fallback_threshold: float = 0.4,
        min_curated: int = MIN_CURATED_COURSES,
    ) -> None:
        self.min_positives = min_positives
        self.folds = folds
        self.seed = seed
        self.fallback_threshold = fallback_threshold
        self.min_curated = min_curated
        self.learned = False
        self.modelled_skills: frozenset[int] = frozenset()
        self.operating_point = OperatingPoint(
            threshold=fallback_threshold, max_per_course=None, precision=0, recall=0, f1=0
        )
        self.fallback_reason = ""

    # Fitting -----------------------------------------------------------------------------------

    def fit(
        self,
        texts: Sequence[str],
        labels: Sequence[Iterable[int]],
        matches: Sequence[Scores],
    ) -> SkillTagger:
        labels = [set(row) for row in labels]
        counts: dict[int, int] = {}
        for row in labels:
            for skill_id in row:
                counts[skill_id] = counts.get(skill_id, 0) + 1
        if len(texts) < max(self.min_curated, 2 * self.folds):
            self.fallback_reason = (
                f"{len(texts)} curated courses, fewer than the "
                f"{max(self.min_curated, 2 * self.folds)} needed to learn from"
            )
            return self
        if not any(n >= 2 for n in counts.values()):
            self.fallback_reason = "no skill is curated on two courses or more"
            return self
        self._skill_ids = np.array(sorted(counts), dtype=np.int64)
        self._column = {int(s): j for j, s in enumerate(self._skill_ids)}
        self._text_features = TextFeatures().fit(texts)
        features = self._text_features.transform(texts)
        y = _label_matrix(labels, self._skill_ids)
        # The skills with linear models are chosen once, on every curated course, so that each
        # fold models the same skills as the final fit (a skill just over the minimum would
        # otherwise be modelled only in the final fit, with signals the stacker never saw).
        modelled = np.flatnonzero(np.asarray(y.sum(axis=0)).ravel() >= self.min_positives)

        # Out-of-fold signals of every curated course train the stacker and choose the point.
        order = np.random.default_rng(self.seed).permutation(len(texts))
        fold_of = np.empty(len(texts), dtype=np.int64)
        fold_of[order] = np.arange(len(texts)) % self.folds
        blocks = []
        for fold in range(self.folds):
            train = np.flatnonzero(fold_of != fold)
            test = np.flatnonzero(fold_of == fold)
            signals = _Signals(features[train], y[train], modelled=modelled, alpha=RIDGE_ALPHA)
            blocks.append(
                self._candidates(
                    signals,
                    features[test],
                    [matches[i] for i in test],
                    n_train=len(train),
                    course_index=test,
                )
            )
        course = np.concatenate([b[0] for b in blocks])
        skill = np.concatenate([b[1] for b in blocks])
        x = np.vstack([b[2] for b in blocks])
        truth = np.array(
            [int(skill[i]) in labels[course[i]] for i in range(len(course))], dtype=bool
        )
        if truth.all() or not truth.any():
            self.fallback_reason = "the curated tags give no positive and negative examples"
            return self
        self._mean = x.mean(axis=0)
        self._scale = x.std(axis=0) + 1e-6
        self._stacker = LogisticRegression(C=1.0, max_iter=1000).fit(
            (x - self._mean) / self._scale, truth
        )
        probability = self._stacker.predict_proba((x - self._mean) / self._scale)[:, 1]
        self.operating_point = operating_point_choose(
            course=course,
            probability=probability,
            correct=truth,
            actual=sum(len(row) for row in labels),
        )
        self.stacker_weights = dict(
            zip(FEATURE_NAMES, (round(float(w), 3) for w in self._stacker.coef_[0]), strict=True)
        )
        self._signals = _Signals(features, y, modelled=modelled, alpha=RIDGE_ALPHA)
        self.modelled_skills = frozenset(int(s) for s in self._skill_ids[self._signals.modelled])
        self._n_train = len(texts)
        self.learned = True
        return self

    def _candidates(
        self,
        signals: _Signals,
        query: sp.csr_matrix,
        matches: Sequence[Scores],
        *,
        n_train: int,
        course_index: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(course index, skill id, feature rows) of every candidate pair of the queries."""
        similarity = (query @ signals.features.T).toarray()
        computed = signals.compute(similarity)
        pre = computed["wide_vote"] + computed["narrow_vote"] + computed["linear"].clip(min=0)
        k = min(CANDIDATES_PER_COURSE, pre.shape[1])
        top = np.argpartition(-pre, k - 1, axis=1)[:, :k]
        n_query, n_skills = pre.shape
        chosen = np.zeros((n_query, n_skills), dtype=bool)
        rows = np.repeat(np.arange(n_query), k)
        in_top = pre[rows, top.ravel()] > 0
        chosen[rows[in_top], top.ravel()[in_top]] = True
        # Every named skill is a candidate too; one no curated course carries has no column.
        named = np.zeros((n_query, n_skills), dtype=np.float64)
        unknown: list[tuple[int, int, float]] = []
        for q, found in enumerate(matches):
            for skill_id, confidence in found.items():
                j = self._column.get(skill_id)
                if j is None:
                    unknown.append((q, skill_id, confidence))
                else:
                    named[q, j] = confidence
                    chosen[q, j] = True
        q_known, j_known = np.nonzero(chosen)
        # Rank within the course by the pre-score (the stacker's `log_rank`).
        order = np.lexsort((-pre[q_known, j_known], q_known))
        q_known, j_known = q_known[order], j_known[order]
        per_course = np.bincount(q_known, minlength=n_query)
        starts = np.r_[0, np.cumsum(per_course)[:-1]]
        rank = np.arange(len(q_known)) - starts[q_known]
        modelled = np.zeros(n_skills, dtype=bool)
        modelled[signals.modelled] = True
        match = named[q_known, j_known]
        x_known = np.column_stack(
            [
                computed["narrow_vote"][q_known, j_known],
                computed["wide_vote"][q_known, j_known],
                computed["nearest_carrier"][q_known, j_known],
                computed["linear"][q_known, j_known],
                modelled[j_known],
                match,
                match > 0,
                np.log((signals.counts[j_known] + 1.0) / (n_train + 1.0)),
                np.log1p(rank),
            ]
        ).astype(np.float64)
        x_unknown = np.zeros((len(unknown), len(FEATURE_NAMES)), dtype=np.float64)
        q_unknown = np.array([q for q, _, _ in unknown], dtype=np.int64)
        extra_rank = np.zeros(n_query, dtype=np.int64)
        for row, (q, _skill_id, confidence) in enumerate(unknown):
            x_unknown[row, 5:9] = [
                confidence,
                confidence > 0,
                math.log(1.0 / (n_train + 1.0)),
                math.log1p(per_course[q] + extra_rank[q]),
            ]
            extra_rank[q] += 1
        courses = np.concatenate([course_index[q_known], course_index[q_unknown]])
        skills = np.concatenate(
            [self._skill_ids[j_known], np.array([s for _, s, _ in unknown], dtype=np.int64)]
        )
        return courses.astype(np.int64), skills, np.vstack([x_known, x_unknown])

    # Scoring -----------------------------------------------------------------------------------

    def predict(self, texts: Sequence[str], matches: Sequence[Scores]) -> list[Scores]:
        """Every candidate skill of each course with its confidence (a probability)."""
        if not self.learned:
            return [dict(m) for m in matches]
        out: list[Scores] = [{} for _ in texts]
        for start in range(0, len(texts), BATCH_SIZE):
            batch = list(range(start, min(start + BATCH_SIZE, len(texts))))
            query = self._text_features.transform([texts[i] for i in batch])
            course, skill, x = self._candidates(
                self._signals,
                query,
                [matches[i] for i in batch],
                n_train=self._n_train,
                course_index=np.array(batch),
            )
            if not len(course):
                continue
            probability = self._stacker.predict_proba((x - self._mean) / self._scale)[:, 1]
            for i, s, p in zip(course, skill, probability, strict=True):
                out[int(i)][int(s)] = round(float(p), 4)
        return out

    def suggest(self, texts: Sequence[str], matches: Sequence[Scores]) -> list[Scores]:
        """The suggestions to store: `predict` cut at the operating point."""
        return apply_operating_point(self.predict(texts, matches), self.operating_point)
