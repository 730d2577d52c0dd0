"""Helpers every part of the generator uses: slugs, epoch seconds, row normalisation, sampling
from sparse rows, Zipf weights, and the names people and teachers are drawn from."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import scipy.sparse as sp


def demo_slugify(*, text: str) -> str:
    """ASCII slug that keeps "C", "C++" and "C#" apart ("c", "cpp", "csharp")."""
    lowered = text.lower().replace("++", "pp").replace("#", "sharp").replace("+", "plus")
    return re.sub(r"[^a-z0-9]+", "-", lowered).strip("-") or "item"


def unique_slugs(texts: list[str], max_length: int) -> list[str]:
    seen: set[str] = set()
    slugs = []
    for text in texts:
        base = demo_slugify(text=text)[: max_length - 8].strip("-")
        slug, n = base, 1
        while slug in seen:
            n += 1
            slug = f"{base}-{n}"
        seen.add(slug)
        slugs.append(slug)
    return slugs


def epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def row_normalize(matrix: sp.csr_matrix) -> sp.csr_matrix:
    matrix = sp.csr_matrix(matrix, dtype=np.float64)
    sums = np.asarray(matrix.sum(axis=1)).ravel()
    scale = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
    return sp.csr_matrix(sp.diags(scale) @ matrix)


class CsrSampler:
    """Draws one column per requested row of a sparse matrix, from that (normalised, non-empty)
    row's weights; the lookup is built once, for matrices sampled round after round.

    Each row's cumulative weights are shifted by the row number so a single sorted array covers
    every row, and `row + uniform` lands inside the right one.
    """

    def __init__(self, matrix: sp.csr_matrix) -> None:
        self.matrix = matrix
        indptr = matrix.indptr
        lengths = np.diff(indptr)
        row_of_entry = np.repeat(np.arange(matrix.shape[0]), lengths)
        cumulative = np.cumsum(matrix.data)
        before_row = np.concatenate([[0.0], cumulative])[indptr[:-1]]
        self.keys = row_of_entry + (cumulative - np.repeat(before_row, lengths))

    def sample(self, rng: np.random.Generator, rows: np.ndarray) -> np.ndarray:
        indptr = self.matrix.indptr
        positions = np.searchsorted(self.keys, rows + rng.random(len(rows)), side="left")
        positions = np.clip(positions, indptr[rows], indptr[rows + 1] - 1)
        return self.matrix.indices[positions]


def pick_rows_without_replacement(
    rng: np.random.Generator, weights: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """For each row of `weights` (rows x items), a mask of `counts[row]` items, weighted.

    Exponential keys divided by the weights, smallest first: the same law as drawing one item
    after another without replacement, vectorised over rows.
    """
    with np.errstate(divide="ignore"):
        keys = rng.exponential(size=weights.shape) / weights
    ranks = np.argsort(np.argsort(keys, axis=1), axis=1)
    return ranks < counts[:, None]


def zipf_weights(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    ranks = rng.permutation(n) + 1
    weights = 1.0 / ranks**exponent
    return weights / weights.sum()


def join_names(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + (", and " if len(names) > 2 else " and ") + names[-1]


_FIRST = """Ada Alan Amara Ana Andre Anika Ben Carla Chen Chloe Dana David Diego Elena Emeka Eva
Farah Felix Grace Hana Hugo Ines Ivan Jamal Jana Jonas Julia Kai Kenji Lara Leo Lina Lucas Maya Mei
Mira Nadia Noah Nora Omar Priya Rafael Rosa Sam Sara Sofia Tariq Tom Vera Yusuf Zoe"""


_LAST = """Adams Alvarez Bauer Becker Brown Castro Chen Cohen Costa Das Diaz Dubois Evans Fischer
Garcia Gupta Hansen Hughes Ito Jensen Kaur Khan Kim Kowalski Lee Lopez Martin Meyer Moreau Nakamura
Nguyen Novak Okafor Olsen Patel Perez Quinn Rossi Santos Schmidt Silva Singh Suzuki Tanaka Taylor
Walker Wang Weber Wilson Young Zhang"""


FIRST_NAMES = tuple(_FIRST.split())


LAST_NAMES = tuple(_LAST.split())
