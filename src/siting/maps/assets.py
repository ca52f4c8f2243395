"""Leaflet and its plugins: inlined from the npm packages (offline) or linked from a CDN."""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

from .._errors import MissingDependencyError

_STATIC = Path(__file__).parent.parent / "static"
#: (npm package, file inside it, kind) inlined into every offline map, in load order.
_ASSET_FILES: tuple[tuple[str, str, str], ...] = (
    ("leaflet", "dist/leaflet.css", "css"),
    ("leaflet", "dist/leaflet.js", "js"),
    ("leaflet.fullscreen", "dist/Control.FullScreen.css", "css"),
    ("leaflet.fullscreen", "dist/Control.FullScreen.umd.js", "js"),
    ("leaflet-minimap", "dist/Control.MiniMap.min.css", "css"),
    ("leaflet-minimap", "dist/Control.MiniMap.min.js", "js"),
)
_CDN = "https://cdn.jsdelivr.net/npm/{pkg}@{ver}/{file}"
#: siting's own script and styles (always inlined: they are part of the package).
_OWN = Path(__file__).parent / "static"


def own_assets() -> str:
    """The map runtime (``siting-map.js``) and its styles, inlined."""
    css = (_OWN / "siting-map.css").read_text(encoding="utf-8")
    js = (_OWN / "siting-map.js").read_text(encoding="utf-8")
    js = re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)
    return f"<style>/* siting */\n{css}</style>\n<script>/* siting */\n{js}</script>"


# ------------------------------------------------------------------- assets
def assets_dir() -> Path:
    """Where the npm packages with Leaflet and its plugins are installed."""
    env = os.environ.get("SITING_ASSETS")
    return Path(env) if env else _STATIC / "node_modules"


def _asset_versions() -> dict[str, str]:
    pkg = json.loads((_STATIC / "package.json").read_text(encoding="utf-8"))
    return dict(pkg["dependencies"])


def _inline_css_urls(css: str, base: Path) -> str:
    def repl(m: re.Match[str]) -> str:
        url = m.group(2)
        if url.startswith(("data:", "#", "http:", "https:")):
            return m.group(0)
        f = base / url
        if not f.exists():
            return m.group(0)
        mime = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}.get(
            f.suffix.lower(), "application/octet-stream"
        )
        return f"url(data:{mime};base64,{base64.b64encode(f.read_bytes()).decode('ascii')})"

    return re.sub(r"""url\((['"]?)([^'")]+)\1\)""", repl, css)


def asset_html(*, cdn: bool = False) -> str:
    """The ``<style>``/``<script>`` (or ``<link>``/``<script src>`` with ``cdn``) for the map."""
    versions = _asset_versions()
    parts = []
    if cdn:
        for pkg, file, kind in _ASSET_FILES:
            url = _CDN.format(pkg=pkg, ver=versions[pkg], file=file)
            parts.append(
                f'<link rel="stylesheet" href="{url}"/>'
                if kind == "css"
                else f'<script src="{url}"></script>'
            )
        return "\n".join([*parts, own_assets()])
    root = assets_dir()
    missing = [f"{pkg}/{file}" for pkg, file, _ in _ASSET_FILES if not (root / pkg / file).exists()]
    if missing:
        msg = (
            f"map assets not found in {root} ({', '.join(missing)}): run "
            "`npm ci --prefix src/siting/static` (part of `make install`), "
            "or pass `cdn=True` (`--cdn`) for the online variant"
        )
        raise MissingDependencyError(msg)
    for pkg, file, kind in _ASSET_FILES:
        f = root / pkg / file
        text = f.read_text(encoding="utf-8")
        if kind == "css":
            parts.append(
                f"<style>/* {pkg} {versions.get(pkg, '')} */\n{_inline_css_urls(text, f.parent)}</style>"
            )
        else:
            text = re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)
            parts.append(f"<script>/* {pkg} {versions.get(pkg, '')} */\n{text}</script>")
    return "\n".join([*parts, own_assets()])
