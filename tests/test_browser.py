"""The map and the report in a real browser, with every network request blocked.

Headless Debian Chromium (``/usr/bin/chromium``, installed by ``make browser``) driven by
Playwright (the session's ``browser`` fixture is in conftest.py). Skipped when Chromium is
missing locally; a failure when ``CI=true``. One browser and one demo run (``siting demo``
into a temporary folder) serve the whole session; each check runs at a desktop and a phone size.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from test_maps import XSS, make_plan

from siting import maps

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1280, "height": 860}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
SIZES = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """``siting demo`` run once, into a temporary folder (never the repository's maps/)."""
    out = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "SITING_CACHE": str(tmp_path_factory.getbasetemp() / "siting-cache")}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "siting"), "-q", "demo", "--out-dir", str(out)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return SimpleNamespace(map=out / "demo.html", report=out / "demo-report.html", folder=out)


class Page:
    """A page with the network blocked, console errors, dialogs and blocked requests recorded."""

    def __init__(self, browser: Any, path: Path, size: dict[str, Any] | None = None) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.blocked: list[str] = []
        self.context = browser.new_context(**(size or DESKTOP))
        self.page = self.context.new_page()
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
        self.context.close()

    # ---------------------------------------------------------------- helpers
    @property
    def map_name(self) -> str:
        return str(self.page.evaluate("() => Object.keys(window).find(k => /^map_[0-9a-f]+$/.test(k))"))

    def ready(self) -> None:
        self.page.wait_for_selector("[data-siting-ready]", timeout=10000)

    def settle(self) -> None:
        """Wait until the map stops moving (a popup pans the map into view, animated)."""
        self.page.wait_for_function(
            f"() => {{ const m = window['{self.map_name}']; "
            "return !(m._panAnim && m._panAnim._inProgress); }"
        )
        self.page.wait_for_timeout(50)

    def site_point(self, site_id: str, pane: str = "sitingChosen") -> tuple[float, float]:
        """Screen position of a site or candidate marker (once the map is still)."""
        self.settle()
        return tuple(
            self.page.evaluate(
                """([m, id, pane]) => { const map = window[m]; let ll = null;
                map.eachLayer(l => { if (l.sitingById && l.sitingSpec.pane === pane && l.sitingById[id])
                    ll = l.sitingById[id].getLatLng(); });
                const q = map.latLngToContainerPoint(ll), r = map.getContainer().getBoundingClientRect();
                return [q.x + r.left, q.y + r.top]; }""",
                [self.map_name, site_id, pane],
            )
        )

    def click_at(self, x: float, y: float, *, tap: bool = False) -> None:
        if tap:
            self.page.touchscreen.tap(x, y)
        else:
            self.page.mouse.click(x, y)

    def popup_text(self) -> str:
        self.page.wait_for_selector(".leaflet-popup-content", timeout=5000)
        return str(self.page.inner_text(".leaflet-popup-content"))

    def close_popup(self) -> None:
        self.page.evaluate(f"() => {{ window['{self.map_name}'].closePopup(); }}")

    def layer_names(self) -> list[str]:
        return self.page.eval_on_selector_all(
            ".leaflet-control-layers-overlays label > span > span",
            "els => els.map(e => e.textContent.trim())",
        )


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

#: Screen point of a hexagon that is the topmost element there (clicks reach it), or null.
HEX_IN_SIGHT = """() => {
    const W = window.innerWidth, H = window.innerHeight;
    for (const el of document.querySelectorAll('.leaflet-sitingHex-pane path.leaflet-interactive')) {
        const r = el.getBoundingClientRect();
        const x = r.left + r.width / 2, y = r.top + r.height / 2;
        if (x > 0 && y > 0 && x < W && y < H && document.elementFromPoint(x, y) === el) { return [x, y]; }
    }
    return null;
}"""

#: Share of the viewport the map's controls cover (union of their boxes).
COVERED = """() => {
    const W = window.innerWidth, H = window.innerHeight, step = 4, cols = Math.ceil(W / step);
    const grid = new Uint8Array(cols * Math.ceil(H / step));
    document.querySelectorAll('.leaflet-control').forEach(el => {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0 || getComputedStyle(el).display === 'none') { return; }
        for (let y = Math.max(0, r.top); y < Math.min(H, r.bottom); y += step) {
            for (let x = Math.max(0, r.left); x < Math.min(W, r.right); x += step) {
                grid[Math.floor(y / step) * cols + Math.floor(x / step)] = 1;
            }
        }
    });
    return grid.reduce((a, b) => a + b, 0) / grid.length;
}"""


