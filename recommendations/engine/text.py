"""TF-IDF text similarity between courses, and text-profile scores for members.

Text similarity needs no interactions, so it is how a brand-new course reaches members: a
member's engaged courses pull in courses whose title, description and skills read alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from recommendations.engine.sparse_ops import Sparse, as_csr, presence, top_k_per_row

__all__ = [
    "TextIndex",
    "course_text",
    "text_index_build",
    "text_index_query",
    "text_profile_scores",
    "text_similarity",
    "tfidf_vectors",
]


def course_text(title: str, description: str, skill_names: Iterable[str]) -> str:
    """The text a course is compared by: title, description and skill names, one per line."""
    return "\n".join([title, description, *skill_names])


def _vectorizer(min_df: int) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        sublinear_tf=True, stop_words="english", ngram_range=(1, 2), min_df=min_df
    )


def tfidf_vectors(texts: Sequence[str], *, min_df: int = 1) -> sp.csr_array:
    """L2-normalised TF-IDF rows (courses × terms).

    ``TfidfVectorizer`` with sublinear tf, English stop words, unigrams and bigrams. Texts
    without any usable term (or no texts at all) give empty rows.
    """
    vectorizer = _vectorizer(min_df)
    try:
        vectors = vectorizer.fit_transform(list(texts))
    except ValueError:  # empty vocabulary: nothing but stop words, or no texts
        return sp.csr_array((len(texts), 0))
    return as_csr(vectors, copy=False)


@dataclass(frozen=True)
class TextIndex:
    """TF-IDF rows of a fixed set of texts, and the vocabulary that weighs other texts alike."""

    vectorizer: Any  # a fitted TfidfVectorizer; None when the texts had no usable term
    vectors: sp.csr_array  # (texts × terms), L2-normalised


def text_index_build(texts: Sequence[str], *, min_df: int = 1) -> TextIndex:
    """The TF-IDF index of `texts` (the same weighting as :func:`tfidf_vectors`)."""
    vectorizer = _vectorizer(min_df)
    try:
        vectors = vectorizer.fit_transform(list(texts))
    except ValueError:  # empty vocabulary
        return TextIndex(vectorizer=None, vectors=sp.csr_array((len(texts), 0)))
    return TextIndex(vectorizer=vectorizer, vectors=as_csr(vectors, copy=False))


def text_index_query(index: TextIndex, texts: Sequence[str], *, top_k: int) -> sp.csr_array:
    """Cosine similarity of `texts` to the indexed texts, shape (texts × indexed), each row cut
    to its `top_k` best (ties: lower index). Terms the index never saw count for nothing, so
    a text is compared in the index's vocabulary."""
    n_indexed = index.vectors.shape[0]
    if index.vectorizer is None or not texts:
        return sp.csr_array((len(texts), n_indexed))
    queries = as_csr(index.vectorizer.transform(list(texts)), copy=False)
    scores = as_csr(queries @ index.vectors.T.tocsr(), copy=False)
    return top_k_per_row(scores, k=top_k)


def text_similarity(
    texts: Sequence[str],
    *,
    top_k: int | None = 20,
    min_df: int = 1,
    block_size: int = 2048,
    columns: ArrayLike | None = None,
) -> sp.csr_array:
    """Cosine similarity of course texts' TF-IDF vectors, shape (courses × courses).

    The diagonal is zero. With ``top_k`` each row keeps its k most similar courses (ties: lower
    index), so row i answers "what reads most like course i"; without it the matrix is
    symmetric. ``columns`` (courses,) bool limits the courses that may appear as neighbours
    (e.g. only cold courses), which is much cheaper when they are few. Rows are computed
    ``block_size`` at a time.
    """
    vectors = tfidf_vectors(texts, min_df=min_df)
    n_courses = vectors.shape[0]
    targets = np.arange(n_courses) if columns is None else np.flatnonzero(columns)
    transposed = vectors[targets].T.tocsr()
    blocks = []
    for start in range(0, n_courses, block_size):
        stop = min(start + block_size, n_courses)
        block = as_csr(vectors[start:stop] @ transposed, copy=False)
        # Back from target numbering to course indices, then drop self-similarity.
        block = sp.csr_array(
            (block.data, targets[block.indices], block.indptr), shape=(stop - start, n_courses)
        )
        rows = np.repeat(np.arange(stop - start), np.diff(block.indptr))
        block.data[block.indices == rows + start] = 0.0
        block.eliminate_zeros()
        block = as_csr(block, copy=False)
        blocks.append(block if top_k is None else top_k_per_row(block, k=top_k))
    if not blocks:
        return sp.csr_array((n_courses, n_courses))
    return as_csr(sp.vstack(blocks, format="csr"), copy=False)


def text_profile_scores(
    member_course: Sparse, text_sim: Sparse, *, exclude_seen: bool = True
) -> sp.csr_array:
    """Text-profile scores (members × courses): ``M⁺ · S``.

    ``M⁺`` keeps the positive entries of ``member_course`` (interaction weights; dismissals and
    zeros drop out), ``S`` is :func:`text_similarity`. A course scores by how much it reads
    like the courses the member engaged with, weighted by engagement, so a course nobody has
    touched yet still scores. With ``exclude_seen`` courses the member has any entry for
    (including dismissed ones, if negative entries are passed) are removed.
    """
    engaged = as_csr(member_course)
    seen = presence(engaged)
    engaged.data[engaged.data < 0] = 0.0
    engaged.eliminate_zeros()
    scores = as_csr(engaged @ as_csr(text_sim), copy=False)
    if exclude_seen:
        scores = as_csr(scores - scores.multiply(seen), copy=False)
    return scores
