// The follow-up page: last month by default with the server's figures,
// image and downloads; a planner without the publish permission sees no
// Publish button; a publisher publishes after a confirmation step, the
// corrections list appears, and the public embed then shows that period.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, api, axe, launch, newContext, open, screenshot, signIn } from './helpers.mjs';

let chrome;
before(async () => { chrome = await launch(); });
after(async () => { await chrome?.close(); });

function lastMonth() {
  const d = new Date();
  const m = new Date(d.getFullYear(), d.getMonth() - 1, 1);
  return `${m.getFullYear()}-${String(m.getMonth() + 1).padStart(2, '0')}`;
}

test('the follow-up shows last month\'s figures, chart, image and downloads', async () => {
  const { context, record } = await newContext(chrome.browser, 'desktop');
  await signIn(context, 'planner');
  const page = await context.newPage();
  await open(page, '/uppfoljning');
  const period = lastMonth();
  assert.equal(await page.inputValue('#period'), period);
  const { body } = await api(`/api/v1/followup/${period}`);
  const f = body.figures;
  assert.equal(await page.getAttribute('[data-testid="key-figures"] li[data-key="incidents"]', 'data-count'), String(f.incidents.total.current));
  assert.match(await page.locator('[data-testid="key-figures"]').textContent(), new RegExp(`${String(Math.round(f.presence.hours * 10) / 10).replace('.', ',')} timmar`));
  // Visits against target, one row per place.
  assert.equal(await page.locator('[data-table="table-followup-places"] tbody tr').count(), Object.keys(f.places).length);
  // The chart and its table carry the same numbers as the JSON.
  assert.equal(await page.locator('#incident-chart svg[role="img"]').count(), 1);
  assert.equal(await page.locator('[data-table="followup-incidents-table"] tbody tr').count(), Object.keys(f.incidents.by_category).length + 1);
  // A month shows no split by group (only ended years do, so no period
  // minus another reveals a small group): the page says why.
  assert.equal(f.groups, null);
  assert.match(await page.locator('#groups-table').textContent(), /redovisas bara för hela perioder/);
  // The server's image loads.
  await page.waitForFunction(() => document.getElementById('followup-image').complete);
  assert.ok(await page.evaluate(() => document.getElementById('followup-image').naturalWidth) > 0, 'the SVG image loaded');
  const hrefs = await page.locator('[data-testid="downloads"] a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  for (const format of ['csv', 'html', 'svg']) {
    const href = hrefs.find((h) => h.endsWith(`format=${format}`));
    assert.ok(href, `a ${format} link`);
    const res = await context.request.get(href);
    assert.equal(res.status(), 200, href);
  }
  // No publish permission: no Publish button.
  assert.equal(await page.locator('#publish-start').isVisible(), false);
  assert.equal(await page.locator('#corrections-section').isVisible(), body.published_at != null);

  // Another month re-asks the server.
  const other = await page.locator('#period option').nth(3).getAttribute('value');
  await page.selectOption('#period', other);
  const then = await api(`/api/v1/followup/${other}`);
  await page.waitForFunction(
    (n) => document.querySelector('[data-key="incidents"]')?.dataset.count === String(n),
    then.body.figures.incidents.total.current,
  );
  assert.match(page.url(), new RegExp(`period=${other}`));
  assert.deepEqual(record.foreign, []);
  assert.deepEqual(record.errors, []);
  await context.close();
});

