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
    # a CSR/CSC matrix in canonical form (what siting.reach gives) has no duplicates
    canonical = sparse.issparse(costs) and costs.format in ("csr", "csc") and bool(costs.has_canonical_format)
    if len(row) and not canonical:
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
    candidate (covering) or by distance then candidate (median). Rows keep the order of
    their first demand point. Returns the rows and the weight no candidate reaches.

    Rows are grouped by two 64-bit hashes of their entries (compiled), then every row is
    checked entry by entry against its group's first row, so a hash collision can never
    merge different rows (if one ever occurred, the exact grouping below runs instead).
    """
    from . import _kernels

    n_d = len(w)
    d_row = np.asarray(d_row, np.int64)
    d_cand = np.asarray(d_cand, np.int64)
    d_dist = np.asarray(d_dist, np.float64)
    k1, k2 = (d_dist, d_cand) if by_distance else (d_cand, d_dist)
    if _kernels.pairs_increasing(k1, d_row):
        # entries in (k1, demand row) order, none repeated (a canonical candidates x demand
        # matrix, covering): the stable sort by row leaves every row sorted by k1 alone
        ptr, d_cand, d_dist = _kernels.scatter_by_row(d_row, n_d, d_cand, d_dist)
    else:
        order, ptr = _kernels.sort_by_row(d_row, n_d)
        _kernels.sort_within_rows(ptr, k1, k2, order)
        d_cand, d_dist = d_cand[order], d_dist[order]
    counts = np.diff(ptr)
    reached = np.flatnonzero(counts > 0)
    unreached_weight = float(w[counts == 0].sum())
    bits = d_dist.view(np.uint64)
    h1, h2 = _kernels.row_hashes(ptr, d_cand, bits, by_distance, 0x5EED)
    key = np.empty(len(reached), dtype=[("a", np.uint64), ("b", np.uint64)])
    key["a"], key["b"] = h1[reached], h2[reached]
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    inv = inv.reshape(-1)
    rank = np.empty(len(first), np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    codes = rank[inv]  # groups numbered in order of first appearance
    n_u = len(first)
    rep = np.full(n_u, -1, np.int64)
    rep[codes[first]] = reached[first]
    if not _kernels.rows_equal(ptr, d_cand, bits, by_distance, rep[codes], reached):  # pragma: no cover - 2^-64
        return _merge_rows_exact(ptr, d_cand, d_dist, w, reached, counts, unreached_weight, by_distance)
    mw = bincount(codes, weights=w[reached], minlength=n_u)
    lens = counts[rep]
    new_ptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    idx = np.repeat(ptr[rep] - new_ptr[:-1], lens) + np.arange(int(new_ptr[-1]), dtype=np.int64)
    return Rows(new_ptr, d_cand[idx], d_dist[idx], mw.astype(np.float64)), unreached_weight


def _merge_rows_exact(
    ptr: I64, d_cand: I64, d_dist: F64, w: F64, reached: I64, counts: I64, unreached: float, by_distance: bool
) -> tuple[Rows, float]:
    """:func:`merge_rows` by the rows' bytes (slow; for a hash collision)."""
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
    first = np.unique(codes, return_index=True)[1]
    rep[codes[first]] = reached[first]
    mw = bincount(codes, weights=w[reached], minlength=n_u)
    lens = counts[rep]
    new_ptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    idx = np.repeat(ptr[rep] - new_ptr[:-1], lens) + np.arange(int(new_ptr[-1]), dtype=np.int64)
    return Rows(new_ptr, d_cand[idx], d_dist[idx], mw.astype(np.float64)), unreached
