// The planner map: hexagon heatmaps computed by the server, overlays,
// a time control, category filters, a table for every visible layer, and
// drawing of priority places.
import { startPage, markReady, announce } from './shell.js';
import { t, term, formatNumber, formatDate, locale } from './i18n.js';
import { L, createMap, loadConfig, addDistrictBase, textEl, textTip } from './mapbase.js';
import { hexagons, listAll, send, ApiError } from './api.js';
import { renderTable } from './table.js';
import { bboxOf } from './geo.js';
import { HexTiles } from './hextiles.js';

// The filters each kind takes, as the server names them.
const FILTERS = {
  incidents: [{ param: 'category', vocab: 'incidentCategory', values: ['theft', 'burglary', 'vandalism', 'assault', 'drugs', 'fraud', 'vehicle_theft', 'robbery', 'disturbance', 'traffic', 'other'] }],
  reports: [
    { param: 'reason', vocab: 'reason', values: ['lighting', 'vegetation', 'litter_graffiti', 'people', 'traffic', 'other'] },
    { param: 'source', vocab: 'reportSource', values: ['safety_walk', 'survey', 'public', 'staff'] },
  ],
  presence: [{ param: 'unit_type', vocab: 'unitType', values: ['police', 'security_guard', 'night_walkers', 'field_worker', 'municipal_staff', 'other'] }],
  measures: [
    { param: 'kind', vocab: 'measureKind', values: ['lighting', 'vegetation', 'cleaning', 'graffiti', 'camera', 'other'] },
    { param: 'status', vocab: 'measureStatus', values: ['proposed', 'planned', 'in_progress', 'done', 'closed', 'rejected'] },
  ],
};

// Sequential ramps, light to dark, one hue family per kind so two screenshots
// are not confused; the classes are also written out as numbers in the legend.
const RAMPS = {
  incidents: ['#fdebd3', '#f9b97f', '#f0804a', '#cc3a22', '#7a0b0b'],
  reports: ['#eeecf6', '#c8c4e0', '#9a93c6', '#6f5fae', '#3d1778'],
  presence: ['#e1edf8', '#a2c8e4', '#5f9fd1', '#2467ad', '#0b2f66'],
  measures: ['#e3f3dc', '#a6d89a', '#69b86a', '#2a8546', '#0b4a21'],
};

// H3 edge lengths in metres (res 5–11), for the legend and label sizing.
const EDGE_M = { 5: 8544, 6: 3229, 7: 1220, 8: 461, 9: 174, 10: 66, 11: 25 };

/** Hexagons of roughly 20–40 px at Linköping's latitude for each zoom. */
export function resolutionForZoom(z) {
  if (z <= 8) return 5;
  if (z <= 10) return 6;
  if (z <= 11) return 7;
  if (z <= 13) return 8;
  if (z <= 14) return 9;
  if (z <= 15) return 10;
  return 11;
}

/** From this zoom on (resolution 10 and finer) the heatmap comes as vector
 * tiles: a GeoJSON layer of a city view would carry thousands of
 * hexagons, while a tile is small, asked once per place and kept by the
 * browser. The server gives each zoom the resolution above. */
export const TILE_ZOOM = 15;

const state = {
  heat: 'incidents',
  overlays: { places: true, measures: false, areas: true },
  time: { mode: 'all', month: 23, from: '', to: '' },
  // Per kind and parameter: the values switched off. Empty means "all".
  off: {},
  hex: null,
  places: [],
  measures: [],
  areas: [],
};

let map;
let config;
const layers = {};
let heatAbort = null;
let overlayAbort = null;

function months() {
  const now = new Date();
  const out = [];
  for (let i = 23; i >= 0; i -= 1) {
    const start = new Date(now.getFullYear(), now.getMonth() - i, 1);
    const end = new Date(now.getFullYear(), now.getMonth() - i + 1, 1);
    out.push({ start, end });
  }
  return out;
}
const MONTHS = months();

function monthLabel(m) {
  return new Intl.DateTimeFormat(locale(), { month: 'long', year: 'numeric' }).format(m.start);
}

/** The `datetime` parameter for the time control, in the visitor's local
 * calendar: a month here is a Swedish month, not a UTC one. */
function datetimeParam() {
  const { mode, month, from, to } = state.time;
  if (mode === 'month') {
    const m = MONTHS[month];
    return `${m.start.toISOString()}/${new Date(m.end.getTime() - 1).toISOString()}`;
  }
  if (mode === 'range' && (from || to)) {
    const a = from ? new Date(`${from}T00:00:00`).toISOString() : '..';
    const b = to ? new Date(`${to}T23:59:59.999`).toISOString() : '..';
    return `${a}/${b}`;
  }
  return `${MONTHS[0].start.toISOString()}/..`;
}

function timeDescription() {
  const { mode, month, from, to } = state.time;
  if (mode === 'month') return monthLabel(MONTHS[month]);
  if (mode === 'range' && (from || to)) return t('map.time.rangeText', { from: from || '…', to: to || '…' });
  return t('map.time.allText');
}

