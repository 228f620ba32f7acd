// Field logging, made for a phone with a poor connection: every log goes to
// the outbox (queue.js) first and is uploaded from there.
import { startPage, markReady, announce, loginHref } from './shell.js';
import { t, term, formatTime, formatNumber } from './i18n.js';
import { L, createMap, loadConfig, addDistrictBase } from './mapbase.js';
import { listAll } from './api.js';
import { isOnline, onNetChange } from './net.js';
import { newClientId } from './geo.js';
import { allLogs, enqueue, edit, isPending, needsLogin, onChange, prune, startAutoSync, sync } from './queue.js';

const UNIT_TYPES = ['police', 'security_guard', 'night_walkers', 'field_worker', 'municipal_staff', 'other'];
const MEASURE_KINDS = ['lighting', 'vegetation', 'cleaning', 'graffiti', 'camera', 'other'];
const MEASURE_STATUSES = ['proposed', 'planned', 'in_progress', 'done', 'closed', 'rejected'];
const UNIT_KEY = 'trygg.field.unit';

let map;
let mode = 'presence';
const sketch = { presence: [], measure: [] };
let measureGeom = 'Point';
let sketchLayer;
let gpsAccuracy = null;
let existingMeasures = [];

function fillSelect(select, values, vocab) {
  select.replaceChildren(...values.map((v) => {
    const o = document.createElement('option');
    o.value = v;
    o.textContent = term(vocab, v);
    return o;
  }));
}

// ---------------------------------------------------------------- sketch

function geomType() {
  return mode === 'presence' ? 'Point' : measureGeom;
}

function setPoint(ll, accuracy = null) {
  gpsAccuracy = accuracy;
  if (geomType() === 'Point') sketch[mode] = [ll];
  else sketch[mode].push(ll);
  drawSketch();
}

function drawSketch() {
  sketchLayer.clearLayers();
  const pts = sketch[mode];
  const type = geomType();
  if (type === 'LineString' && pts.length >= 2) L.polyline(pts, { color: '#b91c1c', weight: 4 }).addTo(sketchLayer);
  if (type === 'Polygon' && pts.length >= 2) L.polygon(pts, { color: '#b91c1c', weight: 3, fillOpacity: 0.15 }).addTo(sketchLayer);
  for (const ll of pts) {
    L.circleMarker(ll, { radius: 8, color: '#b91c1c', weight: 3, fillColor: '#fff', fillOpacity: 1, interactive: false }).addTo(sketchLayer);
  }
  if (type === 'Point' && pts.length && gpsAccuracy) {
    L.circle(pts[0], { radius: gpsAccuracy, color: '#1d4e89', weight: 1, fillOpacity: 0.08, interactive: false }).addTo(sketchLayer);
  }
  const text = document.getElementById('position-text');
  if (!pts.length) {
    text.textContent = t('field.noPosition');
  } else if (type === 'Point') {
    const p = pts[0];
    text.textContent = t('field.positionChosen', { lat: p.lat.toFixed(5), lon: p.lng.toFixed(5) })
      + (gpsAccuracy ? ` ${t('field.accuracy', { m: formatNumber(gpsAccuracy) })}` : '');
  } else {
    text.textContent = t('field.pointsChosen', { n: pts.length });
  }
  document.getElementById('undo-point').hidden = type === 'Point';
  document.getElementById('map-hint').textContent = t(type === 'Point' ? 'field.mapHintPoint' : 'field.mapHintShape');
}

function geometryOf(type, pts) {
  const c = (ll) => [Number(ll.lng.toFixed(6)), Number(ll.lat.toFixed(6))];
  if (type === 'Point') return pts.length ? { type, coordinates: c(pts[0]) } : null;
  if (type === 'LineString') return pts.length >= 2 ? { type, coordinates: pts.map(c) } : null;
  if (pts.length < 3) return null;
  const ring = pts.map(c);
  let area = 0;
  for (let i = 0; i < ring.length; i += 1) {
    const [x1, y1] = ring[i];
    const [x2, y2] = ring[(i + 1) % ring.length];
    area += x1 * y2 - x2 * y1;
  }
  if (area < 0) ring.reverse();
  ring.push([...ring[0]]);
  return { type, coordinates: [ring] };
}

