"""The map and the report in a real browser, with every network request blocked.

Headless Debian Chromium (``/usr/bin/chromium``, installed by ``make browser``) driven by
Playwright. Skipped when Chromium is missing locally; a failure when ``CI=true``.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from test_maps import XSS, make_plan

from siting import maps

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[1]


def _need_browser() -> None:
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


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _need_browser()
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


class Page:
    """A page with the network blocked, console errors, dialogs and blocked requests recorded."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.blocked: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 860})
        self.page.route("**/*", self._route)
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("dialog", self._dialog)
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(("file://", "data:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def close(self) -> None:
        self.page.close()


def png_pixels(data: bytes) -> np.ndarray:
    """A screenshot as an RGB array (Pillow, from the test extras)."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def assert_not_blank(png: bytes) -> None:
    px = png_pixels(png)
    assert px.std() > 10, "screenshot is blank"
    colours = {tuple(c) for c in px[::7, ::7].reshape(-1, 3).tolist()}
    assert len(colours) > 20, f"screenshot has only {len(colours)} colours"


#: Opens every popup and tooltip of every layer, one after the other; returns how many.
OPEN_ALL = """() => {
    const map = window['%(map)s'];
    let n = 0;
    const visit = (layer) => {
        if (layer.eachLayer) { layer.eachLayer(visit); }
        if (layer.getPopup && layer.getPopup()) {
            if (layer.getLatLng) { layer.openPopup(layer.getLatLng()); } else { layer.openPopup(); }
            n += 1;
        }
        if (layer.getTooltip && layer.getTooltip()) { layer.openTooltip(); n += 1; }
    };
    map.eachLayer(visit);
    return n;
}"""


def _layer_names(p: Page) -> list[str]:
    return p.page.eval_on_selector_all(
        ".leaflet-control-layers-overlays label span", "els => els.map(e => e.textContent.trim())"
    )


def _click_candidate(p: Page, map_name: str, lat: float, lon: float) -> str:
    pt = p.page.evaluate(
        f"() => {{ const q = window['{map_name}'].latLngToContainerPoint([{lat}, {lon}]);"
        "return [q.x, q.y]; }"
    )
    box = p.page.locator(f"#{map_name}").bounding_box()
    p.page.mouse.click(box["x"] + pt[0], box["y"] + pt[1])
    p.page.wait_for_selector(".leaflet-popup-content", timeout=5000)
    return p.page.inner_text(".leaflet-popup-content")


def _check_map(browser: Any, m: Any, path: Path, *, candidate: str, score_text: str) -> None:
    maps.save_map(m, path)
    p = Page(browser, path)
    try:
        p.page.wait_for_selector(".leaflet-control-layers", timeout=10000)
        names = _layer_names(p)
        for layer in m.siting_layers:
            assert layer in names, (layer, names)
        assert p.page.locator(".leaflet-control-zoom-fullscreen, .leaflet-control-fullscreen").count() >= 1
        assert p.page.locator(".leaflet-control-minimap").count() == 1
        assert p.page.locator(".leaflet-control-scale").count() == 1
        assert p.page.locator(".siting-title").count() == 1
        feat = next(
            f for f in m.siting_candidates["features"] if f["properties"]["candidate_id"] == candidate
        )
        lon, lat = feat["geometry"]["coordinates"]
        text = _click_candidate(p, m.get_name(), lat, lon)
        assert "Score" in text and score_text in text, text
        assert_not_blank(p.page.screenshot(full_page=False))
        assert p.errors == [], p.errors
        assert p.dialogs == [], f"script from user data ran: {p.dialogs}"
        assert p.blocked == [], f"the map tried to load: {p.blocked[:5]}"
    finally:
        p.close()


def test_hand_made_plan_map(browser: Any, tmp_path: Path) -> None:
    plan = make_plan()
    m = maps.plan_map(plan)
    _check_map(browser, m, tmp_path / "plan.html", candidate="A-1", score_text="0.912")
    # the XSS probe is a candidate name, a service name, a region and a reason: open its popup
    p = Page(browser, tmp_path / "plan.html")
    try:
        feat = next(f for f in m.siting_candidates["features"] if f["properties"]["candidate_id"] == XSS)
        lon, lat = feat["geometry"]["coordinates"]
        text = _click_candidate(p, m.get_name(), lat, lon)
        assert XSS in text  # shown as text
        # open every popup and tooltip on the map: each user string is put into the page
        n = p.page.evaluate(OPEN_ALL % {"map": m.get_name()})
        assert n > 20
        assert p.page.locator("img[src='x']").count() == 0
        assert p.page.locator(".leaflet-popup-content script").count() == 0
        p.page.wait_for_timeout(300)
        assert p.dialogs == [] and p.errors == []
    finally:
        p.close()


def test_demo_map(browser: Any, tmp_path: Path) -> None:
    """maps/demo.html as the demo writes it, built here through the library."""
    try:
        from siting.cli.demo import demo_data_folder
        from siting.cli.run import read_scenario_file
        from siting.pipeline import prepare, score_plan
    except ImportError as exc:  # pragma: no cover - the demo is part of the package
        pytest.fail(f"the demo pipeline is missing: {exc}")
    scenario, _ = read_scenario_file(demo_data_folder() / "scenario.toml")
    plan = score_plan(prepare(scenario))
    m = maps.plan_map(plan)
    best = plan.candidates.sort_values("rank").iloc[0]
    out = tmp_path / "demo.html"  # never into the repository's maps/ (the planner's demo lives there)
    _check_map(browser, m, out, candidate=str(best["candidate_id"]), score_text=maps.fmt(best["score"]))
    assert out.stat().st_size < maps.MAX_HTML_BYTES


def test_compare_map(browser: Any, tmp_path: Path) -> None:
    a, b = make_plan(), make_plan(name="Other")
    fig = maps.compare_map(a, b)
    path = maps.save_map(fig, tmp_path / "compare.html")
    p = Page(browser, path)
    try:
        p.page.wait_for_selector(".leaflet-control-layers", timeout=10000)
        assert p.page.locator(".leaflet-container").count() >= 2
        ma, mb = (m.get_name() for m in fig.siting_maps)
        p.page.evaluate(f"() => window['{ma}'].setZoom(window['{ma}'].getZoom() + 1, {{animate: false}})")
        za, zb = p.page.evaluate(f"() => [window['{ma}'].getZoom(), window['{mb}'].getZoom()]")
        assert za == zb
        assert_not_blank(p.page.screenshot())
        assert p.errors == [] and p.dialogs == [] and p.blocked == []
    finally:
        p.close()


def test_report(browser: Any, tmp_path: Path) -> None:
    report = pytest.importorskip("siting.report")
    path = report.save_report(make_plan(), tmp_path / "report.html")
    p = Page(browser, path)
    try:
        assert p.page.locator("svg").count() >= 2
        assert "fewer than 11" in p.page.inner_text("body")
        assert XSS in p.page.inner_text("body")
        assert_not_blank(p.page.screenshot(full_page=True))
        pdf = p.page.pdf(format="A4")
        assert pdf[:4] == b"%PDF"
        assert p.errors == [] and p.dialogs == [] and p.blocked == []
    finally:
        p.close()


def test_the_probe_would_be_caught_if_escaping_failed(
    browser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Positive control: with escaping switched off, opening the popups runs the probe."""
    # every module escapes through maps.text.esc, which calls html.escape: make that a no-op
    monkeypatch.setattr(maps.text, "html", SimpleNamespace(escape=lambda s, quote=True: s))
    m = maps.plan_map(make_plan())
    path = maps.save_map(m, tmp_path / "unsafe.html")
    p = Page(browser, path)
    try:
        p.page.wait_for_selector(".leaflet-control-layers", timeout=10000)
        p.page.evaluate(OPEN_ALL % {"map": m.get_name()})
        p.page.wait_for_timeout(500)
        assert p.dialogs, "the unescaped probe did not run: the XSS check would miss a failure"
    finally:
        p.close()
