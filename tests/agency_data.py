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