function useGps() {
  if (!('geolocation' in navigator)) {
    announce(t('field.gpsUnavailable'));
    return;
  }
  announce(t('field.gpsWaiting'));
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      const ll = L.latLng(pos.coords.latitude, pos.coords.longitude);
      setPoint(ll, Math.round(pos.coords.accuracy));
      map.setView(ll, Math.max(map.getZoom(), 16));
      announce(t('field.gpsOk'));
    },
    (err) => announce(t('field.gpsError', { detail: err.message })),
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 },
  );
}

function setMode(next) {
  mode = next;
  for (const m of ['presence', 'measure']) {
    const b = document.getElementById(`mode-${m}`);
    b.setAttribute('aria-pressed', String(m === next));
    b.classList.toggle('secondary', m !== next);
    document.getElementById(`${m}-form`).hidden = m !== next;
  }
  drawSketch();
}

// ---------------------------------------------------------------- presence

async function startPresence(ev) {
  ev.preventDefault();
  const err = document.getElementById('presence-error');
  err.textContent = '';
  const geometry = geometryOf('Point', sketch.presence);
  if (!geometry) {
    err.textContent = t('field.needPosition');
    document.getElementById('use-gps').focus();
    return;
  }
  const unitType = document.getElementById('unit-type').value;
  const unit = document.getElementById('unit').value.trim();
  const note = document.getElementById('note').value.trim();
  try { localStorage.setItem(UNIT_KEY, JSON.stringify({ unitType, unit })); } catch { /* private mode */ }
  const clientId = newClientId();
  const properties = { unit_type: unitType, started_at: new Date().toISOString(), client_id: clientId };
  if (unit) properties.unit = unit;
  if (note) properties.note = note;
  await enqueue({
    clientId,
    kind: 'presence',
    feature: { type: 'Feature', geometry, properties },
    label: term('unitType', unitType) + (unit ? ` (${unit})` : ''),
  });
  document.getElementById('note').value = '';
  announce(t('field.presence.started'));
}

async function stopPresence(clientId) {
  await edit(clientId, (p) => ({ ...p, ended_at: new Date().toISOString() }));
  announce(t('field.presence.stopped'));
}

// ---------------------------------------------------------------- measures

async function loadMeasures() {
  const pick = document.getElementById('measure-pick');
  const fresh = document.createElement('option');
  fresh.value = '';
  fresh.textContent = t('field.measure.new');
  pick.replaceChildren(fresh);
  try {
    existingMeasures = (await listAll('measures')).sort((a, b) => a.properties.title.localeCompare(b.properties.title));
  } catch {
    // Offline: new measures can still be logged; updates need the list.
    existingMeasures = [];
  }
  for (const f of existingMeasures) {
    const o = document.createElement('option');
    o.value = f.id;
    o.textContent = `${f.properties.title} — ${term('measureStatus', f.properties.status)}`;
    pick.append(o);
  }
}

