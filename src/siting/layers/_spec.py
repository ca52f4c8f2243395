"""What a layer is (:class:`LayerSpec`), its columns' usual names, and how rows are named.

Rows are named the way the analyst finds them again: in a CSV by the line of the file a
text editor or spreadsheet shows (the header is row 1), in other formats by the feature's
position counted from 1 (QGIS' feature order). A layer with its own id column reports
dropped points by those ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .._errors import InputError

if TYPE_CHECKING:
    import os

#: Roles a layer can play. ``attract``/``avoid`` are extra layers that raise or lower a score.
ROLES = ("demand", "services", "candidates", "attract", "avoid")
READ_FORMATS = {
    ".csv": "CSV",
    ".txt": "CSV",
    ".tsv": "CSV",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".shp": "Shapefile",
    ".zip": "zipped Shapefile",
    ".parquet": "GeoParquet",
    ".geoparquet": "GeoParquet",
}
#: Conventional column names, matched case-insensitively, first match wins.
CONVENTIONS: dict[str, tuple[str, ...]] = {
    "id": (
        "id",
        "site_id",
        "candidate_id",
        "parcel_id",
        "parcelid",
        "apn",
        "fid",
        "objectid",
        "gid",
        "uid",
        "code",
        "incident_id",
        "incident_no",
        "incident_number",
        "call_id",
        "call_no",
        "call_number",
        "case_id",
        "case_no",
        "case_number",
        "event_id",
        "event_number",
        "record_id",
    ),
    "weight": ("weight", "w", "count", "n", "incidents"),
    "lat": ("lat", "latitude", "y_lat", "lat_dd", "ycoord_wgs84"),
    "lon": ("lon", "lng", "long", "longitude", "x_lon", "lon_dd", "xcoord_wgs84"),
    "date": (
        "date",
        "datetime",
        "timestamp",
        "time",
        "incident_date",
        "incident_datetime",
        "incident_date_time",
        "call_date",
        "call_datetime",
        "call_date_time",
        "call_received",
        "dispatch_datetime",
        "dispatch_date",
        "event_date",
        "event_datetime",
        "date_time",
        "occurred",
        "occurred_at",
        "occurred_on",
        "reported_at",
    ),
    "fatal": ("fatal", "is_fatal", "death", "died", "deceased", "outcome_fatal"),
    "name": ("name", "site_name", "title", "label"),
    "status": (
        "disposition",
        "disposition_text",
        "call_disposition",
        "final_disposition",
        "incident_disposition",
        "disposition_code",
        "disp",
        "status",
        "call_status",
        "incident_status",
        "outcome",
    ),
}
#: Values that mean "no value" in coordinate, date, weight and flag columns (R writes NA).
MISSING_TOKENS = frozenset({"", "na", "nan", "n/a", "#n/a", "null", "none", "nat", "<na>", "-"})
#: How many rows or ids a message lists before "and N more".
MAX_LISTED = 5


@dataclass
class LayerSpec:
    """Where a layer is and how to read it.

    Column options left ``None`` are found by :data:`CONVENTIONS`; a named column that
    does not exist is an error.

    Attributes
    ----------
    where
        An OGR SQL filter on the file's own columns (as ``ogr2ogr -where``): only rows
        for which it is true are used, e.g. ``"DISPOSITION <> 'CAN: CANCELLED'"``.
    since, until
        Keep rows dated on or after ``since`` and on or before ``until`` (a date alone
        includes that whole day). Needs a date column.
    date_format
        A ``strftime`` format for the date column (``%m/%d/%Y %I:%M:%S %p``); by default
        ISO, US month/day/year and day.month.year forms are recognised.
    status_column
        A disposition or status column whose values are summarised (found by its usual
        names when not given).
    duplicate_minutes
        Demand rows at the same place within this many minutes of an earlier kept row
        are duplicates (several units, or repeated calls, for one event); ``0`` keeps
        them all. ``None``: ``settings.duplicate_minutes`` for demand layers.
    label
        What the layer is called on maps and in the report (services: "naloxone sites").
    where_flag
        How the user gave ``where``, for messages (``siting inspect --where``); by default
        the run's own flag for the role (``--demand-where``).
    """

    path: str | os.PathLike[str]
    role: str = "demand"
    name: str | None = None
    weight: float = 1.0
    id_column: str | None = None
    weight_column: str | None = None
    lat_column: str | None = None
    lon_column: str | None = None
    date_column: str | None = None
    fatal_column: str | None = None
    name_column: str | None = None
    status_column: str | None = None
    layer: str | None = None
    crs: str | None = None
    polygons: str = "representative"
    where: str | None = None
    since: str | None = None
    until: str | None = None
    date_format: str | None = None
    timezone: str | None = None  # hours of day in this zone (see siting.zones)
    duplicate_minutes: float | None = None
    label: str | None = None
    where_flag: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            msg = f"{self.path}: unknown layer role {self.role!r}; use one of {', '.join(ROLES)}"
            raise InputError(msg)
        if self.polygons not in ("representative", "centroid"):
            msg = f"{self.path}: `polygons` must be 'representative' or 'centroid', not {self.polygons!r}"
            raise InputError(msg)
        if self.duplicate_minutes is not None:
            try:
                self.duplicate_minutes = float(self.duplicate_minutes)
            except (TypeError, ValueError):
                msg = f"{self.path}: `duplicate_minutes` must be a number of minutes, not {self.duplicate_minutes!r}"
                raise InputError(msg) from None
            if not self.duplicate_minutes >= 0:
                msg = f"{self.path}: `duplicate_minutes` must be 0 or more, not {self.duplicate_minutes!r}"
                raise InputError(msg)
        for key in ("where", "since", "until", "date_format", "label"):
            value = getattr(self, key)
            if value is not None and not isinstance(value, str):
                setattr(self, key, str(value))
            if isinstance(getattr(self, key), str) and not getattr(self, key).strip():
                setattr(self, key, None)
        if self.name is None:
            self.name = self.role if self.role in ("demand", "services", "candidates") else stem(self.path)


def stem(path: str | os.PathLike[str]) -> str:
    """The file name without its (possibly double) layer extension."""
    name = Path(path).name
    for suffix in sorted(READ_FORMATS, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return Path(path).stem


@dataclass(frozen=True)
class RowNames:
    """How the rows of one file are named in messages: ``row 7`` (CSV) or ``feature 7``."""

    word: str
    numbers: npt.NDArray[np.int64]

    def __deepcopy__(self, memo: dict[int, Any]) -> RowNames:
        # Kept in GeoDataFrame.attrs, which pandas deep-copies on every column access and
        # every derived frame: a 200,000-row layer once spent seconds copying its row names.
        # The names are never changed in place (take() makes new ones), so sharing is safe.
        return self

    def take(self, keep: npt.NDArray[np.bool_] | npt.NDArray[np.int64]) -> RowNames:
        return RowNames(self.word, self.numbers[keep])

    def labels(self, positions: Any = None) -> list[str]:
        nums = self.numbers if positions is None else self.numbers[np.asarray(positions, dtype=np.int64)]
        return [f"{self.word} {n}" for n in nums.tolist()]

    def describe(self, positions: Any) -> str:
        """``"rows 3, 7 and 2 more"`` for positions (0-based) of the current table."""
        pos = np.asarray(positions, dtype=np.int64)
        return listed(self.numbers[pos].tolist(), self.word)


def listed(values: list[Any], word: str, limit: int = MAX_LISTED) -> str:
    """``"rows 3, 7, 9 and 4 more"``; ``word`` is made plural when more than one is listed."""
    shown = ", ".join(str(v) for v in values[:limit])
    more = f" and {len(values) - limit:,} more" if len(values) > limit else ""
    plural = word if len(values) == 1 else (word[:-1] + "ies" if word.endswith("y") else word + "s")
    return f"{plural} {shown}{more}"


def find_column(columns: Any, key: str, given: str | None, path: Path) -> str | None:
    """The column for ``key``: the one given (exact, else case-insensitive), else by convention.

    A ``given`` name starting with ``?`` is a hint shared by every layer of a run (CLI
    ``--lat-column``): used where the file has it, otherwise the conventions apply.
    """
    cols = [str(c) for c in columns]
    lower = {c.lower(): c for c in reversed(cols)}
    if given is not None and given.startswith("?"):
        hint = given[1:]
        given = hint if (hint in cols or hint.lower() in lower) else None
    if given is not None:
        if given in cols:
            return given
        if given.lower() in lower:
            return lower[given.lower()]
        msg = f"{path}: column {given!r} (given for `{key}`) not found; columns are {column_list(cols)}"
        raise InputError(msg)
    plain = {_plain(c): c for c in reversed(cols)}
    for cand in CONVENTIONS[key]:
        if cand in plain:
            return plain[cand]
    return None


def _plain(name: str) -> str:
    """A column name as the conventions spell it: ``Call Date/Time`` -> ``call_date_time``."""
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def column_list(columns: Any) -> str:
    """Every column name, quoted where it holds a space or comma (never cut short)."""
    out = []
    for c in columns:
        s = str(c)
        out.append(repr(s) if (not s or any(ch in s for ch in " ,;'\"")) else s)
    return ", ".join(out)
