// An admin without a second factor logs in on the login page, is sent to
// set one up (QR code drawn by Trygg, the URI and the key as text), confirms
// it with a code from "the app", sees the recovery codes once, and at the
// next login is asked for a code. Once at phone size, once at desktop size,
// with axe at every step.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { axe, currentStep, launch, newContext, open, screenshot, totp, until } from './helpers.mjs';

const PASSWORD = process.env.TRYGG_FACTORLESS_PASSWORD || 'ny-admin-lösenord';

let chrome;
before(async () => { chrome = await launch(); });
after(async () => { await chrome?.close(); });

async function noViolations(page, where) {
  const found = await axe(page);
  assert.deepEqual(found, [], `${where}: ${JSON.stringify(found, null, 2)}`);
}

async function logIn(page, username) {
  await open(page, '/login?next=%2Fmeasures');
  await page.fill('#username', username);
  await page.fill('#password', PASSWORD);
  await page.click('#login-submit');
}

for (const [viewport, username] of [['phone', 'ny.admin.telefon'], ['desktop', 'ny.admin.dator']]) {
  test(`an admin sets up a second factor at first login and is asked for a code after (${viewport})`, async () => {
    const { context, record } = await newContext(chrome.browser, viewport, { bypassCSP: true });
    const page = await context.newPage();
    await logIn(page, username);
    await until(page.waitForURL(/\/tvastegsverifiering\?next=%2Fmeasures$/), 'the login did not lead to the second-factor page');
    await page.waitForSelector('html[data-ready="true"]');
    await page.locator('#factor-required', { hasText: 'måste ha tvåstegsverifiering' }).waitFor();
    await noViolations(page, 'before set-up');

    // Another page sends the user back here: nothing else works yet.
    await page.goto('/map');
    await until(page.waitForURL(/\/tvastegsverifiering\?next=%2Fmap$/), '/map did not send a session without its factor to set-up');
    await page.goto('/tvastegsverifiering?next=%2Fmeasures');
    await page.waitForSelector('html[data-ready="true"]');

    await page.click('#factor-begin');
    await page.locator('#factor-setup-heading').waitFor();
    const qrDrawn = await until(page.waitForFunction(() => {
      const img = document.getElementById('factor-qr');
      return img.complete && img.naturalWidth > 0;
    }), 'the QR code image did not load');
    assert.ok(qrDrawn);
    const uri = await page.inputValue('#factor-uri');
    assert.match(uri, new RegExp(`^otpauth://totp/Trygg:${username.replace(/\./g, '\\.')}\\?`));
    const secret = (await page.locator('#factor-secret').textContent()).replace(/\s/g, '');
    assert.equal(new URL(uri).searchParams.get('secret'), secret, 'the typed key is the one in the URI');
    await screenshot(page, `second-factor-setup-${viewport}`);
    await noViolations(page, 'set-up');

    await page.fill('#factor-code', '000000');
    await page.click('#factor-confirm');
    await page.locator('#factor-error', { hasText: 'Koden stämmer inte' }).waitFor();
    const step = currentStep();
    await page.fill('#factor-code', totp(secret, step));
    await page.click('#factor-confirm');
    await page.locator('#factor-codes-heading').waitFor();
    const codes = await page.locator('#factor-code-list li').allTextContents();
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    await screenshot(page, `second-factor-codes-${viewport}`);
    await noViolations(page, 'recovery codes');
    await page.click('#factor-continue');
    await until(page.waitForURL(/\/measures$/), 'continue did not go to the page asked for');
    await page.waitForSelector('html[data-ready="true"]');
    assert.equal(await page.locator('.login-required').count(), 0);

    // Log out; the next login asks for the code.
    await page.click('#login-slot button');
    await page.waitForURL(/\/login$/);
    await logIn(page, username);
    await page.locator('#code-field:not([hidden])').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'code', 'the code field has the focus');
    await screenshot(page, `login-code-${viewport}`);
    await noViolations(page, 'login asking for the code');
    // The confirming code took its step: the same code again is refused.
    await page.fill('#code', totp(secret, step));
    await page.click('#login-submit');
    await page.locator('#login-error', { hasText: 'redan använd' }).waitFor();
    // A recovery code, typed in capitals, works once.
    await page.fill('#code', codes[0].toUpperCase());
    await page.click('#login-submit');
    await until(page.waitForURL(/\/measures$/), 'the recovery code did not log in');
    // The 401s and the 403s of the first visit are the only console errors.
    assert.ok(record.errors.every((e) => /40[13]|422/.test(e)), record.errors.join('\n'));
    assert.deepEqual(record.foreign, []);
    await context.close();
  });
}
