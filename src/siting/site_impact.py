"""What each chosen site would achieve: attendance, deaths averted, opening hours, booths.

One function, :func:`site_tables`, turns the walking reach of the chosen sites and the
incidents (counts, fatal flags, hour of day) into three tables a planner reads:

``site_impact`` (one row per chosen site)
    ``incidents_within_cutoff`` (incidents within the walking cutoff of the site),
    ``attendance`` (expected attending incidents: each incident counts once, at its most
    attractive chosen site, times the attendance curve), ``fatal_near`` (fatal incidents
    whose nearest chosen site it is, within the last effect band), ``deaths_low``,
    ``deaths_central``, ``deaths_high`` (each fatal incident at the band of its nearest
    chosen site, attributed to that site), the recommended opening ``hours_window`` with
    the share it reaches (``hours_text``: "08:00-22:00 reaches 81%; 95% needs 24 hours"),
    and, with the visits a day the incidents stand for, ``visits_per_day``,
    ``booths_erlang`` (Erlang C: the fewest booths keeping the mean wait under the target
    in the busiest open hour), ``booths_rule`` (40 uses per booth a day, the cross-check),
    ``peak_hour`` and ``peak_wait_min``.
``site_hours`` (long: ``candidate_id``, ``hour``, ``incidents``)
    The hour-of-day profile of the incidents within each site's cutoff. These are exact
    counts: INTERNAL. Shareable outputs use :func:`siting.privacy.release_profile` on them.
``deaths_bands``
    :func:`siting.effects.deaths_averted_table` for the whole chosen set, with sources.

Counts are incidents (rows), never siting weights. Visits by hour assume people use at
the hours the incidents within the site's cutoff happen (their hour profile), spread
``visits_per_day`` over the site's open hours; visits in closed hours are not served.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from ._errors import InputError
from .booths import DEFAULT_SERVICE_MIN, DEFAULT_TARGET_WAIT_MIN, booth_plan, booths_by_rule
from .decay import DecayCurve
from .effects import DEFAULT_BANDS, ESTIMATES, EffectBand, band_effect, deaths_averted_table
from .hours import DEFAULT_ALSO, DEFAULT_TARGET, hourly_counts, recommend_hours

F64 = npt.NDArray[np.float64]

SITE_COLUMNS = [
    "candidate_id",
    "incidents_within_cutoff",
    "attendance",
    "fatal_near",
    "deaths_low",
    "deaths_central",
    "deaths_high",
    "hours_window",
    "hours_open",
    "hours_share",
    "hours_text",
    "visits_per_day",
    "booths_erlang",
    "booths_rule",
    "peak_hour",
    "peak_wait_min",
]


@dataclass(frozen=True)
class SiteSettings:
    """How the per-site figures are computed (every default sourced in its own module).

    Attributes
    ----------
    curve
        Attendance curve (:class:`~siting.decay.DecayCurve`, default linear to 10 min).
    bands
        Deaths-averted bands (:data:`siting.effects.DEFAULT_BANDS`).
    hours_share, hours_also
        Share the opening hours must reach (0.8) and the higher share reported (0.95).
    demand_per_day
        Supervised visits a day the whole incident layer stands for (``None``: no visits
        or booths).
    uses_per_booth_per_day, booth_minutes, wait_target_min
        The 40-uses rule, the mean booth time (27 min) and the mean wait to stay under (5 min).
    """

    curve: DecayCurve = field(default_factory=lambda: DecayCurve("linear"))
    bands: tuple[EffectBand, ...] = DEFAULT_BANDS
    hours_share: float = DEFAULT_TARGET
    hours_also: float | None = DEFAULT_ALSO
    demand_per_day: float | None = None
    uses_per_booth_per_day: float | None = None
    booth_minutes: float = DEFAULT_SERVICE_MIN
    wait_target_min: float = DEFAULT_TARGET_WAIT_MIN


def set_attendance(minutes: Any, counts: npt.ArrayLike, curve: DecayCurve) -> float:
    """Expected attendance of a set of sites: each incident once, at its most attractive site.

    ``minutes`` is sites x incidents (sparse: absent = out of reach).

    >>> import numpy as np
    >>> set_attendance(np.array([[2.0, 8.0], [5.0, np.inf]]), [1, 1], DecayCurve("linear"))
    1.0
    """
    m = sparse.csr_matrix(minutes, dtype=np.float64) if sparse.issparse(minutes) else _dense_to_csr(minutes)
    c = np.asarray(counts, np.float64).ravel()
    best = np.zeros(m.shape[1])
    if m.nnz:
        cols = m.indices
        np.maximum.at(best, cols, curve(m.data))
    return float(np.dot(c, best))


def attendance_by_curve(minutes: Any, counts: npt.ArrayLike) -> dict[str, float]:
    """:func:`set_attendance` under each documented curve at its defaults (the range the report shows)."""
    from .decay import KINDS

    return {k: set_attendance(minutes, counts, DecayCurve(k)) for k in KINDS}


def _argbest(m: sparse.csr_matrix, key: F64) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per demand column: the entry with the largest ``key`` (ties: the first chosen site)
    and its row; ``-1`` for columns with no entry."""
    n_s, n_d = m.shape
    entry = np.full(n_d, -1, np.int64)
    who = np.full(n_d, -1, np.int64)
    if m.nnz == 0:
        return entry, who
    rows = np.repeat(np.arange(n_s), np.diff(m.indptr))
    order = np.lexsort((rows, -key))
    cols = m.indices[order]
    first = np.unique(cols, return_index=True)[1]
    entry[cols[first]] = order[first]
    who[cols[first]] = rows[order[first]]
    return entry, who


