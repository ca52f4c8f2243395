"""The base table: incidents per cell, released, and the demand units that carry it.

This is the only place a shareable output reads the incidents. It counts them per cell of
the :class:`~siting.privacy.area.StudyArea` (and fatal incidents per cell when the data
has a fatal flag), releases the counts with the rule and secondary suppression against
their total (:func:`~siting.privacy.partition.release_partition`), and then turns the
*released* values into masses on the demand units:

* a shown cell's mass is its shown (rounded) value (scaled down in the rare case the
  shown cells add up to more than the shown total);
* the hidden cells (suppressed or withheld) share what the shown total leaves after the
  shown cells, by street length (a withheld cell gets at least the smallest shown value);
* a cell's mass is spread over its units by street length.

Fatal masses follow the same steps with fatal counts (hidden cells share by count mass).
Weighted demand is derived too: when the weight is fixed by the fatal flag (1 and 5, say)
a unit's weight is ``w0 * nonfatal + w1 * fatal``; when it is one constant, ``w * count``;
otherwise the count times a mean weight built from released figures (see
:func:`_weight_ratio`). No mass depends on anything but released values and the streets.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from .partition import (
    SHOWN,
    SUPPRESSED,
    WITHHELD,
    Released,
    release_counts,
    release_partition,
    release_with_total,
)

if TYPE_CHECKING:
    import geopandas as gpd

    from .area import StudyArea
    from .rule import Rule

log = logging.getLogger("siting.privacy")

F64 = npt.NDArray[np.float64]

#: Weights with at most this many distinct values are treated as categories (see _weight_ratio).
MAX_WEIGHT_CATEGORIES = 12


@dataclass(frozen=True, eq=False)
class ReleasedDemand:
    """Released incident counts per cell and the unit masses built from them.

    Attributes
    ----------
    area
        The cells and units (public geometry).
    total, fatal_total
        The released totals (one value each); ``fatal_total`` is ``None`` without a fatal flag.
    cells, fatal_cells
        Released counts per cell (``fatal_cells`` ``None`` without a fatal flag).
    cell_mass, cell_fatal_mass
        The value each cell stands for in every derived figure and the heat surface.
    unit_count, unit_fatal, unit_weight
        Masses on the demand units (sum to the cell masses).
    weight_mode
        How weighted demand is derived: ``"count"``, ``"constant"``, ``"fatal"``,
        ``"categories"`` or ``"continuous"``.
    weight_note
        One sentence saying so, for the report.
    """

    area: StudyArea
    rule: Rule
    total: Released
    fatal_total: Released | None
    cells: Released
    fatal_cells: Released | None
    cell_mass: F64
    cell_fatal_mass: F64
    unit_count: F64
    unit_fatal: F64
    unit_weight: F64
    weight_mode: str
    weight_note: str
    extra_totals: dict[str, Released]
    profiles: dict[str, Released]
    has_time: bool

    @property
    def total_value(self) -> float:
        """The released total as a number (its mass when it is suppressed)."""
        return float(self.cell_mass.sum())

    def cells_frame(self) -> gpd.GeoDataFrame:
        """One row per cell: released count and fatal count with labels, status, heat.

        ``label``, ``suppressed`` and ``heat`` are what the map's hexagon layer draws.
        """
        g = self.area.cells_frame()
        c = self.cells
        g["count"] = c.value
        g["count_label"] = c.label
        g["status"] = c.status
        g["label"] = c.label
        g["suppressed"] = c.status != SHOWN
        g["heat"] = np.round(self.cell_mass, 3)
        if self.fatal_cells is not None:
            g["fatal"] = self.fatal_cells.value
            g["fatal_label"] = self.fatal_cells.label
            g["fatal_status"] = self.fatal_cells.status
        g.attrs["hex_size_m"] = self.area.size_m
        g.attrs["hex_origin"] = self.area.origin
        g.attrs["suppression_threshold"] = self.rule.threshold
        return g

    def units_frame(self) -> gpd.GeoDataFrame:
        """The released demand units: points on streets with their masses."""
        import geopandas as gpd

        a = self.area
        return gpd.GeoDataFrame(
            {
                "unit": np.arange(a.n_units),
                "cell": a.unit_cell,
                "count": np.round(self.unit_count, 4),
                "fatal": np.round(self.unit_fatal, 4),
                "weight": np.round(self.unit_weight, 4),
            },
            geometry=a.unit_points(),
            crs=a.crs,
        )


def _spread(cells: Released, shown_total: float, share: F64, floor: float) -> F64:
    """Cell masses: shown values, and what the total leaves spread over hidden cells by ``share``."""
    mass = np.where(cells.status == SHOWN, np.nan_to_num(cells.value), 0.0)
    if mass.sum() > shown_total > 0:  # rounded parts can add up to more than the rounded total
        mass *= shown_total / mass.sum()
    hidden = cells.status != SHOWN
    withheld = cells.status == WITHHELD
    left = max(shown_total - float(mass.sum()), 0.0)
    w = np.where(hidden, share, 0.0)
    if hidden.any() and w.sum() <= 0:
        w = hidden.astype(np.float64)
    if w.sum() > 0:
        mass = mass + left * w / w.sum()
    if withheld.any():
        mass[withheld] = np.maximum(mass[withheld], floor)
        sup = cells.status == SUPPRESSED
        rest = max(shown_total - float(mass[~sup].sum()), 0.0)
        ws = np.where(sup, share, 0.0)
        if ws.sum() > 0:
            mass[sup] = rest * ws[sup] / ws.sum()
    return mass


def _per_unit(area: StudyArea, cell_mass: F64) -> F64:
    """Spread each cell's mass over its units by street length (one unit: all of it)."""
    cell_len = np.bincount(area.unit_cell, weights=area.unit_street_m, minlength=area.n_cells)
    n_units = np.bincount(area.unit_cell, minlength=area.n_cells).astype(np.float64)
    by_len = np.divide(
        area.unit_street_m,
        cell_len[area.unit_cell],
        out=np.zeros(area.n_units),
        where=cell_len[area.unit_cell] > 0,
    )
    even = 1.0 / np.maximum(n_units[area.unit_cell], 1.0)
    share = np.where(cell_len[area.unit_cell] > 0, by_len, even)
    return cell_mass[area.unit_cell] * share