test('a publisher publishes last month after confirming, and the embed shows it', async () => {
  const period = lastMonth();
  const { context, record } = await newContext(chrome.browser, 'desktop');
  await signIn(context, 'publisher');
  const page = await context.newPage();
  await open(page, `/uppfoljning?period=${period}`);
  const card = page.locator('[data-testid="publish-card"]');
  const before = await api(`/api/v1/followup/${period}`);
  if (before.body.published_at == null) {
    // The button asks first; cancelling publishes nothing.
    await page.click('#publish-start');
    assert.ok(await page.locator('#publish-confirm').isVisible());
    assert.match(await page.locator('#publish-question').textContent(), /Det går inte att ångra/);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'publish-question');
    await page.click('#publish-no');
    assert.equal(await page.locator('#publish-confirm').isVisible(), false);
    assert.equal((await api(`/api/v1/followup/${period}`)).body.published_at, null);

    await page.click('#publish-start');
    await screenshot(page, 'followup-confirm-desktop');
    await page.click('#publish-yes');
    await page.waitForSelector('[data-testid="publish-card"][data-published="true"]');
  }
  assert.equal(await card.getAttribute('data-published'), 'true');
  assert.match(await page.locator('[data-testid="publish-state"]').textContent(), /^Publicerad /);
  assert.equal(await page.locator('#publish-start').isVisible(), false, 'published once');
  const after = await api(`/api/v1/followup/${period}`);
  assert.ok(after.body.published_at, 'the server says published');
  // Published: the corrections list shows (empty until the records change).
  assert.ok(await page.locator('#corrections-section').isVisible());
  assert.equal(await page.getAttribute('#corrections-section', 'data-count'), String(after.body.corrections.length));
  const hrefs = await page.locator('[data-testid="downloads"] a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  assert.ok(hrefs.includes(`/api/v1/public/followup/${period}?format=html`));
  assert.ok(hrefs.includes('/api/v1/public/followup.atom'));
  await screenshot(page, 'followup-published-desktop');

  // The public list, the feed and the embed all have it now.
  const list = await (await fetch(`${BASE}/api/v1/public/followup`)).json();
  assert.ok(list.published.some((p) => p.period === period));
  const atom = await (await fetch(`${BASE}/api/v1/public/followup.atom`)).text();
  assert.ok(atom.includes(`/api/v1/public/followup/${period}`));
  const pub = await (await fetch(`${BASE}/api/v1/public/followup/${period}`)).json();

  const embed = await context.newPage();
  await open(embed, '/embed');
  const latest = [...list.published].sort((a, b) => b.period.localeCompare(a.period))[0].period;
  assert.equal(await embed.getAttribute('[data-testid="embed-followup"]', 'data-period'), latest);
  if (latest === period) {
    assert.equal(
      await embed.getAttribute('[data-testid="embed-followup"] li[data-key="incidents"]', 'data-count'),
      String(pub.figures.incidents.total.current),
    );
  }
  assert.equal(await embed.getAttribute('#followup-html', 'href'), `/api/v1/public/followup/${latest}?format=html`);
  assert.equal(await embed.getAttribute('#followup-feed', 'href'), '/api/v1/public/followup.atom');
  const html = await context.request.get(`/api/v1/public/followup/${latest}?format=html`);
  assert.equal(html.status(), 200);
  assert.match(await html.text(), /Publicerad/);
  await screenshot(embed, 'embed-published-desktop');
  assert.deepEqual(record.foreign, []);
  assert.deepEqual(record.errors, []);
  await context.close();
});

test('the follow-up\'s states have no axe-core violations at phone size', async () => {
  const { context } = await newContext(chrome.browser, 'phone', { bypassCSP: true });
  await signIn(context, 'publisher');
  const page = await context.newPage();
  // A month that ended and is (in a fresh run) not yet published: the
  // Publish button and its confirmation.
  const d = new Date();
  const m = new Date(d.getFullYear(), d.getMonth() - 4, 1);
  const period = `${m.getFullYear()}-${String(m.getMonth() + 1).padStart(2, '0')}`;
  await open(page, `/uppfoljning?period=${period}`);
  if (await page.locator('#publish-start').isVisible()) await page.click('#publish-start');
  await page.locator('#incident-chart details summary').click();
  let found = await axe(page);
  assert.deepEqual(found, [], JSON.stringify(found, null, 2));
  await screenshot(page, 'followup-phone');

  await open(page, `/uppfoljning?period=${lastMonth()}`);
  found = await axe(page);
  assert.deepEqual(found, [], JSON.stringify(found, null, 2));
  await context.close();
});

test('the printable report pages have their stylesheet', async () => {
  const css = await fetch(`${BASE}/css/report.css`);
  assert.equal(css.status, 200);
  assert.match(css.headers.get('content-type'), /^text\/css/);
  assert.match(await css.text(), /@media print/);
  const { context } = await newContext(chrome.browser, 'desktop');
  await signIn(context, 'planner');
  const page = await context.newPage();
  await page.goto(`/api/v1/followup/${lastMonth()}?format=html`);
  // The sheet applied: the heading has the brand rule under it.
  const border = await page.evaluate(() => getComputedStyle(document.querySelector('h1')).borderBottomStyle);
  assert.equal(border, 'solid');
  await screenshot(page, 'report-followup-html');
  await page.emulateMedia({ media: 'print' });
  await screenshot(page, 'report-followup-print');
  await context.close();
});
