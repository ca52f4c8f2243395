"""Expected overdose deaths averted, by network-distance band, as a low-central-high range.

A chosen site is expected to avert a share of the overdose deaths near it, and the share
falls with distance. The published estimates give a range, never one number:

===========  ======  ========  ======  ===========================================================
band         low     central   high    source
===========  ======  ========  ======  ===========================================================
0-500 m      35%     51%       67%     low: Marshall et al., Lancet 2011 (Insite, Vancouver: deaths
                                       fell 35% within 500 m). High: Rammohan et al., Lancet Public
                                       Health 2024 (Toronto: 67% within 500 m). Central: midpoint.
500 m-5 km   0%      30%       60%     low: Marshall 2011 saw no significant fall beyond 500 m.
                                       High: Rammohan 2024 found the fall "remained significant
                                       (though slightly weaker)" out to 5 km; the paper's text we
                                       could read gives no figure for the outer band, so the high
                                       value is the 60% within 5 km that the lead author reported
                                       (CP24, 21 Feb 2024). Central: midpoint.
===========  ======  ========  ======  ===========================================================

The central values are midpoints of the two published ends, not published estimates; the
report says so. Both studies are ecological before-after comparisons of area death rates:
an association near sites, not a proven effect of any one new site.

Deaths averted by a set of sites are counted per fatal incident (rows, never demand
weights): each fatal incident takes the effect of the band of its *nearest* chosen site
(effects do not add up across sites), over the period the data covers.

Sources
    Marshall BDL, Milloy M-J, Wood E, Montaner JSG, Kerr T. Reduction in overdose mortality
    after the opening of North America's first medically supervised safer injecting facility:
    a retrospective population-based study. Lancet 2011;377:1429-37.

    Rammohan I, Gaines T, Scheim A, Bayoumi A, Werb D. Overdose mortality incidence and
    supervised consumption services in Toronto, Canada: an ecological study and spatial
    analysis. Lancet Public Health 2024;9:e79-87.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._errors import InputError

F64 = npt.NDArray[np.float64]
Estimate = Literal["low", "central", "high"]
ESTIMATES: tuple[Estimate, ...] = ("low", "central", "high")

SOURCE_MARSHALL = "Marshall et al., Lancet 2011 (Insite, Vancouver: -35% within 500 m, none detected beyond)"
SOURCE_RAMMOHAN = "Rammohan et al., Lancet Public Health 2024 (Toronto: -67% within 500 m)"
SOURCE_RAMMOHAN_5KM = (
    "Rammohan et al., Lancet Public Health 2024: significant though weaker out to 5 km; "
    "60% within 5 km as reported by the lead author (CP24, 21 Feb 2024), no band figure in the paper's text"
)


@dataclass(frozen=True)
class EffectBand:
    """One distance band: incidents whose nearest chosen site is within ``(start_m, end_m]``.

    Attributes
    ----------
    start_m, end_m
        Network metres; the first band starts at 0 (and includes 0).
    low, central, high
        Shares of deaths averted (0..1), ``low <= central <= high``.
    source
        Where the figures come from, printed next to the band in the report.
    """

    start_m: float
    end_m: float
    low: float
    central: float
    high: float
    source: str

    def __post_init__(self) -> None:
        if not (0 <= self.start_m < self.end_m and math.isfinite(self.end_m)):
            msg = f"effect band {self.start_m:g}-{self.end_m:g} m: need 0 <= start < end (finite metres)"
            raise InputError(msg)
        vals = (self.low, self.central, self.high)
        if not all(isinstance(v, int | float) and math.isfinite(v) and 0 <= v <= 1 for v in vals):
            msg = f"effect band {self.label}: low, central and high must be shares between 0 and 1"
            raise InputError(msg)
        if not self.low <= self.central <= self.high:
            msg = f"effect band {self.label}: need low <= central <= high, got {vals}"
            raise InputError(msg)

    @property
    def label(self) -> str:
        """``'0-500 m'``, ``'500 m-5 km'``."""
        return (
            f"{_m(self.start_m)}-{_m(self.end_m, unit=True)}"
            if self.start_m == 0
            else (f"{_m(self.start_m, unit=True)}-{_m(self.end_m, unit=True)}")
        )

    def value(self, estimate: Estimate) -> float:
        """The share for ``low``, ``central`` or ``high``."""
        return float(getattr(self, estimate))


def _m(x: float, *, unit: bool = False) -> str:
    if x >= 1000 and x % 100 == 0:
        return f"{x / 1000:g} km"
    return f"{x:g} m" if unit else f"{x:g}"


#: The default bands (see the module doc for every figure's source).
DEFAULT_BANDS: tuple[EffectBand, ...] = (
    EffectBand(
        0.0,
        500.0,
        0.35,
        0.51,
        0.67,
        f"low: {SOURCE_MARSHALL}; high: {SOURCE_RAMMOHAN}; central: their midpoint",
    ),
    EffectBand(
        500.0,
        5000.0,
        0.0,
        0.30,
        0.60,
        f"low: {SOURCE_MARSHALL}; high: {SOURCE_RAMMOHAN_5KM}; central: their midpoint",
    ),
)


def validate_bands(bands: Sequence[EffectBand]) -> tuple[EffectBand, ...]:
    """Check bands are contiguous from 0 and their effects do not grow with distance."""
    out = tuple(sorted(bands, key=lambda b: b.start_m))
    if not out:
        msg = "no effect bands given; at least one band (e.g. 0-500 m) is needed"
        raise InputError(msg)
    if out[0].start_m != 0:
        msg = f"the first effect band must start at 0 m, not {out[0].start_m:g} m"
        raise InputError(msg)
    for a, b in itertools.pairwise(out):
        if b.start_m != a.end_m:
            msg = (
                f"effect bands {a.label} and {b.label} leave a gap or overlap; "
                "make each start where the last ends"
            )
            raise InputError(msg)
        for e in ESTIMATES:
            if b.value(e) > a.value(e):
                msg = (
                    f"effect band {b.label} has a larger {e} effect than the nearer band {a.label}; "
                    "effects must not grow with distance"
                )
                raise InputError(msg)
    return out


def parse_band(text: str, *, start_m: float) -> EffectBand:
    """From ``'END_M:LOW:CENTRAL:HIGH'`` (shares or percentages), starting at ``start_m``.

    >>> parse_band("500:35%:51%:67%", start_m=0).label
    '0-500 m'
    >>> parse_band("2000:0:0.1:0.3", start_m=500).high
    0.3
    """
    parts = [p.strip() for p in str(text).split(":")]
    if len(parts) != 4:
        msg = f"effect band {text!r} is not END_M:LOW:CENTRAL:HIGH (e.g. 500:0.35:0.51:0.67)"
        raise InputError(msg)
    vals = []
    for p in parts:
        pct = p.endswith("%")
        try:
            v = float(p.removesuffix("%").removesuffix("m").strip())
        except ValueError:
            msg = f"effect band {text!r}: {p!r} is not a number"
            raise InputError(msg) from None
        vals.append(v / 100 if pct else v)
    return EffectBand(start_m, vals[0], vals[1], vals[2], vals[3], "set by the planner")


def bands_from_config(spec: Sequence[Any] | None) -> tuple[EffectBand, ...]:
    """Bands from CLI strings (``END_M:LOW:CENTRAL:HIGH``) or scenario tables.

    A scenario's ``[[select.effect_bands]]`` entries are mappings with ``end_m``, ``low``,
    ``central``, ``high`` and an optional ``source``. ``None`` or empty: the defaults.
    """
    if not spec:
        return DEFAULT_BANDS
    bands: list[EffectBand] = []
    start = 0.0
    for item in spec:
        if isinstance(item, Mapping):
            missing = [k for k in ("end_m", "low", "central", "high") if k not in item]
            if missing:
                msg = f"effect band {dict(item)!r} lacks {', '.join(missing)}"
                raise InputError(msg)
            try:
                band = EffectBand(
                    start,
                    float(item["end_m"]),
                    float(item["low"]),
                    float(item["central"]),
                    float(item["high"]),
                    str(item.get("source", "set by the planner")),
                )
            except (TypeError, ValueError) as exc:
                if isinstance(exc, InputError):
                    raise
                msg = f"effect band {dict(item)!r}: end_m, low, central and high must be numbers"
                raise InputError(msg) from None
        else:
            band = parse_band(str(item), start_m=start)
        bands.append(band)
        start = band.end_m
    return validate_bands(bands)


def band_effect(
    distance_m: npt.ArrayLike, bands: Sequence[EffectBand] = DEFAULT_BANDS, estimate: Estimate = "central"
) -> F64:
    """Share of deaths averted at each distance (``inf``/``NaN``: beyond every band, 0).

    >>> band_effect([0, 500, 501, 5000, 5001], estimate="low").tolist()
    [0.35, 0.35, 0.0, 0.0, 0.0]
    >>> band_effect([0, 500, 501, 5000, 5001], estimate="high").tolist()
    [0.67, 0.67, 0.6, 0.6, 0.0]
    """
    if estimate not in ESTIMATES:
        msg = f"`estimate` must be one of {', '.join(ESTIMATES)}, got {estimate!r}"
        raise InputError(msg)
    d = np.asarray(distance_m, dtype=np.float64)
    d = np.where(np.isnan(d), np.inf, d)
    if np.any(d < 0):
        msg = "distances must be >= 0 metres"
        raise InputError(msg)
    bands = validate_bands(bands)
    ends = np.array([b.end_m for b in bands])
    vals = np.array([b.value(estimate) for b in bands] + [0.0])
    idx = np.searchsorted(ends, d, side="left")  # d <= end_k  ->  band k
    return vals[idx]


def max_distance_m(bands: Sequence[EffectBand] = DEFAULT_BANDS) -> float:
    """Metres beyond which no band applies."""
    return max(b.end_m for b in bands)


def deaths_averted_table(
    distance_m: npt.ArrayLike,
    fatal: npt.ArrayLike,
    bands: Sequence[EffectBand] = DEFAULT_BANDS,
    *,
    years: float | None = None,
) -> pd.DataFrame:
    """Fatal incidents and deaths averted per band, plus a total row.

    Parameters
    ----------
    distance_m
        Per incident, network metres to the nearest chosen site (``inf``: none in reach).
    fatal
        Per incident, whether it was fatal (or fatal incidents per point: a count or, for
        released figures, a mass). Counts are of incidents, never siting weights.
    bands
        The effect bands (default :data:`DEFAULT_BANDS`).
    years
        The span the incident data covers; when given, ``per_year_*`` columns are added.

    Returns
    -------
    DataFrame with columns ``band, start_m, end_m, fatal_incidents, low, central, high,
    share_low, share_central, share_high, source`` (one row per band and a ``total`` row).

    Examples
    --------
    A hand check: fatal incidents at 100 m, 450 m and 2 km, a non-fatal one at 50 m and a
    fatal one out of reach.

    >>> t = deaths_averted_table([100, 450, 2000, 50, np.inf], [1, 1, 1, 0, 1]).set_index("band")
    >>> t.loc["0-500 m", ["fatal_incidents", "low", "central", "high"]].tolist()
    [2.0, 0.7, 1.02, 1.34]
    >>> t.loc["total", ["fatal_incidents", "low", "central", "high"]].round(2).tolist()
    [3.0, 0.7, 1.32, 1.94]
    """
    d = np.asarray(distance_m, dtype=np.float64).ravel()
    f = np.asarray(fatal).ravel().astype(np.float64)
    if not np.all(np.isfinite(f)) or np.any(f < 0):
        msg = "`fatal` must be flags or counts >= 0"
        raise InputError(msg)
    if len(d) != len(f):
        msg = f"`fatal` has {len(f)} values but there are {len(d)} distances"
        raise InputError(msg)
    d = np.where(np.isnan(d), np.inf, d)
    bands = validate_bands(bands)
    rows = []
    for b in bands:
        inside = (d <= b.end_m) & ((d > b.start_m) if b.start_m > 0 else (d >= 0))
        n = float(f[inside].sum())
        rows.append(
            {
                "band": b.label,
                "start_m": b.start_m,
                "end_m": b.end_m,
                "fatal_incidents": n,
                "low": n * b.low,
                "central": n * b.central,
                "high": n * b.high,
                "share_low": b.low,
                "share_central": b.central,
                "share_high": b.high,
                "source": b.source,
            }
        )
    t = pd.DataFrame(rows)
    total = {
        "band": "total",
        "start_m": 0.0,
        "end_m": max_distance_m(bands),
        "fatal_incidents": float(t["fatal_incidents"].sum()),
        "low": float(t["low"].sum()),
        "central": float(t["central"].sum()),
        "high": float(t["high"].sum()),
        "share_low": math.nan,
        "share_central": math.nan,
        "share_high": math.nan,
        "source": "sum of the bands",
    }
    t = pd.concat([t, pd.DataFrame([total])], ignore_index=True)
    for e in ESTIMATES:
        t[e] = t[e].round(12)
    if years is not None:
        if not (math.isfinite(years) and years > 0):
            msg = f"`years` must be a positive number, got {years}"
            raise InputError(msg)
        for e in ESTIMATES:
            t[f"per_year_{e}"] = t[e] / years
    return t