function filterParams(kind) {
  const params = {};
  for (const group of FILTERS[kind] || []) {
    const off = state.off[`${kind}.${group.param}`] || new Set();
    if (off.size === 0) continue;
    const on = group.values.filter((v) => !off.has(v));
    // Nothing selected asks the server for nothing; say so instead.
    if (on.length === 0) return null;
    params[group.param] = on.join(',');
  }
  return params;
}

function bboxParam() {
  const b = map.getBounds().pad(0.1);
  const f = (n) => n.toFixed(5);
  return [f(Math.max(b.getWest(), -180)), f(Math.max(b.getSouth(), -90)), f(Math.min(b.getEast(), 180)), f(Math.min(b.getNorth(), 90))].join(',');
}

// ---------------------------------------------------------------- heatmap

function classBreaks(values) {
  const max = Math.max(0, ...values);
  if (max === 0) return [];
  if (max <= 5) return Array.from({ length: max }, (_, i) => [i + 1, i + 1]);
  // Quantile-like classes over the distinct values keep a few very hot
  // cells from washing every other cell out to the lightest colour.
  const sorted = [...values].sort((a, b) => a - b);
  const uppers = [];
  for (let i = 1; i <= 5; i += 1) {
    const v = sorted[Math.min(sorted.length - 1, Math.ceil((i / 5) * sorted.length) - 1)];
    const rounded = i === 5 ? max : Math.round(v);
    if (!uppers.length || rounded > uppers[uppers.length - 1]) uppers.push(rounded);
  }
  const min = sorted[0];
  return uppers.map((u, i) => [i === 0 ? Math.min(Math.floor(min), u) : uppers[i - 1] + 1, u]).filter(([a, b]) => a <= b);
}

function classOf(breaks, v) {
  const i = breaks.findIndex(([, hi]) => v <= hi);
  return i === -1 ? breaks.length - 1 : i;
}

function rampFor(kind, n) {
  const ramp = RAMPS[kind];
  if (n >= ramp.length) return ramp;
  // Spread fewer classes over the whole ramp so they stay distinguishable.
  return Array.from({ length: n }, (_, i) => ramp[Math.round((i * (ramp.length - 1)) / Math.max(1, n - 1))]);
}

async function refreshHeat() {
  if (heatAbort) heatAbort.abort();
  layers.heat.clearLayers();
  layers.labels.clearLayers();
  const kind = state.heat;
  if (kind === 'none') {
    hideTiles();
    state.hex = null;
    renderLegend();
    renderTables();
    return;
  }
  const res = resolutionForZoom(map.getZoom());
  const filters = filterParams(kind);
  if (filters === null) {
    hideTiles();
    state.hex = { kind, res, features: [], empty: true };
    renderLegend();
    renderTables();
    return;
  }
  if (map.getZoom() >= TILE_ZOOM) {
    // The aborted request must not end 'loading': the tiles will.
    heatAbort = null;
    showTiles(kind, res, filters);
    return;
  }
  hideTiles();
  heatAbort = new AbortController();
  const mine = heatAbort;
  const params = { resolution: String(res), bbox: bboxParam(), datetime: datetimeParam(), ...filters };
  document.getElementById('legend').setAttribute('aria-busy', 'true');
  try {
    const fc = await hexagons(kind, params, { signal: heatAbort.signal });
    state.hex = { kind, res, features: fc.features, params };
    drawHeat();
    announce('');
  } catch (e) {
    if (e.name === 'AbortError') return;
    state.hex = { kind, res, features: [], error: e.message };
    announce(t('map.loadError', { detail: e.message }));
  } finally {
    // A request replaced by a newer one must not say loading is over.
    if (heatAbort === mine) document.getElementById('legend').removeAttribute('aria-busy');
  }
  renderLegend();
  renderTables();
}

function drawHeat() {
  const { kind, res, features } = state.hex;
  const breaks = classBreaks(features.map((f) => f.properties.count));
  const colours = rampFor(kind, breaks.length);
  state.hex.breaks = breaks;
  state.hex.colours = colours;
  const showLabels = labelsFit(res, features.length);
  for (const f of features) {
    const cls = classOf(breaks, f.properties.count);
    const poly = L.geoJSON(f, {
      style: {
        color: '#1f2937',
        weight: 0.6,
        fillColor: colours[cls],
        fillOpacity: 0.72,
      },
    });
    // While drawing, a click is a corner, not a question about the cell.
    poly.on('click', (ev) => { if (!drawing) openCellPopup(f, ev.latlng); });
    poly.addTo(layers.heat);
    if (showLabels) addLabel(poly.getBounds().getCenter(), cls, f.properties.count);
  }
}

