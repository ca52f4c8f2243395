"""Score candidate sites, every component its own column.

Components, per candidate, all within the walking cutoff ``T``:

=========================  ======================================================  ===================
column                     meaning                                                 scored as
=========================  ======================================================  ===================
``covered_incidents``      incidents within the cutoff (a count of rows)           (not scored)
``covered_demand_weight``  their summed demand weight                              ``demand``
``access_demand_weight``   ``sum w * (1 - t / T)`` over them: demand weight,       ``walk``
                           discounted by the walk ``t`` to the site
``mean_walk_min``          mean walk of the covered incidents, minutes             (not scored)
``services_within``        homeless services within the cutoff                     ``services``
``nearest_service_min``    walk to the nearest service (NaN: none within cutoff)   ``service_access``
``hotspot_demand_weight``  covered demand weight lying in significant Gi* hotspots ``hotspot``
``hotspot_share``          that weight as a share of ``covered_demand_weight``     (not scored)
``layer_<name>``           weighted count of an extra layer within the cutoff      ``layer_<name>``
=========================  ======================================================  ===================

How the composite is made
    The three demand components (``demand``, ``walk``, ``hotspot``) are all demand
    weight, so they share one scale: their weighted sum ``D = (w_d * covered +
    w_w * access + w_h * hotspot) / (w_d + w_w + w_h)`` is divided by the largest ``D``
    among the *eligible* candidates. Walking time therefore discounts demand rather than
    competing with it: the score follows coverage unless the weights say otherwise. With
    the default weights and no other layer, no candidate outranks one covering more than
    twice its demand weight (``D`` lies between ``0.64 * covered`` and ``covered``), and
    adding demand to a candidate's catchment never lowers its rank.

    Services within reach and each extra layer are divided by their largest value among
    the eligible candidates; the nearest service scores ``1 - t / T``.

    ``score`` is the weighted sum of these normalised components divided by the sum of the
    weights in use (:data:`DEFAULT_WEIGHTS`, settable; an ``avoid`` layer's weight counts
    against the score), and the ``part_<component>`` columns are each component's share,
    so the parts add up to the score. A component with no data (no services layer, no
    hotspot found) drops out. ``rank`` 1 is the best; ties keep the input order. Excluded
    candidates keep their components (normalised on the eligible candidates' scale, so
    they can exceed 1) but get no rank.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._errors import InputError

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence

    import numpy.typing as npt
    from scipy import sparse

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
#: The components measured in demand weight, scored on one shared scale.
DEMAND_COMPONENTS = ("demand", "walk", "hotspot")


@dataclass(frozen=True)
class ExtraLayer:
    """An extra point layer's reach from the candidates and its say in the score."""

    name: str
    role: str  # "attract" | "avoid" | "demand" | "services"
    weight: float
    #: candidates x layer points, walking metres within cutoff (``None``: summed elsewhere)
    metres: sparse.csr_matrix | None
    point_weight: npt.NDArray[np.float64]


def weight_problems(
    weights: Mapping[str, float] | None, layers: Mapping[str, tuple[str, float]]
) -> list[str]:
    """Problems with component weights, every one (empty when all is well).

    ``layers`` maps each extra layer's name to ``(role, weight)``. A weight must be a
    finite number; it may be negative only for an ``avoid`` layer (where the sign does
    not matter: an avoid layer always counts against the score).

    Examples
    --------
    >>> weight_problems({"demand": -1, "walk": float("nan")}, {"bars": ("avoid", -0.2)})
    ['component weight demand=-1 is negative; only an avoid layer may have a negative weight', \
'component weight walk=nan is not a finite number']
    """
    problems: list[str] = []
    roles = {f"layer_{name}": role for name, (role, _) in layers.items()}
    given = {f"layer_{name}": w for name, (_, w) in layers.items()}
    given.update(dict(weights or {}))
    known = set(COMPONENTS) | set(roles)
    unknown = sorted(set(given) - known)
    if unknown:
        problems.append(
            f"unknown score weight(s) {', '.join(unknown)}; known components are {', '.join(sorted(known))}"
        )
    for key, value in given.items():
        try:
            v = float(value)
        except (TypeError, ValueError):
            problems.append(f"component weight {key}={value!r} is not a number")
            continue
        if not math.isfinite(v):
            problems.append(f"component weight {key}={value} is not a finite number")
        elif v < 0 and roles.get(key) != "avoid":
            problems.append(
                f"component weight {key}={value:g} is negative; "
                "only an avoid layer may have a negative weight"
            )
    return problems


