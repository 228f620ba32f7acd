// The planner map against the running demo server: layers, the time
// control and filters re-query the server and the numbers on screen are
// the server's; hexagon breakdowns; drawing and editing a priority place;
// the table alternative and its CSV.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { api, launch, newContext, open, screenshot, signIn } from './helpers.mjs';

let chrome;
let context;
let record;
let page;

before(async () => {
  chrome = await launch();
  ({ context, record } = await newContext(chrome.browser, 'desktop', { acceptDownloads: true }));
  await signIn(context, 'planner');
  page = await context.newPage();
  await open(page, '/map');
});
after(async () => {
  assert.deepEqual(record.foreign, [], 'no request left for another host');
  await chrome?.close();
});

const legend = () => page.locator('[data-testid="legend-total"]');

/** What the legend says, and what the server says for the same query. */
async function legendAndServer() {
  const total = Number(await legend().getAttribute('data-total'));
  const query = await legend().getAttribute('data-query');
  const { status, body } = await api(query);
  assert.equal(status, 200, query);
  const server = body.features.reduce((s, f) => s + f.properties.count, 0);
  return { total, server, query };
}

/**
 * Runs `action` and waits until the legend shows a new query's answer —
 * one whose query contains every string in `expect`, when given, since one
 * action (two date fields) may start more than one query.
 */
async function requery(action, expect = []) {
  const before = await legend().getAttribute('data-query');
  await action();
  await page.waitForFunction(
    ([b, wanted]) => {
      const el = document.querySelector('[data-testid="legend-total"]');
      const q = decodeURIComponent(el.dataset.query || '');
      return el.dataset.query !== b && wanted.every((w) => q.includes(w))
        && !document.getElementById('legend').hasAttribute('aria-busy');
    },
    [before, expect],
  );
}

test('the heatmap legend shows the server\'s own numbers', async () => {
  const { total, server } = await legendAndServer();
  assert.ok(total > 0, 'the demo has incidents in view');
  assert.equal(total, server);
  assert.ok(await page.locator('.leaflet-overlay-pane path.leaflet-interactive').count() > 10);
  assert.ok(await page.locator('#legend-classes li').count() >= 2, 'legend has classes with numbers');
  // What the layer leaves out, as the server counted it: the demo's police
  // feed events at Linköping's midpoint.
  const { body } = await api(await legend().getAttribute('data-query'));
  const left = body.omitted.coarse_position;
  assert.ok(left > 0, JSON.stringify(body.omitted));
  assert.match(
    await page.locator('[data-testid="legend-scope"]').textContent(),
    new RegExp(`${new Intl.NumberFormat('sv-SE').format(left)} händelser? har bara kommunen som plats och visas inte i hexagonerna\\.$`),
  );
});

test('moving the month slider re-queries and changes the numbers', async () => {
  const all = Number(await legend().getAttribute('data-total'));
  const slider = page.locator('#month-slider');
  await requery(async () => {
    await slider.focus();
    for (let i = 0; i < 6; i += 1) await page.keyboard.press('ArrowLeft');
  });
  assert.ok(await page.locator('#time-month').isChecked(), 'the slider switched to one month');
  const { total, server, query } = await legendAndServer();
  assert.match(decodeURIComponent(query), /datetime=\d{4}-\d\d-\d\dT[^/]+\/\d{4}/);
  assert.equal(total, server);
  assert.ok(total < all, `one month (${total}) shows fewer than 24 (${all})`);
  const month = await page.locator('#month-output').textContent();
  assert.ok(month.length > 4, 'the chosen month is written out');

  // Another month: still the server's numbers.
  await requery(async () => { await page.keyboard.press('ArrowLeft'); });
  const again = await legendAndServer();
  assert.equal(again.total, again.server);

  // A custom range.
  await requery(async () => {
    await page.fill('#range-from', '2025-06-01');
    await page.fill('#range-to', '2025-08-31');
    await page.locator('#range-to').dispatchEvent('change');
  }, ['/2025-08-31']);
  assert.ok(await page.locator('#time-range').isChecked());
  const range = await legendAndServer();
  assert.equal(range.total, range.server);
  assert.ok(range.total > 0 && range.total < all);

  await requery(() => page.check('#time-all'));
  assert.equal(Number(await legend().getAttribute('data-total')), all);
});

test('a category filter re-queries the server', async () => {
  await page.locator('summary', { hasText: 'Kategorier' }).click();
  const all = Number(await legend().getAttribute('data-total'));
  await requery(() => page.uncheck('#f-incidents-category-theft'));
  const { total, server, query } = await legendAndServer();
  const categories = new URL(query, 'http://x').searchParams.get('category').split(',');
  assert.ok(categories.length === 10 && !categories.includes('theft'), query);
  assert.equal(total, server);
  assert.ok(total < all);
  await requery(() => page.check('#f-incidents-category-theft'));
  assert.equal(Number(await legend().getAttribute('data-total')), all);
});

