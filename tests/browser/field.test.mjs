// Field logging offline: a presence started and stopped without a
// connection waits in IndexedDB, shows as pending, and reaches the server
// exactly once when the connection returns, even when an upload's answer
// is lost on the way back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, launch, newContext, open, screenshot, signIn, until } from './helpers.mjs';

let chrome;
before(async () => { chrome = await launch(); });
after(async () => { await chrome?.close(); });

const LINKOPING = { latitude: 58.4109, longitude: 15.6216, accuracy: 12 };

async function fieldContext(viewport = 'phone') {
  const { context, record } = await newContext(chrome.browser, viewport, {
    geolocation: LINKOPING,
    permissions: ['geolocation'],
  });
  // Field staff log presence and measures; they do not plan places.
  await signIn(context, 'field');
  return { context, record };
}

/** Every presence since `since` with this client id, straight from the API. */
async function presenceByClientId(clientId, since) {
  const datetime = encodeURIComponent(`${new Date(since).toISOString()}/..`);
  const { status, body } = await api(`/api/v1/presence?datetime=${datetime}&limit=10000`);
  assert.equal(status, 200);
  return body.features.filter((f) => f.properties.client_id === clientId);
}

async function logItem(page, note) {
  // The newest log is first; its client id is on the list item.
  const item = page.locator('[data-testid="logs"] li.log-item').first();
  await item.waitFor();
  return { item, clientId: await item.getAttribute('data-client-id'), note };
}

test('a presence logged offline uploads exactly once when back online', async () => {
  const started = Date.now() - 60000;
  const { context, record } = await fieldContext('phone');
  const page = await context.newPage();
  await open(page, '/field');
  // The service worker must hold the shell before the connection goes.
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);

  await context.setOffline(true);
  // Reloading without a network still gives the page: the app shell is
  // cached. The page's first request finds the server unreachable, so it
  // knows it is offline whether or not the browser's `offline` event came.
  await page.reload();
  await until(page.waitForSelector('html[data-ready="true"]'), 'the field page did not load from the cached shell while offline');
  await until(page.waitForSelector('#net.offline'), 'the field page did not say it is offline after its requests failed');

  await page.selectOption('#unit-type', 'night_walkers');
  await page.fill('#unit', 'Nattvandrarna Skäggetorp');
  const note = `offline-test ${Date.now()}`;
  await page.fill('#note', note);
  await page.click('#use-gps');
  await page.waitForFunction(() => /58\.41/.test(document.getElementById('position-text').textContent));
  await page.click('#start-presence');

  const { item, clientId } = await logItem(page, note);
  assert.match(clientId, /^[0-9a-f-]{36}$/);
  await item.locator('.badge[data-state="pending"]').waitFor();
  assert.equal(await page.getAttribute('#net', 'data-pending'), '1');
  await screenshot(page, 'field-offline-pending-phone');

  // Stopping while still offline edits the waiting log, not a second one.
  await item.locator('button', { hasText: 'Avsluta' }).click();
  await page.waitForFunction(() => !document.querySelector('[data-testid="logs"] li.log-item button'));
  await item.locator('.badge[data-state="pending"]').waitFor();
  assert.equal((await presenceByClientId(clientId, started)).length, 0, 'nothing reached the server while offline');

  await context.setOffline(false);
  // Back online: the `online` event or, failing that, the page's own probe
  // of the server starts the upload.
  await until(item.locator('.badge[data-state="synced"]').waitFor({ timeout: 60000 }), 'the waiting log was not uploaded after the connection came back');
  assert.equal(await page.getAttribute('#net', 'data-pending'), '0');
  await screenshot(page, 'field-synced-phone');

  // Asking to upload again, and a reload, must not duplicate it.
  await page.click('#sync-now');
  await page.reload();
  await page.waitForSelector('html[data-ready="true"]');
  await page.waitForSelector(`li.log-item[data-client-id="${clientId}"] .badge[data-state="synced"]`);

  const found = await presenceByClientId(clientId, started);
  assert.equal(found.length, 1, 'exactly one presence with this client id');
  const p = found[0].properties;
  assert.equal(p.note, note);
  assert.equal(p.unit_type, 'night_walkers');
  assert.equal(p.unit, 'Nattvandrarna Skäggetorp');
  assert.ok(p.ended_at, 'the stop made offline reached the server');
  assert.deepEqual(found[0].geometry.coordinates.map((c) => Math.round(c * 1000) / 1000), [15.622, 58.411]);
  assert.deepEqual(record.foreign, []);
  await context.close();
});

