// The planner's analysis page: Getis-Ord Gi* hot spots and emerging hot
// spots computed by the server, per-district figures, patrol dosage per
// priority place with the suggested patrol list, links to each place's
// before/after evaluation, a chart of incidents against a year earlier,
// and priority places made from chosen hexagons.
import { startPage, markReady, announce } from './shell.js';
import { t, term, formatNumber, formatDateTime } from './i18n.js';
import { L, createMap, loadConfig, addDistrictBase, textEl, textTip } from './mapbase.js';
import { getJson, listAll, postJson, ApiError } from './api.js';
import { renderTable } from './table.js';
import { incidentChart } from './chart.js';
import { ensurePatterns, swatchSvg } from './patterns.js';
import { bboxOf } from './geo.js';
import { currentMonth, isoDate, lastMonth, monthName, recentMonths } from './period.js';

// Gi* bins, hot to cold: fill (colour or pattern) and the text that says
// the same thing, so the map is never read by colour alone.
const BINS = [3, 2, 1, 0, -1, -2, -3];
const BIN_FILL = {
  3: 'url(#pat-hot-3)',
  2: 'url(#pat-hot-2)',
  1: '#fddbc7',
  0: '#f7f7f7',
  '-1': '#d1e5f0',
  '-2': 'url(#pat-cold-2)',
  '-3': 'url(#pat-cold-3)',
};
const binSign = (b) => (b > 0 ? `+${b}` : b < 0 ? `−${-b}` : '0');

// Emerging hot-spot patterns: a colour each, and a short code on the map
// and in the legend.
const EMERGING = {
  new_hot_spot: '#d73027',
  consecutive_hot_spot: '#f46d43',
  intensifying_hot_spot: '#a50026',
  persistent_hot_spot: '#fdae61',
  diminishing_hot_spot: '#fee090',
  sporadic_hot_spot: '#f1b6da',
  oscillating_hot_spot: '#c51b7d',
  historical_hot_spot: '#bdbdbd',
  new_cold_spot: '#4575b4',
  consecutive_cold_spot: '#74add1',
  intensifying_cold_spot: '#313695',
  persistent_cold_spot: '#abd9e9',
  diminishing_cold_spot: '#e0f3f8',
  sporadic_cold_spot: '#b2abd2',
  oscillating_cold_spot: '#5e3c99',
  historical_cold_spot: '#d9d9d9',
};
const DARK_FILLS = new Set(['#d73027', '#a50026', '#c51b7d', '#4575b4', '#313695', '#5e3c99']);

const EDGE_M = { 9: 174, 10: 66 };

const state = {
  layer: 'hotspots',
  res: 9,
  fdr: true,
  from: '',
  to: '',
  months: 12,
  weights: '',
  month: lastMonth(),
  data: null,
  selected: new Map(),
};

let map;
const layers = {};
let layerAbort = null;

// ---------------------------------------------------------------- queries

function datetimeParam() {
  const a = state.from ? new Date(`${state.from}T00:00:00`).toISOString() : '..';
  const b = state.to ? new Date(`${state.to}T23:59:59.999`).toISOString() : '..';
  return `${a}/${b}`;
}

function layerQuery() {
  const p = new URLSearchParams({ resolution: String(state.res) });
  if (state.layer === 'hotspots') p.set('datetime', datetimeParam());
  else p.set('months', String(state.months));
  if (state.weights.trim()) p.set('weights', state.weights.trim());
  return `/api/v1/analysis/${state.layer}?${p}`;
}

function windowText() {
  if (state.layer === 'emerging') {
    const periods = state.data?.periods || [];
    return periods.length ? t('analysis.window.monthsText', { n: periods.length, from: periods[0], to: periods.at(-1) }) : '';
  }
  return t('analysis.window.rangeText', { from: state.from || '…', to: state.to || '…' });
}

function weightsText() {
  return state.weights.trim() ? t('analysis.weights.text', { weights: state.weights.trim() }) : t('analysis.weights.none');
}

function binOf(p) {
  return state.fdr ? p.bin_fdr : p.bin;
}

function binLabel(b) {
  return `${binSign(b)} ${t(`analysis.bins.${b}`)}`;
}

function patternLabel(p) {
  return `${t(`analysis.patternsShort.${p}`)} ${t(`analysis.patterns.${p}`)}`;
}

