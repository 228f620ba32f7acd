// The public embed: only the public API, numbers that match it, a district
// preset, English by query, and headers that let other sites frame it
// while every other page refuses to be framed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, newContext, open, screenshot } from './helpers.mjs';

let chrome;
before(async () => { chrome = await launch(); });
after(async () => { await chrome?.close(); });

async function publicJson(path) {
  const res = await fetch(`${BASE}${path}`);
  assert.equal(res.status, 200, path);
  return res.json();
}

test('the embed shows the public API\'s numbers for the whole municipality', async () => {
  const { context, record } = await newContext(chrome.browser, 'desktop');
  const apiPaths = [];
  context.on('request', (r) => { if (r.url().includes('/api/')) apiPaths.push(new URL(r.url()).pathname); });
  const page = await context.newPage();
  await open(page, '/embed');
  const period = await page.getAttribute('[data-testid="data-note"]', 'data-period');
  assert.match(period, /^\d{4}-\d{2}$/);
  const incidents = await publicJson(`/api/v1/public/layers/incidents/hexagons?period=${period}`);
  const sum = incidents.features.reduce((s, f) => s + f.properties.count, 0);
  assert.equal(await page.getAttribute('[data-testid="legend-total"]', 'data-total'), String(sum));
  assert.equal(await page.getAttribute('[data-testid="summary"] li[data-kind="incidents"]', 'data-count'), String(sum));
  const note = await page.locator('[data-testid="data-note"]').textContent();
  assert.match(note, new RegExp(`färre än ${incidents.k} händelser`));
  assert.ok(apiPaths.every((p) => p.startsWith('/api/v1/public/')), `only the public API: ${apiPaths.join(', ')}`);

  // Another month re-asks the server.
  const other = await page.locator('#period option').nth(3).getAttribute('value');
  await page.selectOption('#period', other);
  await page.waitForFunction((p) => document.querySelector('[data-testid="data-note"]').dataset.period === p, other);
  const then = await publicJson(`/api/v1/public/layers/incidents/hexagons?period=${other}`);
  assert.equal(await page.getAttribute('[data-testid="legend-total"]', 'data-total'), String(then.features.reduce((s, f) => s + f.properties.count, 0)));

  await page.check('#layer-presence');
  assert.match(await page.locator('#legend-heading').textContent(), /närvaro/);
  assert.deepEqual(record.foreign, []);
  assert.deepEqual(record.errors, []);
  await context.close();
});

test('the embed says how many police feed events have only the municipality as their place', async () => {
  const { context } = await newContext(chrome.browser, 'desktop');
  const page = await context.newPage();
  await open(page, '/embed');
  // The demo's police feed events sit at Linköping's midpoint: the latest
  // month on offer that has some.
  const months = await page.locator('#period option').evaluateAll((os) => os.map((o) => o.value));
  let month = null;
  let left = 0;
  for (const m of months) {
    left = (await publicJson(`/api/v1/public/layers/incidents/hexagons?period=${m}`)).omitted.coarse_position;
    if (left > 0) { month = m; break; }
  }
  assert.ok(month, `no month of ${months.join(', ')} has a police feed event at the midpoint`);
  await page.selectOption('#period', month);
  await page.waitForFunction((p) => document.querySelector('[data-testid="data-note"]').dataset.period === p, month)
    .catch(() => { throw new Error(`the note never turned to ${month}`); });
  const note = await page.locator('[data-testid="data-note"]').textContent();
  assert.match(note, new RegExp(`${new Intl.NumberFormat('sv-SE').format(left)} händelser? har bara kommunen som plats och visas inte i hexagonerna\\.$`));
  await context.close();
});

test('the embed presets a district and speaks English on request', async () => {
  const areas = await publicJson('/api/v1/public/areas');
  // The city centre has enough events to publish in any month of the demo.
  const area = areas.features.find((a) => a.properties.name.startsWith('Domkyrkan')) || areas.features[0];
  const { context, record } = await newContext(chrome.browser, 'phone');
  const page = await context.newPage();
  await open(page, `/embed?area=${area.properties.code}&lang=en`);
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  assert.match(await page.locator('h1').textContent(), new RegExp(`^Safety in ${area.properties.name}`));
  const whole = await publicJson('/api/v1/public/layers/incidents/hexagons');
  const shown = Number(await page.getAttribute('[data-testid="legend-total"]', 'data-total'));
  assert.ok(shown > 0 && shown < whole.features.reduce((s, f) => s + f.properties.count, 0), 'a district shows part of the whole');
  await screenshot(page, 'embed-district-en-phone');
  assert.deepEqual(record.foreign, []);
  assert.deepEqual(record.errors, []);
  await context.close();
});

test('the embed shows the latest published follow-up, or says none is published', async () => {
  const { published } = await publicJson('/api/v1/public/followup');
  const { context, record } = await newContext(chrome.browser, 'desktop');
  const page = await context.newPage();
  await open(page, '/embed');
  const section = page.locator('[data-testid="embed-followup"]');
  const latest = [...published].sort((a, b) => b.period.localeCompare(a.period))[0];
  if (!latest) {
    // A fresh run: nothing published yet, and the page still works.
    assert.equal(await section.getAttribute('data-period'), '');
    assert.match(await section.textContent(), /Ingen månadsuppföljning är publicerad ännu/);
    assert.equal(await page.locator('#followup-html').isVisible(), false);
  } else {
    assert.equal(await section.getAttribute('data-period'), latest.period);
    const report = await publicJson(`/api/v1/public/followup/${latest.period}`);
    assert.equal(await section.locator('li[data-key="incidents"]').getAttribute('data-count'), String(report.figures.incidents.total.current));
  }
  // The feed is offered either way.
  assert.equal(await page.getAttribute('#followup-feed', 'href'), '/api/v1/public/followup.atom');
  assert.deepEqual(record.foreign, []);
  assert.deepEqual(record.errors, []);
  await context.close();
});

test('only the embed may be framed by other sites', async () => {
  const embed = await fetch(`${BASE}/embed`);
  // No --embed-origins configured: only Trygg's own pages may frame it.
  assert.match(embed.headers.get('content-security-policy'), /frame-ancestors 'self'/);
  assert.equal(embed.headers.get('x-frame-options'), null);
  for (const path of ['/map', '/field', '/measures', '/login', '/tillganglighet']) {
    const res = await fetch(`${BASE}${path}`);
    assert.match(res.headers.get('content-security-policy'), /frame-ancestors 'none'/, path);
    assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
  }
});
