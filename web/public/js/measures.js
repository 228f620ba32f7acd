// The measures board: every measure with its honest status history,
// filtered by kind, status and district (districts matched in the browser).
import { startPage, markReady, announce } from './shell.js';
import { t, term, formatDate, formatNumber } from './i18n.js';
import { listAll } from './api.js';
import { pointInGeometry, representativePoint } from './geo.js';
import { downloadCsv } from './table.js';

const KINDS = ['lighting', 'vegetation', 'cleaning', 'graffiti', 'camera', 'other'];
const STATUSES = ['proposed', 'planned', 'in_progress', 'done', 'closed', 'rejected'];
let measures = [];
let areas = [];

function option(value, text) {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text;
  return o;
}

function districtOf(f) {
  const p = representativePoint(f.geometry);
  const a = areas.find((area) => pointInGeometry(p, area.geometry));
  return a ? a.properties.name : null;
}

function filtered() {
  const kind = document.getElementById('filter-kind').value;
  const status = document.getElementById('filter-status').value;
  const area = document.getElementById('filter-area').value;
  return measures.filter((m) => (!kind || m.properties.kind === kind)
    && (!status || m.properties.status === status)
    && (!area || m.district === area));
}

function render() {
  const rows = filtered();
  document.getElementById('measure-count').textContent = t('measures.count', { shown: formatNumber(rows.length), total: formatNumber(measures.length) });
  const list = document.getElementById('measure-list');
  list.replaceChildren(...rows.map((m) => {
    const p = m.properties;
    const li = document.createElement('li');
    const card = document.createElement('article');
    card.className = 'measure-card';
    const h = document.createElement('h2');
    h.textContent = p.title;
    const dl = document.createElement('dl');
    const row = (label, value) => {
      if (value == null || value === '') return;
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      if (value instanceof Node) dd.append(value); else dd.textContent = value;
      dl.append(dt, dd);
    };
    const tag = document.createElement('span');
    tag.className = `status-tag s-${p.status}`;
    tag.textContent = term('measureStatus', p.status);
    row(t('measures.status'), tag);
    row(t('measures.kind'), term('measureKind', p.kind));
    row(t('measures.district'), m.district || t('measures.noDistrict'));
    row(t('measures.org'), p.responsible_org);
    row(t('measures.geometry'), t(`measures.geom.${m.geometry.type}`));
    // Folded so a phone shows many measures per screen; the summary still
    // says how many changes there were.
    const hist = document.createElement('details');
    const hh = document.createElement('summary');
    hh.textContent = t('measures.historyCount', { n: (p.status_history || []).length });
    const ol = document.createElement('ol');
    ol.className = 'history';
    for (const c of p.status_history || []) {
      const item = document.createElement('li');
      const time = document.createElement('time');
      time.dateTime = c.at;
      time.textContent = formatDate(c.at);
      item.append(time, ` — ${term('measureStatus', c.status)}`);
      ol.append(item);
    }
    card.append(h, dl);
    if (p.description) {
      const d = document.createElement('p');
      d.textContent = p.description;
      card.append(d);
    }
    hist.append(hh, ol);
    card.append(hist);
    li.append(card);
    return li;
  }));
}

function csv() {
  const rows = filtered().map((m) => ({
    title: m.properties.title,
    kind: m.properties.kind,
    status: m.properties.status,
    district: m.district,
    org: m.properties.responsible_org,
    history: (m.properties.status_history || []).map((c) => `${c.at.slice(0, 10)} ${c.status}`).join('; '),
    id: m.id,
  }));
  downloadCsv('trygg-measures.csv', [
    { key: 'title', label: t('measures.title') },
    { key: 'kind', label: t('measures.kind') },
    { key: 'status', label: t('measures.status') },
    { key: 'district', label: t('measures.district') },
    { key: 'org', label: t('measures.org') },
    { key: 'history', label: t('measures.history') },
    { key: 'id', label: 'id' },
  ], rows);
}

async function main() {
  const { user } = await startPage();
  if (!user) return;
  const kind = document.getElementById('filter-kind');
  kind.append(option('', t('measures.allKinds')), ...KINDS.map((k) => option(k, term('measureKind', k))));
  const status = document.getElementById('filter-status');
  status.append(option('', t('measures.allStatuses')), ...STATUSES.map((s) => option(s, term('measureStatus', s))));
  try {
    [measures, areas] = await Promise.all([listAll('measures'), listAll('areas')]);
  } catch (e) {
    announce(t('map.loadError', { detail: e.message }));
  }
  for (const m of measures) m.district = districtOf(m);
  // Most recently changed first: what the monthly follow-up asks about.
  const last = (m) => m.properties.status_history?.at(-1)?.at || m.properties.updated_at || '';
  measures.sort((a, b) => last(b).localeCompare(last(a)));
  const area = document.getElementById('filter-area');
  const names = [...new Set(areas.map((a) => a.properties.name))].sort((a, b) => a.localeCompare(b, 'sv'));
  area.append(option('', t('measures.allDistricts')), ...names.map((n) => option(n, n)));
  for (const sel of [kind, status, area]) sel.addEventListener('change', render);
  document.getElementById('measure-filters').addEventListener('submit', (e) => e.preventDefault());
  document.getElementById('measure-csv').addEventListener('click', csv);
  render();
  markReady();
}

main().catch((e) => {
  announce(e.message);
  markReady();
});
