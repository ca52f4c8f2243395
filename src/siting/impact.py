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

Both are applied to the number of fatal incidents (rows, never their siting weight) within
the effect zone (500 m on the street network) of a chosen site, over the period the
incident data covers. Without a fatal column deaths averted are "not estimated".
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

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
SOURCE_DATA = "incident data (counted, not weighted)"
SOURCE_WEIGHT = "demand weights of the incident layer"
SOURCE_CAPACITY = "settings.uses_per_booth_per_day (Insite: about 500 visits a day on 12-13 booths)"

COLUMNS = ["measure", "value", "low", "high", "unit", "text", "source"]
NOT_ESTIMATED = "not estimated"
DASH = "\u2013"  # an en dash between the ends of a range

__all__ = ["impact_table", "nearest_chosen_distance"]


def nearest_chosen_distance(costs_m: Any, candidate_ids: Sequence[str], chosen: Sequence[str]) -> F64:
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
    from scipy import sparse  # here, not at the top: the score's summary uses this module's text helpers

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
    counts: npt.ArrayLike | None = None,
    effect_zone_m: float | None = None,
    demand_per_day: float | None = None,
    uses_per_booth_per_day: float | None = None,
    n_sites: int | None = None,
) -> pd.DataFrame:
    """The impact table for a set of chosen sites.

    Every count is a count of incidents (rows of the incident layer); weights appear only
    in the ``demand_weight*`` measures, which restate what the site selection optimised.

    Parameters
    ----------
    distance_m
        Per incident, walking metres to the nearest chosen site (``inf``/``NaN`` when
        beyond reach).
    cutoff_m
        The coverage cutoff in metres (minutes x walking speed).
    weights
        Per incident demand weight (default 1), for the ``demand_weight*`` measures only.
    counts
        Incidents each row stands for (default 1: a row is an incident). Aggregated or
        released rows (privacy's demand units) pass their incident masses here, never as
        weights.
    fatal
        Per incident, whether it was fatal. ``None`` (no fatal column): fatal counts and
        deaths averted are "not estimated", never 0.
    effect_zone_m
        The effect zone (default :data:`siting.settings.effect_zone_m`, 500 m).
    demand_per_day
        Supervised visits a day the whole incident layer stands for; visits are spread
        over the incidents (each incident the same share) and visits and booths are left
        out without it.
    uses_per_booth_per_day
        Default :data:`siting.settings.uses_per_booth_per_day` (40).
    n_sites
        Number of chosen sites (for booths per site).

    Returns
    -------
    DataFrame with columns ``measure, value, low, high, unit, text, source``. Range
    measures (deaths averted) have ``value`` NaN and the range in ``low``/``high``;
    shares are in percent; ``text`` is the figure as a planner reads it.

    Examples
    --------
    A hand check: three incidents at one address 100 m from a chosen site, one of them
    fatal and weighted 5 for the siting. Deaths averted come from the one fatal incident.

    >>> t = impact_table([100, 100, 100], cutoff_m=800, weights=[5, 1, 1], fatal=[1, 0, 0])
    >>> t = t.set_index("measure")
    >>> t.loc[["incidents", "fatal_incidents", "demand_weight"], "value"].tolist()
    [3.0, 1.0, 7.0]
    >>> t.loc["deaths_averted", "text"] == "0.35\u20130.67"
    True
    >>> impact_table([100], cutoff_m=800).set_index("measure").loc["deaths_averted", "text"]
    'not estimated (no fatal column)'
    """
    d = np.asarray(distance_m, dtype=np.float64).ravel()
    d = np.where(np.isnan(d), np.inf, d)
    n = len(d)
    if np.any(d < 0):
        msg = "`distance_m` has negative values; distances must be >= 0"
        raise InputError(msg)
    w = np.ones(n) if weights is None else np.asarray(weights, np.float64).ravel()
    c = np.ones(n) if counts is None else np.asarray(counts, np.float64).ravel()
    if len(c) != n or not np.all(np.isfinite(c)) or np.any(c < 0):
        msg = f"`counts` must be {n} finite numbers >= 0 (incidents per row)"
        raise InputError(msg)
    whole = bool(np.all(c == np.round(c)))
    f = None if fatal is None else np.asarray(fatal).astype(bool).ravel()
    if len(w) != n or (f is not None and len(f) != n):
        n_f = n if f is None else len(f)
        msg = f"`weights` ({len(w)}) and `fatal` ({n_f}) must have one value per incident ({n})"
        raise InputError(msg)
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        msg = "`weights` must be finite and >= 0"
        raise InputError(msg)
    if not cutoff_m >= 0:  # inf: no cutoff (every pair of a full OD matrix counts)
        msg = f"`cutoff_m` must be a number >= 0, got {cutoff_m}"
        raise InputError(msg)
    zone = settings.effect_zone_m if effect_zone_m is None else float(effect_zone_m)
    uses = (
        settings.uses_per_booth_per_day if uses_per_booth_per_day is None else float(uses_per_booth_per_day)
    )
    in_cut = d <= cutoff_m
    in_zone = d <= zone
    cut_text = "every pair of the matrix" if math.isinf(cutoff_m) else f"{cutoff_m:g} m walk"
    recs: list[dict[str, Any]] = []

    def add(
        measure: str,
        value: float,
        unit: str,
        source: str,
        text: str,
        low: float = math.nan,
        high: float = math.nan,
    ) -> None:
        recs.append(
            {
                "measure": measure,
                "value": value,
                "low": low,
                "high": high,
                "unit": unit,
                "text": text,
                "source": source,
            }
        )

    def count(measure: str, mask: npt.NDArray[np.bool_] | None, unit: str) -> float:
        """A count of incidents (``mask`` None: not estimated)."""
        if mask is None:
            add(measure, math.nan, unit, SOURCE_DATA, NOT_ESTIMATED + " (no fatal column)")
            return math.nan
        k = float(c[mask].sum())
        add(measure, k, unit, SOURCE_DATA, f"{round(k):,}" if whole else number(k))
        return k

    total = count("incidents", np.ones(n, bool), "incidents")
    count("fatal_incidents", f, "fatal incidents")
    cov = count("incidents_within_cutoff", in_cut, f"incidents within {cut_text}")
    share = 100.0 * cov / total if total > 0 else 0.0
    add("incident_share_within_cutoff", share, "% of incidents", SOURCE_DATA, percent(share))
    count("fatal_within_cutoff", None if f is None else f & in_cut, f"fatal incidents within {cut_text}")
    count("incidents_within_effect_zone", in_zone, f"incidents within {zone:g} m walk")
    fz = count(
        "fatal_within_effect_zone",
        None if f is None else f & in_zone,
        f"fatal incidents within {zone:g} m walk",
    )
    unit = "deaths averted over the data's period (estimate, not a promise)"
    if f is None:
        add(
            "deaths_averted",
            math.nan,
            unit,
            f"{SOURCE_LOW}; {SOURCE_HIGH}",
            NOT_ESTIMATED + " (no fatal column)",
        )
    else:
        lo, hi = EFFECT_LOW * fz, EFFECT_HIGH * fz
        add(
            "deaths_averted",
            math.nan,
            unit,
            f"{SOURCE_LOW}; {SOURCE_HIGH}",
            f"{number(lo)}{DASH}{number(hi)}",
            low=lo,
            high=hi,
        )
    w_total = float(w.sum())
    add(
        "demand_weight",
        w_total,
        "demand weight (the siting objective, not a count)",
        SOURCE_WEIGHT,
        number(w_total),
    )
    w_cov = float(w[in_cut].sum())
    add(
        "demand_weight_within_cutoff", w_cov, f"demand weight within {cut_text}", SOURCE_WEIGHT, number(w_cov)
    )
    if demand_per_day is not None:
        if not (math.isfinite(demand_per_day) and demand_per_day > 0):
            msg = f"`demand_per_day` must be a positive number, got {demand_per_day}"
            raise InputError(msg)
        visits = demand_per_day * (cov / total) if total > 0 else 0.0
        add(
            "visits_per_day",
            visits,
            "supervised visits a day (incidents within the cutoff)",
            "demand_per_day x share of incidents within the cutoff",
            number(visits),
        )
        booths = math.ceil(visits / uses - 1e-9) if visits > 0 else 0
        add(
            "booths_needed",
            float(booths),
            f"booths at {uses:g} uses per booth a day",
            SOURCE_CAPACITY,
            f"{booths:,}",
        )
        if n_sites:
            per_site = math.ceil(booths / n_sites - 1e-9) if booths else 0
            add(
                "booths_per_site",
                float(per_site),
                "booths per site (demand shared evenly)",
                SOURCE_CAPACITY,
                f"{per_site:,}",
            )
    return pd.DataFrame(recs, columns=COLUMNS)


