// The administration and account pages: an admin creates a user, changes
// its role, sets its password, revokes its token and disables it, and
// finds all of that in the audit log and its CSV export; a planner sees
// "admins only"; anyone makes an API token, sees its secret once, uses it
// and revokes it. Every step is checked against the API, not only the page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { BASE, USERS, axe, credentials, launch, newContext, open, screenshot, signIn } from './helpers.mjs';

let chrome;
before(async () => { chrome = await launch(); });
after(async () => { await chrome?.close(); });

const suffix = Date.now().toString(36);

/** A session of `credentials` made through the API: cookie and CSRF token. */
async function login(credentials) {
  const res = await fetch(`${BASE}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(credentials),
  });
  if (!res.ok) return { status: res.status };
  const body = await res.json();
  return {
    status: res.status,
    cookie: res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; '),
    csrf: body.csrf_token,
    user: body.user,
  };
}

async function call(session, path, { method = 'GET', body } = {}) {
  const headers = { cookie: session.cookie, accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = session.csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${BASE}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

async function bearer(token) {
  const res = await fetch(`${BASE}/api/v1/incidents?limit=1`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

/** Console errors other than the HTTP answers a step expected. */
function unexpected(errors, statuses = []) {
  return errors.filter((e) => !statuses.some((s) => e.includes(`status of ${s}`)));
}

test('an admin manages users, organisations, tokens and reads the audit log', async () => {
  const admin = await login(await credentials('admin'));
  assert.equal(admin.status, 200, 'the admin account from browser-tests.sh signs in');
  const { context, record } = await newContext(chrome.browser, 'desktop');
  await signIn(context, 'admin');
  const page = await context.newPage();
  await open(page, '/administration');
  assert.ok(await page.locator('#admin-content').isVisible());
  assert.equal(await page.locator('[data-testid="admins-only"]').isVisible(), false);
  // Only admins have the menu item, and here it is the current page.
  assert.equal(await page.getAttribute('.site-nav a[href="/administration"]', 'aria-current'), 'page');
  const listed = (await call(admin, '/api/v1/admin/users')).body.users;
  assert.equal(await page.locator('[data-table="table-users"] tbody tr').count(), listed.length);

  // The users table sorts with the shared table module.
  await page.locator('[data-table="table-users"] th[data-key="username"] button').click();
  const names = await page.locator('[data-table="table-users"] tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.key));
  assert.deepEqual(names, [...names].sort((a, b) => a.localeCompare(b)));

  // A new organisation shows in the list and in the user form.
  const org = `Nattvandrarna ${suffix}`;
  await page.fill('#org-name', org);
  await page.click('#org-submit');
  await page.locator(`#org-list li[data-name="${org}"]`).waitFor();
  assert.ok((await call(admin, '/api/v1/admin/organisations')).body.organisations.some((o) => o.name === org));

  // Create a user. A short password is refused next to its field before
  // anything is sent; a taken user name by the server, next to its field.
  const username = `test-${suffix}`;
  const password = `första-lösenordet-${suffix}`;
  await page.fill('#new-username', USERS.planner.username);
  await page.fill('#new-display-name', 'Test Nyanställd');
  await page.selectOption('#new-role', 'field');
  await page.selectOption('#new-organisation', org);
  await page.fill('#new-password', 'kort');
  await page.click('#user-create-submit');
  assert.match(await page.locator('#new-password-error').textContent(), /minst 12 tecken/);
  assert.equal(await page.getAttribute('#new-password', 'aria-invalid'), 'true');
  await page.fill('#new-password', password);
  await page.click('#user-create-submit');
  const taken = page.locator('#new-username-error, #user-create-error').filter({ hasText: /./ });
  await taken.first().waitFor();
  await screenshot(page, 'admin-create-error-desktop');
  await page.fill('#new-username', username);
  await page.fill('#new-password', password);
  await page.click('#user-create-submit');
  const row = page.locator(`[data-table="table-users"] tbody tr[data-key="${username}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /fältpersonal/);
  let created = (await call(admin, '/api/v1/admin/users')).body.users.find((u) => u.username === username);
  assert.equal(created.role, 'field');
  assert.equal(created.organisation, org);
  assert.equal(created.display_name, 'Test Nyanställd');

  // The new user signs in and makes a token for an integration.
  const newcomer = await login({ username, password });
  assert.equal(newcomer.status, 200);
  const made = await call(newcomer, '/api/v1/auth/tokens', { method: 'POST', body: { name: `import-${suffix}`, scopes: ['read'] } });
  assert.equal(made.status, 201);
  // The page reads everyone's tokens when it opens.
  await open(page, '/administration');

  // Change the role to planner and grant publishing.
  await row.locator('button').click();
  const editor = page.locator('[data-testid="user-edit"]');
  await editor.waitFor();
  assert.equal(await editor.getAttribute('data-user'), username);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'user-edit-heading');
  await page.selectOption('#edit-role', 'planner');
  await page.check('#edit-publish');
  await page.click('#edit-save');
  await page.locator(`[data-table="table-users"] tbody tr[data-key="${username}"]`, { hasText: 'planerare' }).waitFor();
  created = (await call(admin, '/api/v1/admin/users')).body.users.find((u) => u.username === username);
  assert.equal(created.role, 'planner');
  assert.equal(created.can_publish, true);
  await screenshot(page, 'admin-edit-desktop');

  // A new password asks first, then ends the old one.
  const newPassword = `andra-lösenordet-${suffix}`;
  await page.fill('#edit-password', newPassword);
  await page.click('#edit-password-save');
  await page.locator('#user-confirm').waitFor();
  assert.match(await page.locator('#user-question').textContent(), /loggas ut/);
  await page.click('#user-yes');
  await page.locator('#user-confirm').waitFor({ state: 'hidden' });
  assert.equal((await login({ username, password })).status, 401, 'the old password no longer works');
  assert.equal((await login({ username, password: newPassword })).status, 200, 'the new one does');

  // Revoke the newcomer's token from everyone's tokens (cancel first).
  assert.equal(await bearer(made.body.token), 200, 'the token works before it is revoked');
  const tokenRow = page.locator(`[data-table="table-all-tokens"] tbody tr[data-key="${made.body.id}"]`);
  await tokenRow.waitFor();
  assert.match(await tokenRow.textContent(), new RegExp(username));
  await tokenRow.locator('button').click();
  await page.locator('#token-confirm').waitFor();
  assert.match(await page.locator('#token-question').textContent(), new RegExp(`import-${suffix}.*${username}`));
  await page.click('#token-no');
  assert.equal(await page.locator('#token-confirm').isVisible(), false);
  assert.equal(await bearer(made.body.token), 200, 'cancelling revokes nothing');
  await tokenRow.locator('button').click();
  await screenshot(page, 'admin-revoke-confirm-desktop');
  await page.click('#token-yes');
  await tokenRow.waitFor({ state: 'detached' });
  const revoked = (await call(admin, '/api/v1/admin/tokens')).body.tokens.find((tk) => tk.id === made.body.id);
  assert.ok(revoked.revoked_at, 'the server has it revoked');
  assert.equal(await bearer(made.body.token), 401, 'the revoked token is refused');
  await page.check('#show-revoked');
  assert.match(await tokenRow.textContent(), /Återkallad/);

  // Disable the account: asked first, and then its login fails.
  await row.locator('button').click();
  await page.click('#edit-toggle-disabled');
  await page.locator('#user-confirm').waitFor();
  assert.match(await page.locator('#user-question').textContent(), /Stänga av kontot/);
  await page.click('#user-yes');
  await page.locator(`[data-table="table-users"] tbody tr[data-key="${username}"]`, { hasText: 'Avstängd' }).waitFor();
  assert.equal(await page.locator('#edit-toggle-disabled').textContent(), 'Aktivera kontot');
  assert.match(await page.locator('[data-testid="user-edit-note"]').textContent(), /är avstängt/);
  created = (await call(admin, '/api/v1/admin/users')).body.users.find((u) => u.username === username);
  assert.equal(created.disabled, true);
  assert.equal((await login({ username, password: newPassword })).status, 401, 'a disabled account cannot sign in');
  await page.click('#edit-close');
  assert.equal(await editor.isVisible(), false);

  // The audit log names each of those changes.
  await page.click('#audit-refresh');
  await page.locator('#status', { hasText: 'Loggen är uppdaterad' }).waitFor();
  const audit = (await call(admin, '/api/v1/admin/audit?limit=50')).body;
  // What the admin did (the newcomer's own sign-ins and token are theirs).
  const ours = audit.entries.filter((e) => e.username === USERS.admin.username
    && (e.after?.username === username || e.after?.token_id === made.body.id || e.after?.name === org));
  const actions = ours.map((e) => e.action);
  for (const a of ['organisation-create', 'user-create', 'user-change', 'token-revoke']) assert.ok(actions.includes(a), `audit has ${a}`);
  assert.ok(ours.some((e) => e.action === 'user-change' && e.after.role === 'planner'));
  assert.ok(ours.some((e) => e.action === 'user-change' && e.after.disabled === true));
  assert.ok(ours.some((e) => e.action === 'user-change' && e.after.password_changed === true));
  for (const e of ours) {
    const r = page.locator(`[data-table="table-audit"] tbody tr[data-key="${e.id}"]`);
    assert.equal(await r.count(), 1, `entry ${e.id} (${e.action}) is shown`);
    assert.match(await r.textContent(), new RegExp(USERS.admin.username), 'with who made it');
  }
  const disabledRow = page.locator(`[data-table="table-audit"] tbody tr[data-key="${ours.find((e) => e.after?.disabled === true).id}"]`);
  assert.match(await disabledRow.textContent(), /ändrade användare/);
  assert.match(await disabledRow.textContent(), /disabled: true/);
  await screenshot(page, 'admin-desktop');

  // Older entries are fetched page by page.
  const shown = await page.locator('[data-table="table-audit"] tbody tr').count();
  assert.equal(shown, audit.entries.length);
  if (audit.next_before != null) {
    await page.click('#audit-older');
    await page.waitForFunction((n) => document.querySelectorAll('[data-table="table-audit"] tbody tr').length > n, shown);
    const ids = await page.locator('[data-table="table-audit"] tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.dataset.key)));
    assert.ok(ids.some((id) => id <= audit.next_before), 'older rows arrived');
  }

  // The CSV export is a plain link the session cookie goes along with.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#audit-csv')]);
  const csv = await readFile(await download.path(), 'utf8');
  assert.match(csv.split('\n')[0], /^id,at,username/);
  assert.ok(csv.includes('token-revoke'));
  assert.ok(csv.includes(username));

  assert.deepEqual(record.foreign, []);
  // The taken user name's answer is the one expected HTTP error.
  assert.deepEqual(unexpected(record.errors, [409, 422, 400]), []);
  await context.close();
});

test('a planner is told the administration is for admins only', async () => {
  const { context, record } = await newContext(chrome.browser, 'phone');
  await signIn(context, 'planner');
  const page = await context.newPage();
  await open(page, '/administration');
  assert.ok(await page.locator('[data-testid="admins-only"]').isVisible());
  assert.match(await page.locator('[data-testid="admins-only"]').textContent(), /Bara administratörer/);
  assert.equal(await page.locator('#admin-content').isVisible(), false);
  assert.equal(await page.locator('.site-nav a[href="/administration"]').count(), 0, 'no menu item for planners');
  // And the API agrees.
  const res = await context.request.get('/api/v1/admin/users');
  assert.equal(res.status(), 403);
  await screenshot(page, 'admin-planner-phone');
  assert.deepEqual(record.errors, []);
  await context.close();
});

test('an own API token is shown once, works, and stops working when revoked', async () => {
  const { context, record } = await newContext(chrome.browser, 'desktop');
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
  await signIn(context, 'planner');
  const page = await context.newPage();
  await open(page, '/konto');
  assert.match(await page.locator('[data-testid="account-facts"]').textContent(), /planerare/);
  // The header's name leads here.
  assert.equal(await page.getAttribute('[data-testid="who"]', 'href'), '/konto');

  // No scope: refused next to the scopes.
  const name = `rapport-${suffix}`;
  await page.fill('#token-name', name);
  await page.uncheck('#scope-read');
  await page.click('#token-submit');
  assert.match(await page.locator('#token-scopes-error').textContent(), /minst en behörighet/);
  await page.check('#scope-read');
  await page.click('#token-submit');
  const box = page.locator('[data-testid="token-secret"]');
  await box.waitFor();
  assert.match(await box.textContent(), /visas bara den här gången/);
  const secret = await page.inputValue('#token-secret-value');
  assert.ok(secret.length > 20, 'the secret is shown');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'token-secret-heading');
  await page.click('#token-copy');
  await page.locator('#token-copy-status').filter({ hasText: /./ }).waitFor();
  if ((await page.locator('#token-copy-status').textContent()).includes('kopierad')) {
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  }
  await screenshot(page, 'account-token-secret-desktop');
  const mine = (await context.request.get('/api/v1/auth/tokens').then((r) => r.json())).tokens.find((tk) => tk.name === name);
  assert.ok(mine, 'listed');
  assert.ok(!JSON.stringify(mine).includes(secret), 'the list never carries the secret');
  const row = page.locator(`[data-table="table-my-tokens"] tbody tr[data-key="${mine.id}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /läsa/);

  // The token works as a Bearer token.
  assert.equal(await bearer(secret), 200);

  // Closing the box forgets the secret; a reload does not bring it back.
  await page.click('#token-secret-done');
  assert.equal(await box.isVisible(), false);
  assert.equal(await page.inputValue('#token-secret-value'), '');
  await open(page, '/konto');
  assert.equal(await box.isVisible(), false);
  assert.ok(!(await page.content()).includes(secret), 'shown only once');

  // Revoke: asked first, then the token is refused.
  await row.locator('button').click();
  await page.locator('#my-token-confirm').waitFor();
  assert.match(await page.locator('#my-token-question').textContent(), new RegExp(name));
  await page.click('#my-token-yes');
  await page.locator('#my-token-confirm').waitFor({ state: 'hidden' });
  await page.locator(`[data-table="table-my-tokens"] tbody tr[data-key="${mine.id}"]`, { hasText: 'Återkallad' }).waitFor();
  assert.equal(await row.locator('button').count(), 0, 'a revoked token has no revoke button');
  assert.equal(await bearer(secret), 401);
  await screenshot(page, 'account-desktop');
  assert.deepEqual(record.foreign, []);
  assert.deepEqual(record.errors, []);
  await context.close();
});

test('the administration and account pages have no axe-core violations', async () => {
  for (const viewport of ['phone', 'desktop']) {
    const { context } = await newContext(chrome.browser, viewport, { bypassCSP: true });
    await signIn(context, 'admin');
    const page = await context.newPage();
    await open(page, '/administration');
    let found = await axe(page);
    assert.deepEqual(found, [], JSON.stringify(found, null, 2));
    await screenshot(page, `admin-${viewport}`);

    // The editor with its confirmation, and the revoke confirmation.
    await page.locator(`[data-table="table-users"] tbody tr[data-key="${USERS.field.username}"] button`).click();
    await page.click('#edit-toggle-disabled');
    await page.locator('#user-confirm').waitFor();
    await page.fill('#new-password', 'kort');
    await page.click('#user-create-submit');
    found = await axe(page);
    assert.deepEqual(found, [], JSON.stringify(found, null, 2));
    await screenshot(page, `admin-editor-${viewport}`);
    await page.click('#user-no');

    await open(page, '/konto');
    await page.fill('#token-name', `axe-${viewport}-${suffix}`);
    await page.click('#token-submit');
    await page.locator('[data-testid="token-secret"]').waitFor();
    found = await axe(page);
    assert.deepEqual(found, [], JSON.stringify(found, null, 2));
    await screenshot(page, `account-secret-${viewport}`);
    await page.click('#token-secret-done');
    const id = await page.locator('[data-table="table-my-tokens"] tbody tr').first().getAttribute('data-key');
    await page.locator(`[data-table="table-my-tokens"] tbody tr[data-key="${id}"] button`).click();
    await page.locator('#my-token-confirm').waitFor();
    found = await axe(page);
    assert.deepEqual(found, [], JSON.stringify(found, null, 2));
    await page.click('#my-token-yes');
    await page.locator('#my-token-confirm').waitFor({ state: 'hidden' });
    await context.close();
  }
});