/** Whether counts fit inside the hexagons: wide enough, and few enough. */
function labelsFit(res, n) {
  const metresPerPixel = (40075016 * Math.cos((map.getCenter().lat * Math.PI) / 180)) / (256 * 2 ** map.getZoom());
  return EDGE_M[res] / metresPerPixel >= 16 && n <= 400;
}

function addLabel(latlng, cls, count) {
  L.marker(latlng, {
    interactive: false,
    keyboard: false,
    icon: L.divIcon({
      className: `hex-label${cls >= 3 ? ' on-dark' : ''}`,
      html: textEl(formatNumber(count)),
      iconSize: [40, 16],
      iconAnchor: [20, 8],
    }),
  }).addTo(layers.labels);
}

// ---------------------------------------------------------------- tiles

/** A tile hexagon's colour, once the classes of the view are known. */
function tileColour(cell) {
  const hex = state.hex;
  if (!hex || !hex.tiled || !hex.breaks || hex.kind !== layers.tiles.options.kind) return null;
  return hex.colours[classOf(hex.breaks, cell.count)];
}

function showTiles(kind, res, filters) {
  const query = new URLSearchParams({ datetime: datetimeParam(), ...filters }).toString();
  if (!layers.tiles) {
    layers.tiles = new HexTiles({ pane: 'heatTiles', minZoom: TILE_ZOOM, maxZoom: 18, fill: tileColour });
    layers.tiles.on('loading', () => document.getElementById('legend').setAttribute('aria-busy', 'true'));
    layers.tiles.on('load', settleTiles);
  }
  const changed = layers.tiles.setQuery(kind, query);
  if (changed || !map.hasLayer(layers.tiles) || !state.hex || !state.hex.tiled) {
    // Until every tile in view is in, the classes are unknown: paint
    // nothing rather than the colours of another question.
    state.hex = { kind, res, features: [], params: {}, tiled: true };
  }
  if (!map.hasLayer(layers.tiles)) map.addLayer(layers.tiles);
  else if (!changed && !layers.tiles.isLoading()) settleTiles();
}

function hideTiles() {
  if (!layers.tiles || !map.hasLayer(layers.tiles)) return;
  map.removeLayer(layers.tiles);
  document.getElementById('legend').removeAttribute('aria-busy');
}

/** Every tile in view is in: classes, colours, labels, legend and table
 * for the hexagons of those tiles. */
function settleTiles() {
  if (!layers.tiles || !map.hasLayer(layers.tiles) || !state.hex || !state.hex.tiled) return;
  const { kind, query } = layers.tiles.options;
  const res = resolutionForZoom(map.getZoom());
  const view = layers.tiles.inView();
  const breaks = classBreaks(view.features.map((f) => f.properties.count));
  // The same question of the hexagon API: what the legend's total and a
  // hexagon's breakdown are checked and asked with.
  const params = { resolution: String(res), bbox: view.bbox.join(','), ...Object.fromEntries(new URLSearchParams(query)) };
  state.hex = { kind, res, features: view.features, params, tiled: true, breaks, colours: rampFor(kind, breaks.length) };
  if (view.error) state.hex.error = view.error.message;
  layers.tiles.repaint();
  layers.labels.clearLayers();
  if (labelsFit(res, view.features.length)) {
    for (const f of view.features) {
      const [w, s, e, n] = bboxOf(f.geometry);
      addLabel(L.latLng((s + n) / 2, (w + e) / 2), classOf(breaks, f.properties.count), f.properties.count);
    }
  }
  document.getElementById('legend').removeAttribute('aria-busy');
  announce(view.error ? t('map.loadError', { detail: view.error.message }) : '');
  renderLegend();
  renderTables();
}

function heatUnit(kind) {
  return t(`map.legend.unit.${kind}`);
}

function renderLegend() {
  const heading = document.getElementById('legend-heading');
  const meta = document.getElementById('legend-meta');
  const list = document.getElementById('legend-classes');
  const total = document.getElementById('legend-total');
  list.replaceChildren();
  const hex = state.hex;
  if (!hex) {
    heading.textContent = t('map.legend.none');
    meta.textContent = '';
    total.textContent = '';
    total.dataset.total = '';
    return;
  }
  heading.textContent = t('map.legend.title', { kind: t(`kinds.${hex.kind}`) });
  meta.textContent = t('map.legend.meta', { res: hex.res, edge: formatNumber(EDGE_M[hex.res]), time: timeDescription() });
  if (hex.empty) {
    total.textContent = t('map.filters.noneSelected');
    total.dataset.total = '0';
    return;
  }
  if (hex.error) {
    total.textContent = t('map.loadError', { detail: hex.error });
    return;
  }
  (hex.breaks || []).forEach(([lo, hi], i) => {
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.setAttribute('aria-hidden', 'true');
    // Set through the CSSOM, which the CSP allows (a style attribute it
    // would not). The number range is the information; colour repeats it.
    sw.style.backgroundColor = hex.colours[i];
    const label = document.createElement('span');
    label.textContent = lo === hi ? formatNumber(lo) : `${formatNumber(lo)}–${formatNumber(hi)}`;
    li.append(sw, label);
    list.append(li);
  });
  const sum = hex.features.reduce((s, f) => s + f.properties.count, 0);
  total.dataset.total = String(sum);
  // The exact question asked, so anyone (and the tests) can ask the API too.
  total.dataset.query = `/api/v1/layers/${hex.kind}/hexagons?${new URLSearchParams(hex.params)}`;
  total.dataset.source = hex.tiled ? 'tiles' : 'geojson';
  total.textContent = t('map.legend.total', { total: formatNumber(sum), unit: heatUnit(hex.kind), cells: formatNumber(hex.features.length) });
}

