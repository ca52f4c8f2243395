"""Shared pieces of the models: array types, the validated cost matrix, merged demand rows."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from .._errors import InputError

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

#: Relative tolerance of objective comparisons in the greedy and swaps.
EPS = 1e-9


def bincount(x: Any, weights: Any = None, minlength: int = 0) -> Any:
    """np.bincount that returns floats when weighted, even for empty input."""
    out = np.bincount(np.asarray(x, np.int64), weights=weights, minlength=minlength)
    return out.astype(np.float64) if weights is not None else out


def to_coo(costs: Any, cutoff: float | None) -> tuple[sparse.coo_matrix, int, int]:
    """Validated COO (candidates x demand) of finite entries within the cutoff."""
    if sparse.issparse(costs):
        coo = sparse.coo_matrix(costs)
        data = np.asarray(coo.data, np.float64)
        row, col = coo.row, coo.col
    else:
        arr = np.asarray(costs, dtype=np.float64)
        if arr.ndim != 2:
            msg = f"the cost matrix must be 2-D (candidates x demand), got shape {arr.shape}"
            raise InputError(msg)
        row, col = np.nonzero(np.isfinite(arr))
        data = arr[row, col]
        coo = sparse.coo_matrix((data, (row, col)), shape=arr.shape)
    n_c, n_d = coo.shape
    ok = np.isfinite(data)
    if np.any(data[ok] < 0):
        msg = "the cost matrix has negative entries; travel times and distances must be >= 0"
        raise InputError(msg)
    if cutoff is not None:
        if not (math.isfinite(cutoff) and cutoff >= 0):
            msg = f"`cutoff` must be a finite number >= 0, got {cutoff}"
            raise InputError(msg)
        ok &= data <= cutoff
    row, col, data = row[ok], col[ok], data[ok]
    if len(row):
        key = row.astype(np.int64) * n_d + col
        if len(np.unique(key)) != len(key):
            msg = "the cost matrix has duplicate (candidate, demand) entries; give each pair once"
            raise InputError(msg)
    return sparse.coo_matrix((data, (row, col)), shape=(n_c, n_d)), n_c, n_d


@dataclass
class Rows:
    """Demand-major sparse costs after merging: row r has entries ``ptr[r]:ptr[r+1]``."""

    ptr: I64
    cand: I64  # compact candidate index (active candidates only)
    dist: F64
    weight: F64  # merged weight of each row

    @property
    def n(self) -> int:
        return len(self.weight)

    def row_of_entry(self) -> I64:
        return np.repeat(np.arange(self.n, dtype=np.int64), np.diff(self.ptr))

    def covered(self, mask: Mask) -> npt.NDArray[np.bool_]:
        """Per row: is it within the cutoff of an open candidate?"""
        cnt = bincount(self.row_of_entry()[mask[self.cand]], minlength=self.n)
        return np.asarray(cnt > 0)


def merge_rows(d_row: I64, d_cand: I64, d_dist: F64, w: F64, *, by_distance: bool) -> tuple[Rows, float]:
    """Merge demand points no model can tell apart into one row with their summed weight.

    Covering models merge points with the same covering candidates; with ``by_distance``
    (the p-median) the distances must match too. Within a row, entries are sorted by
    candidate (covering) or by distance then candidate (median). Returns the rows and the
    weight no candidate reaches.
    """
    n_d = len(w)
    order = np.lexsort((d_cand, d_dist, d_row)) if by_distance else np.lexsort((d_dist, d_cand, d_row))
    d_row, d_cand, d_dist = d_row[order], d_cand[order], d_dist[order]
    counts = bincount(d_row, minlength=n_d)
    ptr = np.concatenate([[0], np.cumsum(counts)])
    reached = np.flatnonzero(counts > 0)
    unreached_weight = float(w[counts == 0].sum())
    # key per reached row: its candidate pattern (and distances for the median)
    cand32 = d_cand.astype(np.int32)
    if by_distance:
        keys = [
            cand32[ptr[r] : ptr[r + 1]].tobytes() + d_dist[ptr[r] : ptr[r + 1]].tobytes() for r in reached
        ]
    else:
        keys = [cand32[ptr[r] : ptr[r + 1]].tobytes() for r in reached]
    codes, _ = pd.factorize(pd.Series(keys, dtype=object), sort=False)
    n_u = int(codes.max()) + 1 if len(codes) else 0
    rep = np.full(n_u, -1, np.int64)
    # first demand row of each group is its representative
    first = np.unique(codes, return_index=True)[1]
    rep[codes[first]] = reached[first]
    mw = bincount(codes, weights=w[reached], minlength=n_u)
    lens = counts[rep]
    new_ptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    idx = np.concatenate([np.arange(ptr[r], ptr[r + 1]) for r in rep]) if n_u else np.zeros(0, np.int64)
    return Rows(new_ptr, d_cand[idx], d_dist[idx], mw.astype(np.float64)), unreached_weight