def site_tables(
    chosen: list[str],
    *,
    minutes: Any,
    metres: Any,
    cutoff_min: float,
    counts: npt.ArrayLike | None = None,
    fatal: npt.ArrayLike | None = None,
    hours: npt.ArrayLike | None = None,
    settings: SiteSettings | None = None,
    years: float | None = None,
) -> dict[str, pd.DataFrame]:
    """The per-site tables (see the module doc).

    Parameters
    ----------
    chosen
        Chosen site ids, one per row of ``minutes`` and ``metres``.
    minutes
        Chosen sites x incidents walking minutes (sparse: absent = out of reach), at least
        out to the cutoff and to the attendance curve's reach.
    metres
        Chosen sites x incidents network metres, at least out to the last effect band for
        the fatal incidents.
    cutoff_min
        The walking cutoff (incidents within it are a site's "reachable" incidents).
    counts
        Incidents per demand point (default 1 each).
    fatal
        Fatal incidents per demand point (default: none known; deaths left as NaN).
    hours
        Hour of day (0..23, ``-1`` unknown) per demand point, in the data's timezone
        (default: unknown; hours and booths left out).
    settings
        :class:`SiteSettings`.
    years
        Span of the data in years (adds ``per_year_*`` to the deaths table).

    Examples
    --------
    One site; incidents at 0, 4 and 12 minutes (the last beyond the 10-minute cutoff and
    the linear curve), one fatal at 0 m; hours 9, 9 and 23.

    >>> import numpy as np
    >>> t = site_tables(["a"], minutes=np.array([[0.0, 4.0, 12.0]]),
    ...                 metres=np.array([[0.0, 320.0, 960.0]]), cutoff_min=10,
    ...                 fatal=[1, 0, 0], hours=[9, 9, 23])
    >>> row = t["site_impact"].iloc[0]
    >>> int(row["incidents_within_cutoff"]), float(row["attendance"]), float(row["deaths_low"])
    (2, 1.6, 0.35)
    >>> row["hours_text"]
    '09:00-10:00 reaches 100%; 95% needs 1 hour'
    """
    st = settings or SiteSettings()
    mins = (
        sparse.csr_matrix(minutes, dtype=np.float64) if sparse.issparse(minutes) else _dense_to_csr(minutes)
    )
    mets = sparse.csr_matrix(metres, dtype=np.float64) if sparse.issparse(metres) else _dense_to_csr(metres)
    n_s, n_d = mins.shape
    if len(chosen) != n_s or mets.shape != (n_s, n_d):
        msg = f"{len(chosen)} chosen sites but matrices of shape {mins.shape} and {mets.shape}"
        raise InputError(msg)
    c = np.ones(n_d) if counts is None else np.asarray(counts, np.float64).ravel()
    f = None if fatal is None else np.asarray(fatal).ravel().astype(np.float64)
    h = None if hours is None else np.asarray(hours, np.float64).ravel()
    for name, arr in (("counts", c), ("fatal", f), ("hours", h)):
        if arr is not None and len(arr) != n_d:
            msg = f"`{name}` has {len(arr)} values but there are {n_d} incidents"
            raise InputError(msg)

    rows_m = np.repeat(np.arange(n_s), np.diff(mins.indptr))
    in_cut = mins.data <= cutoff_min
    reach_cnt = np.bincount(rows_m[in_cut], weights=c[mins.indices[in_cut]], minlength=n_s)

    # attendance: each incident at its most attractive chosen site (none where it is 0)
    a_e = st.curve(mins.data)
    entry, who = _argbest(mins, a_e)
    best = np.where(entry >= 0, a_e[np.maximum(entry, 0)], 0.0) if mins.nnz else np.zeros(n_d)
    who = np.where(best > 0, who, -1)
    att = np.bincount(who[who >= 0], weights=(c * best)[who >= 0], minlength=n_s)

    # deaths: each fatal incident at the band of its nearest chosen site
    deaths = np.full((n_s, 3), math.nan)
    fatal_near = np.full(n_s, math.nan)
    dist = np.full(n_d, np.inf)
    if f is not None:
        deaths[:] = 0.0
        nentry, nwho = _argbest(mets, -np.asarray(mets.data))  # the nearest chosen site
        has = nwho >= 0
        dist[has] = mets.data[nentry[has]]
        for k, e in enumerate(ESTIMATES):
            eff = band_effect(dist, st.bands, e) * f
            deaths[:, k] = np.bincount(nwho[has], weights=eff[has], minlength=n_s)
        in_band = has & (dist <= max(b.end_m for b in st.bands))
        fatal_near = np.bincount(nwho[in_band], weights=f[in_band], minlength=n_s)

    recs: list[dict[str, Any]] = []
    long: list[pd.DataFrame] = []
    for s, sid in enumerate(chosen):
        rec: dict[str, Any] = {
            "candidate_id": sid,
            "incidents_within_cutoff": float(reach_cnt[s]),
            "attendance": float(att[s]),
            "fatal_near": float(fatal_near[s]),
            "deaths_low": float(deaths[s, 0]),
            "deaths_central": float(deaths[s, 1]),
            "deaths_high": float(deaths[s, 2]),
        }
        prof = None
        if h is not None:
            sel = in_cut & (rows_m == s)
            prof = hourly_counts(h[mins.indices[sel]], c[mins.indices[sel]])
            long.append(pd.DataFrame({"candidate_id": sid, "hour": np.arange(24), "incidents": prof}))
        total = float(c.sum())
        visits = (
            st.demand_per_day * float(att[s]) / total if st.demand_per_day is not None and total > 0 else None
        )
        rec.update(hours_and_booths(prof, visits, st))
        recs.append(rec)
    site_hours = (
        pd.concat(long, ignore_index=True)
        if long
        else pd.DataFrame(columns=["candidate_id", "hour", "incidents"])
    )
    bands = deaths_averted_table(dist, f if f is not None else np.zeros(n_d), st.bands, years=years)
    if f is None:
        bands = bands.iloc[0:0]
    return {
        "site_impact": pd.DataFrame(recs, columns=SITE_COLUMNS),
        "site_hours": site_hours,
        "deaths_bands": bands,
    }