async function openCellPopup(f, latlng) {
  const { kind, res, params } = state.hex;
  const box = document.createElement('div');
  box.className = 'cell-popup';
  const h = document.createElement('h3');
  h.tabIndex = -1;
  h.textContent = t('map.cell.title', { count: formatNumber(f.properties.count), unit: heatUnit(kind) });
  const p = document.createElement('p');
  p.className = 'hint';
  p.textContent = t('map.cell.meta', { h3: f.properties.h3, time: timeDescription() });
  box.append(h, p);
  if (f.properties.minutes != null) {
    const extra = document.createElement('p');
    extra.textContent = t('map.cell.presence', { visits: formatNumber(f.properties.visits), minutes: formatNumber(f.properties.minutes) });
    box.append(extra);
  }
  const list = document.createElement('ul');
  list.className = 'breakdown';
  const loading = document.createElement('p');
  loading.textContent = t('map.cell.loading');
  box.append(loading, list);
  const popup = L.popup({ maxWidth: 320 }).setLatLng(latlng).setContent(box).openOn(map);
  h.focus();

  // The breakdown re-asks the server for this one cell per category, so
  // its numbers are the server's own and respect the same filters.
  const group = FILTERS[kind][0];
  const [w, s, e, n] = bboxOf(f.geometry);
  const cellBbox = [w, s, e, n].map((v) => v.toFixed(6)).join(',');
  const selected = params[group.param] ? params[group.param].split(',') : group.values;
  try {
    const counts = await Promise.all(selected.map(async (v) => {
      const fc = await hexagons(kind, { ...params, bbox: cellBbox, [group.param]: v });
      const cell = fc.features.find((c) => c.properties.h3 === f.properties.h3);
      return [v, cell ? cell.properties.count : 0];
    }));
    loading.textContent = t(`map.cell.by.${group.param}`);
    for (const [v, c] of counts.filter(([, c]) => c > 0).sort((a, b) => b[1] - a[1])) {
      const li = document.createElement('li');
      li.textContent = `${term(group.vocab, v)}: ${formatNumber(c)}`;
      list.append(li);
    }
    if (kind === 'reports') {
      const note = document.createElement('p');
      note.className = 'hint';
      note.textContent = t('map.cell.multiReason');
      box.append(note);
    }
    popup.update();
  } catch (err) {
    loading.textContent = t('map.loadError', { detail: err.message });
  }
}

// ---------------------------------------------------------------- overlays

const STATUS_DASH = { proposed: '2 6', planned: '6 4', in_progress: '10 4', done: null, closed: '1 4', rejected: '1 4' };
const STATUS_COLOUR = { proposed: '#6b21a8', planned: '#1d4ed8', in_progress: '#b45309', done: '#166534', closed: '#4b5563', rejected: '#991b1b' };

async function refreshOverlays() {
  if (overlayAbort) overlayAbort.abort();
  overlayAbort = new AbortController();
  const signal = overlayAbort.signal;
  const datetime = datetimeParam();
  try {
    const jobs = [];
    if (state.overlays.places) jobs.push(listAll('places', { datetime }, { signal }).then((f) => { state.places = f; }));
    else state.places = [];
    if (state.overlays.measures) jobs.push(listAll('measures', { datetime }, { signal }).then((f) => { state.measures = f; }));
    else state.measures = [];
    if (state.overlays.areas && state.areas.length === 0) jobs.push(listAll('areas', {}, { signal }).then((f) => { state.areas = f; }));
    await Promise.all(jobs);
  } catch (e) {
    if (e.name === 'AbortError') return;
    announce(t('map.loadError', { detail: e.message }));
  }
  drawOverlays();
  renderTables();
}