function pickMeasure() {
  const id = document.getElementById('measure-pick').value;
  const f = existingMeasures.find((m) => m.id === id);
  document.getElementById('measure-title').value = f ? f.properties.title : '';
  document.getElementById('measure-org').value = f?.properties.responsible_org || '';
  document.getElementById('measure-desc').value = f?.properties.description || '';
  document.getElementById('measure-kind').value = f ? f.properties.kind : 'lighting';
  document.getElementById('measure-status').value = f ? f.properties.status : 'proposed';
  sketch.measure = [];
  if (f) {
    const g = f.geometry;
    measureGeom = g.type;
    const toLl = ([lon, lat]) => L.latLng(lat, lon);
    if (g.type === 'Point') sketch.measure = [toLl(g.coordinates)];
    if (g.type === 'LineString') sketch.measure = g.coordinates.map(toLl);
    if (g.type === 'Polygon') sketch.measure = g.coordinates[0].slice(0, -1).map(toLl);
    const radio = document.querySelector(`input[name="geom"][value="${g.type}"]`);
    if (radio) radio.checked = true;
    map.fitBounds(L.geoJSON(g).getBounds(), { maxZoom: 17 });
  }
  drawSketch();
}

async function saveMeasure(ev) {
  ev.preventDefault();
  const err = document.getElementById('measure-error');
  err.textContent = '';
  const title = document.getElementById('measure-title').value.trim();
  const titleInput = document.getElementById('measure-title');
  titleInput.removeAttribute('aria-invalid');
  if (!title) {
    err.textContent = t('form.missing', { field: t('measures.title') });
    titleInput.setAttribute('aria-invalid', 'true');
    titleInput.focus();
    return;
  }
  const geometry = geometryOf(measureGeom, sketch.measure);
  if (!geometry) {
    err.textContent = t(measureGeom === 'Point' ? 'field.needPosition' : 'field.needShape');
    return;
  }
  const existing = existingMeasures.find((m) => m.id === document.getElementById('measure-pick').value);
  const properties = existing ? { ...existing.properties } : {};
  Object.assign(properties, {
    title,
    kind: document.getElementById('measure-kind').value,
    status: document.getElementById('measure-status').value,
  });
  const org = document.getElementById('measure-org').value.trim();
  const desc = document.getElementById('measure-desc').value.trim();
  if (org) properties.responsible_org = org; else delete properties.responsible_org;
  if (desc) properties.description = desc; else delete properties.description;
  const clientId = newClientId();
  if (!existing) properties.client_id = clientId;
  await enqueue({
    clientId,
    kind: 'measure',
    feature: { type: 'Feature', geometry, properties },
    id: existing ? existing.id : null,
    version: existing ? existing.properties.version : null,
    label: `${title} — ${term('measureStatus', properties.status)}`,
  });
  announce(t('field.measure.saved'));
  document.getElementById('measure-form').reset();
  measureGeom = 'Point';
  sketch.measure = [];
  drawSketch();
}

// ---------------------------------------------------------------- logs

function isToday(iso) {
  const d = new Date(iso);
  const n = new Date();
  return d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() && d.getDate() === n.getDate();
}

async function renderLogs() {
  const logs = (await allLogs()).sort((a, b) => b.created.localeCompare(a.created));
  const list = document.getElementById('logs');
  const shown = logs.filter((r) => isToday(r.created) || isPending(r) || r.error);
  const items = shown.map((r) => {
    const li = document.createElement('li');
    li.className = 'log-item';
    li.dataset.clientId = r.client_id;
    const what = document.createElement('span');
    what.className = 'what';
    const p = r.feature.properties;
    if (r.kind === 'presence') {
      what.textContent = p.ended_at
        ? t('field.logs.presenceDone', { label: r.label, from: formatTime(p.started_at), to: formatTime(p.ended_at) })
        : t('field.logs.presenceRunning', { label: r.label, from: formatTime(p.started_at) });
    } else {
      what.textContent = t('field.logs.measure', { label: r.label, at: formatTime(r.created) });
    }
    const badge = document.createElement('span');
    const st = r.error ? 'error' : isPending(r) ? 'pending' : 'synced';
    badge.className = `badge ${st}`;
    badge.dataset.state = st;
    badge.textContent = r.error ? t('field.logs.error', { detail: r.error }) : t(`field.logs.${st}`);
    li.append(what, badge);
    if (r.kind === 'presence' && !p.ended_at) {
      const stop = document.createElement('button');
      stop.type = 'button';
      stop.className = 'button small danger';
      stop.textContent = t('field.presence.stop');
      stop.setAttribute('aria-label', t('field.presence.stopNamed', { label: r.label, from: formatTime(p.started_at) }));
      stop.addEventListener('click', () => stopPresence(r.client_id));
      li.append(stop);
    }
    return li;
  });
  if (!items.length) {
    const li = document.createElement('li');
    li.className = 'hint';
    li.textContent = t('field.logs.empty');
    items.push(li);
  }
  list.replaceChildren(...items);
  const pending = logs.filter(isPending).length;
  renderNet(pending);
}

