"""The report page's layout: HTML skeleton, styles (screen, phone, A4 print) and the map
script. No words live here: :mod:`eo_drr.publish.report_text` supplies every text, so a
translation never touches the layout. Doubled braces are literal (``str.format``)."""

from __future__ import annotations

STYLE = """
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { font-family: system-ui, sans-serif; margin: 0 auto; padding: 0 1.5em 1em; color: #222;
  max-width: 1200px; line-height: 1.45; overflow-wrap: break-word; }
h1 { font-size: 1.6em; margin: .6em 0 .3em; }
h2 { font-size: 1.25em; margin: 1.4em 0 .5em; border-bottom: 1px solid #ddd; }
#map { width: 100%; height: 560px; background: #eef2f5; border: 1px solid #bbb; }
.banner { background: #b00020; color: #fff; padding: .7em 1em; margin: 1em 0 0; border-radius: 4px; }
.banner strong { font-size: 1.15em; display: block; }
.note { background: #fff6d6; border-left: 4px solid #e0b000; padding: .5em 1em; }
.warnings { background: #fdecea; border-left: 4px solid #c62828; padding: .3em 1em; }
.warnings li { margin: .3em 0; }
.howto { background: #e8f1fb; border-left: 4px solid #1565c0; padding: .5em 1em; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: .7em;
  margin: 0; padding: 0; }
.card { border: 1px solid #ccd; border-radius: 6px; padding: .6em .8em; background: #f8f9fb; }
.card dt { font-size: .85em; color: #444; }
.card dd { margin: 0; }
.card .value { font-size: 1.35em; font-weight: 600; }
.card .detail { font-size: .8em; color: #555; display: block; }
.layer-notes { color: #8a4b00; }
.table-wrap { max-width: 100%; overflow-x: auto; border: 1px solid #ddd; }
table.indicators { border-collapse: collapse; font-size: 12px; }
table.indicators th, table.indicators td { border: 1px solid #ccc; padding: 3px 6px;
  text-align: right; }
table.indicators th { background: #f0f2f5; vertical-align: bottom; min-width: 5em; }
table.indicators td { white-space: nowrap; }
table.indicators td.text, table.indicators th.text { text-align: left; }
table.indicators th .code { display: block; font-weight: normal; color: #555; }
.indicator-names { font-size: .85em; margin: .5em 0; }
.indicator-names summary { cursor: pointer; font-weight: 600; }
.indicator-names ul { margin: .3em 0; padding-left: 1.2em; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; }
dl.provenance { display: grid; grid-template-columns: minmax(8em, 16em) 1fr; gap: .3em 1em; }
dl.provenance dt { font-weight: 600; }
dl.provenance dd { margin: 0; overflow-wrap: anywhere; }
dl.provenance dl.provenance { grid-template-columns: minmax(6em, 12em) 1fr; font-size: .92em; }
footer { margin-top: 2em; padding-top: .6em; border-top: 1px solid #ccc; font-size: .85em;
  color: #444; }
footer p { margin: .2em 0; }
.legend { background: #fff; padding: 4px 8px; font-size: 12px; line-height: 18px;
  max-width: 260px; }
.legend summary { cursor: pointer; font-weight: 600; }
.legend i { width: 14px; height: 14px; float: left; margin: 2px 6px 0 0; opacity: .8; }
.legend div { clear: left; }
.leaflet-tooltip.unit-label { background: rgba(255,255,255,.8); border: 0; box-shadow: none;
  padding: 0 3px; font-size: 11px; line-height: 16px; color: #222; }
.leaflet-tooltip.unit-label:before { display: none; }
.leaflet-control-layers-toggle { width: auto !important; height: auto !important;
  padding: 5px 10px; font-size: 13px; color: #222; text-decoration: none; }
@media (max-width: 700px) {
  body { padding: 0 .7em 1em; }
  h1 { font-size: 1.3em; }
  #map { height: 380px; }
  dl.provenance, dl.provenance dl.provenance { grid-template-columns: 1fr; }
  dl.provenance dd { margin-bottom: .4em; }
  .legend { max-width: 190px; }
  .card.wide { grid-column: 1 / -1; }
}
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  #map { height: 120mm; break-inside: avoid; }
  .leaflet-control-layers, .leaflet-control-zoom { display: none; }
  .table-wrap { overflow: visible; border: 0; }
  table.indicators { font-size: 7.5pt; }
  .card, figure, .banner, .note, .warnings, .howto { break-inside: avoid; }
  h2 { break-after: avoid; }
}
"""

