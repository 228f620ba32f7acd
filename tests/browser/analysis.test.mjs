// The analysis page against the running demo server: the hot-spot and
// emerging layers draw exactly the hexagons the API returns, the legend
// writes every bin out as text, the district, dosage and patrol tables are
// the server's, the chart's numbers are the follow-up's, and chosen hot
// hexagons become a priority place.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, axe, launch, newContext, open, screenshot, signIn } from './helpers.mjs';

let chrome;
let context;
let record;
let page;

before(async () => {
  chrome = await launch();
  ({ context, record } = await newContext(chrome.browser, 'desktop', { bypassCSP: false }));
  await signIn(context, 'planner');
  page = await context.newPage();
  await open(page, '/analys');
});
after(async () => {
  // Closed first: a failed check must not leave the browser (and the run) hanging.
  await chrome?.close();
  assert.deepEqual(record.foreign, [], 'no request left for another host');
  // The malformed weights are refused with a 400 on purpose.
  assert.deepEqual(record.errors.filter((e) => !e.includes('status of 400')), [], 'no console errors');
});

const legend = () => page.locator('[data-testid="legend-total"]');
const hexPaths = () => page.locator('.leaflet-hotspots-pane path');

/** Runs `action` and waits until the legend shows a new query's answer. */
async function requery(action) {
  const before = await legend().getAttribute('data-query');
  await action();
  await page.waitForFunction(
    (b) => {
      const el = document.querySelector('[data-testid="legend-total"]');
      return el.dataset.query !== b && !document.getElementById('legend').hasAttribute('aria-busy');
    },
    before,
    { timeout: 60000 },
  );
}

/** The layer's query, the server's answer to it, and what the map drew. */
async function mapAndServer() {
  const query = await legend().getAttribute('data-query');
  const { status, body } = await api(query);
  assert.equal(status, 200, query);
  return {
    query,
    body,
    legendCount: Number(await legend().getAttribute('data-count')),
    drawn: await hexPaths().count(),
  };
}

test('the hot-spot layer draws exactly the hexagons the API returns', async () => {
  const { query, body, legendCount, drawn } = await mapAndServer();
  assert.match(query, /^\/api\/v1\/analysis\/hotspots\?resolution=9&datetime=/);
  assert.ok(body.features.length > 20, 'the demo has hot spots');
  assert.equal(drawn, body.features.length, 'one path per hexagon');
  assert.equal(legendCount, body.features.length);
  // Every bin is written out with its count, not told by colour alone.
  const bins = page.locator('#legend-classes li');
  assert.equal(await bins.count(), 7);
  const hot = body.features.filter((f) => f.properties.bin_fdr === 3).length;
  assert.equal(await page.getAttribute('#legend-classes li[data-bin="3"]', 'data-count'), String(hot));
  assert.match(await page.locator('#legend-classes li[data-bin="3"]').textContent(), /^\+3 Het punkt, 99 %/);
  assert.match(await page.locator('#legend-classes li[data-bin="-3"]').textContent(), /Kall punkt, 99 %/);
  // Hot cells are filled with a pattern as well as a colour.
  const fills = await hexPaths().evaluateAll((ps) => ps.map((p) => p.getAttribute('fill')));
  assert.ok(fills.includes('url(#pat-hot-3)'), 'the 99 % bin has its hatching');
  // The table alternative lists the significant cells.
  const significant = body.features.filter((f) => f.properties.bin_fdr !== 0).length;
  assert.equal(await page.locator('[data-table="table-cells"] tbody tr').count(), significant);
  await screenshot(page, 'analysis-hotspots-desktop');
});

test('without the FDR correction the uncorrected bins are drawn', async () => {
  const { body } = await mapAndServer();
  await page.uncheck('#use-fdr');
  const hot = body.features.filter((f) => f.properties.bin === 3).length;
  await page.waitForFunction((n) => document.querySelector('#legend-classes li[data-bin="3"]')?.dataset.count === String(n), hot);
  assert.match(await page.locator('#legend-heading').textContent(), /Gi\*\)$/);
  await page.check('#use-fdr');
});

test('resolution 10 and weights re-query, and the map still matches the API', async () => {
  await requery(() => page.check('#res-10'));
  let m = await mapAndServer();
  assert.match(m.query, /resolution=10/);
  assert.equal(m.drawn, m.body.features.length);

  // A malformed weight is named at the input, not silently ignored.
  await requery(async () => {
    await page.fill('#weights', 'assault=lots');
    await page.click('#apply');
  });
  assert.equal(await page.getAttribute('#weights', 'aria-invalid'), 'true');
  assert.match(await page.locator('#weights-error').textContent(), /assault/);

  await requery(async () => {
    await page.fill('#weights', 'assault=3,theft=0.5');
    await page.click('#apply');
  });
  m = await mapAndServer();
  assert.match(decodeURIComponent(m.query), /weights=assault=3,theft=0\.5/);
  assert.equal(m.drawn, m.body.features.length);
  assert.equal(await page.getAttribute('#weights', 'aria-invalid'), null);
  await requery(async () => {
    await page.fill('#weights', '');
    await page.check('#res-9');
  });
});

