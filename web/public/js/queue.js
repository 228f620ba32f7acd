// The field outbox. Every log is written to IndexedDB first, with a client
// id made on the phone, and uploaded from there; the server treats a second
// POST with the same client id as the first, so a retry after a lost answer
// never makes a duplicate and a lost connection never loses a log.
import { send, getJson, ApiError } from './api.js';
import { isOnline, onNetChange } from './net.js';

const DB_NAME = 'trygg-field';
const STORE = 'logs';
let dbPromise = null;
const listeners = new Set();

function db() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'client_id' });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  return dbPromise;
}

async function tx(mode, fn) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const t = d.transaction(STORE, mode);
    const store = t.objectStore(STORE);
    let result;
    Promise.resolve(fn(store)).then((r) => { result = r; });
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

const req2p = (r) => new Promise((resolve, reject) => {
  r.onsuccess = () => resolve(r.result);
  r.onerror = () => reject(r.error);
});

export async function allLogs() {
  return tx('readonly', (s) => req2p(s.getAll()));
}

export async function getLog(clientId) {
  return tx('readonly', (s) => req2p(s.get(clientId)));
}

async function putLog(rec) {
  await tx('readwrite', (s) => req2p(s.put(rec)));
}

/** Changes a log in one transaction, so an edit made while an upload is in
 * flight is not overwritten by the upload's bookkeeping. */
async function updateLog(clientId, change) {
  await tx('readwrite', async (s) => {
    const cur = await req2p(s.get(clientId));
    if (cur) await req2p(s.put(change(cur)));
  });
}

export function onChange(fn) {
  listeners.add(fn);
}

function notify() {
  for (const fn of listeners) fn();
}

/** A new log: `rev` counts local edits, `syncedRev` the last one uploaded. */
export async function enqueue({ clientId, kind, feature, id = null, version = null, label }) {
  await putLog({
    client_id: clientId,
    kind,
    feature,
    id,
    version,
    label,
    rev: 1,
    syncedRev: 0,
    error: null,
    created: new Date().toISOString(),
  });
  notify();
  sync();
}

export async function edit(clientId, changeProps) {
  await updateLog(clientId, (cur) => ({
    ...cur,
    feature: { ...cur.feature, properties: changeProps({ ...cur.feature.properties }) },
    rev: cur.rev + 1,
    error: null,
  }));
  notify();
  sync();
}

export function isPending(rec) {
  return rec.syncedRev < rec.rev && !rec.error;
}

/** Drops uploaded logs from before yesterday; pending ones stay however old. */
export async function prune() {
  const cutoff = Date.now() - 2 * 86400000;
  const logs = await allLogs();
  await tx('readwrite', (s) => {
    for (const r of logs) if (!isPending(r) && !r.error && Date.parse(r.created) < cutoff) s.delete(r.client_id);
  });
}

let running = null;
// Set when the server said the session is gone: uploads wait for a login.
let loginNeeded = false;

export function needsLogin() {
  return loginNeeded;
}

/** Uploads what waits. One run at a time; a second call joins the first. */
export function sync() {
  if (!running) running = upload().finally(() => { running = null; });
  return running;
}

const COLLECTION = { presence: 'presence', measure: 'measures' };

async function putLatest(collection, id, feature, version) {
  try {
    return await send('PUT', `/api/v1/${collection}/${id}`, feature, version);
  } catch (e) {
    // Someone changed the record since: our edit is the newer intent, so
    // it is applied on top of their version rather than dropped.
    if (!(e instanceof ApiError) || e.status !== 412) throw e;
    const current = await getJson(`/api/v1/${collection}/${id}`);
    return send('PUT', `/api/v1/${collection}/${id}`, feature, current.properties.version);
  }
}

async function upload() {
  // No early return while offline: an upload that fails is how a network
  // that only looks connected is found out (net.js).
  const logs = (await allLogs()).sort((a, b) => a.created.localeCompare(b.created));
  for (const rec of logs) {
    if (!isPending(rec)) continue;
    const { rev, feature } = rec;
    const collection = COLLECTION[rec.kind];
    try {
      let { id, version } = rec;
      if (!id) {
        const r = await send('POST', `/api/v1/${collection}`, feature);
        id = r.feature.id;
        version = r.feature.properties.version;
        // 200 means the server already had this client id (an earlier
        // upload whose answer never arrived): bring that copy up to date.
        if (r.status === 200) {
          const u = await putLatest(collection, id, feature, version);
          version = u.feature.properties.version;
        }
      } else {
        const u = await putLatest(collection, id, feature, version);
        version = u.feature.properties.version;
      }
      await updateLog(rec.client_id, (cur) => ({ ...cur, id, version, syncedRev: Math.max(cur.syncedRev, rev) }));
      loginNeeded = false;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        // Not the log's fault: keep it until someone logs in again.
        loginNeeded = true;
        break;
      }
      const permanent = e instanceof ApiError && e.status >= 400 && e.status < 500 && ![408, 429].includes(e.status);
      if (permanent) {
        await updateLog(rec.client_id, (cur) => ({ ...cur, error: e.field ? `${e.field}: ${e.message}` : e.message }));
      } else {
        // Offline or the server is struggling: keep the rest for later.
        break;
      }
    }
    notify();
  }
  notify();
}

export function startAutoSync() {
  // net.js says when the server answers again, event or no event.
  onNetChange((online) => { if (online) sync(); });
  setInterval(() => { if (isOnline()) sync(); }, 30000);
  sync();
}