PAGE = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{title}</title>
<style>{leaflet_css}</style>
<style>{style}</style></head>
<body>
<header>{banner}<h1>{title}</h1></header>
<main>
<p class="note">{proxy_note}</p>
{headline}
{warnings}
<h2>{h_map}</h2>
<div id="map" role="region" aria-label="{h_map}"></div>
{layer_notes}
{howto}
{table}
{plots}
<h2>{h_provenance}</h2>
{provenance}
</main>
<footer>{footer}</footer>
<script>{leaflet_js}</script>
<script>{script}</script>
</body></html>
"""

SCRIPT = """
(function () {
  var data = %s;
  var narrow = window.innerWidth < 700;
  var map = L.map("map", {zoomSnap: 0.1, attributionControl: false});
  var overlays = {};
  var bounds = null;
  data.rasters.forEach(function (r) {
    var lyr = L.imageOverlay(r.url, r.bounds, {opacity: r.opacity});
    if (r.show) lyr.addTo(map);
    overlays[r.name] = lyr;
    var b = L.latLngBounds(r.bounds);
    bounds = bounds ? bounds.extend(b) : b;
  });
  var labels = function () {};
  if (data.units) {
    var u = L.geoJSON(data.units, {
      style: function () { return {color: "#222", weight: 1.5, fill: false}; },
      onEachFeature: function (f, l) {
        l.bindPopup(f.properties.popup);
        if (!f.properties.label) return;
        var name = L.DomUtil.create("span");
        name.textContent = f.properties.label;
        l.bindTooltip(name, {permanent: true, direction: "center", className: "unit-label"});
      }
    }).addTo(map);
    overlays[data.units_name] = u;
    bounds = bounds ? bounds.extend(u.getBounds()) : u.getBounds();
    // a unit's name shows where it fits inside the unit's box on screen (11 px text: about
    // 6.5 px a letter), so zooming in names the smaller units and the names never pile up
    labels = function () {
      if (!map.hasLayer(u)) return;
      u.eachLayer(function (l) {
        var b = l.getBounds();
        var nw = map.latLngToContainerPoint(b.getNorthWest());
        var se = map.latLngToContainerPoint(b.getSouthEast());
        var fits = se.x - nw.x >= 6.5 * l.feature.properties.label.length + 8 && se.y - nw.y >= 18;
        if (fits) l.openTooltip(); else l.closeTooltip();
      });
    };
    map.on("zoomend", labels);
    u.on("add", labels);
  }
  if (data.points) {
    var p = L.geoJSON(data.points, {
      pointToLayer: function (f, ll) {
        return L.circleMarker(ll, {radius: 5, weight: 1, color: "#000",
          fillColor: f.properties.flooded ? "#e31a1c" : "#ffffff", fillOpacity: 0.9});
      },
      onEachFeature: function (f, l) { l.bindPopup(f.properties.popup); }
    }).addTo(map);
    overlays[data.points_name] = p;
  }
  var control = L.control.layers(null, overlays, {collapsed: narrow}).addTo(map);
  control.getContainer().querySelector(".leaflet-control-layers-toggle").textContent =
    data.layers_title;
  L.control.scale().addTo(map);
  if (data.legend) {
    var legend = L.control({position: "bottomleft"});
    legend.onAdd = function () {
      var d = L.DomUtil.create("details", "legend");
      if (!narrow) d.open = true;
      d.innerHTML = "<summary>" + data.legend_title + "</summary>" + data.legend;
      L.DomEvent.disableClickPropagation(d);
      return d;
    };
    legend.addTo(map);
  }
  if (bounds) map.fitBounds(bounds); else map.setView([0, 0], 2);
  labels();
  // the background map: only from a web page (a file sends no Referer, which the OSM tile
  // policy requires) and only once the tile under the map's centre has loaded; offline the
  // probe fails quietly and nothing is added
  var bm = data.basemap;
  if (bm && /^https?:$/.test(location.protocol) && navigator.onLine !== false) {
    var policy = "strict-origin-when-cross-origin";
    var z = Math.max(0, Math.min(Math.round(map.getZoom()), bm.max_zoom));
    var tile = map.project(map.getCenter(), z).divideBy(256).floor();
    var probe = new Image();
    probe.referrerPolicy = policy;
    probe.onload = function () {
      L.control.attribution({prefix: false}).addTo(map);  // names the tiles' source
      var tiles = L.tileLayer(bm.url, {maxZoom: bm.max_zoom, attribution: bm.attribution,
        referrerPolicy: policy}).addTo(map);
      control.addOverlay(tiles, bm.name);
      document.body.setAttribute("data-basemap", "1");
    };
    probe.src = L.Util.template(bm.url, {s: "a", z: z, x: tile.x, y: tile.y});
  }
  document.body.setAttribute("data-map-ready", "1");
})();
"""