function renderNet(pending) {
  const net = document.getElementById('net');
  const online = isOnline();
  net.className = `net-banner ${online ? 'online' : 'offline'}`;
  net.dataset.pending = String(pending);
  const base = t(online ? 'field.online' : 'field.offline');
  net.textContent = pending ? `${base} ${t('field.pendingCount', { n: pending })}` : base;
  if (online && pending && needsLogin()) {
    const a = document.createElement('a');
    a.href = loginHref();
    a.textContent = t('login.uploadNeedsLogin');
    net.append(' ', a);
  }
}

// ---------------------------------------------------------------- start

async function main() {
  const { user, offline } = await startPage();
  if (!user && !offline) return;
  fillSelect(document.getElementById('unit-type'), UNIT_TYPES, 'unitType');
  fillSelect(document.getElementById('measure-kind'), MEASURE_KINDS, 'measureKind');
  fillSelect(document.getElementById('measure-status'), MEASURE_STATUSES, 'measureStatus');
  try {
    const saved = JSON.parse(localStorage.getItem(UNIT_KEY) || 'null');
    if (saved && UNIT_TYPES.includes(saved.unitType)) {
      document.getElementById('unit-type').value = saved.unitType;
      document.getElementById('unit').value = saved.unit || '';
    }
  } catch { /* nothing remembered */ }

  const config = await loadConfig();
  map = createMap(document.getElementById('map'), { ...config, zoom: Math.max(config.zoom || 12, 13) });
  await addDistrictBase(map, config);
  // Priority places give field staff their bearings: where to be present.
  listAll('places').then((places) => {
    L.geoJSON({ type: 'FeatureCollection', features: places }, {
      interactive: false,
      style: { color: '#0f172a', weight: 2, dashArray: '6 4', fillOpacity: 0.05 },
    }).addTo(map);
  }).catch(() => { /* offline: the map works without them */ });
  sketchLayer = L.layerGroup().addTo(map);
  map.on('click', (e) => setPoint(e.latlng));

  document.getElementById('mode-presence').addEventListener('click', () => setMode('presence'));
  document.getElementById('mode-measure').addEventListener('click', () => setMode('measure'));
  document.getElementById('use-gps').addEventListener('click', useGps);
  document.getElementById('use-center').addEventListener('click', () => setPoint(map.getCenter()));
  document.getElementById('undo-point').addEventListener('click', () => {
    sketch[mode].pop();
    drawSketch();
  });
  for (const r of document.querySelectorAll('input[name="geom"]')) {
    r.addEventListener('change', () => {
      measureGeom = r.value;
      sketch.measure = sketch.measure.slice(0, r.value === 'Point' ? 1 : undefined);
      drawSketch();
    });
  }
  document.getElementById('presence-form').addEventListener('submit', startPresence);
  document.getElementById('measure-form').addEventListener('submit', saveMeasure);
  document.getElementById('measure-pick').addEventListener('change', pickMeasure);
  document.getElementById('sync-now').addEventListener('click', () => sync());
  onNetChange(renderLogs);
  onChange(renderLogs);

  drawSketch();
  await prune();
  await renderLogs();
  await loadMeasures();
  startAutoSync();
  markReady();
}

main().catch((e) => {
  announce(e.message);
  markReady();
});
