"""What the chosen sites would achieve: reach, the effect zone, deaths averted, capacity.

Every figure is an estimate from the incident data and published effect sizes, not a
promise. Deaths averted are reported as a range, never one number:

* low: 35% fewer overdose deaths within 500 m of Insite, Vancouver (Marshall BDL, Milloy
  M-J, Wood E, Montaner JSG, Kerr T. Reduction in overdose mortality after the opening of
  North America's first medically supervised safer injecting facility: a retrospective
  population-based study. Lancet 2011;377:1429-37);
* high: 67% fewer within 500 m of Toronto's sites (Rammohan I, Gaines T, Scheim A, Bayoumi
  A, Werb D. Overdose mortality incidence and supervised consumption services in Toronto,
  Canada: an ecological study and spatial analysis. Lancet Public Health 2024;9:e79-87).

Both are applied to the fatal incidents within the effect zone (500 m on the street
network) of a chosen site, over the period the incident data covers.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from . import settings
from ._errors import InputError

if TYPE_CHECKING:
    from collections.abc import Sequence

log = logging.getLogger(__name__)

F64 = npt.NDArray[np.float64]

#: Published effect sizes (share of overdose deaths averted within the effect zone).
EFFECT_LOW = 0.35
EFFECT_HIGH = 0.67
SOURCE_LOW = "Marshall et al., Lancet 2011 (Insite, Vancouver: -35% within 500 m)"
SOURCE_HIGH = "Rammohan et al., Lancet Public Health 2024 (Toronto: -67% within 500 m)"
SOURCE_DATA = "incident data"
SOURCE_CAPACITY = "settings.uses_per_booth_per_day (Insite: about 500 visits a day on 12-13 booths)"

COLUMNS = ["measure", "value", "low", "high", "unit", "source"]

__all__ = ["impact_table", "nearest_chosen_distance"]


def nearest_chosen_distance(
    costs_m: Any, candidate_ids: Sequence[str], chosen: Sequence[str]
) -> F64:
    """Per demand point, metres to the nearest chosen site (``inf`` when none is in reach).

    ``costs_m`` is the candidates x demand matrix in metres (sparse: absent = beyond
    reach; explicit zeros are real) or a dense array (``inf``/``NaN`` = beyond reach).

    Examples
    --------
    >>> import numpy as np
    >>> nearest_chosen_distance(np.array([[100.0, np.inf], [300.0, 50.0]]), ["a", "b"], ["a"])
    array([100.,  inf])
    """
    ids = [str(c) for c in candidate_ids]
    pos = {c: i for i, c in enumerate(ids)}
    unknown = [c for c in chosen if str(c) not in pos]
    if unknown:
        msg = f"chosen sites {unknown[:5]} are not candidate ids"
        raise InputError(msg)
    rows = [pos[str(c)] for c in chosen]
    if sparse.issparse(costs_m):
        sub = sparse.csr_matrix(costs_m)[rows].tocoo()
        out = np.full(sub.shape[1], np.inf)
        np.minimum.at(out, sub.col, np.asarray(sub.data, np.float64))
        return out
    arr = np.asarray(costs_m, np.float64)
    if not rows:
        return np.full(arr.shape[1], np.inf)
    sub = np.where(np.isfinite(arr[rows]), arr[rows], np.inf)
    return sub.min(axis=0)


def impact_table(
    distance_m: npt.ArrayLike,
    *,
    cutoff_m: float,
    weights: npt.ArrayLike | None = None,
    fatal: npt.ArrayLike | None = None,
    effect_zone_m: float | None = None,
    demand_per_day: float | None = None,
    uses_per_booth_per_day: float | None = None,
    n_sites: int | None = None,
) -> pd.DataFrame:
    """The impact table for a set of chosen sites.

    Parameters
    ----------
    distance_m
        Per incident, walking metres to the nearest chosen site (``inf``/``NaN`` when
        beyond reach).
    cutoff_m
        The coverage cutoff in metres (minutes x walking speed).
    weights
        Per incident weight (default 1: each incident counts once).
    fatal
        Per incident, whether it was fatal (default: none known, fatal rows are 0).
    effect_zone_m
        The effect zone (default :data:`siting.settings.effect_zone_m`, 500 m).
    demand_per_day
        Supervised visits a day the whole incident layer stands for (the same scaling
        as :class:`siting.locate.Capacity`); visits and booths are left out without it.
    uses_per_booth_per_day
        Default :data:`siting.settings.uses_per_booth_per_day` (40).
    n_sites
        Number of chosen sites (for booths per site).

    Returns
    -------
    DataFrame with columns ``measure, value, low, high, unit, source``. Range measures
    (deaths averted) have ``value`` NaN and the range in ``low``/``high``.

    Examples
    --------
    >>> t = impact_table([100, 450, 700, np.inf], cutoff_m=800, fatal=[1, 1, 0, 1])
    >>> t.set_index("measure").loc["fatal_within_effect_zone", "value"]
    np.float64(2.0)
    >>> row = t.set_index("measure").loc["deaths_averted"]
    >>> float(row["low"]), float(row["high"])
    (0.7, 1.34)
    """
    d = np.asarray(distance_m, dtype=np.float64).ravel()
    d = np.where(np.isnan(d), np.inf, d)
    n = len(d)
    if np.any(d < 0):
        msg = "`distance_m` has negative values; distances must be >= 0"
        raise InputError(msg)
    w = np.ones(n) if weights is None else np.asarray(weights, np.float64).ravel()
    f = np.zeros(n, bool) if fatal is None else np.asarray(fatal).astype(bool).ravel()
    if len(w) != n or len(f) != n:
        msg = f"`weights` ({len(w)}) and `fatal` ({len(f)}) must have one value per incident ({n})"
        raise InputError(msg)
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        msg = "`weights` must be finite and >= 0"
        raise InputError(msg)
    if not cutoff_m >= 0:  # inf: no cutoff (every pair of a full OD matrix counts)
        msg = f"`cutoff_m` must be a number >= 0, got {cutoff_m}"
        raise InputError(msg)
    zone = settings.effect_zone_m if effect_zone_m is None else float(effect_zone_m)
    uses = settings.uses_per_booth_per_day if uses_per_booth_per_day is None else float(
        uses_per_booth_per_day
    )
    in_cut = d <= cutoff_m
    in_zone = d <= zone
    total = float(w.sum())
    fatal_w = w * f
    recs: list[dict[str, Any]] = []

    def add(measure: str, value: float, unit: str, source: str, low: float = math.nan,
            high: float = math.nan) -> None:
        recs.append({"measure": measure, "value": value, "low": low, "high": high,
                     "unit": unit, "source": source})

    add("incidents", total, "incidents (weighted)", SOURCE_DATA)
    add("fatal_incidents", float(fatal_w.sum()), "fatal incidents (weighted)", SOURCE_DATA)
    cov = float(w[in_cut].sum())
    add("incidents_within_cutoff", cov, f"incidents within {cutoff_m:g} m walk", SOURCE_DATA)
    add("share_within_cutoff", cov / total if total > 0 else 0.0, "share of incidents",
        SOURCE_DATA)
    add("fatal_within_cutoff", float(fatal_w[in_cut].sum()),
        f"fatal incidents within {cutoff_m:g} m walk", SOURCE_DATA)
    add("incidents_within_effect_zone", float(w[in_zone].sum()),
        f"incidents within {zone:g} m walk", SOURCE_DATA)
    fz = float(fatal_w[in_zone].sum())
    add("fatal_within_effect_zone", fz, f"fatal incidents within {zone:g} m walk", SOURCE_DATA)
    add(
        "deaths_averted",
        math.nan,
        "deaths averted over the data's period (estimate, not a promise)",
        f"{SOURCE_LOW}; {SOURCE_HIGH}",
        low=EFFECT_LOW * fz,
        high=EFFECT_HIGH * fz,
    )
    if demand_per_day is not None:
        if not (math.isfinite(demand_per_day) and demand_per_day > 0):
            msg = f"`demand_per_day` must be a positive number, got {demand_per_day}"
            raise InputError(msg)
        visits = demand_per_day * (cov / total) if total > 0 else 0.0
        add("visits_per_day", visits, "supervised visits a day (demand within the cutoff)",
            "demand_per_day x share within the cutoff")
        booths = math.ceil(visits / uses - 1e-9) if visits > 0 else 0
        add("booths_needed", float(booths), f"booths at {uses:g} uses per booth a day",
            SOURCE_CAPACITY)
        if n_sites:
            add("booths_per_site", float(math.ceil(booths / n_sites - 1e-9)) if booths else 0.0,
                "booths per site (demand shared evenly)", SOURCE_CAPACITY)
    return pd.DataFrame(recs, columns=COLUMNS)
