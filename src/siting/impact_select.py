"""Impact-led selection: the settings, the models' inputs and the per-site tables of a run.

:class:`ImpactSpec` holds what ``--decay``, ``--effect-band``, ``--estimate``,
``--hours-share``, ``--wait-target`` and ``--booth-minutes`` (or the same keys in a
scenario's ``[select]`` table) set. :func:`model_inputs` gives the attendance and deaths
models their costs: walking minutes within the curve's reach for attendance; network
metres to the **fatal** incidents within the last effect band (5 km) for deaths, with
fatal counts as the weights. :func:`site_figures` computes, for any chosen set and any
model, the per-site attendance, deaths averted, opening hours and booths
(:mod:`siting.site_impact`).

Reach beyond what the prepared scenario holds (deaths need 5 km, the scenario 15 minutes)
is computed only for what is needed: all candidates to the fatal incidents for the
deaths model, the chosen sites alone for the per-site tables.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from ._errors import InputError
from .booths import DEFAULT_SERVICE_MIN, DEFAULT_TARGET_WAIT_MIN
from .decay import DEFAULT_LIMIT_MIN, DecayCurve
from .effects import DEFAULT_BANDS, EffectBand, bands_from_config, max_distance_m
from .hours import DEFAULT_TARGET, local_hours
from .site_impact import SiteSettings, attendance_by_curve, site_tables

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .pipeline import Prepared

log = logging.getLogger(__name__)

#: The models that value each (site, incident) pair.
VALUE_MODELS = ("attendance", "deaths")


@dataclass
class ImpactSpec:
    """Settings of the impact-led models and per-site figures (defaults sourced in
    :mod:`siting.decay`, :mod:`siting.effects`, :mod:`siting.hours`, :mod:`siting.booths`)."""

    decay: DecayCurve = field(default_factory=lambda: DecayCurve("linear"))
    bands: tuple[EffectBand, ...] = DEFAULT_BANDS
    estimate: str = "low"
    hours_share: float = DEFAULT_TARGET
    wait_target_min: float = DEFAULT_TARGET_WAIT_MIN
    booth_minutes: float = DEFAULT_SERVICE_MIN
    #: a capacitated site's visits a day: booths x uses a day ("uses"), or by the queue ("erlang")
    capacity_rule: str = "uses"

    #: ``[select]`` keys (and the CLI flags' names, with ``-`` for ``_``).
    KEYS = (
        "decay",
        "effect_bands",
        "estimate",
        "hours_share",
        "wait_target",
        "booth_minutes",
        "capacity_rule",
    )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], problems: list[str]) -> ImpactSpec:
        """From ``[select]`` keys; every problem is appended to ``problems``."""
        spec = cls()
        if data.get("decay") is not None:
            try:
                spec.decay = (
                    data["decay"]
                    if isinstance(data["decay"], DecayCurve)
                    else DecayCurve.parse(str(data["decay"]))
                )
            except InputError as exc:
                problems.append(str(exc))
        bands = data.get("effect_bands")
        if bands:
            try:
                spec.bands = bands_from_config(list(bands) if not isinstance(bands, str) else [bands])
            except InputError as exc:
                problems.append(str(exc))
        est = str(data.get("estimate", "low"))
        if est not in ("low", "central"):
            problems.append(f"`estimate` must be 'low' or 'central' (never 'high'), got {est!r}")
        else:
            spec.estimate = est
        rule = str(data.get("capacity_rule") or "uses")
        if rule not in ("uses", "erlang"):
            problems.append(f"`capacity_rule` must be 'uses' or 'erlang', got {rule!r}")
        else:
            spec.capacity_rule = rule
        for key, attr, lo_open in (
            ("hours_share", "hours_share", True),
            ("wait_target", "wait_target_min", False),
            ("booth_minutes", "booth_minutes", True),
        ):
            if data.get(key) is None:
                continue
            try:
                v = float(data[key])
            except (TypeError, ValueError):
                problems.append(f"`{key}` must be a number, got {data[key]!r}")
                continue
            bad = not math.isfinite(v) or v < 0 or (lo_open and v == 0) or (key == "hours_share" and v > 1)
            if bad:
                what = (
                    "a share in (0, 1]"
                    if key == "hours_share"
                    else "a number of minutes" + (" > 0" if lo_open else " >= 0")
                )
                problems.append(f"`{key}` must be {what}, got {data[key]!r}")
                continue
            setattr(spec, attr, v)
        return spec

    def model_options(self) -> dict[str, Any]:
        """The models' own keyword arguments (``MaximizeAttendance.options`` and the deaths model's)."""
        return {"curve": self.decay, "bands": self.bands, "estimate": self.estimate}

    def describe(self) -> dict[str, Any]:
        """The settings in words, for the run's parameters and the report."""
        return {
            "decay": self.decay.describe(),
            "decay_spec": self.decay.spec(),
            "decay_source": self.decay.source(),
            "decay_default": self.decay.is_default(),
            "bands": [
                {
                    "band": b.label,
                    "end_m": b.end_m,
                    "low": b.low,
                    "central": b.central,
                    "high": b.high,
                    "source": b.source,
                }
                for b in self.bands
            ],
            "estimate": self.estimate,
            "hours_share": self.hours_share,
            "wait_target_min": self.wait_target_min,
            "booth_minutes": self.booth_minutes,
            "capacity_rule": self.capacity_rule,
        }