def check_weights(weights: Mapping[str, float] | None, layers: Mapping[str, tuple[str, float]]) -> None:
    """Raise :class:`~siting._errors.InputError` naming every bad component weight."""
    problems = weight_problems(weights, layers)
    if problems:
        msg = "; ".join(problems)
        raise InputError(msg)


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
        Candidates x demand points (one per incident), walking metres within
        ``cutoff_m``; absent = beyond.
    demand_weight
        Demand weight per incident (e.g. fatal incidents count more).
    service_metres
        Candidates x services, walking metres within ``cutoff_m``.
    extra
        Extra layers (see :class:`ExtraLayer`).
    weights
        Component weights; keys from :data:`COMPONENTS` and ``layer_<name>``.
    excluded
        Candidates that may not be chosen (scored, but unranked, and left out of every
        normalisation).
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
    >>> t[["covered_incidents", "covered_demand_weight", "access_demand_weight", "rank"]].to_dict("list")
    {'covered_incidents': [1, 0], 'covered_demand_weight': [2.0, 0.0], 'access_demand_weight': [1.0, 0.0], \
'rank': [1.0, 2.0]}
    """
    from scipy import sparse  # here: a plain score takes its sums in the searches

    n = len(candidate_ids)
    check_weights(weights, {e.name: (e.role, e.weight) for e in extra})
    demand_weight = np.asarray(demand_weight, dtype=np.float64)
    demand_metres = sparse.csr_matrix(demand_metres)
    if demand_metres.shape[0] != n or demand_metres.shape[1] != demand_weight.size:
        msg = "`demand_metres` must be candidates x demand points"
        raise InputError(msg)
    check_demand_weight(demand_weight)
    hot = None
    if demand_in_hotspot is not None and np.any(demand_in_hotspot):
        hot = _row_sums(demand_metres, demand_weight * np.asarray(demand_in_hotspot, dtype=np.float64))
    services = None
    if service_metres is not None:
        sm = sparse.csr_matrix(service_metres)
        nearest = np.full(n, np.inf)
        nz = np.diff(sm.indptr) > 0
        if nz.any():
            nearest[nz] = np.minimum.reduceat(sm.data, sm.indptr[:-1][nz])
        services = (np.diff(sm.indptr).astype(np.int64), nearest)
    totals = CandidateTotals(
        covered_incidents=np.diff(demand_metres.indptr).astype(np.int64),
        covered_weight=_row_sums(demand_metres, demand_weight),
        # walking accessibility: each covered incident's weight, discounted linearly to 0 at T
        access_weight=_row_sums(
            demand_metres, demand_weight, lambda d: np.clip(1.0 - d / cutoff_m, 0.0, 1.0)
        ),
        walk_metres=np.asarray(demand_metres.sum(axis=1)).ravel(),
        hotspot_weight=hot,
        services=services,
        layers=[_row_sums(sparse.csr_matrix(e.metres), e.point_weight) for e in extra],
    )
    return score_totals(
        candidate_ids,
        totals,
        cutoff_m=cutoff_m,
        speed_m_per_min=speed_m_per_min,
        extra=extra,
        weights=weights,
        excluded=excluded,
    )


def check_demand_weight(demand_weight: npt.NDArray[np.float64]) -> None:
    if not np.all(np.isfinite(demand_weight)) or np.any(demand_weight < 0):
        msg = "`demand_weight` must be finite and >= 0"
        raise InputError(msg)


@dataclass(frozen=True, eq=False)
class CandidateTotals:
    """Per candidate, the sums over what lies within the cutoff that a score is made of.

    ``covered_incidents``, ``covered_weight`` (their demand weight), ``access_weight``
    (``sum w * clip(1 - t / T, 0, 1)``), ``walk_metres`` (``sum t``), ``hotspot_weight``
    (covered weight in significant hotspots; ``None``: no hotspot), ``services`` (count
    within the cutoff and nearest metres, ``inf`` where none; ``None``: no services
    layer) and ``layers`` (each extra layer's weighted count, in the order of ``extra``).
    Either summed from the pairs (:func:`score_candidates`) or inside the walks
    (:func:`siting.reach_sums.reach_sums`): the same sums in the same order.
    """

    covered_incidents: npt.NDArray[np.int64]
    covered_weight: npt.NDArray[np.float64]
    access_weight: npt.NDArray[np.float64]
    walk_metres: npt.NDArray[np.float64]
    hotspot_weight: npt.NDArray[np.float64] | None = None
    services: tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]] | None = None
    layers: Sequence[npt.NDArray[np.float64]] = ()


def score_totals(
    candidate_ids: Sequence[str],
    totals: CandidateTotals,
    *,
    cutoff_m: float,
    speed_m_per_min: float,
    extra: Sequence[ExtraLayer] = (),
    weights: Mapping[str, float] | None = None,
    excluded: npt.NDArray[np.bool_] | None = None,
) -> pd.DataFrame:
    """The score table of :func:`score_candidates` from per-candidate totals.

    ``extra`` gives the extra layers' names, roles and weights (their ``metres`` are not
    read: ``totals.layers`` holds their sums).
    """
    n = len(candidate_ids)
    ids = [str(i) for i in candidate_ids]
    check_weights(weights, {e.name: (e.role, e.weight) for e in extra})
    w = dict(DEFAULT_WEIGHTS)
    for e in extra:
        w[f"layer_{e.name}"] = float(e.weight)
    w.update({k: float(v) for k, v in (weights or {}).items()})
    excl = np.zeros(n, dtype=bool) if excluded is None else np.asarray(excluded, dtype=bool)
    eligible = ~excl

    table = pd.DataFrame(index=pd.RangeIndex(n))
    table.insert(0, "candidate_id", ids)
    n_cov = totals.covered_incidents
    table["covered_incidents"] = n_cov
    covered_w = totals.covered_weight
    table["covered_demand_weight"] = covered_w
    access = totals.access_weight
    table["access_demand_weight"] = access
    walk_sum = totals.walk_metres / speed_m_per_min
    with np.errstate(invalid="ignore", divide="ignore"):
        table["mean_walk_min"] = np.where(n_cov > 0, walk_sum / np.maximum(n_cov, 1), np.nan)

    raw: dict[str, npt.NDArray[np.float64]] = {"demand": covered_w, "walk": access}
    if totals.services is not None:
        within_n, nearest_m = totals.services
        table["services_within"] = np.asarray(within_n, dtype=np.int64)
        with np.errstate(invalid="ignore"):
            table["nearest_service_min"] = np.where(within_n > 0, nearest_m / speed_m_per_min, np.nan)
    else:
        w["services"] = 0.0
        w["service_access"] = 0.0

    if totals.hotspot_weight is not None:
        hot_w = totals.hotspot_weight
        table["hotspot_demand_weight"] = hot_w
        with np.errstate(invalid="ignore", divide="ignore"):
            table["hotspot_share"] = np.where(
                covered_w > 0, hot_w / np.where(covered_w > 0, covered_w, 1), np.nan
            )
        raw["hotspot"] = hot_w
    else:
        w["hotspot"] = 0.0

    values = dict(raw)
    if totals.services is not None:
        values["services"] = table["services_within"].to_numpy(dtype=np.float64)
        values["service_access"] = table["nearest_service_min"].to_numpy(dtype=np.float64)
    avoid = set()
    for e, sums in zip(extra, totals.layers, strict=True):
        col = f"layer_{e.name}"
        table[col] = values[col] = sums
        if e.role == "avoid":
            avoid.add(col)
    in_use = {k: w[k] for k in values if w[k] != 0}
    parts = composite(values, in_use, eligible=eligible, cutoff_min=cutoff_m / speed_m_per_min, avoid=avoid)
    for k in in_use:
        table[f"part_{k}"] = parts[f"part_{k}"]
    score = parts["score"]
    table["score"] = score
    table["excluded"] = excl
    rank = np.full(n, np.nan)
    ok = np.flatnonzero(eligible)
    order = ok[np.lexsort((ok, -score[ok]))]
    rank[order] = np.arange(1, order.size + 1)
    table["rank"] = rank
    table.attrs["weights"] = in_use
    table.attrs["cutoff_min"] = cutoff_m / speed_m_per_min
    return table


def composite(
    values: Mapping[str, npt.NDArray[np.float64]],
    weights: Mapping[str, float],
    *,
    eligible: npt.NDArray[np.bool_] | None = None,
    cutoff_min: float,
    avoid: Collection[str] = (),
) -> dict[str, npt.NDArray[np.float64]]:
    """The score parts and the score from raw component values (the formula in the module doc).

    Parameters
    ----------
    values
        Raw values per candidate: ``demand`` (covered demand weight), ``walk`` (access
        demand weight), ``hotspot`` (hotspot demand weight), ``services`` (count within
        the cutoff), ``service_access`` (minutes to the nearest service, NaN: none) and
        ``layer_<name>``. Keys without a weight are ignored.
    weights
        The weights in use (every component that counts, including any whose part the
        caller computes itself: they share the denominator).
    eligible
        Candidates that set the scale (default: all).
    cutoff_min
        The walking cutoff in minutes (for ``service_access``).
    avoid
        ``layer_<name>`` keys that count against the score.

    Returns
    -------
    dict
        ``part_<k>`` for every key of ``values`` with a weight, and ``score`` (their sum).

    Examples
    --------
    >>> v = {"demand": np.array([40.0, 0.0]), "walk": np.array([20.0, 0.0]),
    ...      "layer_pharmacies": np.array([0.0, 6.0])}
    >>> p = composite(v, {"demand": 0.45, "walk": 0.15, "layer_pharmacies": 0.2}, cutoff_min=10)
    >>> p["score"].round(3).tolist()
    [0.75, 0.25]
    """
    first = next(iter(values.values()), np.zeros(0))
    n = len(first)
    ok = np.ones(n, bool) if eligible is None else np.asarray(eligible, dtype=bool)
    total = sum(abs(float(x)) for x in weights.values())
    norm: dict[str, npt.NDArray[np.float64]] = {}
    # demand, walk and hotspot are all demand weight: one scale, the best eligible mix
    dem_keys = [k for k in DEMAND_COMPONENTS if k in values and weights.get(k, 0) != 0]
    if dem_keys:
        dem_w = sum(weights[k] for k in dem_keys)
        mix = np.zeros(n)
        for k in dem_keys:
            mix += weights[k] * np.asarray(values[k], dtype=np.float64) / dem_w
        top = _eligible_max(mix, ok)
        for k in dem_keys:
            norm[k] = np.asarray(values[k], dtype=np.float64) / top if top > 0 else np.zeros(n)
    for k, v in values.items():
        if k in DEMAND_COMPONENTS or weights.get(k, 0) == 0:
            continue
        arr = np.asarray(v, dtype=np.float64)
        if k == "service_access":
            norm[k] = np.where(np.isnan(arr), 0.0, np.clip(1 - arr / cutoff_min, 0, 1))
        else:
            norm[k] = (-1.0 if k in avoid else 1.0) * _share_of_max(arr, ok)
    out: dict[str, npt.NDArray[np.float64]] = {}
    score = np.zeros(n)
    for k, v in norm.items():
        part = (abs(weights[k]) / total) * v if total > 0 else np.zeros(n)
        out[f"part_{k}"] = part
        score = score + part
    out["score"] = score
    return out


def _row_sums(
    mat: sparse.csr_matrix,
    weight: npt.NDArray[np.float64],
    factor: npt.NDArray[np.float64] | Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]] | None = None,
) -> npt.NDArray[np.float64]:
    """Per row, the summed ``weight`` of the columns present, each times ``factor`` (per
    entry: an array, or a function of the entries' values).

    Explicit zeros count: a zero distance is real. No copy of the matrix, and blocks of
    rows at a time: at county size it has millions of entries, and each temporary over
    all of them would be ~100 MB.

    >>> from scipy import sparse
    >>> m = sparse.csr_matrix(([0.0, 5.0, 7.0], [0, 2, 1], [0, 2, 2, 3]), shape=(3, 3))
    >>> _row_sums(m, np.array([1.0, 10.0, 100.0])).tolist()
    [101.0, 0.0, 10.0]
    >>> _row_sums(m, np.array([1.0, 10.0, 100.0]), np.array([1.0, 0.5, 0.1])).tolist()
    [51.0, 0.0, 1.0]
    """
    out = np.zeros(mat.shape[0])
    if mat.indices.size == 0:
        return out
    w = np.asarray(weight, dtype=np.float64)
    ptr = mat.indptr
    r0 = 0
    while r0 < mat.shape[0]:
        # rows r0..r1 hold about _ROW_BLOCK entries (at least one row)
        r1 = max(r0 + 1, int(np.searchsorted(ptr, ptr[r0] + _ROW_BLOCK, side="right")) - 1)
        r1 = min(r1, mat.shape[0])
        a, b = int(ptr[r0]), int(ptr[r1])
        if b > a:
            vals = w[mat.indices[a:b]]
            if callable(factor):
                vals *= factor(mat.data[a:b])
            elif factor is not None:
                vals *= factor[a:b]
            starts = ptr[r0:r1] - a
            full = np.diff(ptr[r0 : r1 + 1]) > 0
            out[r0:r1][full] = np.add.reduceat(vals, starts[full])
        r0 = r1
    return out


#: Entries summed per block in :func:`_row_sums` (8 MB of temporaries a block).
_ROW_BLOCK = 1 << 20


def _eligible_max(values: npt.NDArray[np.float64], eligible: npt.NDArray[np.bool_]) -> float:
    """The largest value among eligible candidates (all candidates when none is eligible)."""
    pool = values[eligible] if eligible.any() else values
    return float(np.max(pool)) if pool.size else 0.0


def _share_of_max(
    values: npt.NDArray[np.float64], eligible: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float64]:
    top = _eligible_max(values, eligible)
    if top <= 0:
        return np.zeros_like(values, dtype=np.float64)
    return np.asarray(values, dtype=np.float64) / top
