// Shared set-up for the browser tests: Debian's Chromium through
// playwright-core, a guard that records every request host, axe-core, and
// screenshots. The server is started by scripts/browser-tests.sh and named
// by TRYGG_URL.
import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  // A planner need not have a second factor and sees the offer to set one up.
  { name: 'tvastegsverifiering', path: '/tvastegsverifiering' },
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

/** The second factors scripts/browser-tests.sh gave the accounts that
 * must have one (admins and publishers), as base32 secrets. */
const FACTORS = {
  admin: process.env.TRYGG_ADMIN_FACTOR || '',
  publisher: process.env.TRYGG_PUBLISHER_FACTOR || '',
};

function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${c}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The RFC 6238 code (HMAC-SHA-1, six digits, 30 s) of a base32 secret at
 * time step `step`: what the user's app would show. */
export function totp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const at = mac[mac.length - 1] & 0x0f;
  const n = (mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}

export const currentStep = () => Math.floor(Date.now() / 30_000);

/** The steps already used per account, kept in a file across the test
 * files of one run (they share one server): a code is taken only once. */
const USED = process.env.TRYGG_FACTOR_STATE || '';
function usedSteps() {
  try { return JSON.parse(readFileSync(USED, 'utf8')); } catch { return {}; }
}

/** A code of `secret` the server takes now for `username`: the current
 * step's, or the next one's when this run used the current one (the
 * server accepts ±1 step); waits for the clock's step to move on only when
 * both are used. A wrong code would count towards the login back-off. */
export async function freshCode(username, secret) {
  const used = usedSteps();
  const last = used[username] ?? -1;
  let step = Math.max(currentStep(), last + 1);
  const deadline = Date.now() + 35_000;
  while (step > currentStep() + 1) {
    if (Date.now() > deadline) throw new Error(`the clock's 30 s step did not move on for ${username}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  used[username] = step;
  if (USED) writeFileSync(USED, JSON.stringify(used));
  return totp(secret, step);
}

/** What a login as `who` sends: username, password, and a fresh code
 * when the account has a second factor. */
export async function credentials(who) {
  const data = { ...USERS[who] };
  if (FACTORS[who]) data.code = await freshCode(data.username, FACTORS[who]);
  return data;
}

/** Logs a browser context in through the API (the login page has its own
 * test), with a code from the account's second factor when it has one. */
export async function signIn(context, who = 'planner') {
  const data = await credentials(who);
  const res = await context.request.post('/api/v1/auth/login', { data });
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