test('a lost answer to an upload does not make a duplicate', async () => {
  const started = Date.now() - 60000;
  const { context, record } = await fieldContext('desktop');
  const page = await context.newPage();
  await open(page, '/field');
  // The first POST reaches the server, but its answer never comes back.
  let drops = 0;
  let droppedOne;
  const dropped = new Promise((resolve) => { droppedOne = resolve; });
  await page.route('**/api/v1/presence', async (route) => {
    if (route.request().method() === 'POST' && drops === 0) {
      drops += 1;
      await route.fetch();
      await route.abort('connectionreset');
      droppedOne();
      return;
    }
    await route.continue();
  });
  const note = `lost-answer ${Date.now()}`;
  await page.fill('#note', note);
  await page.click('#use-center');
  await page.click('#start-presence');
  const { item, clientId } = await logItem(page, note);
  await dropped;
  await item.locator('.badge[data-state="pending"]').waitFor();
  assert.equal((await presenceByClientId(clientId, started)).length, 1, 'the server got the first upload');

  await page.click('#sync-now');
  await item.locator('.badge[data-state="synced"]').waitFor();
  const found = await presenceByClientId(clientId, started);
  assert.equal(found.length, 1, 'the retry was recognised by its client id');
  assert.equal(found[0].properties.note, note);
  assert.deepEqual(record.foreign, []);
  await context.close();
});

test('a measure is logged as a line and updated with a new status', async () => {
  const { context, record } = await fieldContext('phone');
  const page = await context.newPage();
  await open(page, '/field');
  await page.click('#mode-measure');
  await page.check('#geom-line');
  // Two taps on the phone's map make a line.
  const map = page.locator('#map');
  await map.tap({ position: { x: 90, y: 150 } });
  await map.tap({ position: { x: 260, y: 190 } });
  await page.waitForFunction(() => /: 2\./.test(document.getElementById('position-text').textContent));
  const title = `Gångväg utan belysning ${Date.now()}`;
  await page.selectOption('#measure-kind', 'lighting');
  await page.selectOption('#measure-status', 'planned');
  await page.fill('#measure-title', title);
  await page.fill('#measure-org', 'Linköpings kommun');
  await screenshot(page, 'field-measure-phone');
  await page.click('#save-measure');
  const item = page.locator('li.log-item', { hasText: title });
  await item.locator('.badge[data-state="synced"]').waitFor();
  const { body } = await api('/api/v1/measures?limit=10000');
  const created = body.features.find((f) => f.properties.title === title);
  assert.ok(created);
  assert.equal(created.geometry.type, 'LineString');
  assert.equal(created.properties.status, 'planned');

  // Update it: pick it from the list and move it on.
  await page.reload();
  await page.waitForSelector('html[data-ready="true"]');
  await page.click('#mode-measure');
  await page.selectOption('#measure-pick', created.id);
  assert.equal(await page.inputValue('#measure-title'), title);
  await page.selectOption('#measure-status', 'in_progress');
  await page.click('#save-measure');
  await page.locator('li.log-item', { hasText: 'Pågår' }).locator('.badge[data-state="synced"]').waitFor();
  const { body: updated } = await api(`/api/v1/measures/${created.id}`);
  assert.equal(updated.properties.status, 'in_progress');
  assert.deepEqual(updated.properties.status_history.map((h) => h.status), ['planned', 'in_progress']);
  assert.deepEqual(record.foreign, []);
  assert.deepEqual(record.errors.filter((e) => !e.includes('ERR_INTERNET_DISCONNECTED')), []);
  await context.close();
});
