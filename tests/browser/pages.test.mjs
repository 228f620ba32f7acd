// Every page loads at phone and desktop size under the real CSP, talks to
// no host but Trygg, logs no error, passes axe-core, and leaves a
// screenshot in test-artifacts/screenshots/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PAGES, VIEWPORTS, axe, launch, newContext, open, screenshot, signIn } from './helpers.mjs';

let chrome;
before(async () => { chrome = await launch(); });
after(async () => { await chrome?.close(); });

for (const viewport of Object.keys(VIEWPORTS)) {
  describe(`pages at ${viewport} size`, () => {
    for (const { name, path, signedOut } of PAGES) {
      test(`${path} loads, stays on this origin, and is screenshotted`, async () => {
        const { context, record } = await newContext(chrome.browser, viewport);
        if (!signedOut) await signIn(context);
        const page = await context.newPage();
        const violations = [];
        await page.exposeFunction('__cspViolation', (v) => violations.push(v));
        await page.addInitScript(() => {
          document.addEventListener('securitypolicyviolation', (e) => {
            window.__cspViolation(`${e.violatedDirective} ${e.blockedURI}`);
          });
        });
        await open(page, path);
        await page.waitForLoadState('networkidle');
        await screenshot(page, `${name}-${viewport}`);
        assert.ok((await page.locator('h1').count()) === 1, 'one h1');
        const lang = await page.evaluate(() => document.documentElement.lang);
        assert.equal(lang, path === '/accessibility' ? 'en' : 'sv');
        if (!signedOut && !path.startsWith('/tillganglighet') && path !== '/accessibility') {
          assert.equal(await page.locator('.login-required').count(), 0, 'signed in, the page shows its content');
        }
        assert.deepEqual(violations, [], 'no CSP violations');
        assert.deepEqual(record.foreign, [], 'no request left for another host');
        // Signed out, the session check's 401 is the expected answer.
        const errors = signedOut ? record.errors.filter((e) => !e.includes('status of 401')) : record.errors;
        assert.deepEqual(errors, [], 'no console errors');
        await context.close();
      });

      test(`${path} has no axe-core violations`, async () => {
        // axe is injected as a script tag, which the page's own CSP would
        // (rightly) refuse; this context alone bypasses it.
        const { context } = await newContext(chrome.browser, viewport, { bypassCSP: true });
        if (!signedOut) await signIn(context);
        const page = await context.newPage();
        await open(page, path);
        await page.waitForLoadState('networkidle');
        const found = await axe(page);
        assert.deepEqual(found, [], JSON.stringify(found, null, 2));
        await context.close();
      });
    }
  });
}

test('the English map is English', async () => {
  const { context } = await newContext(chrome.browser, 'desktop');
  await signIn(context);
  const page = await context.newPage();
  await open(page, '/map?lang=en');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  assert.equal(await page.locator('nav.site-nav a[href="/field"]').textContent(), 'Field log');
  await screenshot(page, 'map-desktop-en');
  // The choice sticks for the next page.
  await open(page, '/measures');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await context.close();
});

// States a visitor reaches by working with a page, not only first loads.
test('interactive states have no axe-core violations', async () => {
  const { context } = await newContext(chrome.browser, 'desktop', { bypassCSP: true });
  await signIn(context);
  const page = await context.newPage();
  await open(page, '/map');
  await page.check('#show-measures');
  await page.click('#tables-toggle');
  await page.waitForSelector('#table-measures-caption');
  await page.locator('[data-table="table-heat"] tbody tr:first-child button').click();
  await page.waitForSelector('.leaflet-popup-content .breakdown li');
  await page.locator('summary', { hasText: 'Kategorier' }).click();
  await page.locator('summary', { hasText: 'Rita prioriterad plats' }).click();
  await page.click('#draw-start');
  await page.click('#draw-center');
  let found = await axe(page);
  assert.deepEqual(found, [], JSON.stringify(found, null, 2));

  await open(page, '/field');
  await page.click('#mode-measure');
  await page.check('#geom-polygon');
  found = await axe(page);
  assert.deepEqual(found, [], JSON.stringify(found, null, 2));

  await open(page, '/measures');
  await page.locator('#measure-list details summary').first().click();
  found = await axe(page);
  assert.deepEqual(found, [], JSON.stringify(found, null, 2));
  await context.close();
});
