// Signing in and out through the pages: a page that needs a login says so
// and links to the login page, which sends the user back where they were.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, USERS, axe, launch, newContext, open, screenshot, signIn, until } from './helpers.mjs';

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

test('after login the page forwards only to a path on this site', async () => {
  const { context } = await newContext(chrome.browser, 'desktop');
  await signIn(context, 'planner');
  const page = await context.newPage();
  const origin = new URL(BASE).origin;
  // Each of these once ended on another site: the browser drops tabs and
  // newlines and reads a backslash as a slash before it goes anywhere.
  const tricks = ['/%09/evil.example/x', '/%0a/evil.example/x', '/%0d/evil.example/x', '//evil.example/x',
    '/\\evil.example/x', 'https://evil.example/x', '/.//evil.example/x', 'javascript:alert(1)'];
  for (const next of tricks) {
    await page.goto(`/login?next=${encodeURIComponent(next).replace('%25', '%')}`);
    await until(page.waitForURL((u) => u.pathname !== '/login'), `the signed-in login page did not forward for next=${next}`);
    assert.equal(new URL(page.url()).origin, origin, `next=${next} ended on ${page.url()}`);
  }
  // A real path still works, query and all.
  await page.goto(`/login?next=${encodeURIComponent('/uppfoljning?period=2026-01')}`);
  await until(page.waitForURL(/\/uppfoljning\?period=2026-01$/), 'the login page did not forward to the page asked for');
  await context.close();
});
