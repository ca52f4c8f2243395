"""Score candidate sites, every component its own column.

Components, per candidate, all within the walking cutoff:

========================  =====================================================  ===========
column                    meaning                                                normalised
========================  =====================================================  ===========
``covered_weight``        summed weight of demand (incidents) within the cutoff  / max over candidates
``covered_count``         number of incidents within the cutoff                  (not scored)
``mean_walk_min``         weighted mean walk of covered demand, minutes          1 - t / cutoff
``services_within``       homeless services within the cutoff                    / max over candidates
``nearest_service_min``   walk to the nearest service (NaN: none within cutoff)  1 - t / cutoff
``hotspot_weight``        covered weight lying in significant Gi* hotspots       / max over candidates
``hotspot_share``         that weight as a share of ``covered_weight``           (not scored)
``layer_<name>``          weighted count of an extra layer within the cutoff     / max over candidates
========================  =====================================================  ===========

``score`` is the weighted mean of the normalised components (weights :data:`DEFAULT_WEIGHTS`,
settable; an ``avoid`` layer's weight counts against the score), and the ``part_<component>``
columns are each component's share, so the parts add up to the score. ``rank`` 1 is the best;
ties keep the input order. Excluded candidates keep their components but get no rank.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from ._errors import InputError

#: Default component weights (sum 1). Demand reach dominates; walking time, services
#: within reach, the nearest service and demand in statistically significant hotspots
#: refine it. Every weight is settable. A component with no data (no services layer, no
#: hotspot found) drops out and the others are renormalised.
DEFAULT_WEIGHTS: dict[str, float] = {
    "demand": 0.45,
    "walk": 0.15,
    "services": 0.15,
    "service_access": 0.15,
    "hotspot": 0.10,
}
COMPONENTS = tuple(DEFAULT_WEIGHTS)


@dataclass(frozen=True)
class ExtraLayer:
    """An extra point layer's reach from the candidates and its say in the score."""

    name: str
    role: str  # "attract" | "avoid" | "demand" | "services"
    weight: float
    metres: sparse.csr_matrix  # candidates x layer points, walking metres within cutoff
    point_weight: npt.NDArray[np.float64]