function drawOverlays() {
  layers.areas.clearLayers();
  layers.places.clearLayers();
  layers.measures.clearLayers();
  if (state.overlays.areas) {
    L.geoJSON({ type: 'FeatureCollection', features: state.areas }, {
      style: { color: '#374151', weight: 1.5, fill: false, dashArray: '6 3' },
      onEachFeature: (f, l) => l.bindTooltip(textTip(f.properties.name), { sticky: true }),
    }).addTo(layers.areas);
  }
  if (state.overlays.places) {
    for (const f of state.places) {
      if (drawing && drawing.id === f.id) continue;
      const l = L.geoJSON(f, { style: { color: '#0f172a', weight: 3, fillColor: '#0f172a', fillOpacity: 0.06 } });
      l.bindTooltip(textTip(f.properties.name), { permanent: map.getZoom() >= 13, direction: 'center', className: 'place-label' });
      l.on('click', (ev) => { if (!drawing) openPlacePopup(f, ev.latlng); });
      l.addTo(layers.places);
    }
  }
  if (state.overlays.measures) {
    for (const f of state.measures) {
      const st = f.properties.status;
      const style = { color: STATUS_COLOUR[st] || '#111827', weight: 4, dashArray: STATUS_DASH[st], fillOpacity: 0.15 };
      const l = L.geoJSON(f, {
        style,
        pointToLayer: (_, ll) => L.circleMarker(ll, { ...style, radius: 7, weight: 3, fillColor: '#ffffff', fillOpacity: 1 }),
      });
      l.bindTooltip(textTip(`${f.properties.title} — ${term('measureStatus', st)}`));
      l.addTo(layers.measures);
    }
  }
}

function openPlacePopup(f, latlng) {
  const box = document.createElement('div');
  const h = document.createElement('h3');
  h.textContent = f.properties.name;
  h.tabIndex = -1;
  box.append(h);
  const add = (text) => {
    if (!text) return;
    const p = document.createElement('p');
    p.textContent = text;
    box.append(p);
  };
  add(f.properties.reason);
  add(t('map.place.active', { from: formatDate(f.properties.active_from), until: f.properties.active_until ? formatDate(f.properties.active_until) : t('map.place.ongoing') }));
  if (f.properties.target_visits_per_week != null) add(t('map.place.target', { n: f.properties.target_visits_per_week }));
  const edit = document.createElement('button');
  edit.type = 'button';
  edit.className = 'button small';
  edit.textContent = t('map.place.edit');
  edit.addEventListener('click', () => {
    map.closePopup();
    startEdit(f);
  });
  box.append(edit);
  L.popup({ maxWidth: 300 }).setLatLng(latlng || L.geoJSON(f).getBounds().getCenter()).setContent(box).openOn(map);
  h.focus();
}

// ---------------------------------------------------------------- tables

function renderTables() {
  const root = document.getElementById('table-list');
  if (root.hidden) return;
  root.replaceChildren();
  const slot = () => {
    const d = document.createElement('div');
    root.append(d);
    return d;
  };
  const hex = state.hex;
  if (hex && hex.features) {
    const columns = [
      { key: 'h3', label: t('table.h3') },
      { key: 'count', label: t('table.countOf', { unit: heatUnit(hex.kind) }), numeric: true },
    ];
    if (hex.kind === 'presence') {
      columns.push({ key: 'visits', label: t('table.visits'), numeric: true }, { key: 'minutes', label: t('table.minutes'), numeric: true });
    }
    columns.push({ key: 'lat', label: t('table.lat'), numeric: true, format: (v) => v.toFixed(5) }, { key: 'lon', label: t('table.lon'), numeric: true, format: (v) => v.toFixed(5) });
    const rows = hex.features.map((f) => {
      const [w, s, e, n] = bboxOf(f.geometry);
      return { ...f.properties, lat: (s + n) / 2, lon: (w + e) / 2, feature: f };
    });
    renderTable(slot(), {
      id: 'table-heat',
      caption: t('table.heatCaption', { kind: t(`kinds.${hex.kind}`), time: timeDescription(), res: hex.res }),
      columns,
      rows,
      filename: `trygg-${hex.kind}-h3-${hex.res}.csv`,
      rowAction: {
        header: t('table.actionHeader'),
        label: t('table.showOnMap'),
        ariaLabel: (r) => t('table.showCell', { h3: r.h3 }),
        run: (r) => {
          const ll = L.latLng(r.lat, r.lon);
          map.setView(ll, map.getZoom());
          openCellPopup(r.feature, ll);
          document.getElementById('map').scrollIntoView({ block: 'nearest' });
        },
      },
    });
  }
  if (state.overlays.places) {
    renderTable(slot(), {
      id: 'table-places',
      caption: t('kinds.places'),
      columns: [
        { key: 'name', label: t('map.draw.name') },
        { key: 'reason', label: t('map.draw.reason') },
        { key: 'active_from', label: t('map.draw.activeFrom'), format: formatDate },
        { key: 'active_until', label: t('map.draw.activeUntil'), format: formatDate },
        { key: 'target_visits_per_week', label: t('map.draw.target'), numeric: true },
      ],
      rows: state.places.map((f) => ({ ...f.properties, feature: f })),
      filename: 'trygg-places.csv',
      rowAction: {
        header: t('table.actionHeader'),
        label: t('table.showOnMap'),
        ariaLabel: (r) => t('table.showPlace', { name: r.name }),
        run: (r) => {
          const b = L.geoJSON(r.feature).getBounds();
          map.fitBounds(b, { maxZoom: 16 });
          openPlacePopup(r.feature, b.getCenter());
        },
      },
    });
  }
  if (state.overlays.measures) {
    renderTable(slot(), {
      id: 'table-measures',
      caption: t('kinds.measures'),
      columns: [
        { key: 'title', label: t('measures.title') },
        { key: 'kind', label: t('measures.kind'), format: (v) => term('measureKind', v), csv: (v) => v },
        { key: 'status', label: t('measures.status'), format: (v) => term('measureStatus', v), csv: (v) => v },
        { key: 'responsible_org', label: t('measures.org') },
        { key: 'changed', label: t('measures.lastChange'), format: formatDate },
      ],
      rows: state.measures.map((f) => ({ ...f.properties, changed: f.properties.status_history?.at(-1)?.at })),
      filename: 'trygg-measures.csv',
    });
  }
  if (state.overlays.areas) {
    renderTable(slot(), {
      id: 'table-areas',
      caption: t('kinds.areas'),
      columns: [
        { key: 'code', label: t('table.code') },
        { key: 'name', label: t('table.name') },
      ],
      rows: state.areas.map((f) => f.properties),
      filename: 'trygg-areas.csv',
    });
  }
}

