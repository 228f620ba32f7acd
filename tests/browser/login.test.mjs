// Signing in and out through the pages: a page that needs a login says so
// and links to the login page, which sends the user back where they were.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { USERS, axe, launch, newContext, open, screenshot } from './helpers.mjs';

let chrome;
before(async () => { chrome = await launch(); });
after(async () => { await chrome?.close(); });

test('signed out, the pages ask for a login and the statement does not', async () => {
  const { context, record } = await newContext(chrome.browser, 'phone', { bypassCSP: true });
  const page = await context.newPage();
  for (const path of ['/map', '/field', '/measures']) {
    await open(page, path);
    await page.locator('.login-required a').waitFor();
    assert.equal(await page.locator('.leaflet-container').count(), 0, `${path} loads no map without a login`);
  }
  await screenshot(page, 'signed-out-measures-phone');
  const found = await axe(page);
  assert.deepEqual(found, [], JSON.stringify(found, null, 2));
  await open(page, '/tillganglighet');
  assert.equal(await page.locator('.login-required').count(), 0);
  assert.deepEqual(record.foreign, []);
  await context.close();
});

test('the login page signs in, returns to the page, and signs out', async () => {
  const { context, record } = await newContext(chrome.browser, 'phone');
  const page = await context.newPage();
  await open(page, '/field');
  await page.click('.login-required a');
  await page.waitForURL(/\/login\?next=%2Ffield/);
  await page.waitForSelector('html[data-ready="true"]');

  await page.fill('#username', USERS.field.username);
  await page.fill('#password', 'not the password');
  await page.click('#login-submit');
  await page.locator('#login-error', { hasText: 'Fel användarnamn eller lösenord' }).waitFor();
  await screenshot(page, 'login-error-phone');

  await page.fill('#password', USERS.field.password);
  await page.click('#login-submit');
  await page.waitForURL(/\/field$/);
  await page.waitForSelector('html[data-ready="true"]');
  assert.match(await page.locator('[data-testid="who"]').textContent(), /fältpersonal/);
  assert.equal(await page.locator('.login-required').count(), 0);

  await page.click('#login-slot button');
  await page.waitForURL(/\/login$/);
  await open(page, '/map');
  await page.locator('.login-required').waitFor();
  // The one failed attempt above is the only console error: the 401.
  assert.ok(record.errors.every((e) => e.includes('401')), record.errors.join('\n'));
  assert.deepEqual(record.foreign, []);
  await context.close();
});
