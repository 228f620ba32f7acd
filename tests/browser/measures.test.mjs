// The measures board: every measure with its history, and its filters by
// kind, status and district agree with the API.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, launch, newContext, open, screenshot, signIn } from './helpers.mjs';

let chrome;
let page;
let record;
before(async () => {
  chrome = await launch();
  let context;
  ({ context, record } = await newContext(chrome.browser, 'desktop'));
  await signIn(context, 'planner');
  page = await context.newPage();
  await open(page, '/measures');
});
after(async () => { await chrome?.close(); });

const cards = () => page.locator('#measure-list article.measure-card');

test('every measure is listed with its status history', async () => {
  const { body } = await api('/api/v1/measures?limit=10000');
  assert.equal(await cards().count(), body.features.length);
  const histories = await page.locator('#measure-list ol.history').evaluateAll((ols) => ols.map((ol) => ol.children.length));
  const expected = body.features.map((f) => f.properties.status_history.length).sort();
  assert.deepEqual(histories.sort(), expected);
});

test('filters by kind and status match the API', async () => {
  await page.selectOption('#filter-kind', 'lighting');
  await page.selectOption('#filter-status', 'done');
  const { body } = await api('/api/v1/measures?limit=10000&kind=lighting&status=done');
  assert.equal(await cards().count(), body.features.length);
  assert.match(await page.locator('[data-testid="measure-count"]').textContent(), new RegExp(`^Visar ${body.features.length} av`));
  for (const tag of await page.locator('#measure-list .status-tag').allTextContents()) assert.equal(tag, 'Genomförd');
  await page.selectOption('#filter-kind', '');
  await page.selectOption('#filter-status', '');
});

test('a district filter keeps only measures inside it', async () => {
  const options = await page.locator('#filter-area option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  assert.ok(options.length >= 10, 'the districts are offered');
  const total = await cards().count();
  let seen = 0;
  for (const name of options) {
    await page.selectOption('#filter-area', name);
    const n = await cards().count();
    seen += n;
    for (const d of await page.locator('#measure-list dd:nth-of-type(3)').allTextContents()) assert.equal(d, name);
  }
  await page.selectOption('#filter-area', '');
  const outside = await page.locator('#measure-list dd', { hasText: 'Utanför stadsdelarna' }).count();
  assert.equal(seen + outside, total, 'each measure is in at most one district');
  await screenshot(page, 'measures-filtered-desktop');
  assert.deepEqual(record.foreign, []);
  assert.deepEqual(record.errors, []);
});
