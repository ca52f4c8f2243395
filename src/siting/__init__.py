"""siting: where to open supervised consumption sites, by walking time on the real street network."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # the version is looked up when asked for: importlib.metadata costs ~60 ms at start-up
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("siting")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0+unknown"
    msg = f"module 'siting' has no attribute {name!r}"
    raise AttributeError(msg)
