// Thin wrappers over Trygg's JSON API. Errors carry the problem+json detail
// and field so forms can point at the input that is wrong. Every request
// goes through net.js, which learns from it whether the server is reachable.
import { request } from './net.js';

export class ApiError extends Error {
  constructor(status, detail, field, secondFactor) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.field = field || null;
    // 'code': the login needs the one-time code; 'enrol': set one up first.
    this.secondFactor = secondFactor || null;
  }
}

async function parse(res) {
  const type = res.headers.get('content-type') || '';
  if (!res.ok) {
    let detail = '';
    let field = null;
    let secondFactor = null;
    if (type.includes('json')) {
      const body = await res.json().catch(() => ({}));
      detail = body.detail || body.title || '';
      field = body.field || null;
      secondFactor = body.second_factor || null;
    }
    throw new ApiError(res.status, detail, field, secondFactor);
  }
  if (res.status === 204) return null;
  return type.includes('json') ? res.json() : res.text();
}

export async function getJson(url, { signal } = {}) {
  const res = await request(url, { signal, headers: { Accept: 'application/geo+json, application/json' } });
  return parse(res);
}

/** Every feature of a list, following rel=next links. */
export async function listAll(collection, params = {}, { signal, max = 50000 } = {}) {
  const qs = new URLSearchParams({ limit: '10000', ...params });
  let url = `/api/v1/${collection}?${qs}`;
  const features = [];
  while (url && features.length < max) {
    const page = await getJson(url, { signal });
    features.push(...page.features);
    const next = (page.links || []).find((l) => l.rel === 'next');
    // The server writes absolute links; keep only path and query so the
    // page never talks to a host other than its own.
    url = next ? new URL(next.href, location.origin).pathname + new URL(next.href, location.origin).search : null;
  }
  return features;
}

export async function hexagons(collection, params, { signal } = {}) {
  const qs = new URLSearchParams(params);
  return getJson(`/api/v1/layers/${collection}/hexagons?${qs}`, { signal });
}

// Writes made with the session cookie must carry the session's CSRF token.
let csrf = null;

export function setCsrf(token) {
  csrf = token || null;
}

/** The logged-in user and CSRF token, or null when nobody is logged in.
 * Throws when the server cannot be reached (offline). */
export async function session() {
  try {
    const s = await getJson('/api/v1/auth/session');
    setCsrf(s.csrf_token);
    return s;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export async function login(username, password, code) {
  const res = await request('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(code ? { username, password, code } : { username, password }),
  });
  const body = await parse(res);
  setCsrf(body.csrf_token);
  return body;
}

export async function logout() {
  await write('POST', '/api/v1/auth/logout', {});
  setCsrf(null);
}

/** A state-changing request; a stale CSRF token (a new login in another
 * tab) is fetched anew once. */
async function write(method, url, headers, body) {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    if (!csrf) await session().catch(() => null);
    const h = { ...headers };
    if (csrf) h['X-CSRF-Token'] = csrf;
    const res = await request(url, { method, headers: h, body });
    if (res.status === 403 && attempt === 0) {
      const problem = await res.clone().json().catch(() => ({}));
      if (problem.field === 'X-CSRF-Token') {
        setCsrf(null);
        continue;
      }
    }
    return res;
  }
  throw new ApiError(403, 'CSRF', 'X-CSRF-Token');
}

/** POST or PUT a GeoJSON Feature; returns { status, feature }. */
export async function send(method, url, feature, version) {
  const headers = { 'Content-Type': 'application/geo+json', Accept: 'application/geo+json' };
  if (version != null) headers['If-Match'] = `"${version}"`;
  const res = await write(method, url, headers, JSON.stringify(feature));
  const body = await parse(res);
  return { status: res.status, feature: body };
}

export async function remove(url) {
  return parse(await write('DELETE', url, {}));
}

/** POST a JSON body (or none); returns the parsed answer. */
export async function postJson(url, body) {
  const headers = { Accept: 'application/json, application/geo+json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await write('POST', url, headers, body === undefined ? undefined : JSON.stringify(body));
  return parse(res);
}

/** PUT a JSON body; returns the parsed answer. */
export async function putJson(url, body) {
  const headers = { Accept: 'application/json', 'Content-Type': 'application/json' };
  return parse(await write('PUT', url, headers, JSON.stringify(body)));
}