// ---------------------------------------------------------------- the layer

async function loadLayer({ fit = false } = {}) {
  if (layerAbort) layerAbort.abort();
  layerAbort = new AbortController();
  const legend = document.getElementById('legend');
  legend.setAttribute('aria-busy', 'true');
  const weightsInput = document.getElementById('weights');
  const weightsError = document.getElementById('weights-error');
  weightsInput.removeAttribute('aria-invalid');
  weightsError.textContent = '';
  const query = layerQuery();
  try {
    const fc = await getJson(query, { signal: layerAbort.signal });
    state.data = { ...fc, layer: state.layer, res: state.res, query };
  } catch (e) {
    if (e.name === 'AbortError') return;
    if (e instanceof ApiError && e.field && e.field.startsWith('weights')) {
      weightsInput.setAttribute('aria-invalid', 'true');
      weightsError.textContent = t('analysis.weights.error', { detail: e.message });
    }
    state.data = { features: [], layer: state.layer, res: state.res, query, error: e.message };
    announce(t('map.loadError', { detail: e.message }));
  } finally {
    legend.removeAttribute('aria-busy');
  }
  // Selected cells belong to one resolution; a new one starts afresh.
  for (const [h3, sel] of state.selected) if (sel.res !== state.res) state.selected.delete(h3);
  draw();
  if (fit && state.data.features.length) {
    map.fitBounds(L.geoJSON({ type: 'FeatureCollection', features: state.data.features }).getBounds().pad(0.05), { maxZoom: 13 });
  }
  renderLegend();
  renderCellsTable();
  renderSelection();
}

function styleOf(f) {
  const p = f.properties;
  const selected = state.selected.has(f.id);
  let fill;
  let opacity = 0.85;
  if (state.data.layer === 'hotspots') {
    const b = binOf(p);
    fill = BIN_FILL[b];
    if (b === 0) opacity = 0.55;
  } else {
    fill = EMERGING[p.pattern] || '#ffffff';
  }
  return {
    color: selected ? '#000000' : '#374151',
    weight: selected ? 3.5 : 0.6,
    dashArray: selected ? '6 3' : null,
    fillColor: fill,
    fillOpacity: opacity,
  };
}

function labelOf(f) {
  const p = f.properties;
  if (state.data.layer === 'hotspots') {
    const b = binOf(p);
    return b === 0 ? '' : binSign(b);
  }
  return t(`analysis.patternsShort.${p.pattern}`);
}

function draw() {
  layers.cells.clearLayers();
  for (const f of state.data.features) {
    const poly = L.geoJSON(f, { style: () => styleOf(f), renderer: layers.renderer, pane: 'hotspots' });
    poly.bindTooltip(textTip(tooltipOf(f)), { sticky: true });
    poly.on('click', () => toggleCell(f));
    poly.addTo(layers.cells);
    f.layer = poly;
  }
  drawLabels();
}

/** The bin or pattern written on each hexagon in view, once they are big
 * enough to hold it. */
function drawLabels() {
  layers.labels.clearLayers();
  const { features, res } = state.data;
  const metresPerPixel = (40075016 * Math.cos((map.getCenter().lat * Math.PI) / 180)) / (256 * 2 ** map.getZoom());
  if (EDGE_M[res] / metresPerPixel < 14) return;
  const bounds = map.getBounds().pad(0.1);
  for (const f of features) {
    const text = labelOf(f);
    if (!text) continue;
    const c = centreOf(f);
    if (!bounds.contains(c)) continue;
    const dark = state.data.layer === 'hotspots' ? Math.abs(binOf(f.properties)) >= 2 : DARK_FILLS.has(EMERGING[f.properties.pattern]);
    L.marker(c, {
      interactive: false,
      keyboard: false,
      pane: 'hotspotLabels',
      icon: L.divIcon({ className: `hex-label bin-label${dark ? ' on-dark' : ''}`, html: textEl(text), iconSize: [40, 16], iconAnchor: [20, 8] }),
    }).addTo(layers.labels);
  }
}

function tooltipOf(f) {
  const p = f.properties;
  if (state.data.layer === 'hotspots') {
    return t('analysis.tooltip.hotspot', { bin: binLabel(binOf(p)), z: formatNumber(p.z, 2), value: formatNumber(p.value, 1) });
  }
  return t('analysis.tooltip.emerging', { pattern: patternLabel(p.pattern), hot: p.hot_periods, cold: p.cold_periods });
}

