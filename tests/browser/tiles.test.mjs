// The planner map at fine zooms: the heatmap switches from GeoJSON to
// vector tiles, the tiles are the server's (decoded here a second time with
// @mapbox/vector-tile, independently of the page's own reader), the legend
// still adds up to the hexagon API's numbers, and a click on a painted
// hexagon still gives its breakdown.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import { BASE, USERS, api, axe, launch, newContext, open, screenshot, signIn, until } from './helpers.mjs';

const TYPE = 'application/vnd.mapbox-vector-tile';

let chrome;
let record;
let page;
const tiles = [];

before(async () => {
  chrome = await launch();
  let context;
  ({ context, record } = await newContext(chrome.browser, 'desktop'));
  await signIn(context, 'planner');
  page = await context.newPage();
  page.on('response', (res) => {
    const url = new URL(res.url());
    if (url.pathname.startsWith('/tiles/')) {
      tiles.push({ path: url.pathname + url.search, status: res.status(), type: res.headers()['content-type'] || '' });
    }
  });
  await open(page, '/map');
});
after(async () => {
  assert.deepEqual(record.foreign, [], 'no request left for another host');
  await chrome?.close();
});

const legend = () => page.locator('[data-testid="legend-total"]');

/** Waits until the legend shows a settled answer from `source`. */
async function settled(source) {
  await page.waitForFunction((s) => {
    const el = document.querySelector('[data-testid="legend-total"]');
    return el.dataset.source === s && el.dataset.total !== ''
      && !document.getElementById('legend').hasAttribute('aria-busy');
  }, source, { timeout: 60000 });
}

/** Zooms one step at a time, each step a view of its own: the next click
 * waits until the map says it settled at the zoom asked for. */
async function zoomIn(p, steps) {
  const button = p.locator(steps > 0 ? '.leaflet-control-zoom-in' : '.leaflet-control-zoom-out');
  for (let i = 0; i < Math.abs(steps); i += 1) {
    const want = Number(await p.getAttribute('#map', 'data-zoom')) + Math.sign(steps);
    await button.click();
    await until(
      p.waitForFunction((z) => document.getElementById('map').dataset.zoom === String(z), want),
      `the map did not settle at zoom ${want}`,
    );
  }
}

const zoomBy = (steps) => zoomIn(page, steps);

/** A tile's bounds, as the server computes them. */
function tileBbox(z, x, y) {
  const n = 2 ** z;
  const lon = (v) => (v / n) * 360 - 180;
  const lat = (v) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * v) / n))) * 180) / Math.PI;
  return [lon(x), lat(y + 1), lon(x + 1), lat(y)].join(',');
}

