// Shared set-up for the browser tests: Debian's Chromium through
// playwright-core, a guard that records every request host, axe-core, and
// screenshots. The server is started by scripts/browser-tests.sh and named
// by TRYGG_URL.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
export const AXE_PATH = require.resolve('axe-core/axe.min.js');
export const BASE = (process.env.TRYGG_URL || 'http://127.0.0.1:18090').replace(/\/$/, '');
export const SHOTS = join(here, '..', '..', 'test-artifacts', 'screenshots');
mkdirSync(SHOTS, { recursive: true });

export const VIEWPORTS = {
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
  desktop: { viewport: { width: 1366, height: 900 } },
};

export const PAGES = [
  { name: 'map', path: '/map' },
  { name: 'analys', path: '/analys' },
  { name: 'uppfoljning', path: '/uppfoljning' },
  { name: 'field', path: '/field' },
  { name: 'measures', path: '/measures' },
  { name: 'tillganglighet', path: '/tillganglighet' },
  { name: 'accessibility', path: '/accessibility' },
  // Signed in, /login forwards to the map; it is seen signed out.
  { name: 'login', path: '/login', signedOut: true },
  { name: 'konto', path: '/konto' },
  // The planner who signs in here sees the "admins only" notice; the
  // admin's view has its own test (admin.test.mjs).
  { name: 'administration', path: '/administration' },
  // The public embed needs no login and must work for anyone.
  { name: 'embed', path: '/embed', signedOut: true },
];

/** The accounts scripts/browser-tests.sh made, as "username:password". */
function account(env, fallback) {
  const [username, ...rest] = (process.env[env] || fallback).split(':');
  return { username, password: rest.join(':') };
}
export const USERS = {
  planner: account('TRYGG_PLANNER', 'planerare:planerare-lösenord'),
  field: account('TRYGG_FIELD', 'faltare:faltare-lösenord'),
  // A planner who may also publish follow-ups (`trygg user add --publish`).
  publisher: account('TRYGG_PUBLISHER', 'utgivare:utgivare-lösenord'),
  // An admin (users, organisations, everyone's tokens, the audit log).
  admin: account('TRYGG_ADMIN', 'admin:admin-lösenord'),
};

/** Logs a browser context in through the API (the login page has its own test). */
export async function signIn(context, who = 'planner') {
  const res = await context.request.post('/api/v1/auth/login', { data: USERS[who] });
  if (!res.ok()) throw new Error(`login as ${USERS[who].username}: ${res.status()} ${await res.text()}`);
}

/** A fresh browser with a throw-away profile; nothing leaves the machine.
 * playwright-core refuses --user-data-dir in launch(): it gives every
 * launch a new temporary profile of its own, which is what we want. */
export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // Belt and braces: no name but the loopback address resolves.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}

/**
 * A context on one viewport that records every request's host and every
 * console error and CSP violation, so tests can assert there were none.
 */
export async function newContext(browser, viewport = 'desktop', options = {}) {
  const context = await browser.newContext({
    ...VIEWPORTS[viewport],
    baseURL: BASE,
    locale: 'sv-SE',
    timezoneId: 'Europe/Stockholm',
    // Still pages make steady screenshots; the app honours this setting.
    reducedMotion: 'reduce',
    ...options,
  });
  // Waits are for a state and end as soon as it comes; the limit is only a
  // safety net, set wide enough for a machine busy with a build beside.
  context.setDefaultTimeout(60000);
  const record = { hosts: new Set(), foreign: [], errors: [] };
  const allowed = new URL(BASE).host;
  context.on('request', (req) => {
    const u = new URL(req.url());
    if (u.protocol === 'data:' || u.protocol === 'blob:') return;
    record.hosts.add(u.host);
    if (u.host !== allowed) record.foreign.push(req.url());
  });
  context.on('page', (page) => watchPage(page, record));
  return { context, record };
}

function watchPage(page, record) {
  page.on('console', (msg) => {
    if (msg.type() === 'error') record.errors.push(`${page.url()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => record.errors.push(`${page.url()}: ${err.message}`));
}

/**
 * Waits for `promise` (a wait for some state of the page) and, when it
 * fails, says in words which state never came, with the cause below.
 */
export async function until(promise, what) {
  try {
    return await promise;
  } catch (e) {
    throw new Error(`${what}: ${e.message}`, { cause: e });
  }
}

/** Opens a page and waits until its script says it has drawn its data. */
export async function open(page, path) {
  await page.goto(path);
  await until(page.waitForSelector('html[data-ready="true"]'), `${path} did not say it is ready (html[data-ready])`);
}

/** Runs axe-core on the page; returns the violations. */
export async function axe(page) {
  await page.addScriptTag({ path: AXE_PATH });
  return page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')} — ${n.failureSummary}`),
    }));
  });
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

let cookie = null;

/** The API as a planner sees it, to check what the pages show and wrote. */
export async function api(path, init = {}) {
  if (!cookie) {
    const res = await fetch(`${BASE}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(USERS.planner),
    });
    if (!res.ok) throw new Error(`planner login: ${res.status} ${await res.text()}`);
    cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  }
  const res = await fetch(`${BASE}${path}`, { ...init, headers: { ...(init.headers || {}), cookie } });
  const body = await res.json();
  return { status: res.status, body };
}