function restyle(f) {
  if (f.layer) f.layer.setStyle(styleOf(f));
}

function renderLegend() {
  const heading = document.getElementById('legend-heading');
  const meta = document.getElementById('legend-meta');
  const list = document.getElementById('legend-classes');
  const total = document.getElementById('legend-total');
  const d = state.data;
  list.replaceChildren();
  total.dataset.query = d.query;
  total.dataset.count = String(d.features.length);
  total.dataset.layer = d.layer;
  meta.textContent = t('analysis.legend.meta', { res: d.res, edge: EDGE_M[d.res], time: windowText(), weights: weightsText() });
  if (d.layer === 'hotspots') {
    heading.textContent = t(state.fdr ? 'analysis.legend.hotspotsFdr' : 'analysis.legend.hotspots');
    const counts = new Map(BINS.map((b) => [b, 0]));
    for (const f of d.features) counts.set(binOf(f.properties), counts.get(binOf(f.properties)) + 1);
    for (const b of BINS) {
      const li = document.createElement('li');
      li.dataset.bin = String(b);
      li.dataset.count = String(counts.get(b));
      const label = document.createElement('span');
      label.textContent = t('analysis.legend.binCount', { bin: binLabel(b), n: formatNumber(counts.get(b)) });
      li.append(swatchSvg(BIN_FILL[b]), label);
      list.append(li);
    }
  } else {
    heading.textContent = t('analysis.legend.emerging');
    const counts = new Map();
    for (const f of d.features) counts.set(f.properties.pattern, (counts.get(f.properties.pattern) || 0) + 1);
    for (const [pattern, colour] of Object.entries(EMERGING)) {
      if (!counts.has(pattern)) continue;
      const li = document.createElement('li');
      li.dataset.pattern = pattern;
      const label = document.createElement('span');
      label.textContent = t('analysis.legend.binCount', { bin: patternLabel(pattern), n: formatNumber(counts.get(pattern)) });
      li.append(swatchSvg(colour), label);
      list.append(li);
    }
  }
  if (d.error) total.textContent = t('map.loadError', { detail: d.error });
  else total.textContent = t('analysis.legend.total', { n: formatNumber(d.features.length) });
}

function centreOf(f) {
  const [w, s, e, n] = bboxOf(f.geometry);
  return L.latLng((s + n) / 2, (w + e) / 2);
}

function renderCellsTable() {
  const d = state.data;
  const root = document.getElementById('cells-table');
  const isHot = d.layer === 'hotspots';
  const rows = d.features
    .filter((f) => (isHot ? binOf(f.properties) !== 0 : true))
    .map((f) => ({
      ...f.properties,
      id: f.id,
      bin: isHot ? binOf(f.properties) : null,
      trend_z: f.properties.trend?.z,
      feature: f,
    }))
    .sort((a, b) => (isHot ? b.z - a.z : (b.hot_periods || 0) - (a.hot_periods || 0)));
  const columns = isHot
    ? [
      { key: 'h3', label: t('table.h3') },
      { key: 'bin', label: t('analysis.cells.bin'), format: (v) => binLabel(v), csv: (v) => v },
      { key: 'value', label: t('analysis.cells.value'), numeric: true },
      { key: 'z', label: t('analysis.cells.z'), numeric: true, format: (v) => formatNumber(v, 2) },
      { key: state.fdr ? 'p_fdr' : 'p', label: t(state.fdr ? 'analysis.cells.pFdr' : 'analysis.cells.p'), numeric: true, format: (v) => formatNumber(v, 4) },
    ]
    : [
      { key: 'h3', label: t('table.h3') },
      { key: 'pattern', label: t('analysis.cells.pattern'), format: (v) => patternLabel(v), csv: (v) => v },
      { key: 'hot_periods', label: t('analysis.cells.hotPeriods'), numeric: true },
      { key: 'cold_periods', label: t('analysis.cells.coldPeriods'), numeric: true },
      { key: 'trend_z', label: t('analysis.cells.trendZ'), numeric: true, format: (v) => (v == null ? '' : formatNumber(v, 2)) },
    ];
  renderTable(root, {
    id: 'table-cells',
    caption: t(isHot ? 'analysis.cells.captionHot' : 'analysis.cells.captionEmerging', { res: d.res, time: windowText() }),
    columns,
    rows,
    filename: `trygg-${d.layer}-h3-${d.res}.csv`,
    rowAction: {
      header: t('analysis.select.column'),
      // One name throughout; aria-pressed (and its look) says whether it is chosen.
      label: t('analysis.select.add'),
      pressed: (r) => state.selected.has(r.id),
      ariaLabel: (r) => t('analysis.select.cell', { h3: r.h3 }),
      run: (r) => {
        toggleCell(r.feature);
        map.panTo(centreOf(r.feature));
      },
    },
  });
}

