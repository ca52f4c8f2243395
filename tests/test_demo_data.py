"""The committed demo layers are exactly what the seeded script makes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from siting._demo import generate

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"


def test_demo_files_regenerate_byte_for_byte(tmp_path) -> None:  # type: ignore[no-untyped-def]
    written = generate(tmp_path)
    assert {p.name for p in written} == {
        "incidents.csv", "candidates.csv", "services.csv", "scenario.toml", "schools.geojson", "regions.geojson"
    }
    for path in written:
        assert path.read_bytes() == (DEMO / path.name).read_bytes(), f"{path.name} differs: run scripts/make_demo_data.py"


def test_synthetic_rows_are_labelled() -> None:
    inc = pd.read_csv(DEMO / "incidents.csv")
    assert inc["source"].str.startswith("synthetic").all()
    assert {"incident_id", "date", "lat", "lon", "fatal", "weight"} <= set(inc.columns)
    for name in ("services.csv", "candidates.csv"):
        src = pd.read_csv(DEMO / name)["source"]
        assert src.str.startswith(("synthetic", "OpenStreetMap")).all()
        assert src.str.startswith("synthetic").any() and src.str.startswith("OpenStreetMap").any()
