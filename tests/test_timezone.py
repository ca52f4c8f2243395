"""Hours of day in one zone: ``--timezone``, the data's own zone, or an error asking for one."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import write_lines, write_points

from siting._errors import InputError
from siting.cli import cli
from siting.hotspots import time_profile
from siting.layers import LayerSpec, read_layer
from siting.scenario import Scenario
from siting.zones import AS_WRITTEN, check_timezone, dates_in_one_zone

# Friday 5 July 2024 23:30 and Friday 6 December 2024 23:30 in Toronto (EDT, then EST)
TORONTO_FRIDAYS = ["2024-07-05T23:30:00-04:00", "2024-12-06T23:30:00-05:00"]


def _demand(tmp_path, dates):  # type: ignore[no-untyped-def]
    return write_points(tmp_path / "d.csv", [(10.0 * (i % 50), 0) for i in range(len(dates))], crs="EPSG:4326", date=dates)


def test_two_offsets_need_a_timezone(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _demand(tmp_path, TORONTO_FRIDAYS)
    with pytest.raises(InputError, match=r"d\.csv, column 'date': the times carry 2 UTC offsets.*--timezone"):
        read_layer(LayerSpec(path))
    gdf = read_layer(LayerSpec(path, timezone="America/Toronto"))
    assert gdf.attrs["timezone"] == "America/Toronto"
    prof = time_profile(gdf)
    assert prof["hour"][23] == 2 and prof["weekday"]["Fri"] == 2


def test_utc_data_read_in_its_own_zone_unless_told(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _demand(tmp_path, ["2024-07-06T03:30:00Z", "2024-12-07T04:30:00Z"])  # the same Fridays, in UTC
    gdf = read_layer(LayerSpec(path))
    assert gdf.attrs["timezone"].startswith("UTC (the data's own zone")
    assert time_profile(gdf)["weekday"]["Sat"] == 2  # what the data say, stated as UTC
    local = read_layer(LayerSpec(path, timezone="America/Toronto"))
    prof = time_profile(local)
    assert prof["weekday"]["Fri"] == 2 and prof["hour"][23] == 2


def test_clock_times_without_offsets_are_taken_as_written(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _demand(tmp_path, ["2024-07-05 23:30", "2024-07-06 01:00"])
    gdf = read_layer(LayerSpec(path))
    assert gdf.attrs["timezone"] == AS_WRITTEN
    assert time_profile(gdf)["hour"][23] == 1
    zoned = read_layer(LayerSpec(path, timezone="Europe/Helsinki"))
    assert zoned.attrs["timezone"] == "Europe/Helsinki" and time_profile(zoned)["hour"][23] == 1


def test_offsets_on_some_times_only_need_a_timezone() -> None:
    raw = pd.Series(["2024-07-05T23:30:00-04:00", "2024-07-05 22:00"])
    parsed = pd.to_datetime(raw, utc=True, format="mixed")
    with pytest.raises(InputError, match="some times carry a UTC offset and some do not"):
        dates_in_one_zone(raw, parsed)


def test_bad_zone_names_and_scenario_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="not a time zone name"):
        check_timezone("Eastern")
    base = {"network": "x.gpkg", "demand": "d.csv", "candidates": "c.csv"}
    with pytest.raises(InputError, match="`timezone` 'Mars/Olympus' is not a time zone name"):
        Scenario.from_mapping({**base, "timezone": "Mars/Olympus"}, base_dir=tmp_path)
    sc = Scenario.from_mapping({**base, "timezone": "America/Toronto"}, base_dir=tmp_path)
    assert sc.timezone == "America/Toronto" and sc.demand.timezone == "America/Toronto"
    with pytest.raises(InputError, match="max_snap_m"):
        Scenario.from_mapping({**base, "max_snap_m": 0}, base_dir=tmp_path)


def _cli_files(tmp_path):  # type: ignore[no-untyped-def]
    net = write_lines(tmp_path / "street.geojson", [[(0, 0), (1000, 0)]])
    cands = write_points(tmp_path / "c.csv", [(0, 0), (500, 0)], crs="EPSG:4326", id=["A", "B"])
    dem = _demand(tmp_path, TORONTO_FRIDAYS * 20)
    return ["-n", net, "-d", dem, "-c", cands]


def test_cli_two_offsets_without_timezone_is_exit_2(tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = CliRunner().invoke(cli, ["score", *_cli_files(tmp_path), "-o", str(tmp_path / "o.csv")])
    assert r.exit_code == 2 and "--timezone" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "o.csv").exists()


def test_cli_timezone_is_stated_in_the_report(tmp_path) -> None:  # type: ignore[no-untyped-def]
    report = tmp_path / "r.html"
    r = CliRunner().invoke(
        cli, ["score", *_cli_files(tmp_path), "--timezone", "America/Toronto", "--report", str(report),
              "--internal"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "Hours of day and days of week in America/Toronto" in report.read_text()


def test_cli_max_snap_zero_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = CliRunner().invoke(cli, ["score", *_cli_files(tmp_path), "--max-snap", "0"])
    assert r.exit_code == 2 and "--max-snap" in r.output and "Traceback" not in r.output
