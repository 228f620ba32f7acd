// The public embed: only what /api/v1/public serves (aggregates of closed
// months, small counts suppressed by the server), preset by query string:
//   /embed?area=<district code or name>&lang=sv|en&layer=incidents&period=2026-10
import { startPage, markReady, announce } from './shell.js';
import { t, term, formatNumber, formatDate, currentLang, locale } from './i18n.js';
import { omittedText } from './scope.js';
import { L, createMap, loadConfig } from './mapbase.js';
import { getJson } from './api.js';
import { renderTable } from './table.js';
import { pointInGeometry, representativePoint } from './geo.js';

const KINDS = ['incidents', 'reports', 'presence', 'measures'];
const RAMP = ['#e1edf8', '#a2c8e4', '#5f9fd1', '#2467ad', '#0b2f66'];

const query = new URLSearchParams(location.search);
const state = {
  layer: KINDS.includes(query.get('layer')) ? query.get('layer') : 'incidents',
  period: /^\d{4}-\d{2}$/.test(query.get('period') || '') ? query.get('period') : null,
  area: null,
  areas: [],
  layers: {},
  measures: [],
  fetchedAt: null,
};
let map;
let hexLayer;

function inArea(feature) {
  if (!state.area) return true;
  return pointInGeometry(representativePoint(feature.geometry), state.area.geometry);
}

function monthName(period) {
  const [y, m] = period.split('-').map(Number);
  return new Intl.DateTimeFormat(locale(), { month: 'long', year: 'numeric' }).format(new Date(y, m - 1, 1));
}

function placeName() {
  return state.area ? state.area.properties.name : t('embed.wholeMunicipality');
}

async function load() {
  const period = state.period ? `?period=${state.period}` : '';
  const [first, ...rest] = await Promise.all([
    ...KINDS.map((k) => getJson(`/api/v1/public/layers/${k}/hexagons${period}`)),
    getJson(`/api/v1/public/measures${period}`),
  ]);
  const all = [first, ...rest];
  KINDS.forEach((k, i) => { state.layers[k] = all[i]; });
  state.measures = all[KINDS.length].features;
  // Without a period the server picks the last closed month; keep it.
  state.period = first.period;
  state.fetchedAt = new Date();
}

function render() {
  const month = monthName(state.period);
  document.getElementById('embed-heading').textContent = t('embed.heading', { place: placeName(), month });
  const fc = state.layers[state.layer];
  const [y, m] = state.period.split('-').map(Number);
  const note = document.getElementById('data-note');
  note.textContent = t('embed.note', {
    res: fc.features[0]?.properties.resolution ?? 8,
    k: fc.k,
    month,
    end: formatDate(new Date(y, m, 0).toISOString()),
    fetched: new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(state.fetchedAt),
  });
  // Stand-in positions (the police feed's municipality) are on no public map.
  const left = omittedText(fc.omitted, 'hexagons');
  if (left) note.textContent += ` ${left}`;
  note.dataset.period = state.period;
  note.dataset.k = String(fc.k);

  // Map and legend for the chosen layer.
  hexLayer.clearLayers();
  const cells = fc.features.filter(inArea);
  const counts = cells.map((f) => f.properties.count);
  const max = Math.max(0, ...counts);
  const step = Math.max(1, Math.ceil(max / RAMP.length));
  const classes = max ? RAMP.map((c, i) => [i * step + 1, Math.min(max, (i + 1) * step), c]).filter(([lo, hi]) => lo <= hi) : [];
  for (const f of cells) {
    const cls = classes.find(([, hi]) => f.properties.count <= hi) || classes[classes.length - 1];
    L.geoJSON(f, { interactive: false, style: { color: '#1f2937', weight: 0.6, fillColor: cls[2], fillOpacity: 0.75 } }).addTo(hexLayer);
  }
  document.getElementById('legend-heading').textContent = t('embed.legendTitle', { kind: t(`kinds.${state.layer}`) });
  const list = document.getElementById('legend-classes');
  list.replaceChildren(...classes.map(([lo, hi, colour]) => {
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.setAttribute('aria-hidden', 'true');
    sw.style.backgroundColor = colour;
    const label = document.createElement('span');
    label.textContent = lo === hi ? formatNumber(lo) : `${formatNumber(lo)}–${formatNumber(hi)}`;
    li.append(sw, label);
    return li;
  }));
  const total = document.getElementById('legend-total');
  total.dataset.total = String(counts.reduce((a, b) => a + b, 0));
  total.textContent = cells.length
    ? t('embed.legendTotal', { total: formatNumber(Number(total.dataset.total)), cells: formatNumber(cells.length) })
    : t('embed.noCells');

  renderSummary(month);
  renderTables(cells);
}

