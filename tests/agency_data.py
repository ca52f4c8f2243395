"""Synthetic agency files written into a test's tmp_path: an R-style EMS export, a WKT CSV,
a TIGER-like centreline layer. Each writer returns the truth the tests check against."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"

CANCELLED = "CAN: CANCELLED"
DISPOSITIONS = ("TRANSPORTED", "TREATED, NOT TRANSPORTED", "REFUSED CARE")


@dataclass
class Export:
    path: Path
    rows: int = 0
    cancelled: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # no coordinates: c(NA, NA)
    duplicates: list[str] = field(default_factory=list)  # repeat calls, same place within 30 min
    times: dict[str, pd.Timestamp] = field(default_factory=dict)
    lonlat: dict[str, tuple[float, float]] = field(default_factory=dict)
    disposition: dict[str, str] = field(default_factory=dict)


def _us(t: pd.Timestamp) -> str:
    return t.strftime("%m/%d/%Y %I:%M:%S %p")


def write_r_export(path: Path, n: int = 120, seed: int = 3) -> Export:
    """An EMS export as R's write.csv writes an sf table: a quoted row-name column, quoted text,
    and the point as an unquoted ``c(lon, lat)`` (one field more than the header on every row).

    Every 6th call is cancelled, every 9th failed to geocode (``c(NA, NA)``), and every 7th
    is followed by a repeat call from the same place 4 to 25 minutes later (a duplicate).
    Times are US ``11/15/2021 05:42:49 PM``. Points are demo incident locations (Helsinki).
    """
    rng = np.random.default_rng(seed)
    base = pd.read_csv(DEMO / "incidents.csv").iloc[:n]
    ex = Export(path=path)
    lines = ['"","INCIDENT_NO","geometry","CALL_DATETIME","DISPOSITION_TEXT","PRIORITY"']
    start = pd.Timestamp("2021-11-01 00:00:00")
    row = 0

    def emit(inc: str, lon: float | None, lat: float | None, t: pd.Timestamp, disp: str) -> None:
        nonlocal row
        row += 1
        geom = "c(NA, NA)" if lon is None else f"c({lon}, {lat})"
        lines.append(f'"{row}","{inc}",{geom},"{_us(t)}","{disp}",{int(rng.integers(1, 5))}')
        ex.times[inc] = t
        ex.disposition[inc] = disp
        if lon is not None:
            ex.lonlat[inc] = (float(lon), float(lat))  # type: ignore[arg-type]

    for i, rec in enumerate(base.itertuples(index=False)):
        inc = f"E21-{i:05d}"
        t = start + pd.Timedelta(minutes=int(i * 317 + rng.integers(0, 60)))
        cancelled = i % 6 == 5
        failed = i % 9 == 4
        disp = CANCELLED if cancelled else DISPOSITIONS[i % len(DISPOSITIONS)]
        emit(inc, None if failed else rec.lon, None if failed else rec.lat, t, disp)
        if cancelled:
            ex.cancelled.append(inc)
        elif failed:
            ex.failed.append(inc)
        if i % 7 == 3 and not failed:
            rep = f"{inc}-R"
            emit(rep, rec.lon, rec.lat, t + pd.Timedelta(minutes=int(rng.integers(4, 26))), disp)
            if cancelled:
                ex.cancelled.append(rep)
            else:
                ex.duplicates.append(rep)
    ex.rows = row
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ex


@dataclass
class MessySet:
    """A county's hand-over as a new analyst gets it (see :func:`write_messy_set`)."""

    streets: Path
    calls: Path
    parcels: Path
    schools: Path
    rows: int = 0
    cancelled: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    fatal: list[str] = field(default_factory=list)
    in_school: list[str] = field(default_factory=list)  # parcels inside a school outline


