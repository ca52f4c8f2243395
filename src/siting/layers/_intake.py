"""What happened to a layer's rows between the file and the analysis (``siting inspect``).

An :class:`Intake` is kept with every layer read: rows read, each step that removed rows
(filters, rows without coordinates, duplicates, points far from every street) with how
many and which, rows used, the date range and the values of a disposition column. The
CLI prints it, the pipeline records it in the Plan's manifest, the report shows it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

#: Reasons a step removes rows, in the order they are applied, with a short label.
REASONS = {
    "where": "filter",
    "since": "dated before `since`",
    "until": "dated after `until`",
    "no_coordinates": "no coordinates (failed geocodes)",
    "duplicate": "duplicate calls",
    "far_from_streets": "far from every street",
}
#: Values of a status column listed before the rest are summed up as "other values".
MAX_STATUS_VALUES = 25


@dataclass
class Step:
    """One step that removed (or, for candidates, excluded) rows."""

    reason: str
    removed: int
    detail: str = ""
    who: list[str] = field(default_factory=list)  # the data's own ids, or "row 7"
    excluded_only: bool = False  # candidates far from streets stay in the table, excluded

    @property
    def words(self) -> str:
        """The short label of the reason (a report's table column)."""
        return REASONS.get(self.reason, self.reason)

    @property
    def text(self) -> str:
        """The reason with its detail, in words: ``by the filter DISP <> 'CAN'``."""
        if self.reason == "where":
            return f"by the filter {self.detail}"
        if self.reason in ("since", "until"):
            return f"dated {'before' if self.reason == 'since' else 'after'} {self.detail}"
        return f"{self.words}: {self.detail}" if self.detail else self.words


@dataclass
class Intake:
    """The accounting of one layer: every row read is used or removed by exactly one step."""

    name: str
    role: str
    path: str
    format: str
    rows_read: int
    row_word: str = "row"
    geometry: str = ""
    id_column: str | None = None
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    date_column: str | None = None
    date_format: str | None = None
    date_first: str | None = None
    date_last: str | None = None
    undated: int = 0
    status_column: str | None = None
    status_read: dict[str, int] = field(default_factory=dict)
    status_used: dict[str, int] = field(default_factory=dict)
    fatal_column: str | None = None
    fatal_values: list[str] = field(default_factory=list)  # empty: a yes/no column
    fatal_used: int | None = None  # fatal rows among the rows used

    @property
    def rows_used(self) -> int:
        return self.rows_read - sum(s.removed for s in self.steps if not s.excluded_only)

    def add(self, step: Step) -> None:
        if step.removed:
            self.steps.append(step)

    def removed_by(self, reason: str) -> int:
        return sum(s.removed for s in self.steps if s.reason == reason)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (what ``siting inspect --json`` prints and the manifest holds)."""
        d = asdict(self)
        d["rows_used"] = self.rows_used
        for step, obj in zip(d["steps"], self.steps, strict=True):
            step["words"] = obj.words
            step["text"] = obj.text
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Intake:
        data = dict(data)
        data.pop("rows_used", None)
        steps = [
            Step(**{k: v for k, v in s.items() if k not in ("words", "text")}) for s in data.pop("steps", [])
        ]
        return cls(**data, steps=steps)


def summarise_status(values: pd.Series, kept: npt.NDArray[np.bool_]) -> tuple[dict[str, int], dict[str, int]]:
    """Counts of each value of a status column, among rows read and rows used (most common first)."""
    text = values.astype("string").fillna("").str.strip().replace("", "(blank)")
    read = text.value_counts(sort=False)
    order = sorted(read.index, key=lambda v: (-int(read[v]), str(v)))
    used = text[kept].value_counts(sort=False)

    def capped(counts: pd.Series) -> dict[str, int]:
        out = {str(v): int(counts.get(v, 0)) for v in order[:MAX_STATUS_VALUES]}
        rest = int(sum(int(counts.get(v, 0)) for v in order[MAX_STATUS_VALUES:]))
        if len(order) > MAX_STATUS_VALUES:
            out[f"({len(order) - MAX_STATUS_VALUES} other values)"] = rest
        return out

    return capped(read), capped(used)


def metre_xy(geoms: Any, crs: Any) -> npt.NDArray[np.float64]:
    """Point coordinates in metres, near enough for "the same place" (local scale of lon/lat)."""
    import shapely
    from pyproj import CRS

    xy = shapely.get_coordinates(np.asarray(geoms, dtype=object))
    c = CRS.from_user_input(crs) if crs is not None else None
    if c is None or c.is_geographic:
        lat0 = float(np.nanmean(xy[:, 1])) if xy.size else 0.0
        return np.column_stack([xy[:, 0] * 111_320.0 * np.cos(np.radians(lat0)), xy[:, 1] * 110_574.0])
    factor = c.axis_info[0].unit_conversion_factor if c.axis_info else 1.0
    return xy * float(factor or 1.0)


def find_duplicates(
    xy_m: npt.NDArray[np.float64],
    times: pd.Series,
    *,
    minutes: float,
    place_m: float,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
    """Rows that repeat an earlier kept row at the same place within ``minutes``.

    Points within ``place_m`` of each other (chained) are one place. At each place, rows
    are taken in time order; a row within ``minutes`` after the last kept row is a
    duplicate of it, otherwise it is kept. Rows without a time are never duplicates.

    Returns the duplicate mask and, for every row, the position of the kept row it
    repeats (itself when kept).

    >>> import pandas as pd
    >>> xy = np.array([[0.0, 0.0], [0.2, 0.0], [0.0, 0.0], [50.0, 0.0]])
    >>> t = pd.Series(pd.to_datetime(["2021-01-01 10:00", "2021-01-01 10:20", "2021-01-01 11:00",
    ...                               "2021-01-01 10:05"]))
    >>> dup, of = find_duplicates(xy, t, minutes=30, place_m=1.0)
    >>> dup.tolist(), of.tolist()
    ([False, True, False, False], [0, 0, 2, 3])
    """
    from scipy import sparse
    from scipy.sparse import csgraph
    from scipy.spatial import cKDTree

    n = xy_m.shape[0]
    dup = np.zeros(n, dtype=bool)
    of = np.arange(n, dtype=np.int64)
    t = pd.to_datetime(times).reset_index(drop=True)
    has = t.notna().to_numpy() & np.isfinite(xy_m).all(axis=1)
    idx = np.flatnonzero(has)
    if minutes <= 0 or idx.size < 2:
        return dup, of
    pairs = cKDTree(xy_m[idx]).query_pairs(place_m, output_type="ndarray")
    if pairs.size == 0:
        return dup, of
    graph = sparse.coo_matrix(
        (np.ones(len(pairs), np.int8), (pairs[:, 0], pairs[:, 1])), shape=(idx.size, idx.size)
    )
    _, place = csgraph.connected_components(graph, directed=False)
    sizes = np.bincount(place)
    multi = sizes[place] > 1
    sel = idx[multi]
    grp = place[multi]
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_convert("UTC").dt.tz_localize(None)
    ns = t.to_numpy(dtype="datetime64[ns]").astype(np.int64)[sel]
    order = np.lexsort((sel, ns, grp))
    sel, grp, ns = sel[order], grp[order], ns[order]
    window = round(minutes * 60e9)
    last_kept_time = None
    last_kept_row = -1
    current = -1
    for row, g, tt in zip(sel.tolist(), grp.tolist(), ns.tolist(), strict=True):
        if g != current:
            current, last_kept_time, last_kept_row = g, tt, row
            continue
        if last_kept_time is not None and tt - last_kept_time <= window:
            dup[row] = True
            of[row] = last_kept_row
        else:
            last_kept_time, last_kept_row = tt, row
    return dup, of