# ------------------------------------------------------------------ the demo map
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_demo_map_opens_offline_with_the_recommendation_on(
    browser: Any, demo: SimpleNamespace, size: str
) -> None:
    p = Page(browser, demo.map, SIZES[size])
    try:
        p.ready()
        names = p.layer_names()
        assert names[0] == "Chosen sites", names
        checked = p.page.eval_on_selector_all(
            ".leaflet-control-layers-overlays input", "els => els.map(e => e.checked)"
        )
        assert checked[0] is True  # the chosen layer is on by default
        n_sites = p.page.evaluate(
            "() => document.querySelectorAll('.leaflet-sitingChosen-pane path.leaflet-interactive').length"
        )
        assert n_sites == 2
        labels = p.page.eval_on_selector_all(".siting-site-label", "els => els.map(e => e.textContent)")
        assert any("C001" in t for t in labels) and any("C057" in t for t in labels)
        summary = p.page.inner_text(".siting-summary summary")
        assert summary.startswith("Recommended: C001") and "C057" in summary
        assert_not_blank(p.page.screenshot())
        assert p.errors == [] and p.dialogs == [] and p.blocked == []
    finally:
        p.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_chosen_site_stays_clickable_after_every_layer_is_toggled(
    browser: Any, demo: SimpleNamespace, size: str
) -> None:
    p = Page(browser, demo.map, SIZES[size])
    try:
        p.ready()
        n = p.page.locator(".leaflet-control-layers-overlays input").count()
        assert n >= 8
        for i in range(n):
            # off and on again, through the layer list's own inputs (what a click does)
            for _ in range(2):
                p.page.evaluate(
                    f"() => document.querySelectorAll('.leaflet-control-layers-overlays input')[{i}].click()"
                )
            x, y = p.site_point("C001")
            p.click_at(x, y, tap=size == "phone")
            text = p.popup_text()
            assert "Chosen site 1: C001" in text, (i, text)
            p.close_popup()
        # hexagon information stays reachable: a hexagon nothing covers on screen opens its popup
        p.page.wait_for_selector(".leaflet-popup", state="detached")  # the site's popup fades out
        p.settle()
        xy = p.page.evaluate(HEX_IN_SIGHT)
        assert xy is not None, "no hexagon is on top anywhere on screen"
        p.click_at(*xy, tap=size == "phone")
        assert "Incidents in this hexagon" in p.popup_text()
        assert p.errors == []
    finally:
        p.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_osm_credit_and_named_main_streets(browser: Any, demo: SimpleNamespace, size: str) -> None:
    p = Page(browser, demo.map, SIZES[size])
    try:
        p.ready()
        credit = p.page.inner_text(".leaflet-control-attribution")
        assert "\u00a9 OpenStreetMap contributors" in credit
        main = p.page.eval_on_selector_all(
            ".siting-street-label.siting-main", "els => els.map(e => e.textContent)"
        )
        assert len(set(main)) >= 3, main
        assert "Kaivokatu" in main or "Mannerheimintie" in main, main
        # a label is on screen, drawn as text (not an image)
        box = p.page.locator(".siting-street-label.siting-main").first.bounding_box()
        vp = SIZES[size]["viewport"]
        assert 0 <= box["x"] <= vp["width"] and 0 <= box["y"] <= vp["height"]
    finally:
        p.close()