test('the emerging layer draws the API\'s cells with their pattern names', async () => {
  await requery(() => page.check('#layer-emerging'));
  const { query, body, drawn, legendCount } = await mapAndServer();
  assert.match(query, /^\/api\/v1\/analysis\/emerging\?resolution=9&months=12/);
  assert.equal(drawn, body.features.length);
  assert.equal(legendCount, body.features.length);
  const patterns = new Set(body.features.map((f) => f.properties.pattern));
  assert.equal(await page.locator('#legend-classes li').count(), patterns.size);
  assert.match(await page.locator('#legend-classes').textContent(), /het punkt/);
  await screenshot(page, 'analysis-emerging-desktop');
  await requery(() => page.check('#layer-hotspots'));
});

test('the district, dosage and patrol tables are the server\'s', async () => {
  const query = await page.getAttribute('#districts-table', 'data-query');
  const picture = await api(query);
  assert.equal(picture.status, 200);
  assert.equal(await page.locator('[data-table="table-districts"] tbody tr').count(), picture.body.districts.length);
  const month = await page.inputValue('#month');
  const lastMonth = (() => {
    const d = new Date();
    const m = new Date(d.getFullYear(), d.getMonth() - 1, 1);
    return `${m.getFullYear()}-${String(m.getMonth() + 1).padStart(2, '0')}`;
  })();
  assert.equal(month, lastMonth, 'the month defaults to the last one that ended');
  const dosage = await api(`/api/v1/analysis/dosage?period=${month}`);
  assert.equal(await page.locator('[data-table="table-dosage"] tbody tr').count(), dosage.body.places.length);
  const first = dosage.body.places[0];
  assert.match(await page.locator('[data-table="table-dosage"] tbody').textContent(), new RegExp(first.name));
  assert.equal(await page.locator('[data-testid="patrol-list"] li').count(), Math.max(1, dosage.body.patrol_list.length));
  if (dosage.body.patrol_list.length) {
    assert.match(await page.locator('[data-testid="patrol-list"] li').first().textContent(), new RegExp(dosage.body.patrol_list[0].name));
  }
  // Each place links to its printable evaluation, which the server renders.
  const links = page.locator('#evaluation-links a');
  assert.equal(await links.count(), dosage.body.places.length);
  const href = await links.first().getAttribute('href');
  assert.match(href, /^\/api\/v1\/analysis\/evaluation\?place=[0-9a-f-]+&format=html$/);
  const res = await context.request.get(href);
  assert.equal(res.status(), 200);
  assert.match(await res.text(), /href="\/css\/report\.css"/);
});

test('the legend and the district table say the window and the incidents they cannot place', async () => {
  // An incident the police feed names only to the municipality: its
  // position stands in for Linköping, so no hexagon or district counts it.
  // An hour ago: in the current month, so no closed month's follow-up
  // (which the chart test compares with) changes.
  const at = new Date(Date.now() - 3600000).toISOString();
  const session = await (await context.request.get('/api/v1/auth/session')).json();
  const posted = await context.request.post('/api/v1/incidents', {
    headers: { 'x-csrf-token': session.csrf_token },
    data: { type: 'Feature', geometry: { type: 'Point', coordinates: [15.6214, 58.4108] }, properties: { category: 'theft', occurred_at: at, precision_m: 20000, municipality: '0580' } },
  });
  assert.equal(posted.status(), 201, await posted.text());
  await requery(() => page.check('#res-10'));
  const { body } = await mapAndServer();
  const left = body.omitted.coarse_position;
  assert.ok(left >= 1, JSON.stringify(body.omitted));
  // Days as the page's own locale and time zone write them.
  const [from, to] = await page.evaluate((d) => d.split('/').map((iso) => new Intl.DateTimeFormat('sv-SE', { dateStyle: 'medium' }).format(new Date(iso))), body.datetime);
  const scope = page.locator('[data-testid="legend-scope"]');
  assert.equal(
    await scope.textContent(),
    `Visar ${from} – ${to}. ${left === 1 ? '1 händelse har' : `${new Intl.NumberFormat('sv-SE').format(left)} händelser har`} bara kommunen som plats och visas inte i hexagonerna.`,
  );
  await page.waitForFunction(() => document.querySelector('[data-testid="districts-scope"]').textContent.includes('bara per kommun'), null, { timeout: 60000 })
    .catch(() => { throw new Error('the district table never said what it leaves out'); });
  await screenshot(page, 'analysis-scope-desktop');
  await requery(() => page.check('#res-9'));
});