let cookie = null;
async function rawTile(path) {
  if (!cookie) {
    const res = await fetch(`${BASE}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(USERS.planner),
    });
    cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  }
  const res = await fetch(`${BASE}${path}`, { headers: { cookie } });
  return { status: res.status, type: res.headers.get('content-type'), etag: res.headers.get('etag'), bytes: new Uint8Array(await res.arrayBuffer()) };
}

test('at zoom 15 the heatmap is drawn from vector tiles with the server\'s numbers', async () => {
  await settled('geojson');
  assert.equal(tiles.length, 0, 'no tiles at the city zoom');
  await zoomBy(3);
  await settled('tiles');
  assert.match(await page.locator('#legend-meta').textContent(), /\b10\b/, 'resolution 10 at zoom 15');

  // Every tile was answered, and those with hexagons as vector tiles.
  assert.ok(tiles.length >= 4, `${tiles.length} tiles`);
  for (const t of tiles) assert.ok([200, 204, 304].includes(t.status), `${t.path}: ${t.status}`);
  const full = tiles.filter((t) => t.status === 200);
  assert.ok(full.length >= 1, 'some tiles hold hexagons');
  for (const t of full) assert.equal(t.type, TYPE, t.path);
  for (const t of tiles) assert.match(t.path, /^\/tiles\/incidents\/15\/\d+\/\d+\.mvt\?datetime=/);
  assert.ok(await page.locator('.leaflet-pane canvas.hex-tile').count() >= 4);

  // The legend adds up to what the hexagon API says for the same question.
  const total = Number(await legend().getAttribute('data-total'));
  const query = await legend().getAttribute('data-query');
  assert.match(query, /resolution=10&bbox=/);
  const { status, body } = await api(query);
  assert.equal(status, 200, query);
  assert.ok(total > 0, 'the demo has incidents in view');
  assert.equal(total, body.features.reduce((s, f) => s + f.properties.count, 0));
  // Tiles carry no totals, yet the legend says what the layer leaves out:
  // the demo's police feed events at Linköping's midpoint.
  const left = body.omitted.coarse_position;
  assert.ok(left > 0, JSON.stringify(body.omitted));
  await page.waitForFunction(() => document.querySelector('[data-testid="legend-scope"]').textContent.includes('bara kommunen'), null, { timeout: 60000 })
    .catch(() => { throw new Error('the tiled legend never said what it leaves out'); });
  assert.match(
    await page.locator('[data-testid="legend-scope"]').textContent(),
    new RegExp(`${new Intl.NumberFormat('sv-SE').format(left)} händelser? har bara kommunen som plats och visas inte i hexagonerna\\.$`),
  );

  // One tile read by an independent decoder: the hexagons and counts of
  // the hexagon API for the tile's bounds; a repeat is a 304.
  const one = full[0].path;
  const [, z, x, y] = one.match(/\/(\d+)\/(\d+)\/(\d+)\.mvt/).map(Number);
  const tile = await rawTile(one);
  assert.equal(tile.status, 200);
  assert.equal(tile.type, TYPE);
  const layer = new VectorTile(new PbfReader(tile.bytes)).layers.incidents;
  assert.equal(layer.extent, 4096);
  const decoded = new Map();
  for (let i = 0; i < layer.length; i += 1) {
    const f = layer.feature(i);
    assert.equal(f.type, 3, 'polygons');
    const rings = f.loadGeometry();
    assert.equal(rings.length, 1);
    assert.ok(rings[0].length >= 7, 'a closed hexagon ring');
    // H3's resolution is the index's second hex digit.
    assert.equal(parseInt(f.properties.h3[1], 16), 10);
    decoded.set(f.properties.h3, f.properties.count);
  }
  const datetime = new URL(one, BASE).searchParams.get('datetime');
  const same = await api(`/api/v1/layers/incidents/hexagons?resolution=10&bbox=${tileBbox(z, x, y)}&datetime=${encodeURIComponent(datetime)}`);
  assert.deepEqual(
    [...decoded].sort(),
    same.body.features.map((f) => [f.properties.h3, f.properties.count]).sort(),
  );
  const again = await fetch(`${BASE}${one}`, { headers: { cookie, 'if-none-match': tile.etag } });
  assert.equal(again.status, 304);

  await screenshot(page, 'map-tiles-desktop');
});

/** A point on screen over a painted hexagon, clear of its edges and of
 * anything that answers clicks itself (places, district lines, controls,
 * the legend). Found in the canvases' pixels, since a tile has no DOM per
 * hexagon. */
async function paintedPoint() {
  return page.evaluate(() => {
    const mapBox = document.getElementById('map').getBoundingClientRect();
    for (const c of document.querySelectorAll('canvas.hex-tile')) {
      const r = c.getBoundingClientRect();
      const scale = c.width / r.width;
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const at = (x, y) => {
        const i = (Math.round(y * scale) * c.width + Math.round(x * scale)) * 4;
        return data.slice(i, i + 4).join(',');
      };
      for (let y = 12; y < r.height - 12; y += 6) {
        for (let x = 12; x < r.width - 12; x += 6) {
          const sx = r.left + x;
          const sy = r.top + y;
          if (sx < mapBox.left + 10 || sx > mapBox.right - 10 || sy < mapBox.top + 10 || sy > mapBox.bottom - 10) continue;
          const here = at(x, y);
          if (here.endsWith(',0')) continue;
          // The same colour all around: inside a hexagon, not on a stroke.
          if ([[-5, 0], [5, 0], [0, -5], [0, 5], [-4, -4], [4, 4], [-4, 4], [4, -4]].some(([dx, dy]) => at(x + dx, y + dy) !== here)) continue;
          const el = document.elementFromPoint(sx, sy);
          if (!el || !el.closest('#map') || el.closest('.leaflet-interactive, .leaflet-control, .leaflet-tooltip, .leaflet-popup, #legend, .hex-label')) continue;
          return { x: sx, y: sy };
        }
      }
    }
    return null;
  });
}

test('clicking a hexagon drawn from tiles gives its breakdown', async () => {
  const point = await paintedPoint();
  assert.ok(point, 'a painted hexagon is in view');
  await page.mouse.click(point.x, point.y);
  const popup = page.locator('.leaflet-popup-content .cell-popup');
  await popup.waitFor();
  await page.waitForFunction(() => document.querySelectorAll('.leaflet-popup-content .breakdown li').length > 0);
  const title = await popup.locator('h3').textContent();
  const cellCount = Number(title.match(/^[\d\s]+/)[0].replace(/\s/g, ''));
  // The hexagon's number is one the legend's classes cover.
  const h3 = (await popup.locator('p.hint').first().textContent()).match(/[0-9a-f]{15}/)[0];
  const { body } = await api(await legend().getAttribute('data-query'));
  assert.equal(cellCount, body.features.find((f) => f.properties.h3 === h3).properties.count);
  const items = await popup.locator('.breakdown li').allTextContents();
  const sum = items.reduce((s, li) => s + Number(li.split(':').pop().replace(/\s/g, '')), 0);
  assert.equal(sum, cellCount);
  await screenshot(page, 'map-tiles-breakdown-desktop');
  await page.locator('.leaflet-popup-close-button').click();
  await page.waitForSelector('.leaflet-popup', { state: 'detached' });
});

test('a filter asks the tiles again, and zooming out goes back to GeoJSON', async () => {
  const before = Number(await legend().getAttribute('data-total'));
  const asked = tiles.length;
  await page.locator('summary', { hasText: 'Kategorier' }).click();
  await page.uncheck('#f-incidents-category-theft');
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-testid="legend-total"]');
    return decodeURIComponent(el.dataset.query || '').includes('category=') && el.dataset.source === 'tiles'
      && !document.getElementById('legend').hasAttribute('aria-busy');
  }, null, { timeout: 60000 });
  assert.ok(tiles.slice(asked).some((t) => t.path.includes('category=')), 'the tiles were asked with the filter');
  const total = Number(await legend().getAttribute('data-total'));
  const { body } = await api(await legend().getAttribute('data-query'));
  assert.equal(total, body.features.reduce((s, f) => s + f.properties.count, 0));
  assert.ok(total < before);
  await page.check('#f-incidents-category-theft');
  await settled('tiles');

  await zoomBy(-1);
  await settled('geojson');
  assert.equal(await page.locator('canvas.hex-tile').count(), 0);
  assert.match(await legend().getAttribute('data-query'), /resolution=9/);
});

test('the tile view has no accessibility violations', async () => {
  // axe is injected as a script, which the page's CSP would refuse.
  const { context } = await newContext(chrome.browser, 'desktop', { bypassCSP: true });
  await signIn(context, 'planner');
  const other = await context.newPage();
  await open(other, '/map');
  await zoomIn(other, 3);
  await other.waitForFunction(() => {
    const el = document.querySelector('[data-testid="legend-total"]');
    return el.dataset.source === 'tiles' && !document.getElementById('legend').hasAttribute('aria-busy');
  }, null, { timeout: 60000 });
  const found = await axe(other);
  assert.deepEqual(found, [], JSON.stringify(found, null, 2));
  await context.close();
});

test('the page logged no errors', () => {
  assert.deepEqual(record.errors, []);
});