def test_phone_panels_cover_at_most_a_third_and_popups_fit(browser: Any, demo: SimpleNamespace) -> None:
    p = Page(browser, demo.map, PHONE)
    try:
        p.ready()
        covered = p.page.evaluate(COVERED)
        assert covered <= 0.35, f"controls cover {covered:.0%} of the phone screen"
        html = p.page.content()
        assert "user-scalable=no" not in html and "maximum-scale" not in html  # pinch zoom allowed
        # a tap on a site opens that site's popup (not a layer checkbox), and it fits the screen
        x, y = p.site_point("C057")
        p.click_at(x, y, tap=True)
        assert "Chosen site 2: C057" in p.popup_text()
        # Leaflet pans the map to bring the popup into view, animated: wait for the pan to end
        fits = (
            "() => { const r = document.querySelector('.leaflet-popup-content-wrapper')"
            ".getBoundingClientRect(); return r.left >= 0 && r.right <= 390 && r.top >= 0 && r.bottom <= 844; }"
        )
        try:
            p.page.wait_for_function(fits, timeout=3000)
        except Exception:  # the assertions below say how far out it is
            pass
        box = p.page.locator(".leaflet-popup-content-wrapper").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert box["y"] >= 0 and box["y"] + box["height"] <= 844
    finally:
        p.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_whatif_updates_when_sites_are_clicked(browser: Any, demo: SimpleNamespace, size: str) -> None:
    p = Page(browser, demo.map, SIZES[size])
    try:
        p.ready()
        p.page.click(".siting-whatif summary")
        p.page.check("input.siting-whatif-mode")
        rec = p.page.inner_text(".siting-whatif-rec-share")
        assert rec.endswith("%")
        shares = []
        for cid in ("C007", "C012"):
            x, y = p.site_point(cid, pane="sitingCandidates")
            p.click_at(x, y, tap=size == "phone")
            p.page.wait_for_timeout(100)
            shares.append(p.page.inner_text(".siting-whatif-share"))
        assert p.page.inner_text(".siting-whatif-set") == "C007, C012"
        assert all(s.endswith("%") for s in shares) and shares[0] != shares[1]
        p.page.wait_for_timeout(300)  # a closed popup fades out for 200 ms
        assert p.page.locator(".leaflet-popup").count() == 0  # in what-if mode a click picks, not opens
        diff = p.page.inner_text(".siting-whatif-diff")
        assert diff.endswith("points")
        count = p.page.inner_text(".siting-whatif-count")
        assert count.replace(",", "").isdigit() and int(count.replace(",", "")) % 10 == 0  # released
        # starting from the recommended set gives a difference of zero
        p.page.click("button.siting-whatif-rec")
        assert p.page.inner_text(".siting-whatif-diff") == "\u00b10 points"
        assert p.page.inner_text(".siting-whatif-share") == rec
    finally:
        p.close()


def test_keyboard_reaches_controls_first_and_the_page_has_a_language(
    browser: Any, demo: SimpleNamespace
) -> None:
    p = Page(browser, demo.map, DESKTOP)
    try:
        p.ready()
        assert p.page.evaluate("() => document.documentElement.lang") == "en"
        stops = []
        for _ in range(12):
            p.page.keyboard.press("Tab")
            stops.append(
                p.page.evaluate(
                    "() => { const e = document.activeElement; "
                    "return [e.tagName, !!e.closest('.leaflet-control')]; }"
                )
            )
        assert stops[0][1] or stops[1][1], stops  # the map container itself may come first
        assert all(in_control for tag, in_control in stops[1:] if tag.lower() == "path") or not any(
            tag.lower() == "path" for tag, _ in stops[:10]
        ), stops
        # the chosen sites are reachable by keyboard and open with Enter
        p.page.focus(".leaflet-sitingChosen-pane path[tabindex='0']")
        p.page.keyboard.press("Enter")
        assert "Chosen site" in p.popup_text()
        unnamed = p.page.evaluate(
            "() => [...document.querySelectorAll('path[tabindex=\"0\"]')]"
            ".filter(e => !e.getAttribute('aria-label')).length"
        )
        assert unnamed == 0
    finally:
        p.close()


def test_map_prints_without_the_layer_list(browser: Any, demo: SimpleNamespace) -> None:
    p = Page(browser, demo.map, DESKTOP)
    try:
        p.ready()
        p.page.emulate_media(media="print")
        shown = p.page.evaluate(
            "() => getComputedStyle(document.querySelector('.leaflet-control-layers')).display"
        )
        assert shown == "none"
        assert (
            p.page.evaluate("() => getComputedStyle(document.querySelector('.siting-summary')).display")
            != "none"
        )
    finally:
        p.close()


# ------------------------------------------------------------------ hand-made plans
def test_hand_made_plan_map_escapes_every_user_string(browser: Any, tmp_path: Path) -> None:
    m = maps.plan_map(make_plan())
    path = maps.save_map(m, tmp_path / "plan.html")
    p = Page(browser, path)
    try:
        p.ready()
        x, y = p.site_point(XSS, pane="sitingCandidates")
        p.click_at(x, y)
        assert XSS in p.popup_text()  # shown as text
        n = p.page.evaluate(OPEN_ALL % {"map": p.map_name})
        assert n > 20
        assert p.page.locator("img[src='x']").count() == 0
        assert p.page.locator(".leaflet-popup-content script").count() == 0
        p.page.wait_for_timeout(300)
        assert p.dialogs == [] and p.errors == [] and p.blocked == []
    finally:
        p.close()


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
        p.ready()
        p.page.evaluate(OPEN_ALL % {"map": p.map_name})
        p.page.wait_for_timeout(500)
        assert p.dialogs, "the unescaped probe did not run: the XSS check would miss a failure"
    finally:
        p.close()
