"""The committed demo layers are exactly what the seeded script makes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from siting.demo_data import generate

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"


def test_demo_files_regenerate_byte_for_byte(tmp_path) -> None:  # type: ignore[no-untyped-def]
    written = generate(tmp_path)
    assert {p.name for p in written} == {
        "incidents.csv",
        "candidates.csv",
        "services.csv",
        "scenario.toml",
        "schools.geojson",
        "regions.geojson",
    }
    for path in written:
        same = path.read_bytes() == (DEMO / path.name).read_bytes()
        assert same, f"{path.name} differs: run scripts/make_demo_data.py"


def test_synthetic_rows_are_labelled() -> None:
    inc = pd.read_csv(DEMO / "incidents.csv")
    assert inc["source"].str.startswith("synthetic").all()
    assert {"incident_id", "date", "lat", "lon", "fatal", "weight"} <= set(inc.columns)
    for name in ("services.csv", "candidates.csv"):
        src = pd.read_csv(DEMO / name)["source"]
        assert src.str.startswith(("synthetic", "OpenStreetMap")).all()
        assert src.str.startswith("synthetic").any() and src.str.startswith("OpenStreetMap").any()


def test_services_hold_no_child_care_and_no_place_twice() -> None:
    """Child care is an exclusion (schools layer), not a homeless service; one row per place."""
    import geopandas as gpd

    serv = pd.read_csv(DEMO / "services.csv")
    assert "Hoivanet Kids Park" not in set(serv["name"])
    named = serv[serv["name"] != "(unnamed)"]
    assert not named["name"].duplicated().any(), named[named["name"].duplicated(keep=False)]
    schools = gpd.read_file(DEMO / "schools.geojson")
    assert "Hoivanet Kids Park" in set(schools["name"])
    assert "child care" in set(schools["kind"])


def test_candidate_names_are_distinct() -> None:
    cand = pd.read_csv(DEMO / "candidates.csv")
    assert not cand["name"].duplicated().any(), cand[cand["name"].duplicated(keep=False)]
    assert {"Eliel (north)", "Eliel (south)"} <= set(cand["name"])


def test_helsinki_scenario_names_no_foreign_preset() -> None:
    """A Helsinki scenario does not run under another jurisdiction's preset name."""
    text = (DEMO / "scenario.toml").read_text(encoding="utf-8")
    active = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert not any("preset" in line for line in active)
    assert "buffer_m = 200" in text


def test_the_repository_guard_sees_a_write(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """conftest's session guard compares these listings: a new or changed file shows."""
    from conftest import repo_files

    (tmp_path / "maps").mkdir()
    (tmp_path / "data" / "demo").mkdir(parents=True)
    (tmp_path / "maps" / "README.md").write_text("maps\n")
    before = repo_files(tmp_path)
    assert repo_files(tmp_path) == before
    (tmp_path / "maps" / "demo.html").write_text("<html></html>")
    assert set(repo_files(tmp_path)) - set(before) == {"maps/demo.html"}
    (tmp_path / "maps" / "README.md").write_text("changed, longer\n")
    assert repo_files(tmp_path)["maps/README.md"] != before["maps/README.md"]
    assert repo_files()  # the real repository has files to guard