def write_messy_set(folder: Path, seed: int = 5) -> MessySet:
    """Streets, an EMS export, candidate parcels and school outlines, each messy as delivered.

    * streets: a TIGER-like GeoPackage (``MTFCC``, a named layer, 3D MultiLineStrings) of a
      1 km street grid, 100 m blocks, with an interstate (S1100) across it;
    * calls: R's ``write.csv`` of an sf table, saved on Windows: a byte-order mark, CRLF
      line ends, the point as an unquoted ``c(lon, lat)``, US timestamps in a column called
      ``Call Received``, an ``OUTCOME`` column holding ``Deceased``/``Alive``/``Unknown``,
      cancelled calls, failed geocodes (``c(NA, NA)``), repeat calls and quoted notes with
      commas and quotes;
    * parcels: ``Parcel ID``, ``Site Name``, ``Address`` (with commas), ``Latitude`` and
      ``Longitude``; the last parcel failed to geocode (blank coordinates);
    * schools: OSM-style outlines drawn as closed lines (one of them in two pieces).
    """
    import geopandas as gpd
    import shapely
    from helpers import UTM, X0, Y0

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ms = MessySet(
        streets=folder / "Street_Centerlines.gpkg",
        calls=folder / "EMS Export 2022.csv",
        parcels=folder / "candidate parcels.csv",
        schools=folder / "school_outlines.geojson",
    )
    lines, classes = [], []
    for k in range(11):
        lines.append([(0, 100 * k, 0), (500, 100 * k, 0), (1000, 100 * k, 0)])
        lines.append([(100 * k, 0, 0), (100 * k, 500, 0), (100 * k, 1000, 0)])
        classes += ["S1400", "S1400"]
    lines.append([(-50, 550, 0), (1050, 550, 0)])  # the interstate, crossing every street
    classes.append("S1100")
    gpd.GeoDataFrame(
        {"LINEARID": [f"11010{i:05d}" for i in range(len(lines))], "MTFCC": classes},
        geometry=[
            shapely.MultiLineString([[(X0 + x, Y0 + y, z) for x, y, z in pts]]) for pts in lines
        ],
        crs=UTM,
    ).to_file(ms.streets, layer="Street_Centerlines", engine="pyogrio")

    def lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pts = gpd.GeoSeries(shapely.points(X0 + x, Y0 + y), crs=UTM).to_crs(4326)
        return pts.x.round(6).to_numpy(), pts.y.round(6).to_numpy()

    n = 90
    # calls on the streets (x on a street line or y on one), mostly around (300, 300)
    along = rng.uniform(0, 1000, n)
    street = 100 * np.clip(np.round(rng.normal(3, 1.2, n)), 0, 10)
    vertical = rng.random(n) < 0.5
    lon, lat = lonlat(np.where(vertical, street, along), np.where(vertical, along, street))
    rows = ['"","INCIDENT_NUMBER","geometry","Call Received","DISPOSITION_TEXT","OUTCOME","CREW_NOTES"']
    t0 = pd.Timestamp("2022-03-13 00:10:00")
    k = 0
    for i in range(n):
        inc = f"EMS22-{i:05d}"
        t = t0 + pd.Timedelta(minutes=i * 211)
        disp = CANCELLED if i % 10 == 4 else DISPOSITIONS[i % 3]
        failed = i % 8 == 6
        outcome = "Deceased" if i % 7 == 0 else ("Unknown" if i % 5 == 0 else "Alive")
        geom = "c(NA, NA)" if failed else f"c({lon[i]}, {lat[i]})"
        note = 'pt found in alley, ""unresponsive""' if i % 4 == 0 else ""
        k += 1
        rows.append(f'"{k}","{inc}",{geom},"{_us(t)}","{disp}","{outcome}","{note}"')
        if disp == CANCELLED:
            ms.cancelled.append(inc)
        elif failed:
            ms.failed.append(inc)
        elif outcome == "Deceased":
            ms.fatal.append(inc)
        if i % 9 == 1 and not failed:
            k += 1
            rep = f"{inc}-B"
            rows.append(f'"{k}","{rep}",{geom},"{_us(t + pd.Timedelta(minutes=12))}","{disp}","{outcome}",""')
            (ms.cancelled if disp == CANCELLED else ms.duplicates).append(rep)
    ms.rows = k
    ms.calls.write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8"))

    # candidate parcels at street corners; P-03 and P-04 inside the first school
    corners = [(300, 300), (200, 400), (610, 600), (640, 640), (700, 200), (400, 300), (800, 800)]
    cx = np.array([c[0] for c in corners], dtype=float)
    cy = np.array([c[1] for c in corners], dtype=float)
    clon, clat = lonlat(cx, cy)
    ids = [f"P-{i:02d}" for i in range(1, len(corners) + 2)]
    parcels = pd.DataFrame(
        {
            "Parcel ID": ids,
            "Site Name": [f"Site {i}" for i in range(1, len(ids) + 1)],
            "Address": [f"{100 + i} Main St, Unit {i}" for i in range(len(ids))],
            "Latitude": [*clat.tolist(), None],
            "Longitude": [*clon.tolist(), None],
        }
    )
    parcels.to_csv(ms.parcels, index=False)
    ms.in_school = ["P-03", "P-04"]
    ring = shapely.LineString([(X0 + 600, Y0 + 590), (X0 + 660, Y0 + 590), (X0 + 660, Y0 + 660),
                               (X0 + 600, Y0 + 660), (X0 + 600, Y0 + 590)])  # fmt: skip
    half1 = shapely.LineString([(X0 + 850, Y0 + 100), (X0 + 950, Y0 + 100), (X0 + 950, Y0 + 150)])
    half2 = shapely.LineString([(X0 + 950, Y0 + 150), (X0 + 850, Y0 + 150), (X0 + 850, Y0 + 100)])
    gpd.GeoDataFrame(
        {"name": ["Lincoln Elementary", "Oak High (part 1)", "Oak High (part 2)"]},
        geometry=[ring, half1, half2],
        crs=UTM,
    ).to_crs(4326).to_file(ms.schools, engine="pyogrio")
    return ms