// ---------------------------------------------------------------- selection

function toggleCell(f) {
  if (state.selected.has(f.id)) state.selected.delete(f.id);
  else state.selected.set(f.id, { res: state.data.res });
  restyle(f);
  renderSelection();
  document.getElementById('select-section').open = true;
  announce(t(state.selected.has(f.id) ? 'analysis.select.added' : 'analysis.select.removed', { h3: f.id, n: state.selected.size }));
}

function renderSelection() {
  const n = state.selected.size;
  const count = document.getElementById('select-count');
  count.textContent = t('analysis.select.count', { n: formatNumber(n) });
  count.dataset.count = String(n);
  document.getElementById('cells-save').disabled = n === 0;
}

async function saveFromCells(ev) {
  ev.preventDefault();
  const err = document.getElementById('cells-error');
  err.textContent = '';
  const inputs = { name: 'cells-name', reason: 'cells-reason', active_from: 'cells-from' };
  for (const id of Object.values(inputs)) document.getElementById(id).removeAttribute('aria-invalid');
  const fail = (msg, id) => {
    err.textContent = msg;
    if (id) {
      const input = document.getElementById(id);
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  };
  const name = document.getElementById('cells-name').value.trim();
  const reason = document.getElementById('cells-reason').value.trim();
  const from = document.getElementById('cells-from').value;
  if (state.selected.size === 0) return fail(t('analysis.select.none'));
  if (!name) return fail(t('form.missing', { field: t('map.draw.name') }), 'cells-name');
  if (!from) return fail(t('form.missing', { field: t('map.draw.activeFrom') }), 'cells-from');
  const properties = { name, active_from: new Date(`${from}T00:00:00`).toISOString() };
  if (reason) properties.reason = reason;
  let created;
  try {
    created = await postJson('/api/v1/places/from-cells', { cells: [...state.selected.keys()], properties });
  } catch (e) {
    const field = e instanceof ApiError && e.field ? e.field.replace(/^properties\./, '') : null;
    return fail(t('form.serverError', { detail: e.message }), inputs[field] || null);
  }
  announce(t('analysis.select.saved', { name, n: state.selected.size }));
  const cleared = [...state.selected.keys()];
  state.selected.clear();
  for (const f of state.data.features) if (cleared.includes(f.id)) restyle(f);
  renderSelection();
  renderCellsTable();
  document.getElementById('cells-name').value = '';
  document.getElementById('cells-reason').value = '';
  const saved = document.getElementById('cells-saved') || document.createElement('p');
  saved.id = 'cells-saved';
  saved.className = 'saved-note';
  saved.dataset.placeId = created?.id || '';
  saved.textContent = t('analysis.select.saved', { name, n: cleared.length });
  document.getElementById('cells-form').append(saved);
  await Promise.all([loadPlaces(), loadMonth()]);
  return undefined;
}

// ---------------------------------------------------------------- places

async function loadPlaces() {
  try {
    const places = await listAll('places');
    layers.places.clearLayers();
    L.geoJSON({ type: 'FeatureCollection', features: places }, {
      pane: 'placesPane',
      style: { color: '#0f172a', weight: 2.5, fill: false },
      interactive: false,
    }).addTo(layers.places);
  } catch (e) {
    announce(t('map.loadError', { detail: e.message }));
  }
}

// ---------------------------------------------------------------- districts

async function loadPicture() {
  const p = new URLSearchParams({ resolution: String(state.res), datetime: datetimeParam() });
  if (state.weights.trim()) p.set('weights', state.weights.trim());
  const root = document.getElementById('districts-table');
  document.getElementById('districts-meta').textContent = t('analysis.districts.meta', { res: state.res, time: t('analysis.window.rangeText', { from: state.from || '…', to: state.to || '…' }), weights: weightsText() });
  try {
    const fc = await getJson(`/api/v1/analysis/picture?${p}`);
    const rows = (fc.districts || [])
      .map((d) => ({ ...d, presence_hours: d.presence_minutes / 60 }))
      .sort((a, b) => b.incidents_weighted - a.incidents_weighted);
    root.dataset.query = `/api/v1/analysis/picture?${p}`;
    renderTable(root, {
      id: 'table-districts',
      caption: t('analysis.districts.caption'),
      columns: [
        { key: 'district', label: t('analysis.districts.district') },
        { key: 'incidents', label: t('kinds.incidents'), numeric: true },
        { key: 'incidents_weighted', label: t('analysis.districts.weighted'), numeric: true },
        { key: 'reports', label: t('kinds.reports'), numeric: true },
        { key: 'presence_hours', label: t('analysis.districts.presenceHours'), numeric: true, format: (v) => formatNumber(v, 1) },
        { key: 'measures', label: t('kinds.measures'), numeric: true },
      ],
      rows,
      filename: 'trygg-districts.csv',
    });
  } catch (e) {
    root.textContent = t('map.loadError', { detail: e.message });
  }
}

// ---------------------------------------------------------------- month

const pct = (v) => (v == null ? '–' : `${formatNumber(v * 100, 0)} %`);

async function loadMonth() {
  const month = state.month;
  const label = monthName(month);
  const [dosage, followup] = await Promise.all([
    getJson(`/api/v1/analysis/dosage?period=${month}`).catch((e) => ({ error: e.message })),
    getJson(`/api/v1/followup/${month}`).catch((e) => ({ error: e.message })),
  ]);
  if (month !== state.month) return;
  const chart = document.getElementById('incident-chart');
  if (followup.error) chart.textContent = t('map.loadError', { detail: followup.error });
  else {
    incidentChart(chart, followup.figures.incidents, {
      id: 'incident-chart-svg',
      periodLabel: label,
      vocab: (c) => term('incidentCategory', c),
    });
  }
  const table = document.getElementById('dosage-table');
  const patrol = document.getElementById('patrol-list');
  const links = document.getElementById('evaluation-links');
  if (dosage.error) {
    table.textContent = t('map.loadError', { detail: dosage.error });
    patrol.replaceChildren();
    links.replaceChildren();
    return;
  }
  renderTable(table, {
    id: 'table-dosage',
    caption: t('analysis.dosage.caption', { month: label }),
    columns: [
      { key: 'name', label: t('analysis.dosage.place') },
      { key: 'visits', label: t('analysis.dosage.visits'), numeric: true },
      { key: 'target_visits', label: t('analysis.dosage.target'), numeric: true, format: (v) => (v == null ? '–' : formatNumber(v, 1)) },
      { key: 'target_share', label: t('analysis.dosage.targetShare'), numeric: true, format: pct },
      { key: 'total_minutes', label: t('analysis.dosage.minutes'), numeric: true, format: (v) => formatNumber(Math.round(v) || 0, 0) },
      { key: 'median_minutes', label: t('analysis.dosage.median'), numeric: true, format: (v) => (v == null ? '–' : formatNumber(v, 1)) },
      { key: 'koper_share', label: t('analysis.dosage.koper'), numeric: true, format: pct },
      { key: 'longest_gap_h', label: t('analysis.dosage.gap'), numeric: true, format: (v) => (v == null ? '–' : formatNumber(v, 0)) },
    ],
    rows: dosage.places,
    filename: `trygg-dosage-${month}.csv`,
  });
  patrol.replaceChildren(...dosage.patrol_list.map((p) => {
    const li = document.createElement('li');
    const name = document.createElement('strong');
    name.textContent = p.name;
    const since = p.hours_since_presence == null
      ? t('analysis.patrol.never')
      : t('analysis.patrol.since', { h: formatNumber(p.hours_since_presence, 0), at: formatDateTime(new Date(p.last_presence_ms).toISOString()) });
    li.append(name, document.createTextNode(` — ${since}; ${t('analysis.patrol.hot', { n: formatNumber(p.hot_level, 0) })}`));
    li.dataset.placeId = p.place_id;
    return li;
  }));
  if (!dosage.patrol_list.length) {
    const li = document.createElement('li');
    li.textContent = t('analysis.patrol.empty');
    patrol.append(li);
  }
  links.replaceChildren(...dosage.places.map((p) => {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = `/api/v1/analysis/evaluation?place=${encodeURIComponent(p.place_id)}&format=html`;
    a.textContent = t('analysis.evaluation.link', { name: p.name });
    li.append(a);
    return li;
  }));
}

function fillMonths() {
  const select = document.getElementById('month');
  const now = currentMonth();
  select.replaceChildren(...recentMonths(24).map((m) => {
    const o = document.createElement('option');
    o.value = m;
    o.textContent = m === now ? t('analysis.month.ongoing', { month: monthName(m) }) : monthName(m);
    return o;
  }));
  select.value = state.month;
}

// ---------------------------------------------------------------- controls

function readControls() {
  state.layer = document.querySelector('input[name="layer"]:checked').value;
  state.res = Number(document.querySelector('input[name="resolution"]:checked').value);
  state.fdr = document.getElementById('use-fdr').checked;
  state.from = document.getElementById('window-from').value;
  state.to = document.getElementById('window-to').value;
  state.months = Number(document.getElementById('emerging-months').value);
  state.weights = document.getElementById('weights').value;
  document.getElementById('window-hotspots').hidden = state.layer !== 'hotspots';
  document.getElementById('window-emerging').hidden = state.layer !== 'emerging';
}

function wireControls() {
  const form = document.getElementById('analysis-controls');
  const apply = () => {
    readControls();
    loadLayer();
    loadPicture();
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    apply();
  });
  for (const r of form.querySelectorAll('input[type="radio"], select')) r.addEventListener('change', apply);
  for (const id of ['window-from', 'window-to']) document.getElementById(id).addEventListener('change', apply);
  // The correction changes only how the same answer is drawn.
  document.getElementById('use-fdr').addEventListener('change', () => {
    state.fdr = document.getElementById('use-fdr').checked;
    draw();
    renderLegend();
    renderCellsTable();
  });
  document.getElementById('month').addEventListener('change', (e) => {
    state.month = e.target.value;
    loadMonth();
  });
  document.getElementById('month-form').addEventListener('submit', (e) => e.preventDefault());
  document.getElementById('select-clear').addEventListener('click', () => {
    const was = [...state.selected.keys()];
    state.selected.clear();
    for (const f of state.data?.features || []) if (was.includes(f.id)) restyle(f);
    renderSelection();
    renderCellsTable();
    announce(t('analysis.select.cleared'));
  });
  document.getElementById('cells-form').addEventListener('submit', saveFromCells);
  if (window.matchMedia('(max-width: 899px)').matches) {
    for (const d of document.querySelectorAll('details[data-open-wide]')) d.open = false;
  }
}

