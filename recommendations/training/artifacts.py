"""Serialise named numpy arrays and sparse matrices to bytes for a training run's artifact.

Uses numpy's npz container with allow_pickle=False, so loading an artifact can never execute
code, whatever is in the database.
"""

import io
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp

_SPARSE_SUFFIXES = ("__data", "__indices", "__indptr", "__shape")

ArtifactValue = np.ndarray | sp.csr_array


def artifact_dumps(values: Mapping[str, ArtifactValue]) -> bytes:
    arrays: dict[str, np.ndarray] = {}
    for name, value in values.items():
        if "__" in name:
            raise ValueError(f"artifact names may not contain '__': {name!r}")
        if sp.issparse(value):
            csr = sp.csr_array(value)
            arrays[f"{name}__data"] = csr.data
            arrays[f"{name}__indices"] = csr.indices
            arrays[f"{name}__indptr"] = csr.indptr
            arrays[f"{name}__shape"] = np.asarray(csr.shape, dtype=np.int64)
        else:
            array = np.asarray(value)
            if array.dtype == object:
                raise TypeError(f"artifact {name!r} has dtype object; store numbers or strings")
            arrays[name] = array
    buffer = io.BytesIO()
    # Uncompressed: float factors barely compress, and compressing 100k members costs seconds.
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def artifact_loads(payload: bytes) -> dict[str, ArtifactValue]:
    with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
        raw = {name: archive[name] for name in archive.files}
    values: dict[str, ArtifactValue] = {}
    sparse_names = {name[: -len("__shape")] for name in raw if name.endswith("__shape")}
    for name in sparse_names:
        values[name] = sp.csr_array(
            (raw[f"{name}__data"], raw[f"{name}__indices"], raw[f"{name}__indptr"]),
            shape=tuple(int(n) for n in raw[f"{name}__shape"]),
        )
    for name, array in raw.items():
        if not name.endswith(_SPARSE_SUFFIXES):
            values[name] = array
    return values