function renderSummary(month) {
  document.getElementById('summary-heading').textContent = t('embed.summaryHeading', { month, place: placeName() });
  const items = [];
  for (const k of KINDS) {
    const sum = state.layers[k].features.filter(inArea).reduce((s, f) => s + f.properties.count, 0);
    const li = document.createElement('li');
    li.dataset.kind = k;
    li.dataset.count = String(sum);
    li.textContent = sum > 0
      ? t(`embed.summary.${k}`, { n: formatNumber(sum) })
      : t('embed.summary.tooFew', { kind: t(`kinds.${k}`) });
    items.push(li);
  }
  const measures = state.measures.filter(inArea);
  const done = measures.filter((m) => m.properties.status === 'done').length;
  const li = document.createElement('li');
  li.dataset.kind = 'measure-changes';
  li.dataset.count = String(measures.length);
  li.textContent = t('embed.summary.measureChanges', { n: formatNumber(measures.length), done: formatNumber(done) });
  items.push(li);
  document.getElementById('summary').replaceChildren(...items);
}

function renderTables(cells) {
  const root = document.getElementById('embed-tables');
  root.replaceChildren();
  const a = document.createElement('div');
  const b = document.createElement('div');
  root.append(a, b);
  renderTable(a, {
    id: 'embed-hex',
    caption: t('embed.tableCells', { kind: t(`kinds.${state.layer}`), month: monthName(state.period) }),
    columns: [
      { key: 'h3', label: t('table.h3') },
      { key: 'count', label: t('embed.count'), numeric: true },
    ],
    rows: cells.map((f) => f.properties),
    filename: `trygg-public-${state.layer}-${state.period}.csv`,
  });
  renderTable(b, {
    id: 'embed-measures',
    caption: t('embed.tableMeasures', { month: monthName(state.period) }),
    columns: [
      { key: 'kind', label: t('measures.kind'), format: (v) => term('measureKind', v), csv: (v) => v },
      { key: 'status', label: t('measures.status'), format: (v) => term('measureStatus', v), csv: (v) => v },
      { key: 'responsible_org', label: t('measures.org') },
      { key: 'changed', label: t('measures.lastChange'), format: formatDate },
    ],
    rows: state.measures.filter(inArea).map((f) => ({ ...f.properties, changed: f.properties.changes_in_period?.at(-1)?.at })),
    filename: `trygg-public-measures-${state.period}.csv`,
  });
}