// ---------------------------------------------------------------- controls

function renderFilters() {
  const root = document.getElementById('filter-groups');
  root.replaceChildren();
  const groups = FILTERS[state.heat] || [];
  if (groups.length === 0) {
    const p = document.createElement('p');
    p.className = 'hint';
    p.textContent = t('map.filters.noFilters');
    root.append(p);
    return;
  }
  for (const group of groups) {
    const key = `${state.heat}.${group.param}`;
    const off = state.off[key] || (state.off[key] = new Set());
    const fs = document.createElement('fieldset');
    fs.className = 'filter-group';
    const legend = document.createElement('legend');
    legend.textContent = t(`map.filters.${group.param}`);
    fs.append(legend);
    const bar = document.createElement('div');
    bar.className = 'button-row';
    for (const [label, all] of [[t('map.filters.all'), true], [t('map.filters.none'), false]]) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'button small secondary';
      b.textContent = label;
      b.setAttribute('aria-label', `${label}: ${t(`map.filters.${group.param}`)}`);
      b.addEventListener('click', () => {
        off.clear();
        if (!all) group.values.forEach((v) => off.add(v));
        for (const cb of fs.querySelectorAll('input')) cb.checked = all;
        refreshHeat();
      });
      bar.append(b);
    }
    fs.append(bar);
    const grid = document.createElement('div');
    grid.className = 'checks';
    for (const v of group.values) {
      const id = `f-${state.heat}-${group.param}-${v}`;
      const wrap = document.createElement('div');
      wrap.className = 'choice';
      const cb = document.createElement('input');
      cb.type = 'checkbox';
      cb.id = id;
      cb.value = v;
      cb.checked = !off.has(v);
      cb.addEventListener('change', () => {
        if (cb.checked) off.delete(v); else off.add(v);
        refreshHeat();
      });
      const label = document.createElement('label');
      label.htmlFor = id;
      label.textContent = term(group.vocab, v);
      wrap.append(cb, label);
      grid.append(wrap);
    }
    fs.append(grid);
    root.append(fs);
  }
}

function syncTimeControls() {
  const slider = document.getElementById('month-slider');
  const out = document.getElementById('month-output');
  const label = monthLabel(MONTHS[state.time.month]);
  out.textContent = label;
  slider.setAttribute('aria-valuetext', label);
  document.getElementById(`time-${state.time.mode}`).checked = true;
}

function wireControls() {
  for (const r of document.querySelectorAll('input[name="heat"]')) {
    r.addEventListener('change', () => {
      state.heat = r.value;
      renderFilters();
      refreshHeat();
    });
  }
  for (const [id, key] of [['show-places', 'places'], ['show-measures', 'measures'], ['show-areas', 'areas']]) {
    const cb = document.getElementById(id);
    cb.addEventListener('change', () => {
      state.overlays[key] = cb.checked;
      refreshOverlays();
    });
  }
  const onTime = () => {
    syncTimeControls();
    refreshHeat();
    refreshOverlays();
  };
  for (const r of document.querySelectorAll('input[name="time-mode"]')) {
    r.addEventListener('change', () => {
      state.time.mode = r.value;
      onTime();
    });
  }
  const slider = document.getElementById('month-slider');
  let timer = null;
  slider.addEventListener('input', () => {
    state.time.month = Number(slider.value);
    state.time.mode = 'month';
    syncTimeControls();
    // Dragging emits many events; ask the server once the hand rests.
    clearTimeout(timer);
    timer = setTimeout(onTime, 200);
  });
  for (const id of ['range-from', 'range-to']) {
    document.getElementById(id).addEventListener('change', () => {
      state.time.from = document.getElementById('range-from').value;
      state.time.to = document.getElementById('range-to').value;
      state.time.mode = 'range';
      onTime();
    });
  }
  document.getElementById('controls').addEventListener('submit', (e) => e.preventDefault());
  const toggle = document.getElementById('tables-toggle');
  toggle.addEventListener('click', () => {
    const list = document.getElementById('table-list');
    list.hidden = !list.hidden;
    toggle.setAttribute('aria-expanded', String(!list.hidden));
    toggle.textContent = t(list.hidden ? 'table.show' : 'table.hide');
    renderTables();
  });
  // On a phone the panel starts folded so the map is in view.
  if (window.matchMedia('(max-width: 899px)').matches) {
    for (const d of document.querySelectorAll('details[data-open-wide]')) d.open = false;
  }
}

