"""Mapping database ids to array positions: every array in a snapshot is indexed by position."""

import numpy as np


def positions_of(sorted_ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Position of each wanted id in a sorted id array, -1 where absent."""
    wanted = np.asarray(wanted, dtype=np.int64)
    if sorted_ids.size == 0:
        return np.full(wanted.shape, -1, dtype=np.int64)
    found = np.searchsorted(sorted_ids, wanted)
    found = np.clip(found, 0, sorted_ids.size - 1)
    return np.where(sorted_ids[found] == wanted, found, -1).astype(np.int64)
