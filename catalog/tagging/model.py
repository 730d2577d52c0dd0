"""Stage 2: learn from curated tags which skills a course's text teaches.

Two candidates, both over the same TF-IDF features of a course's text, both returning calibrated
probabilities (a confidence of 0.7 should be right about 70 % of the time):

- `LogisticTagger`: one-vs-rest logistic regression, one binary classifier per skill, each
  calibrated by Platt scaling on internal cross-validation folds (`CalibratedClassifierCV`).
- `NeighbourTagger`: label propagation from the `k` most similar training courses (cosine over
  TF-IDF), each neighbour's tags weighted by its similarity; the raw score is calibrated by one
  Platt curve fitted on leave-one-out scores of the training courses.

Only skills with at least `min_positives` training courses are modelled; the rest fall back to
stage 1 (`combine`), because a classifier fitted on two examples mostly learns their titles.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

# Probabilities below this are not worth carrying around: they are never suggested and never
# reach a course's top five while real candidates exist.
MIN_REPORTED_PROBABILITY = 0.02
CALIBRATION_FOLDS = 3

Scores = dict[int, float]


class Tagger(Protocol):
    modelled_skills: frozenset[int]

    def fit(self, texts: Sequence[str], labels: Sequence[Iterable[int]]) -> Tagger: ...

    def predict(self, texts: Sequence[str]) -> list[Scores]: ...


def _vectorizer() -> TfidfVectorizer:
    # Tokens keep "+" and "#" and may be one character long, so "C++", "C#" and "R" are features.
    return TfidfVectorizer(
        lowercase=True,
        token_pattern=r"(?u)\w[\w+#]*",
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=1,
    )


def _label_matrix(
    labels: Sequence[Iterable[int]], min_positives: int
) -> tuple[np.ndarray, sp.csr_matrix]:
    """The modelled skill ids (sorted) and the courses × those skills 0/1 matrix."""
    counts: dict[int, int] = {}
    for row in labels:
        for skill_id in set(row):
            counts[skill_id] = counts.get(skill_id, 0) + 1
    skill_ids = np.array(sorted(s for s, n in counts.items() if n >= min_positives), dtype=np.int64)
    column = {int(s): j for j, s in enumerate(skill_ids)}
    rows, cols = [], []
    for i, row in enumerate(labels):
        for skill_id in set(row):
            if skill_id in column:
                rows.append(i)
                cols.append(column[skill_id])
    matrix = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(labels), len(skill_ids)))
    return skill_ids, matrix


def _scores_from_matrix(probabilities: np.ndarray, skill_ids: np.ndarray) -> list[Scores]:
    out = []
    for row in probabilities:
        keep = np.flatnonzero(row >= MIN_REPORTED_PROBABILITY)
        out.append({int(skill_ids[j]): round(float(row[j]), 4) for j in keep})
    return out


class LogisticTagger:
    def __init__(self, *, min_positives: int = 5, c: float = 10.0, seed: int = 0) -> None:
        self.min_positives = min_positives
        self.c = c
        self.seed = seed
        self.modelled_skills: frozenset[int] = frozenset()

    def fit(self, texts: Sequence[str], labels: Sequence[Iterable[int]]) -> LogisticTagger:
        self._vectorizer = _vectorizer()
        features = self._vectorizer.fit_transform(texts)
        self._skill_ids, y = _label_matrix(labels, self.min_positives)
        self.modelled_skills = frozenset(int(s) for s in self._skill_ids)
        y = y.toarray().astype(np.int8)
        self._classifiers = []
        for j in range(y.shape[1]):
            # Balanced weights: a skill is on a few percent of courses, and unweighted the
            # classifier learns that "no" is almost always right.
            base = LogisticRegression(
                C=self.c, class_weight="balanced", solver="liblinear", random_state=self.seed
            )
            classifier = CalibratedClassifierCV(base, method="sigmoid", cv=CALIBRATION_FOLDS)
            self._classifiers.append(classifier.fit(features, y[:, j]))
        return self

    def predict(self, texts: Sequence[str]) -> list[Scores]:
        if not self._classifiers or not texts:
            return [{} for _ in texts]
        features = self._vectorizer.transform(texts)
        probabilities = np.column_stack(
            [classifier.predict_proba(features)[:, 1] for classifier in self._classifiers]
        )
        return _scores_from_matrix(probabilities, self._skill_ids)


class NeighbourTagger:
    def __init__(self, *, min_positives: int = 5, k: int = 10) -> None:
        self.min_positives = min_positives
        self.k = k
        self.modelled_skills: frozenset[int] = frozenset()

    def fit(self, texts: Sequence[str], labels: Sequence[Iterable[int]]) -> NeighbourTagger:
        self._vectorizer = _vectorizer()
        self._features = self._vectorizer.fit_transform(texts).tocsr()
        self._skill_ids, self._labels = _label_matrix(labels, self.min_positives)
        self.modelled_skills = frozenset(int(s) for s in self._skill_ids)
        self._calibration = None
        if not len(self._skill_ids):
            return self
        # Leave-one-out scores of the training courses (a course is not its own neighbour)
        # give honest (raw score, was it a tag) pairs to calibrate on.
        similarity = (self._features @ self._features.T).toarray()
        np.fill_diagonal(similarity, 0.0)
        raw = self._raw_scores(similarity)
        truth = self._labels.toarray() > 0
        considered = raw > 0
        x, y = raw[considered], truth[considered]
        if len(np.unique(y)) == 2:
            self._calibration = LogisticRegression(C=1e4).fit(x.reshape(-1, 1), y)
        return self

    def _raw_scores(self, similarity: np.ndarray) -> np.ndarray:
        """Similarity-weighted share of the top-k neighbours carrying each skill."""
        k = min(self.k, similarity.shape[1])
        top = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        weights = np.take_along_axis(similarity, top, axis=1).clip(min=0.0)
        rows = np.repeat(np.arange(similarity.shape[0]), k)
        neighbours = sp.csr_matrix((weights.ravel(), (rows, top.ravel())), shape=similarity.shape)
        totals = weights.sum(axis=1, keepdims=True)
        propagated = (neighbours @ self._labels).toarray()
        return np.divide(propagated, totals, out=np.zeros_like(propagated), where=totals > 0)

    def predict(self, texts: Sequence[str]) -> list[Scores]:
        if not len(self._skill_ids) or not texts:
            return [{} for _ in texts]
        features = self._vectorizer.transform(texts)
        raw = self._raw_scores((features @ self._features.T).toarray())
        if self._calibration is not None:
            calibrated = self._calibration.predict_proba(raw.reshape(-1, 1))[:, 1].reshape(
                raw.shape
            )
            # No neighbour carries the skill: no evidence at all, whatever the curve's intercept.
            probabilities = np.where(raw > 0, calibrated, 0.0)
        else:
            probabilities = raw
        return _scores_from_matrix(probabilities, self._skill_ids)


CANDIDATES = {"logistic": LogisticTagger, "neighbours": NeighbourTagger}


def tagger_build(*, kind: str, min_positives: int) -> Tagger:
    try:
        return CANDIDATES[kind](min_positives=min_positives)
    except KeyError:
        known = sorted(CANDIDATES)
        raise ValueError(f"Unknown tagger model {kind!r}; choose one of {known}.") from None


def combine(
    *, stage1: Scores, stage2: Scores, modelled: frozenset[int]
) -> dict[int, tuple[float, str]]:
    """Skill id → (confidence, source) for one course.

    A modelled skill gets the mean of its stage-1 confidence and the model's probability (zero
    where either has nothing): measured on the demo catalog, the mean beats the model alone and
    the larger of the two at the operating threshold, because a mention with the model's
    agreement is far likelier a real tag than either alone. Every other skill keeps its stage-1
    confidence. A mean of a rule score and a probability is no longer calibrated; it ranks.
    """
    combined = {s: (c, "tagger") for s, c in stage1.items() if s not in modelled}
    for skill_id in (stage1.keys() | stage2.keys()) & modelled:
        confidence = (stage1.get(skill_id, 0.0) + stage2.get(skill_id, 0.0)) / 2
        combined[skill_id] = (round(confidence, 4), "model")
    return combined