def percent(share_pct: float) -> str:
    """A percentage to one decimal, rounded half up (``85.25`` -> ``'85.3%'``).

    >>> percent(85.2), percent(85.25), percent(0.04), percent(100.0)
    ('85.2%', '85.3%', '0.0%', '100.0%')
    """
    return f"{_round_half_up(share_pct, 1):.1f}%"


def number(x: float) -> str:
    """A figure to two decimals below 10, one below 100, whole numbers above.

    >>> number(0.35), number(0.6700000001), number(10.5), number(20.1), number(1234.4)
    ('0.35', '0.67', '10.5', '20.1', '1,234')
    """
    if not math.isfinite(x):
        return ""
    if abs(x) < 10:
        return f"{_round_half_up(x, 2):.2f}"
    if abs(x) < 100:
        return f"{_round_half_up(x, 1):.1f}"
    return f"{_round_half_up(x, 0):,.0f}"


def figure(x: float) -> str:
    """Three significant figures, and whole numbers with separators from 1,000 (never ``1e+03``).

    >>> figure(1.0), figure(0.3456), figure(12.34), figure(999.4), figure(999.6), figure(123456.7)
    ('1', '0.346', '12.3', '999', '1,000', '123,457')
    """
    if not math.isfinite(x):
        return ""
    return f"{x:,.0f}" if abs(x) >= 999.5 else f"{x:.3g}"


def amount(x: float) -> str:
    """A count or a demand weight as text: a whole number with separators, else one decimal.

    >>> amount(1480.0), amount(1234567), amount(12.5), amount(7.000000001), amount(float("nan"))
    ('1,480', '1,234,567', '12.5', '7', '-')
    """
    x = float(x)
    if not math.isfinite(x):
        return "-"
    if abs(x - round(x)) < 1e-6 * max(1.0, abs(x)):
        return f"{round(x):,}"
    return f"{_round_half_up(x, 1):,.1f}"


def _round_half_up(x: float, digits: int) -> float:
    """Round half away from zero on the decimal value (not the binary one): 0.125 -> 0.13."""
    from decimal import ROUND_HALF_UP, Decimal

    q = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(x)).quantize(q, rounding=ROUND_HALF_UP))
