// Whether the server can be reached. `navigator.onLine` only says that the
// device has a network: on Wi-Fi without internet, behind a captive portal,
// or on a network that does not reach the server, it says "online" while
// every request fails, and a busy browser may deliver its events late. So
// the state is also learnt from the requests themselves: a request that gets
// no answer means offline, any answer means online. While offline, a small
// probe of /healthz runs every few seconds, so the app notices the server
// is back even when no `online` event comes.
import { currentLang } from './i18n.js';
const PROBE_MS = 5000;

let reachable = navigator.onLine;
let probeTimer = null;
const listeners = new Set();

export function isOnline() {
  return reachable;
}

/** Calls `fn(online)` whenever the state changes. */
export function onNetChange(fn) {
  listeners.add(fn);
}

function set(online) {
  if (online === reachable) return;
  reachable = online;
  scheduleProbe();
  for (const fn of listeners) fn(online);
}

function scheduleProbe() {
  clearTimeout(probeTimer);
  probeTimer = reachable ? null : setTimeout(probe, PROBE_MS);
}

/** Asks the server whether it is there; the answer sets the state. */
export async function probe() {
  try {
    await fetch('/healthz', { cache: 'no-store' });
    set(true);
  } catch {
    set(false);
    scheduleProbe();
  }
}

/** fetch(), noting whether an answer came. An aborted request says nothing
 * about the network. */
export async function request(url, init) {
  try {
    // Problems come back in the language the page shows.
    const headers = new Headers(init?.headers || {});
    if (!headers.has('Accept-Language')) headers.set('Accept-Language', currentLang());
    const res = await fetch(url, { ...init, headers });
    set(true);
    return res;
  } catch (e) {
    if (e?.name !== 'AbortError') set(false);
    throw e;
  }
}

window.addEventListener('offline', () => set(false));
// The event says a network is back, not that the server is: ask it.
window.addEventListener('online', () => { probe(); });
scheduleProbe();