test('switching layers changes what is drawn and counted', async () => {
  await requery(() => page.check('#heat-reports'));
  assert.match(await page.locator('#legend-heading').textContent(), /Otrygga platser/);
  let r = await legendAndServer();
  assert.match(r.query, /layers\/reports\//);
  assert.equal(r.total, r.server);

  await requery(() => page.check('#heat-presence'));
  r = await legendAndServer();
  assert.match(r.query, /layers\/presence\//);
  assert.equal(r.total, r.server);

  await page.check('#heat-none');
  await page.waitForFunction(() => !document.querySelector('[data-testid="legend-total"]').dataset.total);
  assert.equal(await page.locator('.hex-label').count(), 0);

  await requery(() => page.check('#heat-incidents'));
});

test('the table view lists every visible layer and downloads CSV', async () => {
  await page.click('#tables-toggle');
  assert.equal(await page.getAttribute('#tables-toggle', 'aria-expanded'), 'true');
  await page.check('#show-measures');
  await page.waitForSelector('#table-measures-caption');
  for (const id of ['table-heat', 'table-places', 'table-measures', 'table-areas']) {
    assert.equal(await page.locator(`#${id}-caption`).count(), 1, id);
  }
  const { body: measures } = await api('/api/v1/measures?limit=10000&datetime=' + encodeURIComponent((await legend().getAttribute('data-query')).match(/datetime=([^&]+)/)[1].replace(/%2F/g, '/').replace(/%3A/g, ':')));
  const measureRows = await page.locator('[data-table="table-measures"] tbody tr').count();
  assert.equal(measureRows, measures.features.length);

  // The heat table's counts add up to the legend's total.
  const counts = await page.locator('[data-table="table-heat"] tbody tr td:nth-child(2)').allTextContents();
  const sum = counts.reduce((s, c) => s + Number(c.replace(/\s/g, '').replace(',', '.')), 0);
  assert.equal(sum, Number(await legend().getAttribute('data-total')));

  // Sorting by count puts the largest first on the second click.
  const sortButton = page.locator('[data-table="table-heat"] thead th:nth-child(2) button');
  await sortButton.click();
  assert.equal(await page.locator('[data-table="table-heat"] thead th:nth-child(2)').getAttribute('aria-sort'), 'descending');
  const first = Number((await page.locator('[data-table="table-heat"] tbody tr:first-child td:nth-child(2)').textContent()).replace(/\s/g, ''));
  assert.equal(first, Math.max(...counts.map((c) => Number(c.replace(/\s/g, '')))));

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('[data-table="table-heat"] .table-bar button'),
  ]);
  const csv = readFileSync(await download.path(), 'utf8');
  assert.match(csv, /^\ufeffHexagon \(H3\),/);
  assert.equal(csv.trim().split('\r\n').length, counts.length + 1);
  await screenshot(page, 'map-tables-desktop');
  await page.uncheck('#show-measures');
});

test('clicking a hexagon gives its breakdown by category', async () => {
  // The hottest cell, found through the table, so the test does not depend
  // on where the demo's hexagons happen to fall on screen.
  await page.locator('[data-table="table-heat"] tbody tr:first-child button').click();
  const popup = page.locator('.leaflet-popup-content .cell-popup');
  await popup.waitFor();
  await page.waitForFunction(() => document.querySelectorAll('.leaflet-popup-content .breakdown li').length > 0);
  const title = await popup.locator('h3').textContent();
  const cellCount = Number(title.match(/^[\d\s]+/)[0].replace(/\s/g, ''));
  const items = await popup.locator('.breakdown li').allTextContents();
  const sum = items.reduce((s, li) => s + Number(li.split(':').pop().replace(/\s/g, '')), 0);
  // Each incident has exactly one category, so the parts add up.
  assert.equal(sum, cellCount);
  await screenshot(page, 'map-breakdown-desktop');
  await page.locator('.leaflet-popup-close-button').click();
  await page.waitForSelector('.leaflet-popup', { state: 'detached' });

  // And with the mouse, on a hexagon as drawn.
  await page.locator('.leaflet-overlay-pane path.leaflet-interactive').first().click({ force: true });
  await page.locator('.leaflet-popup-content .cell-popup').waitFor();
  await page.locator('.leaflet-popup-close-button').click();
  await page.waitForSelector('.leaflet-popup', { state: 'detached' });
});

test('a planner draws a priority place and edits it', async () => {
  const name = `Testplats ${Date.now()}`;
  await page.locator('summary', { hasText: 'Rita prioriterad plats' }).click();
  await page.click('#draw-start');
  const box = await page.locator('#map').boundingBox();
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  for (const [dx, dy] of [[-60, -40], [60, -40], [60, 40]]) await page.mouse.click(cx + dx, cy + dy);
  // The fourth corner by keyboard: the map centre.
  await page.click('#draw-center');
  assert.match(await page.locator('#draw-count').textContent(), /: 4 /);
  await page.fill('#place-name', name);
  await page.fill('#place-reason', 'Otrygghet vid busshållplatsen enligt trygghetsvandringen.');
  await page.fill('#place-target', '7');
  await page.click('#place-save');
  await page.waitForSelector('#place-form', { state: 'hidden' });

  const { body } = await api('/api/v1/places?limit=10000');
  const created = body.features.find((f) => f.properties.name === name);
  assert.ok(created, 'the place reached the server');
  assert.equal(created.geometry.type, 'Polygon');
  assert.equal(created.geometry.coordinates[0].length, 5);
  assert.equal(created.properties.target_visits_per_week, 7);

  // Edit it through its row in the table and its popup.
  const row = page.locator('[data-table="table-places"] tbody tr', { hasText: name });
  await row.waitFor();
  await row.locator('button').click();
  await page.locator('.leaflet-popup-content button', { hasText: 'Redigera' }).click();
  assert.equal(await page.inputValue('#place-name'), name);
  await page.fill('#place-name', `${name} (ändrad)`);
  await screenshot(page, 'map-edit-place-desktop');
  await page.click('#place-save');
  await page.waitForSelector('#place-form', { state: 'hidden' });
  const { body: after } = await api(`/api/v1/places/${created.id}`);
  assert.equal(after.properties.name, `${name} (ändrad)`);
  assert.equal(after.properties.version, 2);
});

test('the page logged no errors', () => {
  assert.deepEqual(record.errors, []);
});