test('the chart shows the follow-up\'s incidents against a year earlier', async () => {
  const month = await page.inputValue('#month');
  const { body } = await api(`/api/v1/followup/${month}`);
  const svg = page.locator('#incident-chart svg[role="img"]');
  assert.equal(await svg.count(), 1);
  const desc = await svg.locator('desc').textContent();
  const [cat, figures] = Object.entries(body.figures.incidents.by_category).sort((a, b) => b[1].current - a[1].current)[0];
  assert.ok(desc.includes(String(figures.current)), `${cat}: ${desc}`);
  // The same numbers as a table, with the total.
  await page.locator('#incident-chart details summary').click();
  const rows = page.locator('[data-table="incident-chart-svg-table"] tbody tr');
  assert.equal(await rows.count(), Object.keys(body.figures.incidents.by_category).length + 1);
  assert.match(await rows.last().textContent(), new RegExp(String(body.figures.incidents.total.current)));
});

test('chosen hot hexagons become a priority place', async () => {
  await page.locator('summary', { hasText: 'Gör en prioriterad plats' }).click();
  const buttons = page.locator('[data-table="table-cells"] tbody tr td:last-child button');
  await buttons.nth(0).click();
  await buttons.nth(1).click();
  assert.equal(await page.getAttribute('[data-testid="select-count"]', 'data-count'), '2');
  assert.equal(await buttons.nth(0).getAttribute('aria-pressed'), 'true');
  // Chosen cells are outlined on the map.
  const outlined = await hexPaths().evaluateAll((ps) => ps.filter((p) => p.getAttribute('stroke-width') === '3.5').length);
  assert.equal(outlined, 2);

  const checked = await withAxe();
  const found = await axe(checked);
  await checked.context().close();
  assert.deepEqual(found, [], JSON.stringify(found, null, 2));

  // A name is required and the form says so at the input.
  await page.click('#cells-save');
  assert.equal(await page.getAttribute('#cells-name', 'aria-invalid'), 'true');
  const name = `Het zon ${Date.now()}`;
  await page.fill('#cells-name', name);
  await page.fill('#cells-reason', 'Två heta hexagoner i följd');
  await page.click('#cells-save');
  await page.waitForSelector('#cells-saved');
  assert.equal(await page.getAttribute('[data-testid="select-count"]', 'data-count'), '0');
  const placeId = await page.getAttribute('#cells-saved', 'data-place-id');
  const { status, body } = await api(`/api/v1/places/${placeId}`);
  assert.equal(status, 200);
  assert.equal(body.properties.name, name);
  assert.equal(body.properties.reason, 'Två heta hexagoner i följd');
  assert.match(body.geometry.type, /Polygon/);
  await screenshot(page, 'analysis-place-made-desktop');
});

// axe is injected as a script, which the page's CSP refuses; check the same
// state in a context that bypasses it.
async function withAxe() {
  const { context: c } = await newContext(chrome.browser, 'desktop', { bypassCSP: true });
  await signIn(c, 'planner');
  const p = await c.newPage();
  await open(p, '/analys');
  await p.locator('summary', { hasText: 'Gör en prioriterad plats' }).click();
  await p.locator('[data-table="table-cells"] tbody tr td:last-child button').first().click();
  await p.locator('#incident-chart details summary').click();
  await p.check('#layer-emerging');
  await p.waitForFunction(() => document.querySelector('[data-testid="legend-total"]').dataset.layer === 'emerging');
  return p;
}

test('the analysis page works at phone size', async () => {
  const { context: c, record: r } = await newContext(chrome.browser, 'phone');
  await signIn(c, 'planner');
  const p = await c.newPage();
  await open(p, '/analys');
  assert.ok(await p.locator('.leaflet-hotspots-pane path').count() > 20);
  await screenshot(p, 'analysis-phone');
  assert.deepEqual(r.errors, []);
  await c.close();
});

test('the English alias speaks English', async () => {
  const { context: c } = await newContext(chrome.browser, 'desktop');
  await signIn(c, 'planner');
  const p = await c.newPage();
  await open(p, '/analysis?lang=en');
  assert.equal(await p.evaluate(() => document.documentElement.lang), 'en');
  assert.equal(await p.locator('nav.site-nav a[aria-current="page"]').textContent(), 'Analysis');
  assert.match(await p.locator('#legend-classes li[data-bin="3"]').textContent(), /Hot spot, 99 %/);
  await c.close();
});