# --------------------------------------------------------------------------- reach


def fatal_flags(prep: Prepared) -> npt.NDArray[np.bool_] | None:
    """Per kept incident, whether it was fatal (``None`` without a fatal column)."""
    kept = prep.demand.kept
    if "fatal" not in kept.columns:
        return None
    return kept["fatal"].to_numpy().astype(bool)


def reach_metres(
    prep: Prepared,
    cutoff_m: float,
    *,
    sources: npt.NDArray[np.bool_] | None = None,
    targets: npt.NDArray[np.bool_] | None = None,
) -> sparse.csr_matrix:
    """All candidates x kept incidents, walking metres within ``cutoff_m``, only for the
    ``sources`` (over all candidates) and ``targets`` (over kept incidents) given.

    Taken from the prepared reach when it is long enough; otherwise a bounded search over
    just those sources and targets.
    """
    from .network import Snapped
    from .pipeline import within
    from .reach import walking_reach

    n_c = len(prep.candidates.gdf)
    n_d = prep.demand_metres_wide.shape[1]
    src = np.ones(n_c, bool) if sources is None else np.asarray(sources, bool)
    dst = np.ones(n_d, bool) if targets is None else np.asarray(targets, bool)
    if cutoff_m <= prep.wide_m + 1e-9:
        m = within(prep.demand_metres_wide, cutoff_m).tocoo()
        keep = src[m.row] & dst[m.col]
        return sparse.csr_matrix((m.data[keep], (m.row[keep], m.col[keep])), shape=(n_c, n_d))
    snapped = prep.candidates.snapped
    s_keep = np.flatnonzero(src[snapped.index])
    d_snap = prep.demand.snapped
    t_keep = np.flatnonzero(dst)
    if not len(s_keep) or not len(t_keep):
        return sparse.csr_matrix((n_c, n_d))

    def sub(s: Snapped, k: npt.NDArray[np.int64]) -> Snapped:
        return Snapped(
            index=s.index[k],
            edge=s.edge[k],
            offset_m=s.offset_m[k],
            leg_m=s.leg_m[k],
            dropped=np.zeros(0, np.int64),
            n_input=s.n_input,
        )

    log.info("extra reach: %d sources x %d targets within %.0f m", len(s_keep), len(t_keep), cutoff_m)
    r = (
        walking_reach(
            prep.network,
            sub(snapped, s_keep),
            sub(d_snap, t_keep),
            cutoff_m=cutoff_m,
            workers=prep.scenario.workers,
        )
        .to_csr()
        .tocoo()
    )
    return sparse.csr_matrix((r.data, (snapped.index[s_keep][r.row], t_keep[r.col])), shape=(n_c, n_d))


def model_inputs(prep: Prepared, spec: Any) -> tuple[sparse.csr_matrix, npt.NDArray[np.float64], float]:
    """``(costs, weights, cutoff)`` for an attendance or deaths model on a prepared scenario."""
    imp: ImpactSpec = spec.impact
    speed = prep.scenario.speed_m_per_min
    if spec.model == "attendance":
        m = reach_metres(prep, imp.decay.reach * speed)
        m.data = m.data / speed
        return m, prep.demand_weight, imp.decay.reach
    if spec.model == "deaths":
        fatal = fatal_flags(prep)
        if fatal is None or not fatal.any():
            msg = (
                "--model deaths needs fatal incidents: the incidents have no fatal column "
                "(name it with --fatal-column)"
                if fatal is None
                else "--model deaths needs fatal incidents: none of the incidents is marked fatal"
            )
            raise InputError(msg)
        reach = max_distance_m(imp.bands)
        return reach_metres(prep, reach, targets=fatal), fatal.astype(np.float64), reach
    msg = f"model {spec.model!r} is not one of {', '.join(VALUE_MODELS)}"
    raise InputError(msg)


def matrix_model_inputs(inputs: Mapping[str, Any], spec: Any, speed_m_per_min: float) -> dict[str, Any]:
    """The same for ``siting select --matrix``: minutes or metres from the OD file."""
    imp: ImpactSpec = spec.impact
    if spec.model == "attendance":
        costs = inputs["costs"] if inputs["unit"] == "minutes" else inputs["metres"] / speed_m_per_min
        return {"costs": sparse.csr_matrix(costs), "weights": inputs["weights"], "cutoff": imp.decay.reach}
    fatal = inputs.get("fatal")
    if fatal is None or not np.asarray(fatal).any():
        msg = "--model deaths needs a fatal column in --demand (name it with --fatal-column)"
        raise InputError(msg)
    return {
        "costs": sparse.csr_matrix(inputs["metres"]),
        "weights": np.asarray(fatal, np.float64),
        "cutoff": max_distance_m(imp.bands),
    }