// ---------------------------------------------------------------- drawing

let drawing = null;

function isoDate(d) {
  const z = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${z(d.getMonth() + 1)}-${z(d.getDate())}`;
}

function startDraw() {
  beginDrawing({ id: null, version: null, vertices: [], props: {} });
  document.getElementById('place-form-heading').textContent = t('map.draw.newHeading');
  document.getElementById('place-from').value = isoDate(new Date());
  document.getElementById('place-name').value = '';
  document.getElementById('place-reason').value = '';
  document.getElementById('place-until').value = '';
  document.getElementById('place-target').value = '';
  document.getElementById('place-reshape').hidden = true;
}

function startEdit(f) {
  const ring = f.geometry.coordinates[0].slice(0, -1).map(([lon, lat]) => L.latLng(lat, lon));
  beginDrawing({ id: f.id, version: f.properties.version, vertices: ring, props: f.properties });
  document.getElementById('draw-section').open = true;
  document.getElementById('place-form-heading').textContent = t('map.draw.editHeading', { name: f.properties.name });
  document.getElementById('place-name').value = f.properties.name || '';
  document.getElementById('place-reason').value = f.properties.reason || '';
  document.getElementById('place-from').value = f.properties.active_from ? isoDate(new Date(f.properties.active_from)) : '';
  document.getElementById('place-until').value = f.properties.active_until ? isoDate(new Date(f.properties.active_until)) : '';
  document.getElementById('place-target').value = f.properties.target_visits_per_week ?? '';
  document.getElementById('place-reshape').hidden = false;
  drawOverlays();
  document.getElementById('place-name').focus();
}

function beginDrawing(d) {
  endDrawing();
  map.closePopup();
  drawing = { ...d, handles: [] };
  document.getElementById('draw-tools').hidden = false;
  document.getElementById('place-form').hidden = false;
  document.getElementById('draw-start').hidden = true;
  document.getElementById('place-error').textContent = '';
  map.doubleClickZoom.disable();
  document.getElementById('map').classList.add('drawing');
  redrawSketch();
}

function endDrawing() {
  if (!drawing) return;
  layers.sketch.clearLayers();
  drawing = null;
  map.doubleClickZoom.enable();
  document.getElementById('map').classList.remove('drawing');
  document.getElementById('draw-tools').hidden = true;
  document.getElementById('place-form').hidden = true;
  document.getElementById('draw-start').hidden = false;
  drawOverlays();
}

function redrawSketch() {
  layers.sketch.clearLayers();
  const v = drawing.vertices;
  if (v.length >= 2) {
    L.polygon(v, { color: '#b91c1c', weight: 3, dashArray: '8 4', fillOpacity: 0.1, interactive: false }).addTo(layers.sketch);
  }
  v.forEach((ll, i) => {
    const m = L.marker(ll, {
      draggable: true,
      keyboard: false,
      title: t('map.draw.vertex', { n: i + 1 }),
      icon: L.divIcon({ className: 'vertex-handle', iconSize: [16, 16], iconAnchor: [8, 8] }),
    });
    m.on('drag', () => {
      drawing.vertices[i] = m.getLatLng();
      const poly = layers.sketch.getLayers().find((l) => l instanceof L.Polygon);
      if (poly) poly.setLatLngs(drawing.vertices);
    });
    m.on('dragend', redrawSketch);
    m.addTo(layers.sketch);
  });
  document.getElementById('draw-count').textContent = t('map.draw.count', { n: v.length });
}

function addVertex(ll) {
  if (!drawing) return;
  drawing.vertices.push(ll);
  redrawSketch();
}

/** Exterior ring, closed and counter-clockwise as RFC 7946 asks. */
function ringOf(vertices) {
  const ring = vertices.map((ll) => [Number(ll.lng.toFixed(6)), Number(ll.lat.toFixed(6))]);
  let area = 0;
  for (let i = 0; i < ring.length; i += 1) {
    const [x1, y1] = ring[i];
    const [x2, y2] = ring[(i + 1) % ring.length];
    area += x1 * y2 - x2 * y1;
  }
  if (area < 0) ring.reverse();
  ring.push([...ring[0]]);
  return ring;
}

const FIELD_INPUT = {
  'properties.name': 'place-name',
  'properties.reason': 'place-reason',
  'properties.active_from': 'place-from',
  'properties.active_until': 'place-until',
  'properties.target_visits_per_week': 'place-target',
};

async function savePlace(ev) {
  ev.preventDefault();
  const err = document.getElementById('place-error');
  err.textContent = '';
  for (const id of Object.values(FIELD_INPUT)) document.getElementById(id).removeAttribute('aria-invalid');
  const name = document.getElementById('place-name').value.trim();
  const from = document.getElementById('place-from').value;
  const fail = (msg, inputId) => {
    err.textContent = msg;
    if (inputId) {
      const input = document.getElementById(inputId);
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  };
  if (drawing.vertices.length < 3) return fail(t('map.draw.needThree'));
  if (!name) return fail(t('form.missing', { field: t('map.draw.name') }), 'place-name');
  if (!from) return fail(t('form.missing', { field: t('map.draw.activeFrom') }), 'place-from');
  const until = document.getElementById('place-until').value;
  const target = document.getElementById('place-target').value;
  const reason = document.getElementById('place-reason').value.trim();
  const properties = { ...drawing.props, name, active_from: new Date(`${from}T00:00:00`).toISOString() };
  if (reason) properties.reason = reason; else delete properties.reason;
  if (until) properties.active_until = new Date(`${until}T23:59:59`).toISOString(); else delete properties.active_until;
  if (target !== '') properties.target_visits_per_week = Number(target); else delete properties.target_visits_per_week;
  const feature = { type: 'Feature', geometry: { type: 'Polygon', coordinates: [ringOf(drawing.vertices)] }, properties };
  try {
    if (drawing.id) await send('PUT', `/api/v1/places/${drawing.id}`, feature, drawing.version);
    else await send('POST', '/api/v1/places', feature);
  } catch (e) {
    const msg = e instanceof ApiError && e.status === 412 ? t('map.draw.conflict') : t('form.serverError', { detail: e.message });
    return fail(msg, e instanceof ApiError ? FIELD_INPUT[e.field] : null);
  }
  announce(t('map.draw.saved', { name }));
  endDrawing();
  document.getElementById('draw-start').focus();
  state.overlays.places = true;
  document.getElementById('show-places').checked = true;
  refreshOverlays();
  return undefined;
}

function wireDrawing() {
  document.getElementById('draw-start').addEventListener('click', startDraw);
  document.getElementById('draw-center').addEventListener('click', () => addVertex(map.getCenter()));
  document.getElementById('draw-undo').addEventListener('click', () => {
    if (!drawing) return;
    drawing.vertices.pop();
    redrawSketch();
  });
  document.getElementById('place-reshape').addEventListener('click', () => {
    if (!drawing) return;
    drawing.vertices = [];
    redrawSketch();
  });
  document.getElementById('place-cancel').addEventListener('click', () => {
    endDrawing();
    document.getElementById('draw-start').focus();
  });
  document.getElementById('place-form').addEventListener('submit', savePlace);
  map.on('click', (e) => {
    if (drawing) addVertex(e.latlng);
  });
}

// ---------------------------------------------------------------- start

async function main() {
  const { user } = await startPage();
  if (!user) return;
  // Field staff read the map but do not designate priority places.
  if (user.role === 'field') document.getElementById('draw-section').hidden = true;
  config = await loadConfig();
  map = createMap(document.getElementById('map'), config);
  const base = await addDistrictBase(map, config);
  if (base) state.areas = base.areas;
  layers.areas = L.layerGroup().addTo(map);
  layers.heat = L.layerGroup().addTo(map);
  // Tile canvases go above the district base, which fills the overlay
  // pane, and below labels and popups; a click passes through them to the
  // map, which finds the hexagon under it.
  const tilePane = map.createPane('heatTiles');
  tilePane.style.zIndex = '450';
  tilePane.style.pointerEvents = 'none';
  layers.labels = L.layerGroup().addTo(map);
  layers.measures = L.layerGroup().addTo(map);
  layers.places = L.layerGroup().addTo(map);
  layers.sketch = L.layerGroup().addTo(map);
  wireControls();
  wireDrawing();
  map.on('click', (e) => {
    // A place or measure answers its own click; while drawing, a click is a corner.
    if (drawing || e.originalEvent?.target?.classList?.contains('leaflet-interactive') || !state.hex?.tiled || !layers.tiles) return;
    const f = layers.tiles.cellAt(e.latlng);
    if (f) openCellPopup(f, e.latlng);
  });
  renderFilters();
  syncTimeControls();
  let moveTimer = null;
  map.on('moveend', () => {
    clearTimeout(moveTimer);
    moveTimer = setTimeout(() => {
      refreshHeat();
      drawOverlays();
    }, 150);
  });
  await Promise.all([refreshHeat(), refreshOverlays()]);
  markReady();
}

main().catch((e) => {
  announce(t('map.loadError', { detail: e.message }));
  markReady();
});