def hours_and_booths(
    profile: npt.ArrayLike | None, visits_per_day: float | None, st: SiteSettings
) -> dict[str, Any]:
    """A site's opening hours and booths from its hour profile and its visits a day.

    ``profile`` is the 24-hour profile of the incidents within the site's cutoff (``None``:
    no time of day known). Visits by hour follow that profile over the recommended open
    hours (visits in closed hours are not served); the booths are the fewest keeping the
    mean wait under the target in the busiest open hour (Erlang C), beside the 40-uses rule.

    A hand check: 10 incidents an hour from 09:00 to 21:00; 80% needs 10 hours. 120 visits a
    day at the profile's 10 an hour, 27 minutes each, is 4.5 erlangs: 6 booths wait 7.6
    minutes on average, 7 booths 2.3, so 7 booths, where the 40-uses rule says 3.

    >>> out = hours_and_booths([0] * 9 + [10] * 12 + [0] * 3, 120.0, SiteSettings())
    >>> out["hours_window"], out["booths_rule"], out["booths_erlang"], round(out["peak_wait_min"], 1)
    ('09:00-19:00', 3.0, 7.0, 2.3)
    """
    out: dict[str, Any] = {
        "hours_window": "",
        "hours_open": math.nan,
        "hours_share": math.nan,
        "hours_text": "no time of day in the incidents: hours not estimated",
        "visits_per_day": math.nan,
        "booths_erlang": math.nan,
        "booths_rule": math.nan,
        "peak_hour": math.nan,
        "peak_wait_min": math.nan,
    }
    if visits_per_day is not None and math.isfinite(visits_per_day):
        out["visits_per_day"] = float(visits_per_day)
        out["booths_rule"] = float(booths_by_rule(visits_per_day, st.uses_per_booth_per_day))
    if profile is None:
        return out
    prof = np.asarray(profile, np.float64)
    rec = recommend_hours(prof, target=st.hours_share, also=st.hours_also)
    out.update(
        hours_window=rec.window,
        hours_open=float(rec.hours),
        hours_text=rec.describe(),
        hours_share=rec.share if rec.hours else math.nan,
    )
    if visits_per_day is None or not math.isfinite(visits_per_day) or not rec.hours or prof.sum() <= 0:
        return out
    visits_by_hour = visits_per_day * prof / prof.sum()
    plan = booth_plan(
        visits_by_hour,
        open_hours=rec.open_mask(),
        service_min=st.booth_minutes,
        target_wait_min=st.wait_target_min,
    )
    peak = int(plan["visits"].idxmax())
    out.update(
        booths_erlang=float(plan["booths"].max()),
        peak_hour=float(peak),
        peak_wait_min=float(plan.loc[peak, "mean_wait_min"]),
    )
    return out


def _dense_to_csr(a: Any) -> sparse.csr_matrix:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2:
        msg = f"expected a 2-D sites x incidents matrix, got shape {arr.shape}"
        raise InputError(msg)
    r, cidx = np.nonzero(np.isfinite(arr))
    return sparse.csr_matrix((arr[r, cidx], (r, cidx)), shape=arr.shape)
