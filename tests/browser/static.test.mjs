// Checks that need no browser: translations, the offline cache list, the
// vendored Leaflet, and pages that load nothing from elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const pub = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'public');
const load = (l) => JSON.parse(readFileSync(join(pub, 'i18n', `${l}.json`), 'utf8'));
const keys = (o, p = '') => Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' ? keys(v, `${p}${k}.`) : [`${p}${k}`]));

test('Swedish and English name the same keys', () => {
  assert.deepEqual(keys(load('sv')).sort(), keys(load('en')).sort());
});

test('every key the pages name exists', () => {
  const sv = new Set(keys(load('sv')));
  const sources = [
    ...readdirSync(pub).filter((f) => f.endsWith('.html')).map((f) => join(pub, f)),
    ...readdirSync(join(pub, 'js')).map((f) => join(pub, 'js', f)),
  ];
  const missing = [];
  for (const file of sources) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/data-i18n="([\w.]+)"|(?:aria-label|placeholder):([\w.]+)|\bt\('([\w.]+)'/g)) {
      const key = m[1] || m[2] || m[3];
      if (!sv.has(key)) missing.push(`${file}: ${key}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('the service worker caches every page script and the vendored Leaflet', () => {
  const sw = readFileSync(join(pub, 'sw.js'), 'utf8');
  const missing = readdirSync(join(pub, 'js'))
    .map((f) => `/js/${f}`)
    .concat(readdirSync(join(pub, 'i18n')).map((f) => `/i18n/${f}`))
    .concat(['/vendor/leaflet/leaflet-src.esm.js', '/vendor/leaflet/leaflet.css', '/css/app.css'])
    .filter((path) => !sw.includes(`'${path}'`));
  assert.deepEqual(missing, []);
});

test('the vendored Leaflet is the version the lockfile names', () => {
  const lock = JSON.parse(readFileSync(join(pub, '..', 'package-lock.json'), 'utf8'));
  const version = lock.packages['node_modules/leaflet'].version;
  assert.equal(readFileSync(join(pub, 'vendor', 'leaflet', 'VERSION'), 'utf8').trim(), `leaflet ${version}`);
});

test('no page names a script or style on another host', () => {
  const offenders = [];
  for (const f of readdirSync(pub).filter((n) => n.endsWith('.html'))) {
    const html = readFileSync(join(pub, f), 'utf8');
    for (const m of html.matchAll(/<(?:script|link)\b[^>]*(?:src|href)="([^"]+)"/g)) {
      if (!m[1].startsWith('/')) offenders.push(`${f}: ${m[1]}`);
    }
    if (/<script(?![^>]*\bsrc=)[^>]*>/.test(html)) offenders.push(`${f}: inline script`);
    if (/\sstyle="/.test(html)) offenders.push(`${f}: inline style`);
  }
  assert.deepEqual(offenders, []);
});

test('no script puts text from data into the page as HTML', () => {
  // Leaflet reads a string given to a tooltip or popup as HTML: a measure
  // titled with a link once became a link. Every tooltip and popup gets an
  // element (mapbase.js `textTip`, or a box built with textContent), and
  // nothing writes markup from a string.
  const js = join(pub, 'js');
  const offenders = [];
  for (const f of readdirSync(js)) {
    const text = readFileSync(join(js, f), 'utf8');
    text.split('\n').forEach((line, i) => {
      const where = `js/${f}:${i + 1}: ${line.trim()}`;
      if (/\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\.html\(/.test(line)) offenders.push(where);
      for (const m of line.matchAll(/\.(bindTooltip|bindPopup)\(\s*([^,)]+)/g)) {
        if (!/^textTip\(/.test(m[2].trim())) offenders.push(where);
      }
      for (const m of line.matchAll(/\bhtml:\s*([^,}]+)/g)) {
        if (!/^textEl\(/.test(m[1].trim())) offenders.push(where);
      }
      for (const m of line.matchAll(/\.setContent\(\s*([^,)]+)/g)) {
        if (/^[`'"]|\+/.test(m[1].trim())) offenders.push(where);
      }
    });
  }
  assert.deepEqual(offenders, []);
});

test('a downloaded table defuses spreadsheet formulas as the server does', async () => {
  const { toCsv } = await import(join(pub, 'js', 'table.js'));
  const cells = ['=HYPERLINK("x")', '\t=1+1', '\r=cmd', '-1+cmd', '+46 70', '@SUM(A1)', '-12.5', '3'];
  const csv = toCsv([{ key: 'v', label: 'v' }], cells.map((v) => ({ v })));
  const body = csv.split('\r\n').slice(1, -1);
  const defused = body.map((c) => c.replace(/^"/, '').startsWith("'"));
  assert.deepEqual(defused, [true, true, true, true, true, true, false, false], body.join(' | '));
});