def incident_hours(prep: Prepared) -> tuple[npt.NDArray[np.int64] | None, str]:
    """Hour of day of each kept incident in the data's timezone (``-1``: unknown), or
    ``None`` and why not."""
    kept = prep.demand.kept
    if "date" not in kept.columns:
        return None, "the incidents have no date column: hours not estimated"
    try:
        hours = local_hours(kept["date"], getattr(prep.scenario, "timezone", None))
    except InputError as exc:
        return None, f"hours not estimated: {exc}"
    if not (hours >= 0).any():
        return None, "the incidents' dates carry no time of day: hours not estimated"
    return hours, ""


def erlang_capacity(prep: Prepared, spec: Any) -> Any:
    """``spec.capacity`` with each candidate's visits a day by the queue (``capacity_rule = "erlang"``).

    A candidate's visits follow the hour profile of the incidents within its walking cutoff
    (the whole layer's profile where it reaches none with a time of day) over its
    recommended opening hours; its capacity is the most visits a day its booths take with
    the mean wait at or under ``wait_target`` in the busiest open hour
    (:func:`siting.booths.visits_within_wait`).
    """
    from dataclasses import replace

    from .booths import visits_within_wait
    from .hours import hourly_counts, recommend_hours
    from .pipeline import within

    cap = spec.capacity
    imp: ImpactSpec = spec.impact
    hours, why = incident_hours(prep)
    if hours is None:
        msg = f"--capacity-rule erlang needs the incidents' times of day; {why} (or use --capacity-rule uses)"
        raise InputError(msg)
    ids = prep.candidate_ids
    booths = cap.booths if hasattr(cap.booths, "get") else dict.fromkeys(ids, float(cap.booths))
    reach = within(prep.demand_metres_wide, prep.scenario.cutoff_m).tocsr()
    everyone = hourly_counts(hours)
    visits: dict[str, float] = {}
    for k, cid in enumerate(ids):
        b = float(booths.get(cid, cap.default_booths))
        if b != int(b):
            msg = f"--capacity-rule erlang needs whole booths; {cid} has {b:g}"
            raise InputError(msg)
        prof = hourly_counts(hours[reach.indices[reach.indptr[k] : reach.indptr[k + 1]]])
        if prof.sum() <= 0:
            prof = everyone
        open_ = recommend_hours(prof, target=imp.hours_share, also=None).open_mask()
        visits[cid] = visits_within_wait(
            int(b), prof, open_hours=open_, service_min=imp.booth_minutes, target_wait_min=imp.wait_target_min
        )
    return replace(cap, visits=visits)


# --------------------------------------------------------------------------- per-site tables


def data_years(dates: pd.Series) -> float | None:
    """Years between the first and last parseable date (``None`` under four weeks)."""
    d = pd.to_datetime(dates.astype("string"), errors="coerce", format="mixed", utc=True).dropna()
    if len(d) < 2:
        return None
    days = (d.max() - d.min()).total_seconds() / 86400.0
    return days / 365.25 if days >= 28 else None


def site_figures(prep: Prepared, spec: Any, chosen: list[str]) -> dict[str, Any]:
    """Per-site attendance, deaths averted, opening hours and booths for the chosen sites.

    Returns ``site_tables``'s three tables plus ``hours_note`` (why hours are missing,
    when they are) and ``years`` (the span the deaths figures cover).
    """
    imp: ImpactSpec = getattr(spec, "impact", None) or ImpactSpec()
    sc = prep.scenario
    speed = sc.speed_m_per_min
    ids = prep.candidate_ids
    pos = {c: i for i, c in enumerate(ids)}
    rows = [pos[c] for c in chosen]
    src = np.zeros(len(ids), bool)
    src[rows] = True
    longest = max(sc.cutoff_m, imp.decay.reach * speed, DEFAULT_LIMIT_MIN * speed)  # every curve's reach
    mins = reach_metres(prep, longest, sources=src)[rows]
    mins.data = mins.data / speed
    fatal = fatal_flags(prep)
    n_d = prep.demand_metres_wide.shape[1]
    mets = (
        reach_metres(prep, max_distance_m(imp.bands), sources=src, targets=fatal)[rows]
        if fatal is not None and fatal.any()
        else sparse.csr_matrix((len(rows), n_d))
    )
    kept = prep.demand.kept
    hours, note = incident_hours(prep)
    years = data_years(kept["date"]) if "date" in kept.columns else None
    st = SiteSettings(
        curve=imp.decay,
        bands=imp.bands,
        hours_share=imp.hours_share,
        demand_per_day=spec.demand_per_day,
        uses_per_booth_per_day=spec.uses_per_booth_per_day,
        booth_minutes=imp.booth_minutes,
        wait_target_min=imp.wait_target_min,
    )
    tables = site_tables(
        chosen,
        minutes=mins,
        metres=mets,
        cutoff_min=sc.cutoff_m / speed,
        fatal=fatal,
        hours=hours,
        settings=st,
        years=years,
    )
    if note:
        tables["site_impact"]["hours_text"] = note
    # the chosen set's attendance under each documented curve: the range the report gives
    tables["site_impact"].attrs["attendance_by_curve"] = attendance_by_curve(mins, np.ones(n_d))
    return {**tables, "hours_note": note, "years": years}