def _row_sums(mat: sparse.csr_matrix, weight: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Per row, the summed ``weight`` of the columns present (explicit zeros count: a zero
    distance is real). No copy of the matrix: at county size it has millions of entries.

    >>> m = sparse.csr_matrix(([0.0, 5.0, 7.0], [0, 2, 1], [0, 2, 2, 3]), shape=(3, 3))
    >>> _row_sums(m, np.array([1.0, 10.0, 100.0])).tolist()
    [101.0, 0.0, 10.0]
    """
    out = np.zeros(mat.shape[0])
    if mat.indices.size == 0:
        return out
    vals = np.asarray(weight, dtype=np.float64)[mat.indices]
    starts = mat.indptr[:-1]
    full = np.diff(mat.indptr) > 0
    out[full] = np.add.reduceat(vals, starts[full])
    return out


def score_candidates(
    candidate_ids: Sequence[str],
    *,
    demand_metres: sparse.csr_matrix,
    demand_weight: npt.NDArray[np.float64],
    cutoff_m: float,
    speed_m_per_min: float,
    service_metres: sparse.csr_matrix | None = None,
    extra: Sequence[ExtraLayer] = (),
    weights: Mapping[str, float] | None = None,
    excluded: npt.NDArray[np.bool_] | None = None,
    demand_in_hotspot: npt.NDArray[np.bool_] | None = None,
) -> pd.DataFrame:
    """Score candidates from walking distances already limited to the cutoff.

    Parameters
    ----------
    candidate_ids
        The candidates' own ids (text), in row order of the matrices.
    demand_metres
        Candidates x demand points, walking metres within ``cutoff_m``; absent = beyond.
    demand_weight
        Weight per demand point (e.g. fatal incidents count more).
    service_metres
        Candidates x services, walking metres within ``cutoff_m``.
    extra
        Extra layers (see :class:`ExtraLayer`).
    weights
        Component weights; keys from :data:`COMPONENTS` and ``layer_<name>``.
    excluded
        Candidates that may not be chosen (scored, but unranked).
    demand_in_hotspot
        Per demand point: does it lie in a significant hotspot? ``None``: no hotspot analysis.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``candidate_ids``; see the module docstring for the columns.

    Examples
    --------
    >>> from scipy import sparse
    >>> import numpy as np
    >>> # candidate "a" reaches demand point 1 at 400 m; "b" reaches nothing
    >>> d = sparse.csr_matrix(([400.0], ([0], [1])), shape=(2, 2))
    >>> t = score_candidates(["a", "b"], demand_metres=d, demand_weight=np.array([1.0, 2.0]),
    ...                      cutoff_m=800, speed_m_per_min=80)
    >>> t[["covered_weight", "mean_walk_min", "rank"]].to_dict("list")
    {'covered_weight': [2.0, 0.0], 'mean_walk_min': [5.0, nan], 'rank': [1.0, 2.0]}
    """
    n = len(candidate_ids)
    ids = [str(i) for i in candidate_ids]
    w = dict(DEFAULT_WEIGHTS)
    if weights:
        w.update({k: float(v) for k, v in weights.items()})
    known = set(COMPONENTS) | {f"layer_{e.name}" for e in extra}
    unknown = sorted(set(w) - known)
    if unknown:
        msg = f"unknown score weight(s) {', '.join(unknown)}; known components are {', '.join(sorted(known))}"
        raise InputError(msg)
    for e in extra:
        w.setdefault(f"layer_{e.name}", e.weight)
    cutoff_min = cutoff_m / speed_m_per_min
    demand_metres = sparse.csr_matrix(demand_metres)
    if demand_metres.shape[0] != n or demand_metres.shape[1] != demand_weight.size:
        msg = "`demand_metres` must be candidates x demand points"
        raise InputError(msg)

    table = pd.DataFrame(index=pd.RangeIndex(n))
    table.insert(0, "candidate_id", ids)
    covered_w = _row_sums(demand_metres, demand_weight)
    table["covered_weight"] = covered_w
    table["covered_count"] = np.diff(demand_metres.indptr).astype(np.int64)
    wm = sparse.csr_matrix(
        (demand_metres.data, demand_metres.indices, demand_metres.indptr), shape=demand_metres.shape
    )
    walk_sum = np.asarray(wm @ demand_weight).ravel() / speed_m_per_min
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_walk = np.where(covered_w > 0, walk_sum / np.where(covered_w > 0, covered_w, 1), np.nan)
    # a covered set with total weight 0 still has a walking time: use the plain mean
    zero_w = (covered_w == 0) & (table["covered_count"].to_numpy() > 0)
    if zero_w.any():
        plain = np.asarray(wm.sum(axis=1)).ravel() / np.maximum(table["covered_count"].to_numpy(), 1)
        mean_walk[zero_w] = plain[zero_w] / speed_m_per_min
    table["mean_walk_min"] = mean_walk

    if service_metres is not None:
        sm = sparse.csr_matrix(service_metres)
        table["services_within"] = np.diff(sm.indptr).astype(np.int64)
        nearest = np.full(n, np.nan)
        nz = np.diff(sm.indptr) > 0
        if nz.any():
            mins = np.minimum.reduceat(sm.data, sm.indptr[:-1][nz]) if sm.data.size else np.array([])
            nearest[nz] = mins / speed_m_per_min
        table["nearest_service_min"] = nearest
    else:
        w["services"] = 0.0
        w["service_access"] = 0.0

    if demand_in_hotspot is not None and np.any(demand_in_hotspot):
        hot_w = _row_sums(demand_metres, demand_weight * np.asarray(demand_in_hotspot, dtype=np.float64))
        table["hotspot_weight"] = hot_w
        with np.errstate(invalid="ignore", divide="ignore"):
            table["hotspot_share"] = np.where(covered_w > 0, hot_w / np.where(covered_w > 0, covered_w, 1), np.nan)
    else:
        w["hotspot"] = 0.0

    norm: dict[str, npt.NDArray[np.float64]] = {}
    norm["demand"] = _share_of_max(covered_w)
    norm["walk"] = np.where(np.isnan(mean_walk), 0.0, np.clip(1 - mean_walk / cutoff_min, 0, 1))
    if service_metres is not None:
        norm["services"] = _share_of_max(table["services_within"].to_numpy(dtype=np.float64))
        ns = table["nearest_service_min"].to_numpy()
        norm["service_access"] = np.where(np.isnan(ns), 0.0, np.clip(1 - ns / cutoff_min, 0, 1))
    if "hotspot_weight" in table.columns:
        norm["hotspot"] = _share_of_max(table["hotspot_weight"].to_numpy(dtype=np.float64))
    for e in extra:
        col = f"layer_{e.name}"
        em = sparse.csr_matrix(e.metres)
        val = _row_sums(em, e.point_weight)
        table[col] = val
        sign = -1.0 if e.role == "avoid" else 1.0
        norm[col] = sign * _share_of_max(val)

    norm = {k: v for k, v in norm.items() if w[k] != 0}
    total = sum(abs(w[k]) for k in norm)
    score = np.zeros(n)
    for k, v in norm.items():
        part = (abs(w[k]) / total) * v if total > 0 else np.zeros(n)
        table[f"part_{k}"] = part
        score += part
    table["score"] = score
    excl = np.zeros(n, dtype=bool) if excluded is None else np.asarray(excluded, dtype=bool)
    table["excluded"] = excl
    rank = np.full(n, np.nan)
    ok = np.flatnonzero(~excl)
    order = ok[np.lexsort((ok, -score[ok]))]
    rank[order] = np.arange(1, order.size + 1)
    table["rank"] = rank
    table.attrs["weights"] = {k: w[k] for k in norm}
    table.attrs["cutoff_min"] = cutoff_min
    return table


def _share_of_max(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    top = float(np.max(values)) if values.size else 0.0
    if top <= 0:
        return np.zeros_like(values, dtype=np.float64)
    return np.asarray(values, dtype=np.float64) / top
