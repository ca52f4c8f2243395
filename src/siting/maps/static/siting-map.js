/* siting map runtime: panes that keep sites above areas, compact layers, the offline
   basemap with street names, phone and keyboard handling, and the what-if.
   Inlined into every map; it loads nothing. Every text it receives from Python is either
   already escaped HTML (popups, panels) or put into the page with textContent (labels). */
(function () {
    'use strict';
    var S = window.Siting = window.Siting || {};

    /* Panes, bottom to top. Only shapes marked interactive take clicks (the panes pass them
       through), so a chosen site is clickable above any polygon whatever is toggled. */
    S.PANES = {
        sitingBase: 250, sitingLabels: 390, sitingZones: 402, sitingRegions: 404, sitingHex: 406,
        sitingHotspots: 408, sitingCatchments: 410, sitingPoints: 610, sitingCandidates: 615,
        sitingChosen: 620
    };
    S.PHONE_PX = 640;

    S.isPhone = function () {
        return window.matchMedia('(max-width: ' + S.PHONE_PX + 'px)').matches;
    };

    S.panes = function (map) { panes(map); };

    function panes(map) {
        Object.keys(S.PANES).forEach(function (k) {
            if (!map.getPane(k)) {
                var p = map.createPane(k);
                p.style.zIndex = S.PANES[k];
                p.style.pointerEvents = 'none';
            }
        });
    }

    S.popupOptions = function () {
        var w = Math.max(200, Math.min(380, window.innerWidth - 60));
        return {maxWidth: w, minWidth: Math.min(220, w), maxHeight: Math.round(window.innerHeight * 0.6),
                autoPanPadding: [12, 12], className: 'siting-popup-box'};
    };

    S.decode = function (s, f, st) {
        var out = [], i = 0, lat = st.lat, lon = st.lon, n = s.length, first = true, r, sh, b;
        while (i < n) {
            r = 0; sh = 0;
            do { b = s.charCodeAt(i++) - 63; r |= (b & 31) << sh; sh += 5; } while (b >= 32);
            lat += (r & 1) ? ~(r >>> 1) : (r >>> 1);
            r = 0; sh = 0;
            do { b = s.charCodeAt(i++) - 63; r |= (b & 31) << sh; sh += 5; } while (b >= 32);
            lon += (r & 1) ? ~(r >>> 1) : (r >>> 1);
            if (first) { st.lat = lat; st.lon = lon; first = false; }
            out.push([lat / f, lon / f]);
        }
        return out;
    };

    /* Geometry of every feature of an encoded layer: points [lat, lon], lines [[lat, lon]...],
       polygons [[ring...], ...] per part (MultiPolygon as an array of parts). */
    S.geometries = function (spec) {
        var st = {lat: 0, lon: 0}, f = Math.pow(10, spec.f || 5), out = [], k = 0, i;
        if (spec.k === 'pg') {
            for (i = 0; i < spec.r.length; i++) {
                var parts = [];
                for (var p = 0; p < spec.r[i].length; p++) {
                    var rings = [];
                    for (var q = 0; q < spec.r[i][p]; q++) { rings.push(S.decode(spec.g[k++], f, st)); }
                    if (rings.length) { parts.push(rings); }
                }
                out.push(parts.length === 1 ? parts[0] : parts);
            }
            return out;
        }
        for (i = 0; i < spec.g.length; i++) {
            var pts = S.decode(spec.g[i], f, st);
            out.push(spec.k === 'pt' || spec.k === 'sq' ? pts[0] : pts);
        }
        return out;
    };

    S.popupHtml = function (spec, i) {
        var d = spec.pop.d[i], L = spec.pop.L, S = spec.pop.S || [], rows = '';
        if (typeof d === 'string') { return d; }
        // a number stands for a text the layer's popups share (spec.pop.S)
        var t = function (v) { return typeof v === 'number' ? S[v] : v; };
        for (var j = 0; j < d[1].length; j++) {
            var row = d[1][j];
            rows += row.length === 1
                ? '<tr><td colspan="2" class="siting-sub">' + t(row[0]) + '</td></tr>'
                : '<tr><th>' + L[row[0]] + '</th><td>' + t(row[1]) + '</td></tr>';
        }
        var note = t(d[2]);
        return '<div class="siting-popup"><div class="siting-popup-title">' + t(d[0]) + '</div>' +
            '<table>' + rows + '</table>' + (note ? '<div class="siting-popup-note">' + note + '</div>' : '') +
            '</div>';
    };

    function plainText(html) {
        var div = document.createElement('div');
        div.innerHTML = html;
        return (div.textContent || '').trim();
    }

    function keyboard(layer, label, tab) {
        layer.on('add', function () {
            var el = layer.getElement && layer.getElement();
            if (!el) { return; }
            if (!tab) { el.setAttribute('tabindex', '-1'); el.setAttribute('aria-hidden', 'true'); return; }
            el.setAttribute('tabindex', '0');
            el.setAttribute('role', 'button');
            el.setAttribute('aria-label', label);
            if (!el.sitingKeys) {
                el.sitingKeys = true;
                el.addEventListener('keydown', function (e) {
                    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); layer.openPopup(); }
                });
            }
        });
    }

    /* One layer from its compact description (see siting/maps/layers.py). */
    S.layer = function (spec) {
        var group = L.featureGroup(), geoms = S.geometries(spec), n = geoms.length;
        group.sitingSpec = spec;
        group.sitingById = {};
        for (var i = 0; i < n; i++) {
            var style = L.extend({}, spec.st[spec.si ? spec.si[i] : 0], {pane: spec.pane, interactive: spec.ia !== false});
            var layer;
            if (spec.k === 'pt') { layer = L.circleMarker(geoms[i], style); }
            else if (spec.k === 'sq') {
                layer = L.marker(geoms[i], {pane: spec.pane, keyboard: false, interactive: spec.ia !== false,
                    icon: L.divIcon({className: style.className || 'siting-svc', iconSize: [13, 13]})});
            }
            else if (spec.k === 'ln') { layer = L.polyline(geoms[i], style); }
            else { layer = L.polygon(geoms[i], style); }
            if (spec.pop) {
                layer.bindPopup((function (j) { return function () { return S.popupHtml(spec, j); }; })(i),
                                S.popupOptions());
            }
            var tip = spec.t ? spec.t[i] : '';
            if (tip) {
                layer.bindTooltip(tip, spec.lab ? {permanent: true, direction: 'right', offset: [14, 0],
                                                   className: 'siting-site-label', pane: 'tooltipPane'}
                                               : {sticky: spec.k !== 'pt'});
            }
            if (spec.ids) { layer.sitingId = spec.ids[i]; group.sitingById[spec.ids[i]] = layer; }
            if (spec.ia !== false) { keyboard(layer, plainText(tip || ''), !!spec.tab); }
            group.addLayer(layer);
        }
        return group;
    };

    /* ------------------------------------------------------------------ basemap */
    var WIDTH = {  // street line widths by class and zoom
        main: function (z) { return z < 13 ? 2 : z < 15 ? 4 : z < 16 ? 6 : 9; },
        local: function (z) { return z < 14 ? 1.5 : z < 15 ? 2.5 : z < 16 ? 4 : 6; },
        path: function (z) { return z < 16 ? 1 : 1.5; }
    };

    S.basemap = function (map, B) {
        var renderer = L.canvas({pane: 'sitingBase', padding: 0.5}), items = [], st, f = Math.pow(10, B.f);
        function lines(enc) {
            st = {lat: 0, lon: 0};
            return enc.map(function (s) { return S.decode(s, f, st); });
        }
        function polys(enc, rings) {
            st = {lat: 0, lon: 0};
            var out = [], k = 0;
            rings.forEach(function (feature) {
                feature.forEach(function (nr) {
                    var part = [];
                    for (var q = 0; q < nr; q++) { part.push(S.decode(enc[k++], f, st)); }
                    if (part.length) { out.push(part); }
                });
            });
            return out;
        }
        B.layers.forEach(function (spec) {
            var geom = spec.k === 'pg' ? polys(spec.g, spec.r) : lines(spec.g);
            if (!geom.length) { return; }
            var opts = L.extend({renderer: renderer, interactive: false, pane: 'sitingBase'}, spec.style);
            var casing = null, layer;
            if (spec.casing) {
                casing = L.polyline(geom, L.extend({}, opts, {color: spec.casing, lineCap: 'round', lineJoin: 'round'}));
            }
            layer = spec.k === 'pg' ? L.polygon(geom, opts)
                : L.polyline(geom, L.extend({lineCap: 'round', lineJoin: 'round'}, opts));
            items.push({spec: spec, layer: layer, casing: casing});
        });
        var group = L.layerGroup();
        function zoom() {
            var z = map.getZoom();
            items.forEach(function (it) {
                var on = z >= (it.spec.minZoom || 0);
                var w = WIDTH[it.spec.cls] ? WIDTH[it.spec.cls](z) : null;
                [it.casing, it.layer].forEach(function (l, j) {
                    if (!l) { return; }
                    if (on && !group.hasLayer(l)) { group.addLayer(l); }
                    if (!on && group.hasLayer(l)) { group.removeLayer(l); }
                    if (on && w) { l.setStyle({weight: j === 0 && it.casing ? w + 2 : w}); }
                });
            });
        }
        group.on('add', function () { map.on('zoomend', zoom); zoom(); });
        group.on('remove', function () { map.off('zoomend', zoom); });
        group.addTo(map);
        if (B.labels && B.labels.length) { S.labels(map, B.labels, group, B.names); }
        var mini = items.filter(function (it) { return it.spec.cls === 'main'; });
        if (!mini.length) { mini = items.filter(function (it) { return it.spec.cls; }); }
        group.sitingMini = mini.length ? mini[mini.length - 1].layer.getLatLngs() : null;
        return group;
    };

    /* Street and landmark names: placed at load and after every move or zoom, the most
       important first, never two over each other, the same name not twice close by.
       Each label is [lat, lon, angle, text, minZoom, priority]. */
    S.labels = function (map, labels, owner, names) {
        var text = function (l) { return names ? names[l[3]] : l[3]; };
        var pane = map.getPane('sitingLabels');
        var box = L.DomUtil.create('div', 'siting-labels', pane);
        var ctx = document.createElement('canvas').getContext('2d');
        ctx.font = '600 11px sans-serif';
        var widths = {};
        function width(t) { if (!(t in widths)) { widths[t] = ctx.measureText(t).width + 4; } return widths[t]; }
        function draw() {
            box.textContent = '';
            if (owner && !map.hasLayer(owner)) { return; }
            var z = map.getZoom(), b = map.getBounds().pad(0.05), taken = [], byName = {};
            var shown = labels.filter(function (l) { return l[4] <= z && b.contains([l[0], l[1]]); });
            shown.sort(function (a, c) { return a[5] - c[5]; });
            var room = Math.max(40, Math.round(map.getSize().x * map.getSize().y / 9000));
            for (var i = 0; i < shown.length && room > 0; i++) {
                var l = shown[i], p = map.latLngToLayerPoint([l[0], l[1]]);
                var w = width(text(l)), h = 13, a = l[2] * Math.PI / 180;
                var bw = Math.abs(w * Math.cos(a)) + Math.abs(h * Math.sin(a));
                var bh = Math.abs(w * Math.sin(a)) + Math.abs(h * Math.cos(a));
                var r = [p.x - bw / 2, p.y - bh / 2, p.x + bw / 2, p.y + bh / 2], clash = false;
                for (var j = 0; j < taken.length && !clash; j++) {
                    var t = taken[j];
                    clash = r[0] < t[2] && r[2] > t[0] && r[1] < t[3] && r[3] > t[1];
                }
                var near = byName[text(l)] || [];
                for (var k = 0; k < near.length && !clash; k++) {
                    clash = Math.abs(near[k].x - p.x) + Math.abs(near[k].y - p.y) < 260;
                }
                if (clash) { continue; }
                taken.push(r);
                (byName[text(l)] = near).push(p);
                var el = document.createElement('div');
                el.className = 'siting-street-label' + (l[5] < 1 ? ' siting-main' : l[5] >= 3 ? ' siting-landmark' : '');
                el.textContent = text(l);
                el.style.transform = 'translate(' + Math.round(p.x) + 'px,' + Math.round(p.y) + 'px) ' +
                    'translate(-50%,-50%) rotate(' + l[2] + 'deg)';
                box.appendChild(el);
                room--;
            }
        }
        map.on('zoomstart', function () { box.style.display = 'none'; });
        map.on('zoomend moveend', function () { box.style.display = ''; draw(); });
        if (owner) { owner.on('add remove', draw); }
        S.labelsDraw = draw;
        draw();
    };

    /* ------------------------------------------------------------------ page */
    function phoneLayout(map, container) {
        var phone = S.isPhone();
        container.querySelectorAll('details.siting-fold').forEach(function (d) {
            d.open = phone ? d.hasAttribute('data-phone-open') : !d.hasAttribute('data-desktop-closed');
        });
        return phone;
    }

    function layerControl(map, groups, phone) {
        var overlays = {};
        groups.forEach(function (g) { overlays[g[0]] = g[1]; });
        var ctl = L.control.layers(null, overlays, {collapsed: true, position: 'bottomright'}).addTo(map);
        var c = ctl.getContainer();
        c.setAttribute('aria-label', 'Map layers');
        if (!phone) {
            ctl.expand();
            L.DomEvent.off(c, 'mouseleave', ctl.collapse, ctl);
            map.off('click', ctl.collapse, ctl);
        }
        // checkboxes say which layer they switch, for keyboards and screen readers
        c.querySelectorAll('label').forEach(function (lab) {
            var input = lab.querySelector('input'), span = lab.querySelector(':scope > span > span');
            if (input && span) { input.setAttribute('aria-label', span.textContent.trim()); }
        });
        return ctl;
    }

    /* The Siting.layer groups inside the layer list's groups, with the group that holds each. */
    function inner(groups) {
        var out = [];
        groups.forEach(function (g) {
            g[1].eachLayer(function (child) { if (child.sitingSpec) { out.push([child, g[1]]); } });
        });
        return out;
    }
    S.inner = inner;

    function openSite(map, groups, id) {
        var found = inner(groups), pane = ['sitingChosen', 'sitingCandidates'];
        for (var k = 0; k < pane.length; k++) {
            for (var i = 0; i < found.length; i++) {
                var g = found[i][0];
                if (g.sitingSpec.pane === pane[k] && g.sitingById[id]) {
                    if (!map.hasLayer(found[i][1])) { map.addLayer(found[i][1]); }
                    var layer = g.sitingById[id];
                    map.panTo(layer.getLatLng());
                    layer.openPopup();
                    return layer;
                }
            }
        }
        return null;
    }

    /* cfg: {groups: [[name, featureGroup], ...], controls: [control, ...] (in tab order),
             bounds, padding, credit, whatif} */
    S.init = function (map, cfg) {
        panes(map);
        var container = map.getContainer();
        var phone = phoneLayout(map, container);
        var ctl = layerControl(map, cfg.groups, phone);
        if (cfg.credit) { map.attributionControl.addAttribution(cfg.credit); }
        map.attributionControl.setPrefix('<a href="https://leafletjs.com" title="Leaflet">Leaflet</a>');
        // controls first in tab order: the control corners before the map's panes
        container.insertBefore(map._controlContainer, container.firstChild);
        container.setAttribute('aria-label', 'Map');
        // the panels' site buttons open a site's popup
        container.addEventListener('click', function (e) {
            var b = e.target.closest && e.target.closest('[data-site]');
            if (b && container.contains(b)) { e.preventDefault(); openSite(map, cfg.groups, b.getAttribute('data-site')); }
        });
        if (cfg.bounds) {
            map.fitBounds(cfg.bounds, phone ? {paddingTopLeft: [50, 60], paddingBottomRight: [10, 50]}
                                             : {paddingTopLeft: [60, 20], paddingBottomRight: [350, 20]});
        }
        if (cfg.whatif) { S.whatif(map, cfg.whatif, cfg.groups); }
        map.sitingLayerControl = ctl;
        map.sitingOpenSite = function (id) { return openSite(map, cfg.groups, id); };
        container.setAttribute('data-siting-ready', '1');
    };

    S.minimap = function (map, base) {
        if (!L.Control.MiniMap || !base || !base.sitingMini) { return null; }
        var lines = L.polyline(base.sitingMini, {color: '#666', weight: 1, interactive: false});
        return new L.Control.MiniMap(lines, {position: 'bottomright', toggleDisplay: true,
                                             zoomLevelOffset: -4, width: 130, height: 130}).addTo(map);
    };

    /* A panel (summary, legend, what-if) as a Leaflet control holding Python's escaped HTML. */
    S.panel = function (map, html, position, cls) {
        var ctl = L.control({position: position});
        ctl.onAdd = function () {
            var div = L.DomUtil.create('div', 'siting-panel ' + cls);
            div.innerHTML = html;
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        return ctl.addTo(map);
    };

    /* ------------------------------------------------------------------ what-if */
    /* W: {ids: candidate ids, cand: [[atom, ...] per candidate], mass: [released units' mass
       per atom], total, rec: [candidate positions of the recommended set], rule: {t, base, first,
       sup}, group: name of the candidates' layer, minutes} */
    S.release = function (rule, v) {
        if (!(v >= rule.t + 1)) { return rule.sup; }
        var r = Math.max(Math.floor(v / rule.base + 0.5) * rule.base, rule.first);
        return r.toLocaleString('en-US');
    };
    S.percent = function (share) { return Math.floor(share * 100 + 0.5 + 1e-9) + '%'; };
    /* a share as siting.privacy.Rule.share shows it: a bound when the part or the rest is small */
    S.share = function (rule, part, whole) {
        if (rule.t < 0) { return whole > 0 ? S.percent(part / whole) : '\u2013'; }
        if (!(whole >= rule.t + 1)) { return '\u2013'; }
        var small = (rule.t + 1) / whole;
        if (part <= rule.t) { return 'under ' + Math.ceil(100 * small - 1e-9) + '%'; }
        if (whole - part <= rule.t) { return 'over ' + Math.floor(100 * (1 - small) + 1e-9) + '%'; }
        return S.percent(part / whole);
    };

    S.cover = function (W, members) {
        var seen = new Uint8Array(W.mass.length), sum = 0;
        members.forEach(function (c) {
            var atoms = W.cand[c];
            for (var i = 0; i < atoms.length; i++) {
                if (!seen[atoms[i]]) { seen[atoms[i]] = 1; sum += W.mass[atoms[i]]; }
            }
        });
        return sum;
    };

    /* The value models' sum (attendance, deaths averted): each unit counts once, at its most
       valuable site of the set. V: whatif_values.value_payload; returns [value, mass behind it].
       siting.maps.whatif_values.set_value is the same sum in Python. */
    S.setValue = function (V, ids, estimate) {
        var best = {}, sum = 0, behind = 0, est = estimate || V.estimate;
        ids.forEach(function (id) {
            var pairs = V.pairs[id];
            if (!pairs) { return; }
            for (var i = 0; i < pairs.length; i += 2) {
                var u = pairs[i], v = V.kind === 'deaths' ? V.effects[est][pairs[i + 1]] : pairs[i + 1];
                if (!(u in best) || v > best[u]) { best[u] = v; }
            }
        });
        for (var u in best) { sum += V.mass[u] * best[u]; behind += V.mass[u]; }
        return [sum, behind];
    };
    /* Deaths: the fatal mass behind the set in each distance band, every unit at its nearest
       site of the set (its best band). */
    S.bandMass = function (V, ids) {
        var band = {}, out = V.effects.low.map(function () { return 0; });
        ids.forEach(function (id) {
            var pairs = V.pairs[id];
            if (!pairs) { return; }
            for (var i = 0; i < pairs.length; i += 2) {
                var u = pairs[i], k = pairs[i + 1];
                if (!(u in band) || k < band[u]) { band[u] = k; }
            }
        });
        for (var u in band) { out[band[u]] += V.mass[u]; }
        return out;
    };
    /* As the report prints it: attendance through the count rule; deaths low / central / high to
       one decimal, only with more fatal incidents behind them than the threshold
       (whatif_values.value_text in Python). */
    /* One decimal as Python prints it: exact ties (x.x5 held exactly, i.e. quarters) go to the
       even digit, where toFixed would round up. */
    S.fixed1 = function (x) {
        var q = x * 4;
        if (q === Math.round(q) && Math.abs(q % 2) === 1) {
            var n = Math.floor(x * 10);
            return ((n % 2 === 0 ? n : n + 1) / 10).toFixed(1);
        }
        return x.toFixed(1);
    };
    S.valueText = function (V, ids, rule) {
        if (!ids.length) { return '\u2013'; }
        if (V.kind !== 'deaths') { return S.release(rule, S.setValue(V, ids)[0]); }
        var first = S.setValue(V, ids, 'low');
        if (!(first[1] >= rule.t + 1)) { return 'not shown (' + rule.sup + ' fatal incidents)'; }
        // as the report: an estimate is shown only when every band adding to it holds more
        // fatal incidents than the threshold (else the three estimates give each band's count)
        var mass = S.bandMass(V, ids);
        return ['low', 'central', 'high'].map(function (e) {
            var ok = V.effects[e].every(function (eff, k) {
                return !(eff > 0 && mass[k] > 1e-9 && mass[k] < rule.t + 1);
            });
            return ok ? S.fixed1(S.setValue(V, ids, e)[0]) : 'not shown';
        }).join(' / ');
    };

    S.whatif = function (map, W, groups) {
        var panel = map.getContainer().querySelector('.siting-whatif');
        if (!panel) { return; }
        var pos = {}, set = [], mode = panel.querySelector('input.siting-whatif-mode');
        W.ids.forEach(function (id, i) { pos[id] = i; });
        var group = null;
        inner(groups).forEach(function (g) { if (g[0].sitingSpec.pane === 'sitingCandidates') { group = g[0]; } });
        var rec = S.cover(W, W.rec), recShare = W.total > 0 ? rec / W.total : 0;
        function mark(id, on) {
            var layer = group && group.sitingById[id];
            if (!layer) { return; }
            var sp = group.sitingSpec, k = sp.ids.indexOf(id);
            layer.setStyle(on ? {color: '#d55e00', weight: 5} : sp.st[sp.si ? sp.si[k] : 0]);
        }
        function update() {
            var v = S.cover(W, set.map(function (id) { return pos[id]; }));
            var share = W.total > 0 ? v / W.total : 0;
            var d = Math.floor(share * 100 + 0.5 + 1e-9) - Math.floor(recShare * 100 + 0.5 + 1e-9);
            panel.querySelector('.siting-whatif-set').textContent = set.length ? set.join(', ') : 'none yet';
            panel.querySelector('.siting-whatif-count').textContent = set.length ? S.release(W.rule, v) : '\u2013';
            panel.querySelector('.siting-whatif-share').textContent = set.length ? S.share(W.rule, v, W.total) : '\u2013';
            panel.querySelector('.siting-whatif-diff').textContent = set.length
                ? (d > 0 ? '+' : d < 0 ? '\u2212' : '\u00b1') + Math.abs(d) + ' points' : '\u2013';
            var valueCell = panel.querySelector('.siting-whatif-value');
            if (W.value && valueCell) { valueCell.textContent = S.valueText(W.value, set, W.rule); }
            panel.setAttribute('data-size', String(set.length));
        }
        function toggle(id) {
            var k = set.indexOf(id);
            if (k >= 0) { set.splice(k, 1); mark(id, false); } else { set.push(id); mark(id, true); }
            update();
        }
        panel.querySelector('.siting-whatif-rec-count').textContent = S.release(W.rule, rec);
        panel.querySelector('.siting-whatif-rec-share').textContent = S.share(W.rule, rec, W.total);
        var recValue = panel.querySelector('.siting-whatif-rec-value');
        if (W.value && recValue) {
            recValue.textContent = S.valueText(W.value, W.rec.map(function (i) { return W.ids[i]; }), W.rule);
        }
        if (group) {
            group.eachLayer(function (layer) {
                layer.on('click', function (e) {
                    if (!mode || !mode.checked) { return; }
                    L.DomEvent.stop(e);
                    layer.closePopup();
                    toggle(layer.sitingId);
                });
            });
        }
        // while picking, a tap never opens a popup (a finger is less exact than a mouse)
        map.on('popupopen', function (e) {
            if (mode && mode.checked) { map.closePopup(e.popup); }
        });
        panel.addEventListener('click', function (e) {
            var t = e.target;
            if (t.matches('button.siting-whatif-clear')) { set.slice().forEach(function (id) { mark(id, false); }); set = []; update(); }
            if (t.matches('button.siting-whatif-rec')) {
                set.slice().forEach(function (id) { mark(id, false); });
                set = W.rec.map(function (i) { return W.ids[i]; });
                set.forEach(function (id) { mark(id, true); });
                if (mode) { mode.checked = true; }
                update();
            }
        });
        S.whatifToggle = toggle;
        update();
    };
})();