// ---------------------------------------------------------------- start

async function main() {
  const { user } = await startPage();
  if (!user) return;
  ensurePatterns();
  // Field staff read the analysis but do not designate priority places.
  if (user.role === 'field') document.getElementById('select-section').hidden = true;
  const now = new Date();
  document.getElementById('window-to').value = isoDate(now);
  document.getElementById('window-from').value = isoDate(new Date(now.getFullYear() - 1, now.getMonth(), now.getDate() + 1));
  document.getElementById('cells-from').value = isoDate(now);
  fillMonths();
  readControls();
  const config = await loadConfig();
  map = createMap(document.getElementById('map'), config);
  await addDistrictBase(map, config);
  map.createPane('hotspots').style.zIndex = '410';
  map.createPane('placesPane').style.zIndex = '420';
  map.createPane('hotspotLabels').style.zIndex = '430';
  map.getPane('placesPane').style.pointerEvents = 'none';
  map.getPane('hotspotLabels').style.pointerEvents = 'none';
  layers.renderer = L.svg({ pane: 'hotspots' });
  layers.cells = L.layerGroup().addTo(map);
  layers.places = L.layerGroup().addTo(map);
  layers.labels = L.layerGroup().addTo(map);
  wireControls();
  let moveTimer = null;
  map.on('zoomend moveend', () => {
    clearTimeout(moveTimer);
    moveTimer = setTimeout(() => { if (state.data) drawLabels(); }, 150);
  });
  await Promise.all([loadLayer({ fit: true }), loadPicture(), loadMonth(), loadPlaces()]);
  markReady();
}

main().catch((e) => {
  announce(t('map.loadError', { detail: e.message }));
  markReady();
});