function fillPeriods() {
  const select = document.getElementById('period');
  // Twelve closed months, newest first; the current month is never public.
  const now = new Date();
  const options = [];
  for (let i = 1; i <= 12; i += 1) {
    const d = new Date(now.getFullYear(), now.getMonth() - i, 1);
    const value = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`;
    const o = document.createElement('option');
    o.value = value;
    o.textContent = monthName(value);
    options.push(o);
  }
  select.replaceChildren(...options);
  if (![...select.options].some((o) => o.value === state.period)) {
    const o = document.createElement('option');
    o.value = state.period;
    o.textContent = monthName(state.period);
    select.append(o);
  }
  select.value = state.period;
}

const total = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);

/** The latest published follow-up (the adopted figures, frozen when
 * published), or a plain note when none is published yet. */
async function renderFollowup() {
  const section = document.getElementById('followup-section');
  const meta = document.getElementById('followup-meta');
  const list = document.getElementById('followup-summary');
  let latest = null;
  try {
    const { published } = await getJson('/api/v1/public/followup');
    latest = [...(published || [])].sort((a, b) => b.period.localeCompare(a.period))[0] || null;
  } catch (e) {
    meta.textContent = t('map.loadError', { detail: e.message });
    return;
  }
  if (!latest) {
    section.dataset.period = '';
    meta.textContent = t('embed.followup.none');
    list.replaceChildren();
    return;
  }
  const report = await getJson(`/api/v1/public/followup/${encodeURIComponent(latest.period)}`);
  const f = report.figures;
  const month = monthName(report.period);
  section.dataset.period = report.period;
  document.getElementById('followup-heading').textContent = t('embed.followup.headingFor', { month });
  meta.textContent = t(state.area ? 'embed.followup.metaArea' : 'embed.followup.meta', {
    at: formatDate(report.published_at),
  });
  const signed = (v) => (v > 0 ? `+${formatNumber(v)}` : formatNumber(v));
  const items = [
    ['presence', t('embed.followup.presence', { h: formatNumber(f.presence.hours, 0), places: formatNumber(f.presence.hours_at_places, 0) })],
    ['measures', t('embed.followup.measures', { done: formatNumber(total(f.measures.done)), open: formatNumber(total(f.measures.open_at_end)) })],
    ['incidents', t('embed.followup.incidents', { n: formatNumber(f.incidents.total.current), before: formatNumber(f.incidents.total.year_before), change: signed(f.incidents.total.change) })],
    ['reports', t('embed.followup.reports', { n: formatNumber(f.reports.received) })],
  ];
  if ((report.corrections || []).length) items.push(['corrections', t('embed.followup.corrections', { n: formatNumber(report.corrections.length) })]);
  list.replaceChildren(...items.map(([k, text]) => {
    const li = document.createElement('li');
    li.dataset.key = k;
    li.textContent = text;
    return li;
  }));
  list.querySelector('[data-key="incidents"]').dataset.count = String(f.incidents.total.current);
  const html = document.getElementById('followup-html');
  html.href = `/api/v1/public/followup/${encodeURIComponent(report.period)}?format=html`;
  html.textContent = t('embed.followup.html', { month });
  document.getElementById('followup-html-item').hidden = false;
  document.getElementById('followup-svg').href = `/api/v1/public/followup/${encodeURIComponent(report.period)}?format=svg`;
  document.getElementById('followup-svg-item').hidden = false;
}

async function main() {
  await startPage({ needsLogin: false, publicPage: true });
  document.getElementById('statement-link').href = currentLang() === 'en' ? '/accessibility' : '/tillganglighet';
  document.getElementById(`layer-${state.layer}`).checked = true;
  const config = await loadConfig();
  map = createMap(document.getElementById('map'), config, { scrollWheelZoom: false });
  state.areas = (await getJson('/api/v1/public/areas')).features;
  const wanted = (query.get('area') || '').trim().toLowerCase();
  state.area = wanted
    ? state.areas.find((a) => a.properties.code.toLowerCase() === wanted || a.properties.name.toLowerCase() === wanted) || null
    : null;
  if (wanted && !state.area) announce(t('embed.unknownArea', { area: query.get('area') }));
  const base = L.geoJSON({ type: 'FeatureCollection', features: state.areas }, {
    interactive: false,
    style: (f) => (state.area && f.id === state.area.id
      ? { color: '#111827', weight: 3, fillColor: '#ffffff', fillOpacity: 1 }
      : { color: '#6b7280', weight: 1, fillColor: '#f3f4f6', fillOpacity: 1 }),
  }).addTo(map);
  hexLayer = L.layerGroup().addTo(map);
  map.fitBounds(state.area ? L.geoJSON(state.area).getBounds() : base.getBounds());

  await Promise.all([
    load(),
    renderFollowup().catch((e) => {
      document.getElementById('followup-meta').textContent = t('map.loadError', { detail: e.message });
    }),
  ]);
  if (!state.area) {
    // The municipality is mostly forest and farmland; frame where the
    // published hexagons are, so they are big enough to read.
    const cells = L.geoJSON({ type: 'FeatureCollection', features: KINDS.flatMap((k) => state.layers[k].features) });
    if (cells.getLayers().length) map.fitBounds(cells.getBounds().pad(0.15), { maxZoom: 14 });
  }
  fillPeriods();
  render();
  for (const r of document.querySelectorAll('input[name="layer"]')) {
    r.addEventListener('change', () => {
      state.layer = r.value;
      render();
    });
  }
  document.getElementById('period').addEventListener('change', async (e) => {
    state.period = e.target.value;
    try {
      await load();
      render();
    } catch (err) {
      announce(t('map.loadError', { detail: err.message }));
    }
  });
  document.getElementById('embed-controls').addEventListener('submit', (e) => e.preventDefault());
  markReady();
}

main().catch((e) => {
  announce(t('map.loadError', { detail: e.message }));
  markReady();
});