def _total_mass(total: Released, rule: Rule) -> float:
    """The number the hidden cells share: the shown total, or half the threshold if hidden."""
    v = float(total.value[0])
    return v if np.isfinite(v) else rule.threshold / 2.0


def _fatal_flags(points: pd.DataFrame) -> npt.NDArray[np.bool_] | None:
    if "fatal" not in points.columns:
        return None
    f = points["fatal"]
    if f.dtype == object:
        f = f.map(lambda v: bool(v) if v is not None and not pd.isna(v) else False)
    flags = np.asarray(f.fillna(False).astype(bool).to_numpy(), dtype=bool)
    return flags


def _weight_mode(w: F64, flags: npt.NDArray[np.bool_] | None) -> str:
    """How weighted demand can be derived from released counts (see the module docstring)."""
    if w.size == 0 or np.all(w == 1.0):
        return "count"
    if np.all(w == w[0]):
        return "constant"
    if flags is not None and _fixed_by(w, flags):
        return "fatal"
    return "categories" if np.unique(w).size <= MAX_WEIGHT_CATEGORIES else "continuous"


def _class_ratio(values: F64, rel: Released, total_mass: float) -> float:
    """Mean weight from released counts per weight class (hidden classes share what is left)."""
    masses = np.where(rel.status == SHOWN, np.nan_to_num(rel.value), 0.0)
    hidden = rel.status != SHOWN
    if hidden.any():
        masses[hidden] = max(total_mass - masses.sum(), 0.0) / hidden.sum()
    return float((values * masses).sum() / max(masses.sum(), 1e-12))


def _one(r: Released, i: int) -> Released:
    return Released(
        r.value[i : i + 1], r.label[i : i + 1], r.status[i : i + 1], r.low[i : i + 1], r.high[i : i + 1]
    )


def release_demand(points: gpd.GeoDataFrame, area: StudyArea, rule: Rule) -> ReleasedDemand:
    """Count ``points`` per cell of ``area``, release the counts, and build unit masses.

    ``points`` are the incidents a run kept (network CRS), with optional ``weight``,
    ``fatal`` and ``date`` columns. The cells, the hour and weekday bars (when every
    incident is dated) and the weight classes all add up to the one released total and are
    released with it (:func:`~siting.privacy.partition.release_with_total`). Points outside
    the study area (possible only when the run's snapping limit was larger than the one
    the area was drawn for) are counted in the nearest cell and logged.
    """
    from scipy.spatial import cKDTree

    geom = points.geometry.values
    ok = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    xy = shapely.get_coordinates(shapely.centroid(geom[ok])) if ok.any() else np.empty((0, 2))
    cell = area.cell_index(xy[:, 0], xy[:, 1])
    outside = cell < 0
    if outside.any():
        cx, cy = area.centres()
        _, near = cKDTree(np.column_stack([cx, cy])).query(xy[outside], k=1)
        cell[outside] = near
        log.warning(
            "%d incident(s) lie outside the study area's cells; counted in the nearest cell",
            int(outside.sum()),
        )
    n = np.bincount(cell, minlength=area.n_cells).astype(np.float64)
    flags_all = _fatal_flags(points)
    flags = None if flags_all is None else flags_all[ok]
    w = (
        pd.to_numeric(points["weight"], errors="coerce").fillna(0.0).to_numpy(np.float64)[ok]
        if "weight" in points.columns
        else np.ones(int(ok.sum()))
    )
    mode = _weight_mode(w, flags)

    # the base table: cells, time bars and weight classes, all adding up to one total
    bars, has_time = _time_bars(points.iloc[np.flatnonzero(ok)])
    joint: dict[str, F64] = {"cells": n}
    joint.update({k[: -len("_total")]: v for k, v in bars.items() if k.endswith("_total")})
    classes = None
    if mode == "categories":
        classes, inverse = np.unique(w, return_inverse=True)
        joint["classes"] = np.bincount(inverse, minlength=classes.size).astype(np.float64)
    total, parts = release_with_total(float(n.sum()), joint, rule)
    cells = parts.pop("cells")
    class_rel = parts.pop("classes", None)
    profiles = dict(parts)
    profiles.update(
        {k: release_partition(v, rule, total=None) for k, v in bars.items() if not k.endswith("_total")}
    )

    shown_total = _total_mass(total, rule)
    cell_mass = _spread(cells, shown_total, area.cell_street_m, float(rule.first_shown))
    unit_count = _per_unit(area, cell_mass)

    fatal_total = fatal_cells = None
    cell_fatal = np.zeros(area.n_cells)
    if flags is not None:
        f = np.bincount(cell[flags], minlength=area.n_cells).astype(np.float64)
        fatal_total, fparts = release_with_total(float(f.sum()), {"cells": f}, rule)
        fatal_cells = fparts["cells"]
        cell_fatal = _spread(fatal_cells, _total_mass(fatal_total, rule), cell_mass, float(rule.first_shown))
        cell_fatal = np.minimum(cell_fatal, cell_mass)
    unit_fatal = _per_unit(area, cell_fatal)

    extra: dict[str, Released] = {}
    if mode == "count":
        note, unit_weight = "Demand is unweighted: each incident counts once.", unit_count
    elif mode == "constant":
        note, unit_weight = f"Every incident weighs {w[0]:g}.", unit_count * w[0]
    elif mode == "fatal":
        assert flags is not None
        w0 = float(w[~flags][0]) if (~flags).any() else 1.0
        w1 = float(w[flags][0])
        note = (
            f"Weighted demand: {w0:g} per non-fatal and {w1:g} per fatal incident, from the released counts."
        )
        unit_weight = w0 * (unit_count - unit_fatal) + w1 * unit_fatal
    elif mode == "categories":
        assert classes is not None and class_rel is not None
        ratio = _class_ratio(classes, class_rel, shown_total)
        note = (
            f"Weighted demand uses a mean weight of {ratio:.2f} per incident, from the released "
            f"number of incidents in each of the {classes.size} weight classes."
        )
        extra = {f"weight_class_{v:g}": _one(class_rel, i) for i, v in enumerate(classes)}
        unit_weight = unit_count * ratio
    else:
        wt = release_counts([float(w.sum())], rule)
        shown_w = float(wt.value[0]) if np.isfinite(wt.value[0]) else rule.threshold / 2.0
        ratio = shown_w / max(shown_total, 1e-12)
        note = (
            f"Weighted demand uses a mean weight of {ratio:.2f} per incident "
            "(released weighted total / released count)."
        )
        extra = {"weight": wt}
        unit_weight = unit_count * ratio
    return ReleasedDemand(
        area=area,
        rule=rule,
        total=total,
        fatal_total=fatal_total,
        cells=cells,
        fatal_cells=fatal_cells,
        cell_mass=cell_mass,
        cell_fatal_mass=cell_fatal,
        unit_count=unit_count,
        unit_fatal=unit_fatal,
        unit_weight=unit_weight,
        weight_mode=mode,
        weight_note=note,
        extra_totals=extra,
        profiles=profiles,
        has_time=has_time,
    )


def _time_bars(points: pd.DataFrame) -> tuple[dict[str, F64], bool]:
    """Incidents by hour of day and by weekday (keys end in ``_total`` when every incident
    has a date, so the bars add up to the published total)."""
    if "date" not in points.columns or len(points) == 0:
        return {}, False
    from ..hotspots import time_profile

    prof = time_profile(points)
    has_time = bool(prof["has_time"].iloc[0])
    dated = int(prof["weekday"].sum())
    suffix = "_total" if dated == len(points) else ""
    out = {f"weekday{suffix}": prof["weekday"].to_numpy(dtype=np.float64)}
    if has_time:
        out[f"hour{suffix}"] = prof["hour"].to_numpy(dtype=np.float64)
    return out, has_time


def _fixed_by(w: F64, fatal: npt.NDArray[np.bool_]) -> bool:
    """Is every non-fatal incident's weight one value and every fatal one's another?"""
    if not fatal.any():
        return False
    a, b = w[~fatal], w[fatal]
    return bool((a.size == 0 or np.all(a == a[0])) and np.all(b == b[0]))
